"""Which Slack token and NLPearl key serve a workspace, in each mode.

ManyWorkspaces is built as the app builds it (`build_tenancy`), on a migrated database of each
backend, against the Slack and NLPearl stand-ins over loopback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.settings import load_settings
from bot.app.tenancy import ManyWorkspaces, OneWorkspace, build_tenancy
from bot.blocks.messages import CONNECTED_KEY_FIX, nlpearl_key_problem
from bot.nlpearl.errors import BadCredentials, NotConnected
from bot.storage.accounts import save_account
from bot.storage.engine import create_engine
from bot.storage.installations import installation_store
from bot.storage.rows import Workspace
from bot.storage.sealing import Sealer, generate_key
from bot.usecases.connecting import disconnect
from tests.harness.workspaces import CLIENT_ID, CLIENT_SECRET, multi_settings
from tests.standins import NLPearlStandIn, SlackStandIn

KEY = generate_key()
SEALER = Sealer.from_setting(KEY)
NOW = datetime(2025, 3, 6, 12, 0, tzinfo=UTC)
T1, T2 = Workspace("T1"), Workspace("T2")
FIRST_KEY, SECOND_KEY = "acct111:secret111", "acct222:secret222"

# slack_sdk sends oauth.v2.access's client credentials with aiohttp's BasicAuth, which the
# installed aiohttp deprecates: the SDK's business, not these tests'.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
async def many(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, engine: AsyncEngine, database_url: str
) -> AsyncIterator[ManyWorkspaces]:
    """Multi-workspace tenancy as build_tenancy makes it."""
    slack.set_oauth_client(CLIENT_ID, CLIENT_SECRET)
    async with httpx.AsyncClient() as http:
        tenancy = build_tenancy(
            multi_settings(slack, nlpearl, database_url, encryption_key=KEY), engine, http
        )
        assert isinstance(tenancy, ManyWorkspaces)
        yield tenancy


async def connect(engine: AsyncEngine, ws: Workspace, key: str, sealer: Sealer = SEALER) -> None:
    """The workspace connected to the NLPearl account of `key` (AccountId:SecretKey)."""
    account_id, _, secret = key.partition(":")
    await save_account(
        engine,
        sealer,
        ws,
        account_id=account_id,
        secret=secret,
        account_name=None,
        connected_by="U0ADMIN",
        now=NOW,
    )


async def install(engine: AsyncEngine, **fields: Any) -> None:
    """Save an install as Bolt's OAuth flow does."""
    fields = {"app_id": "A0LEADBOT", "user_id": "U0INSTALLER", "bot_id": "B0BOT"} | fields
    await installation_store(engine, CLIENT_ID).async_save(Installation(**fields))


async def saved_token(engine: AsyncEngine, team_id: str) -> str | None:
    bot = await installation_store(engine, CLIENT_ID).async_find_bot(
        enterprise_id=None, team_id=team_id
    )
    return None if bot is None else bot.bot_token


async def team_of(client: AsyncWebClient) -> str:
    return str((await client.auth_test())["team_id"])


# NLPearl: each workspace's own key


async def test_a_workspace_without_an_account_gets_not_connected_without_a_request(
    many: ManyWorkspaces, nlpearl: NLPearlStandIn
) -> None:
    client = await many.nlpearl_for(T1)

    assert client.connected is False
    with pytest.raises(NotConnected) as raised:
        await client.get_account()
    with pytest.raises(NotConnected):
        await client.check_credentials()
    assert nlpearl.requests() == []
    # What a person is told: how to connect, not that a key was rejected.
    notice = nlpearl_key_problem(raised.value)
    assert "Connect NLPearl" in notice["text"]


async def test_a_connected_workspace_sends_its_own_key(
    many: ManyWorkspaces, nlpearl: NLPearlStandIn, engine: AsyncEngine
) -> None:
    account = nlpearl.add_account(FIRST_KEY)
    account.set_account(name="First account")
    await connect(engine, T1, FIRST_KEY)

    client = await many.nlpearl_for(T1)
    found = await client.get_account()

    assert client.connected is True
    assert found.name == "First account"
    assert [r.api_key for r in account.requests()] == [FIRST_KEY]
    assert nlpearl.requests() == []


