"""Forgetting a workspace while its webhooks are being stored, on PostgreSQL.

Only PostgreSQL serves several processes at once (SQLite has one writer at a time), so only it
runs here. A webhook in flight holds key-share locks on its endpoint and subscription until it
commits: the forget must wait for it and then delete what it stored too, and a webhook that
comes while the forget is deleting must be turned away as an unknown token, not fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.engine import create_engine
from bot.storage.forget import forget_workspace
from bot.storage.inbox import Outcome, store_webhook
from bot.storage.memory import remember_lookup
from bot.storage.rows import RecentLookup, Workspace
from bot.storage.tables import (
    deliveries,
    events,
    recent_lookups,
    subscriptions,
    webhook_endpoints,
)
from tests.storage.support import CAMPAIGN, LEAD_A, NOW, lead_event, queue, rows, subscribed

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]

WS = Workspace("T1")
OTHER = Workspace("T2")
FEED = (webhook_endpoints, subscriptions, events, deliveries)
# Long enough for any lock wait on a loaded machine; a pass takes a fraction of a second.
WAIT_SECONDS = 20.0


@pytest.fixture
async def second(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Another engine on the same database: another process (a webhook, a blocker)."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def lock_waiters(engine: AsyncEngine) -> int:
    """How many sessions on this database are waiting for a lock right now."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def until_waiting(engine: AsyncEngine, count: int, *tasks: asyncio.Task[object]) -> None:
    """Return once `count` sessions wait for a lock; fail if a task ended or time ran out."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while await lock_waiters(engine) < count:
        for task in tasks:
            assert not task.done(), f"ended instead of waiting: {task.result()!r}"
        assert asyncio.get_running_loop().time() < deadline, "nobody waited for the lock"
        await asyncio.sleep(0.02)


async def counts(engine: AsyncEngine, ws: Workspace) -> dict[str, int]:
    """The workspace's rows in the feed's tables (events and deliveries through their parents)."""
    endpoint_ids = select(webhook_endpoints.c.id).where(webhook_endpoints.c.team_id == ws.team_id)
    where = {
        webhook_endpoints: webhook_endpoints.c.team_id == ws.team_id,
        subscriptions: subscriptions.c.team_id == ws.team_id,
        events: events.c.endpoint_id.in_(endpoint_ids),
        deliveries: deliveries.c.team_id == ws.team_id,
    }
    async with engine.connect() as conn:
        return {
            table.name: int(
                (
                    await conn.execute(select(func.count()).select_from(table).where(where[table]))
                ).scalar_one()
            )
            for table in FEED
        }


async def in_flight_webhook(conn: AsyncConnection, ws: Workspace) -> None:
    """Begin a webhook's transaction: an event and its delivery inserted, not committed."""
    (endpoint,) = await rows(
        conn.engine, webhook_endpoints, webhook_endpoints.c.team_id == ws.team_id
    )
    (subscription,) = await rows(conn.engine, subscriptions, subscriptions.c.team_id == ws.team_id)
    await conn.begin()
    event_id = (
        await conn.execute(
            insert(events)
            .values(
                endpoint_id=endpoint["id"],
                kind="lead",
                dedupe_key="lead:in-flight",
                lead_key=LEAD_A,
                payload={"id": "lead-in-flight"},
                received_at=NOW,
            )
            .returning(events.c.id)
        )
    ).scalar_one()
    await conn.execute(
        insert(deliveries).values(
            event_id=event_id,
            subscription_id=subscription["id"],
            enterprise_id=ws.enterprise_id,
            team_id=ws.team_id,
            channel_id=subscription["channel_id"],
            lead_key=LEAD_A,
            state="pending",
            next_attempt_at=NOW,
            created_at=NOW,
        )
    )


@pytest.mark.parametrize("ending", ["commit", "rollback"])
async def test_forget_waits_for_a_webhook_in_flight_then_deletes_all_of_it(
    engine: AsyncEngine, second: AsyncEngine, ending: str
) -> None:
    token = await subscribed(engine, WS)
    assert token is not None
    await queue(engine, token, lead_event())
    other_token = await subscribed(engine, OTHER)
    assert other_token is not None
    await queue(engine, other_token, lead_event())
    before = await counts(engine, OTHER)

    webhook = await second.connect()
    try:
        await in_flight_webhook(webhook, WS)
        forgetting = asyncio.create_task(forget_workspace(engine, WS))
        # The forget waits on the webhook's locks: it neither fails nor deletes under it.
        await until_waiting(engine, 1, forgetting)
        assert await counts(engine, WS) == {
            "webhook_endpoints": 1,
            "subscriptions": 1,
            "events": 1,
            "deliveries": 1,
        }
        if ending == "commit":
            await webhook.commit()
        else:
            await webhook.rollback()
    finally:
        await webhook.close()

    deleted = await asyncio.wait_for(forgetting, WAIT_SECONDS)

    # The endpoint, the subscription, the stored event and delivery, and the webhook's own.
    assert deleted == (6 if ending == "commit" else 4)
    assert await counts(engine, WS) == dict.fromkeys((t.name for t in FEED), 0)
    assert await counts(engine, OTHER) == before


async def test_a_webhook_after_the_forget_is_an_unknown_token(engine: AsyncEngine) -> None:
    token = await subscribed(engine, WS)
    assert token is not None
    await queue(engine, token, lead_event())
    await forget_workspace(engine, WS)

    stored = await store_webhook(engine, token, lead_event(), NOW + timedelta(minutes=1))

    assert stored.outcome is Outcome.UNKNOWN_TOKEN
    assert await counts(engine, WS) == dict.fromkeys((t.name for t in FEED), 0)


@pytest.mark.parametrize(
    "since_last", [timedelta(seconds=1), timedelta(minutes=5)], ids=["recent", "outdated"]
)
async def test_a_webhook_that_comes_while_the_forget_deletes_is_an_unknown_token(
    engine: AsyncEngine, second: AsyncEngine, since_last: timedelta
) -> None:
    # The forget has locked the endpoint and is deleting (held up here on a row of another
    # table) when NLPearl calls the webhook URL. That webhook waits for the forget; once the
    # forget commits its endpoint is gone, which makes it a URL nobody knows, as after the
    # forget. ("outdated": the webhook also moves the endpoint's "last webhook" on.)
    token = await subscribed(engine, WS)
    assert token is not None
    await queue(engine, token, lead_event())
    await remember_lookup(
        engine, WS, "U1", RecentLookup(CAMPAIGN, "lead-1", "Dana W", NOW), campaign_name="Spring"
    )

    blocker = await second.connect()
    try:
        await blocker.begin()
        await blocker.execute(select(recent_lookups.c.id).with_for_update())
        forgetting = asyncio.create_task(forget_workspace(engine, WS))
        await until_waiting(engine, 1, forgetting)
        arriving = asyncio.create_task(store_webhook(second, token, lead_event(), NOW + since_last))
        await until_waiting(engine, 2, forgetting, arriving)
        await blocker.commit()
    finally:
        await blocker.close()

    deleted, stored = await asyncio.wait_for(asyncio.gather(forgetting, arriving), WAIT_SECONDS)

    # The endpoint, subscription, event, delivery, lookup and the user's last campaign.
    assert deleted == 6
    assert stored.outcome is Outcome.UNKNOWN_TOKEN
    assert await counts(engine, WS) == dict.fromkeys((t.name for t in FEED), 0)
