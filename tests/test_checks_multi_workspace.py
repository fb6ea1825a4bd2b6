"""`lead-bot check` in multi-workspace mode: the database, then a line per installed workspace.

Against the Slack and NLPearl stand-ins and a migrated SQLite file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.settings import Settings
from bot.storage.accounts import save_account
from bot.storage.installations import installation_store
from bot.storage.rows import Workspace
from bot.storage.sealing import Sealer, generate_key
from tests.harness.workspaces import CLIENT_ID, multi_settings, run_check, save_install
from tests.migrated import migrated_sqlite
from tests.standins import NLPearlStandIn, SlackStandIn

KEY = generate_key()
NOW = datetime(2025, 3, 6, 12, 0, tzinfo=UTC)
WORKING_KEY = "acct111:secret111"
PUBLIC_URL = "https://lead.example.com"

# slack_sdk sends oauth.v2.access's client credentials with aiohttp's BasicAuth, which the
# installed aiohttp deprecates: the SDK's business, not these tests'.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    path = tmp_path / "check.db"
    migrated_sqlite(path)
    return f"sqlite:///{path}"


def settings_for(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, **more: Any
) -> Settings:
    return multi_settings(
        slack, nlpearl, database_url, **({"encryption_key": KEY, "public_url": PUBLIC_URL} | more)
    )


async def connect(engine: AsyncEngine, team_id: str, key: str) -> None:
    account_id, _, secret = key.partition(":")
    await save_account(
        engine,
        Sealer.from_setting(KEY),
        Workspace(team_id),
        account_id=account_id,
        secret=secret,
        account_name="Acme",
        connected_by="U0ADMIN",
        now=NOW,
    )


async def test_no_install_yet_says_where_to_install(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, engine: AsyncEngine
) -> None:
    status, lines = await run_check(settings_for(slack, nlpearl, database_url))

    assert status == 0
    assert lines == [
        "✓ Database: sqlite answers",
        "✓ Installs: no workspace has installed Lead Bot yet; add it from "
        f"{PUBLIC_URL}/slack/install.",
        "All good.",
    ]
    # Nothing to try: no token, no key.
    assert slack.records() == []
    assert nlpearl.requests() == []


async def test_no_install_without_a_public_url_names_the_install_path(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, engine: AsyncEngine
) -> None:
    status, lines = await run_check(settings_for(slack, nlpearl, database_url, public_url=None))

    assert status == 0
    assert "/slack/install" in lines[1]


async def test_each_workspace_gets_its_line_and_what_to_do(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, engine: AsyncEngine
) -> None:
    slack.add_workspace("T1", "xoxb-t1", bot_user_id="U1BOT")
    slack.add_workspace("T2", "xoxb-t2", bot_user_id="U2BOT")
    account = nlpearl.add_account(WORKING_KEY)
    await save_install(engine, "T1", "Connected Co", "xoxb-t1")
    await save_install(engine, "T2", "Not Yet Co", "xoxb-t2")
    await connect(engine, "T1", WORKING_KEY)

    status, lines = await run_check(settings_for(slack, nlpearl, database_url))

    assert status == 1
    assert lines[0] == "✓ Database: sqlite answers"
    workspace_lines = sorted(lines[1:-1])
    assert workspace_lines == [
        "✓ Connected Co (T1): bot token works as @leadbot; NLPearl key accepted",
        "✗ Not Yet Co (T2): bot token works as @leadbot, but no NLPearl account is connected "
        "yet: an admin connects it from Lead Bot's Home tab.",
    ]
    assert lines[-1] == "1 problem(s) to fix."
    # Each workspace was checked with its own token, and only the connected one's key was sent.
    assert {(r.token, r.team_id) for r in slack.records("auth.test")} == {
        ("xoxb-t1", "T1"),
        ("xoxb-t2", "T2"),
    }
    assert [r.api_key for r in account.requests()] == [WORKING_KEY]
    assert nlpearl.requests() == []
    assert "secret111" not in "\n".join(lines)


async def test_a_revoked_bot_token_says_to_reinstall(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, engine: AsyncEngine
) -> None:
    slack.add_workspace("T1", "xoxb-t1")
    nlpearl.add_account(WORKING_KEY)
    await save_install(engine, "T1", "Gone Co", "xoxb-t1")
    await connect(engine, "T1", WORKING_KEY)
    slack.revoke("xoxb-t1")

    status, lines = await run_check(settings_for(slack, nlpearl, database_url))

    assert status == 1
    (line,) = [line for line in lines if "Gone Co" in line]
    assert line.startswith("✗ Gone Co (T1): its bot token does not work (")
    assert "token_revoked" in line
    assert line.endswith("the workspace should reinstall Lead Bot.")
    assert "xoxb-t1" not in line
    assert lines[-1] == "1 problem(s) to fix."


async def test_a_rejected_connected_key_says_to_connect_again(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, engine: AsyncEngine
) -> None:
    slack.add_workspace("T1", "xoxb-t1")
    await save_install(engine, "T1", "Stale Co", "xoxb-t1")
    await connect(engine, "T1", "acct000:revoked-key")

    status, lines = await run_check(settings_for(slack, nlpearl, database_url))

    assert status == 1
    assert lines[1] == (
        "✗ Stale Co (T1): bot token works as @leadbot, but NLPearl rejected the connected key: "
        "an admin connects it again from Lead Bot's Home tab."
    )
    assert "revoked-key" not in "\n".join(lines)


async def test_all_workspaces_working_is_all_good(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, engine: AsyncEngine
) -> None:
    second_key = "acct222:secret222"
    for team_id, key in (("T1", WORKING_KEY), ("T2", second_key)):
        slack.add_workspace(team_id, f"xoxb-{team_id.lower()}")
        nlpearl.add_account(key)
        await save_install(engine, team_id, f"Co {team_id}", f"xoxb-{team_id.lower()}")
        await connect(engine, team_id, key)

    status, lines = await run_check(settings_for(slack, nlpearl, database_url))

    assert status == 0
    assert [line[0] for line in lines[:-1]] == ["✓", "✓", "✓"]
    assert lines[-1] == "All good."


async def test_an_unmigrated_database_says_to_migrate(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, tmp_path: Path
) -> None:
    status, lines = await run_check(
        settings_for(slack, nlpearl, f"sqlite:///{tmp_path / 'empty.db'}")
    )

    assert status == 1
    assert lines[0] == "✓ Database: sqlite answers"
    assert lines[1].startswith("✗ Installs: could not read them (")
    assert "lead-bot migrate" in lines[1]


async def test_an_org_wide_install_whose_workspace_connected_is_not_called_unconnected(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, engine: AsyncEngine
) -> None:
    # Installed once for the whole Enterprise Grid org: each of its workspaces connects its
    # own NLPearl account from Home, where requests come as Workspace(team, enterprise).
    slack.set_oauth_client(CLIENT_ID, "client-secret-0123456789")
    slack.program_install(
        "code-org",
        enterprise_id="E1",
        enterprise_name="Grid Co",
        is_enterprise_install=True,
        token="xoxb-org",
        bot_user_id="U0ORGBOT",
    )
    await AsyncWebClient(base_url=slack.api_url).oauth_v2_access(
        client_id=CLIENT_ID, client_secret="client-secret-0123456789", code="code-org"
    )
    await installation_store(engine, CLIENT_ID).async_save(
        Installation(
            app_id="A0LEADBOT",
            enterprise_id="E1",
            enterprise_name="Grid Co",
            team_id=None,
            is_enterprise_install=True,
            bot_token="xoxb-org",
            bot_user_id="U0ORGBOT",
            user_id="U0INSTALLER",
        )
    )
    account = nlpearl.add_account(WORKING_KEY)
    account_id, _, secret = WORKING_KEY.partition(":")
    await save_account(
        engine,
        Sealer.from_setting(KEY),
        Workspace("T9", enterprise_id="E1"),
        account_id=account_id,
        secret=secret,
        account_name="Acme",
        connected_by="U0ADMIN",
        now=NOW,
    )

    status, lines = await run_check(settings_for(slack, nlpearl, database_url))

    (line,) = [line for line in lines if "Grid Co" in line]
    assert line.startswith("✓ Grid Co (E1): bot token works")
    assert "no NLPearl account is connected" not in line
    assert account.requests() != []
    assert status == 0