async def test_two_workspaces_each_send_their_own_key(
    many: ManyWorkspaces, nlpearl: NLPearlStandIn, engine: AsyncEngine
) -> None:
    first, second = nlpearl.add_account(FIRST_KEY), nlpearl.add_account(SECOND_KEY)
    first.set_account(name="First account")
    second.set_account(name="Second account")
    await connect(engine, T1, FIRST_KEY)
    await connect(engine, T2, SECOND_KEY)

    names = [(await (await many.nlpearl_for(ws)).get_account()).name for ws in (T1, T2, T1)]
    campaigns = await (await many.services_for(T2)).nlpearl.list_campaigns()

    assert names == ["First account", "Second account", "First account"]
    assert [r.api_key for r in first.requests()] == [FIRST_KEY, FIRST_KEY]
    assert [r.api_key for r in second.requests()] == [SECOND_KEY, SECOND_KEY]
    assert campaigns == []
    assert nlpearl.requests() == []


async def test_services_are_kept_per_key(
    many: ManyWorkspaces, nlpearl: NLPearlStandIn, engine: AsyncEngine
) -> None:
    nlpearl.add_account(FIRST_KEY)
    nlpearl.add_account(SECOND_KEY)
    await connect(engine, T1, FIRST_KEY)
    await connect(engine, T2, SECOND_KEY)

    one, again, other = [await many.services_for(ws) for ws in (T1, T1, T2)]

    assert one is again
    assert one is not other
    assert one.nlpearl is not other.nlpearl
    assert one.connections is not None
    assert one.engine is engine


async def test_a_replaced_key_is_used_at_once_and_a_forgotten_one_not_at_all(
    many: ManyWorkspaces, nlpearl: NLPearlStandIn, engine: AsyncEngine
) -> None:
    first, second = nlpearl.add_account(FIRST_KEY), nlpearl.add_account(SECOND_KEY)
    await connect(engine, T1, FIRST_KEY)
    await (await many.nlpearl_for(T1)).check_credentials()

    await connect(engine, T1, SECOND_KEY)
    await (await many.nlpearl_for(T1)).check_credentials()
    services = await many.services_for(T1)
    assert services.connections is not None
    await disconnect(services.connections, T1)
    after = await many.nlpearl_for(T1)

    assert len(first.requests()) == 1
    assert len(second.requests()) == 1
    assert after.connected is False


async def test_a_rejected_connected_key_says_to_connect_again(
    many: ManyWorkspaces, nlpearl: NLPearlStandIn, engine: AsyncEngine
) -> None:
    await connect(engine, T1, "acct000:revoked")

    with pytest.raises(BadCredentials) as raised:
        await (await many.nlpearl_for(T1)).get_account()

    assert not isinstance(raised.value, NotConnected)
    assert raised.value.fix == CONNECTED_KEY_FIX
    # A person is sent to Home, never to NLPEARL_API_KEY, which this mode refuses.
    told = json.dumps(nlpearl_key_problem(raised.value), ensure_ascii=False)
    assert "Home" in told
    assert "NLPEARL_API_KEY" not in told


