"""A campaign's webhook URL, once shown, never changes: repeats, races, other channels, old rows."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine
from bot.storage.inbox import Outcome, store_webhook, token_exists
from bot.storage.migrate import alembic_config, upgrade_to_latest
from bot.storage.rows import Subscribed
from bot.storage.subscriptions import hash_token, subscribe
from bot.storage.tables import subscriptions, webhook_endpoints
from tests.storage.support import CAMPAIGN, NOW, OTHER_TEAM, TEAM, lead_event, rows

LOCK_WAIT_POLLS = 400  # x 25 ms: ten seconds for the racing subscribe to reach its insert


async def _subscribe(engine: AsyncEngine, channel: str, *, minutes: int = 0) -> Subscribed:
    return await subscribe(
        engine,
        TEAM,
        channel_id=channel,
        campaign_id=CAMPAIGN,
        statuses=None,
        user_id="U0001",
        now=NOW + timedelta(minutes=minutes),
    )


async def test_subscribing_again_gives_the_same_token(engine: AsyncEngine) -> None:
    first = await _subscribe(engine, "C1")
    again = await _subscribe(engine, "C1", minutes=1)
    retried = await _subscribe(engine, "C1", minutes=2)

    assert first.token is not None
    assert again.token == retried.token == first.token
    assert (first.already_subscribed, again.already_subscribed) == (False, True)
    assert await token_exists(engine, first.token)
    (endpoint,) = await rows(engine, webhook_endpoints)
    assert endpoint["token_hash"] == hash_token(first.token)


async def test_every_channel_of_the_workspace_gets_the_same_token(engine: AsyncEngine) -> None:
    tokens = {(await _subscribe(engine, channel)).token for channel in ("C1", "C2", "C3")}
    again = await _subscribe(engine, "C1")

    assert len(tokens) == 1
    assert again.token in tokens
    assert len(await rows(engine, webhook_endpoints)) == 1
    # Another workspace's subscription to the same campaign has a URL of its own.
    theirs = await subscribe(
        engine,
        OTHER_TEAM,
        channel_id="C1",
        campaign_id=CAMPAIGN,
        statuses=None,
        user_id=None,
        now=NOW,
    )
    assert theirs.token is not None
    assert theirs.token not in tokens


async def test_the_token_stays_after_nlpearl_used_it(engine: AsyncEngine) -> None:
    token = (await _subscribe(engine, "C1")).token
    assert token is not None
    received = NOW + timedelta(hours=1)
    stored = await store_webhook(engine, token, lead_event(), received)
    assert stored.outcome is Outcome.STORED

    again = await _subscribe(engine, "C1", minutes=90)
    other = await _subscribe(engine, "C2", minutes=91)

    assert again.token == other.token == token
    assert again.last_received_at == other.last_received_at == received
    assert (await store_webhook(engine, token, lead_event(), received)).queued == 2


async def test_concurrent_first_subscribes_end_with_one_token(engine: AsyncEngine) -> None:
    # Double-submits of one channel and first subscribes of several, all at once.
    channels = ["C1", "C1", "C2", "C3", "C2", "C4"]
    results = await asyncio.gather(*(_subscribe(engine, channel) for channel in channels))

    assert len({r.token for r in results}) == 1
    token = results[0].token
    assert token is not None
    (endpoint,) = await rows(engine, webhook_endpoints)
    assert endpoint["token_hash"] == hash_token(token)
    assert sorted(s["channel_id"] for s in await rows(engine, subscriptions)) == [
        "C1",
        "C2",
        "C3",
        "C4",
    ]
    assert (await store_webhook(engine, token, lead_event(), NOW)).queued == 4


async def test_the_loser_of_a_first_subscribe_race_shows_the_winners_token(
    engine: AsyncEngine, database_url: str
) -> None:
    """The winner's insert is not committed yet when the loser looks, so the loser inserts too.

    On PostgreSQL the loser's insert waits on the unique constraint and then fails; on SQLite
    the loser waits for the write lock and then finds the winner's row.
    """
    winner_token = "winner-token-0123456789abcdef0123"
    winner = create_engine(database_url)
    try:
        async with winner.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(
                webhook_endpoints.insert().values(
                    team_id=TEAM.team_id,
                    enterprise_id=TEAM.enterprise_id,
                    campaign_id=CAMPAIGN,
                    token_hash=hash_token(winner_token),
                    token=winner_token,
                    created_at=NOW,
                )
            )
            loser = asyncio.create_task(_subscribe(engine, "C1"))
            await _until_blocked(engine, database_url, loser)
            await transaction.commit()
        result = await asyncio.wait_for(loser, 30)
    finally:
        await winner.dispose()

    assert result.token == winner_token
    (endpoint,) = await rows(engine, webhook_endpoints)
    assert endpoint["token_hash"] == hash_token(winner_token)
    assert [s["endpoint_id"] for s in await rows(engine, subscriptions)] == [endpoint["id"]]


async def _until_blocked(
    engine: AsyncEngine, database_url: str, task: asyncio.Task[Subscribed]
) -> None:
    """Wait until the task waits on a lock (PostgreSQL), or give it time to (SQLite)."""
    for _ in range(LOCK_WAIT_POLLS):
        await asyncio.sleep(0.025)
        assert not task.done(), task
        if not database_url.startswith("postgres"):
            return
        async with engine.connect() as conn:
            waiting = await conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            if waiting.scalar_one():
                return
    raise AssertionError("the racing subscribe never reached its insert")


async def _engine_with_an_endpoint_from_0002(
    database_url: str, old_token: str, last_received_at: datetime | None
) -> AsyncEngine:
    """A database made at 0002, whose endpoint kept its token only hashed, then upgraded."""
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "0002")
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        # Only the columns 0002 has: the table definition's newer ones are left out.
        await conn.execute(
            webhook_endpoints.insert().values(
                team_id=TEAM.team_id,
                enterprise_id=TEAM.enterprise_id,
                campaign_id=CAMPAIGN,
                token_hash=hash_token(old_token),
                created_at=NOW,
                last_received_at=last_received_at,
            )
        )
    await asyncio.to_thread(upgrade_to_latest, database_url)
    return engine


async def test_an_unused_row_from_before_tokens_were_kept_gets_a_url_once(
    database_url: str,
) -> None:
    old_token = "old-token-issued-before-0003-abcdef"
    engine = await _engine_with_an_endpoint_from_0002(database_url, old_token, None)
    try:
        (endpoint,) = await rows(engine, webhook_endpoints)
        assert endpoint["token"] is None
        assert await token_exists(engine, old_token)
        # The old URL cannot be shown again and NLPearl never used it: a new one replaces it
        # once, and from then on it is the one shown.
        first = await _subscribe(engine, "C1")
        again = await _subscribe(engine, "C2")
        assert first.token is not None
        assert again.token == first.token
        assert not await token_exists(engine, old_token)
        (after,) = await rows(engine, webhook_endpoints)
        assert after["token_hash"] == hash_token(first.token)
        assert (await store_webhook(engine, first.token, lead_event(), NOW)).queued == 2
    finally:
        await engine.dispose()


async def test_a_used_row_from_before_tokens_were_kept_keeps_its_url(database_url: str) -> None:
    old_token = "old-token-issued-before-0003-used"
    engine = await _engine_with_an_endpoint_from_0002(database_url, old_token, NOW)
    try:
        subscribed = await _subscribe(engine, "C1")

        # NLPearl sends to the old URL: it stays, and there is nothing to show.
        assert subscribed.token is None
        assert subscribed.last_received_at == NOW
        assert await token_exists(engine, old_token)
    finally:
        await engine.dispose()
