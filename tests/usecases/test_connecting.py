"""Use case: a workspace connects its NLPearl account (checked with NLPearl first), or forgets it.

Against the NLPearl stand-in over loopback, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.settings import load_settings
from bot.app.tenancy import build_nlpearl_client
from bot.blocks.ids import BlockId
from bot.storage.accounts import account_of
from bot.storage.rows import Workspace
from bot.storage.sealing import Sealer, generate_key
from bot.storage.tables import nlpearl_accounts
from bot.usecases.connecting import (
    CHECK_SECONDS,
    Connected,
    Connections,
    Refused,
    connect,
    connected_account,
    disconnect,
)
from tests.standins import NLPearlStandIn

NOW = datetime(2025, 3, 6, 12, 0, tzinfo=UTC)
WS = Workspace("T1")
OTHER_WS = Workspace("T2", enterprise_id="E1")
ACCOUNT_ID = "65f0c0ffee1234567890abcd"
SECRET = "Xy7sEcReT9qVeryS3cret"
SEALER = Sealer.from_setting(generate_key())
ID_BLOCK = BlockId.NLPEARL_ACCOUNT_ID.value
SECRET_BLOCK = BlockId.NLPEARL_SECRET.value


@pytest.fixture
def account(nlpearl: NLPearlStandIn) -> NLPearlStandIn:
    """The NLPearl account whose ID and key an admin pastes, served by the stand-in."""
    account = nlpearl.add_account(f"{ACCOUNT_ID}:{SECRET}")
    account.set_account(name="Sunrise Solar Calls", creditBalance=321.5)
    return account


@pytest.fixture
async def connections(engine: AsyncEngine, nlpearl: NLPearlStandIn) -> AsyncIterator[Connections]:
    """Connections as multi-workspace mode wires them, trying keys on the stand-in."""
    settings = load_settings(slack_client_id="1111.2222", nlpearl_api_url=nlpearl.url)
    async with httpx.AsyncClient() as http:
        yield Connections(
            engine,
            SEALER,
            client_for_key=lambda key: build_nlpearl_client(settings, http, key),
        )


async def stored_secret(engine: AsyncEngine, ws: Workspace) -> str | None:
    """The secret column as stored for the workspace."""
    query = select(nlpearl_accounts.c.secret).where(
        nlpearl_accounts.c.team_id == ws.team_id,
        nlpearl_accounts.c.enterprise_id == ws.enterprise_id,
    )
    async with engine.connect() as conn:
        return (await conn.execute(query)).scalar_one_or_none()


async def paste(
    connections: Connections,
    account_id: str = ACCOUNT_ID,
    secret: str = SECRET,
    ws: Workspace = WS,
) -> Connected | Refused:
    return await connect(
        connections, ws, user_id="U0ADMIN", account_id=account_id, secret=secret, now=NOW
    )


# an accepted key


async def test_an_accepted_key_is_kept_for_the_workspace(
    connections: Connections, account: NLPearlStandIn, engine: AsyncEngine
) -> None:
    result = await paste(connections)

    assert isinstance(result, Connected)
    assert result.account_id == ACCOUNT_ID
    assert result.account.name == "Sunrise Solar Calls"
    assert result.account.credit_balance == 321.5
    stored = await account_of(engine, SEALER, WS)
    assert stored is not None
    assert (stored.account_id, stored.secret) == (ACCOUNT_ID, SECRET)
    assert stored.account_name == "Sunrise Solar Calls"
    assert stored.connected_by == "U0ADMIN"
    assert stored.connected_at == NOW
    assert await account_of(engine, SEALER, OTHER_WS) is None


async def test_the_secret_is_sealed_at_rest(
    connections: Connections, account: NLPearlStandIn, engine: AsyncEngine
) -> None:
    await paste(connections)

    raw = await stored_secret(engine, WS)
    assert raw is not None
    assert SECRET not in raw
    assert SEALER.unseal(raw) == SECRET


async def test_nlpearl_was_asked_with_exactly_that_key(
    connections: Connections, account: NLPearlStandIn, nlpearl: NLPearlStandIn
) -> None:
    await paste(connections, account_id=f"  {ACCOUNT_ID} ", secret=f"\t{SECRET}\n")

    [request] = account.requests()
    assert (request.method, request.path) == ("GET", "/v2/Account")
    assert request.api_key == f"{ACCOUNT_ID}:{SECRET}"
    assert nlpearl.requests() == []


async def test_connecting_again_replaces_the_key(
    connections: Connections, account: NLPearlStandIn, nlpearl: NLPearlStandIn, engine: AsyncEngine
) -> None:
    other = nlpearl.add_account("acct999:other777")
    other.set_account(name="Other account")
    await paste(connections)

    result = await paste(connections, account_id="acct999", secret="other777")

    assert isinstance(result, Connected)
    stored = await account_of(engine, SEALER, WS)
    assert stored is not None
    assert (stored.account_id, stored.secret, stored.account_name) == (
        "acct999",
        "other777",
        "Other account",
    )


async def test_each_workspace_keeps_its_own_account(
    connections: Connections, account: NLPearlStandIn, nlpearl: NLPearlStandIn, engine: AsyncEngine
) -> None:
    nlpearl.add_account("acct999:other777")

    await paste(connections)
    await paste(connections, account_id="acct999", secret="other777", ws=OTHER_WS)

    first = await connected_account(connections, WS)
    second = await connected_account(connections, OTHER_WS)
    assert first is not None
    assert second is not None
    assert (first.account_id, second.account_id) == (ACCOUNT_ID, "acct999")


# refused: NLPearl said no, or did not answer


async def test_a_rejected_key_is_refused_under_the_secret_and_nothing_is_kept(
    connections: Connections, account: NLPearlStandIn, nlpearl: NLPearlStandIn, engine: AsyncEngine
) -> None:
    result = await paste(connections, secret="wrong-secret")

    assert isinstance(result, Refused)
    assert list(result.errors) == [SECRET_BLOCK]
    assert result.errors[SECRET_BLOCK].startswith("NLPearl didn't accept this Account ID")
    assert "wrong-secret" not in result.errors[SECRET_BLOCK]
    assert await account_of(engine, SEALER, WS) is None
    assert await stored_secret(engine, WS) is None
    # It was NLPearl that said no: the key was sent, and refused.
    assert [r.api_key for r in nlpearl.requests()] == [f"{ACCOUNT_ID}:wrong-secret"]


async def test_a_rejected_key_leaves_the_key_in_use(
    connections: Connections, account: NLPearlStandIn, engine: AsyncEngine
) -> None:
    await paste(connections)

    result = await paste(connections, account_id="acct000", secret="nope")

    assert isinstance(result, Refused)
    stored = await account_of(engine, SEALER, WS)
    assert stored is not None
    assert (stored.account_id, stored.secret) == (ACCOUNT_ID, SECRET)


async def test_a_slow_nlpearl_is_refused_in_time_and_nothing_is_kept(
    connections: Connections, account: NLPearlStandIn, engine: AsyncEngine
) -> None:
    account.set_latency(CHECK_SECONDS + 1.5)

    started = time.monotonic()
    result = await paste(connections)
    took = time.monotonic() - started

    assert isinstance(result, Refused)
    assert result.errors == {
        SECRET_BLOCK: "NLPearl didn't answer in time, so nothing was saved. Try again."
    }
    # Slack waits 3 seconds for the modal's answer.
    assert took < 3.0
    assert await account_of(engine, SEALER, WS) is None


async def test_a_failing_nlpearl_is_refused_and_nothing_is_kept(
    connections: Connections, account: NLPearlStandIn, engine: AsyncEngine
) -> None:
    account.fail_next("/v2/Account", status=500, times=10)

    result = await paste(connections)

    assert isinstance(result, Refused)
    assert list(result.errors) == [SECRET_BLOCK]
    assert "nothing was saved" in result.errors[SECRET_BLOCK]
    assert await account_of(engine, SEALER, WS) is None


# refused before asking: what was pasted is not an ID or a key


@pytest.mark.parametrize(
    ("account_id", "secret", "blocks"),
    [
        ("65f0 c0ffee", SECRET, [ID_BLOCK]),
        (ACCOUNT_ID, "Xy7s EcReT", [SECRET_BLOCK]),
        (f"{ACCOUNT_ID}:{SECRET}", SECRET, [ID_BLOCK]),
        (ACCOUNT_ID, f"{ACCOUNT_ID}:{SECRET}", [SECRET_BLOCK]),
        ("", SECRET, [ID_BLOCK]),
        (ACCOUNT_ID, "", [SECRET_BLOCK]),
        ("   ", "\n", [ID_BLOCK, SECRET_BLOCK]),
        ("a" * 500, SECRET, [ID_BLOCK]),
        (ACCOUNT_ID, "s" * 500, [SECRET_BLOCK]),
        ("a" * 201, "s" * 201, [ID_BLOCK, SECRET_BLOCK]),
        ("acct\u00a0123", SECRET, [ID_BLOCK]),
    ],
    ids=[
        "space-in-id",
        "space-in-secret",
        "whole-key-as-id",
        "whole-key-as-secret",
        "empty-id",
        "empty-secret",
        "blank-both",
        "500-char-id",
        "500-char-secret",
        "201-chars-both",
        "nbsp-in-id",
    ],
)
async def test_a_malformed_paste_is_refused_under_its_input_without_asking_nlpearl(
    connections: Connections,
    account: NLPearlStandIn,
    nlpearl: NLPearlStandIn,
    engine: AsyncEngine,
    account_id: str,
    secret: str,
    blocks: list[str],
) -> None:
    result = await paste(connections, account_id=account_id, secret=secret)

    assert isinstance(result, Refused)
    assert sorted(result.errors) == sorted(blocks)
    for message in result.errors.values():
        assert "platform.nlpearl.ai → Settings → API" in message
        assert len(message) <= 150
    assert nlpearl.requests() == []
    assert account.requests() == []
    assert await account_of(engine, SEALER, WS) is None


@pytest.mark.parametrize(
    ("account_id", "secret", "blocks"),
    [
        (f"{ACCOUNT_ID}\u200b", SECRET, [ID_BLOCK]),
        (ACCOUNT_ID, SECRET[:8] + "…", [SECRET_BLOCK]),
        (ACCOUNT_ID, "Xy7s\x00EcReT", [SECRET_BLOCK]),
        ("acct\x7f123", SECRET, [ID_BLOCK]),
    ],
    ids=["zero-width-space-after-id", "ellipsis-in-secret", "nul-in-secret", "delete-in-id"],
)
async def test_a_paste_an_http_header_cannot_carry_is_refused_under_its_input(
    connections: Connections,
    account: NLPearlStandIn,
    nlpearl: NLPearlStandIn,
    engine: AsyncEngine,
    account_id: str,
    secret: str,
    blocks: list[str],
) -> None:
    # Copied from a web page, an ID often brings an invisible character along. NLPearl's IDs
    # and keys are printable ASCII; anything else cannot even be sent as a bearer token.
    result = await paste(connections, account_id=account_id, secret=secret)

    assert isinstance(result, Refused)
    assert sorted(result.errors) == sorted(blocks)
    assert nlpearl.requests() == []
    assert account.requests() == []
    assert await account_of(engine, SEALER, WS) is None


async def test_the_longest_id_and_key_the_form_takes_are_tried(
    connections: Connections, nlpearl: NLPearlStandIn, engine: AsyncEngine
) -> None:
    long_id, long_secret = "a" * 200, "s" * 200
    nlpearl.add_account(f"{long_id}:{long_secret}")

    result = await paste(connections, account_id=long_id, secret=long_secret)

    assert isinstance(result, Connected)
    stored = await account_of(engine, SEALER, WS)
    assert stored is not None
    assert stored.secret == long_secret


# disconnecting


async def test_disconnect_forgets_the_key(
    connections: Connections, account: NLPearlStandIn, engine: AsyncEngine
) -> None:
    await paste(connections)
    await paste(connections, ws=OTHER_WS)

    forgotten = await disconnect(connections, WS)

    assert forgotten is True
    assert await account_of(engine, SEALER, WS) is None
    assert await stored_secret(engine, WS) is None
    assert await connected_account(connections, WS) is None
    # The other workspace keeps its own.
    assert await connected_account(connections, OTHER_WS) is not None


async def test_disconnect_without_a_key_says_so(connections: Connections) -> None:
    assert await disconnect(connections, WS) is False


async def test_a_key_no_encryption_key_opens_reads_as_not_connected(
    connections: Connections, account: NLPearlStandIn, engine: AsyncEngine
) -> None:
    await paste(connections)
    other_keys = Connections(
        engine, Sealer.from_setting(generate_key()), client_for_key=connections.client_for_key
    )

    assert await connected_account(other_keys, WS) is None
    # Connecting again under the new key mends it.
    assert isinstance(await paste(other_keys), Connected)
    stored = await connected_account(other_keys, WS)
    assert stored is not None
    assert stored.secret == SECRET