async def test_a_key_no_encryption_key_opens_is_not_connected_and_logged(
    many: ManyWorkspaces,
    nlpearl: NLPearlStandIn,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    account = nlpearl.add_account(FIRST_KEY)
    await connect(engine, T1, FIRST_KEY, sealer=Sealer.from_setting(generate_key()))

    with caplog.at_level(logging.ERROR, logger="bot.app.tenancy"):
        client = await many.nlpearl_for(T1)

    assert client.connected is False
    assert account.requests() == []
    [logged] = [r for r in caplog.records if r.name == "bot.app.tenancy"]
    assert logged.levelno == logging.ERROR
    assert "T1" in logged.getMessage()
    assert "secret111" not in caplog.text


# Slack: each workspace's installed bot token


async def test_an_installed_workspace_gets_its_bot_token(
    many: ManyWorkspaces, slack: SlackStandIn, engine: AsyncEngine
) -> None:
    slack.add_workspace("T1", "xoxb-t1")
    slack.add_workspace("T2", "xoxb-t2")
    await install(engine, team_id="T1", team_name="One", bot_token="xoxb-t1")
    await install(engine, team_id="T2", team_name="Two", bot_token="xoxb-t2")

    one, two = await many.slack_for(T1), await many.slack_for(T2)

    assert (one.token, two.token) == ("xoxb-t1", "xoxb-t2")
    assert await team_of(one) == "T1"
    assert await team_of(two) == "T2"
    assert await many.slack_for(T1) is one
    assert slack.refreshes("T1") == 0


async def test_an_install_saved_through_the_tenancys_own_store_is_served(
    many: ManyWorkspaces, slack: SlackStandIn
) -> None:
    slack.add_workspace("T1", "xoxb-t1")
    # Bolt's OAuth flow saves installs in the tenancy's store.
    await many.installations.async_save(
        Installation(app_id="A0LEADBOT", user_id="U0INSTALLER", team_id="T1", bot_token="xoxb-t1")
    )

    assert (await many.slack_for(T1)).token == "xoxb-t1"


async def test_a_workspace_that_never_installed_gets_no_token(
    many: ManyWorkspaces, engine: AsyncEngine
) -> None:
    await install(engine, team_id="T1", bot_token="xoxb-t1")

    assert (await many.slack_for(Workspace("T3"))).token is None


async def test_the_latest_install_serves(
    many: ManyWorkspaces, slack: SlackStandIn, engine: AsyncEngine
) -> None:
    await install(engine, team_id="T1", bot_token="xoxb-old", installed_at=time.time() - 3600)
    await install(engine, team_id="T1", bot_token="xoxb-new", installed_at=time.time())

    assert (await many.slack_for(T1)).token == "xoxb-new"


async def test_an_org_wide_install_serves_each_workspace_of_the_org(
    many: ManyWorkspaces, slack: SlackStandIn, engine: AsyncEngine
) -> None:
    await install(
        engine,
        enterprise_id="E1",
        enterprise_name="Grid Co",
        team_id=None,
        is_enterprise_install=True,
        bot_token="xoxb-org",
    )
    await install(engine, enterprise_id="E1", team_id="T8", bot_token="xoxb-own")

    in_org = await many.slack_for(Workspace("T9", enterprise_id="E1"))
    own = await many.slack_for(Workspace("T8", enterprise_id="E1"))
    other_org = await many.slack_for(Workspace("T9", enterprise_id="E2"))
    no_org = await many.slack_for(Workspace("T9"))

    assert in_org.token == "xoxb-org"
    assert own.token == "xoxb-own"
    assert other_org.token is None
    assert no_org.token is None


# Slack: rotating bot tokens


async def rotating_install(
    slack: SlackStandIn, engine: AsyncEngine, *, expires_in_seconds: int
) -> str:
    """T1 installed with a rotating token that expires in `expires_in_seconds`; the token."""
    slack.program_install(
        "code-1",
        team_id="T1",
        team_name="One",
        token="xoxe.xoxb-1-first",
        bot_user_id="U1BOT",
        rotating=True,
        refresh_token="xoxe-1-first",
    )
    client = AsyncWebClient(base_url=slack.api_url)
    granted = await client.oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code="code-1"
    )
    await install(
        engine,
        team_id="T1",
        team_name="One",
        bot_user_id="U1BOT",
        bot_token=granted["access_token"],
        bot_refresh_token=granted["refresh_token"],
        bot_token_expires_at=int(time.time()) + expires_in_seconds,
    )
    return str(granted["access_token"])


async def test_a_token_about_to_expire_is_refreshed_and_saved(
    many: ManyWorkspaces, slack: SlackStandIn, engine: AsyncEngine
) -> None:
    first = await rotating_install(slack, engine, expires_in_seconds=3600)

    client = await many.slack_for(T1)

    assert slack.refreshes("T1") == 1
    assert client.token is not None
    assert client.token != first
    assert client.token.startswith("xoxe.xoxb-")
    assert await saved_token(engine, "T1") == client.token
    assert await team_of(client) == "T1"
    # Fresh now: the next request refreshes nothing.
    assert (await many.slack_for(T1)).token == client.token
    assert slack.refreshes("T1") == 1


async def test_a_token_far_from_expiring_is_not_refreshed(
    many: ManyWorkspaces, slack: SlackStandIn, engine: AsyncEngine
) -> None:
    first = await rotating_install(slack, engine, expires_in_seconds=3 * 3600)

    client = await many.slack_for(T1)

    assert client.token == first
    assert slack.refreshes("T1") == 0


async def test_concurrent_requests_refresh_once(
    many: ManyWorkspaces, slack: SlackStandIn, engine: AsyncEngine
) -> None:
    await rotating_install(slack, engine, expires_in_seconds=600)

    clients = await asyncio.gather(*(many.slack_for(T1) for _ in range(6)))

    assert slack.refreshes("T1") == 1
    tokens = {c.token for c in clients}
    assert tokens == {await saved_token(engine, "T1")}
    # The refresh token was spent once: no refresh was refused.
    assert [r.ok for r in slack.records("oauth.v2.access")] == [True, True]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_processes_refreshing_at_once_refresh_once(
    many: ManyWorkspaces,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    engine: AsyncEngine,
    database_url: str,
) -> None:
    # Two web processes (or a worker) share the database, each with its own engine and locks.
    await rotating_install(slack, engine, expires_in_seconds=600)
    other_engine = create_engine(database_url)
    try:
        async with httpx.AsyncClient() as http:
            other = build_tenancy(
                multi_settings(slack, nlpearl, database_url, encryption_key=KEY), other_engine, http
            )
            assert isinstance(other, ManyWorkspaces)
            clients = await asyncio.gather(
                *(tenancy.slack_for(T1) for tenancy in (many, other, many, other))
            )
    finally:
        await other_engine.dispose()

    assert slack.refreshes("T1") == 1
    assert {c.token for c in clients} == {await saved_token(engine, "T1")}
    assert [r.ok for r in slack.records("oauth.v2.access")] == [True, True]


async def test_a_failed_refresh_keeps_the_old_token_and_logs_an_error(
    many: ManyWorkspaces,
    slack: SlackStandIn,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack.add_workspace("T1", "xoxe.xoxb-1-old")
    await install(
        engine,
        team_id="T1",
        bot_token="xoxe.xoxb-1-old",
        bot_refresh_token="xoxe-1-never-issued",
        bot_token_expires_at=int(time.time()) + 600,
    )

    with caplog.at_level(logging.ERROR, logger="bot.app.tenancy"):
        client = await many.slack_for(T1)

    assert client.token == "xoxe.xoxb-1-old"
    assert await saved_token(engine, "T1") == "xoxe.xoxb-1-old"
    [refused] = slack.records("oauth.v2.access")
    assert refused.reply == {"ok": False, "error": "invalid_refresh_token"}
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "Could not refresh the bot token of workspace T1" in errors[0].getMessage()
    assert "xoxe-1-never-issued" not in caplog.text
    assert CLIENT_SECRET not in caplog.text
    # The old token still works until Slack expires it.
    assert await team_of(client) == "T1"


# Single-workspace mode


@pytest.fixture
async def one(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, tmp_path: Path
) -> AsyncIterator[OneWorkspace]:
    settings = load_settings(
        slack_bot_token=slack.valid_token,
        slack_signing_secret="signing-secret-0123456789",
        slack_api_url=slack.api_url,
        nlpearl_api_key=nlpearl.api_key,
        nlpearl_api_url=nlpearl.url,
    )
    engine = create_engine(f"sqlite:///{tmp_path / 'one.db'}")
    try:
        async with httpx.AsyncClient() as http:
            tenancy = build_tenancy(settings, engine, http)
            assert isinstance(tenancy, OneWorkspace)
            yield tenancy
    finally:
        await engine.dispose()


async def test_one_workspace_serves_everyone_with_the_same_clients(
    one: OneWorkspace, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    workspaces = [T1, T2, Workspace("T9", enterprise_id="E1"), Workspace("")]

    services = {id(await one.services_for(ws)) for ws in workspaces}
    nlpearls = {id(await one.nlpearl_for(ws)) for ws in workspaces}
    slacks = {id(await one.slack_for(ws)) for ws in workspaces}

    assert len(services) == len(nlpearls) == len(slacks) == 1
    assert (await one.services_for(T1)).nlpearl is await one.nlpearl_for(T2)
    assert (await one.services_for(T1)).connections is None


async def test_one_workspace_uses_the_environments_token_and_key(
    one: OneWorkspace, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    client = await one.slack_for(T2)
    await (await one.nlpearl_for(T2)).check_credentials()

    assert client.token == slack.valid_token
    assert await team_of(client) == "T0TEST"
    assert [r.api_key for r in nlpearl.requests()] == [nlpearl.api_key]
