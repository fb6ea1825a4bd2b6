"""Pruning old events: they go with their deliveries, unless a delivery is still to be posted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import outbox
from bot.storage.forget import prune_events
from bot.storage.tables import deliveries, events, lead_threads, subscriptions, webhook_endpoints
from tests.storage.support import (
    LEAD_B,
    NOW,
    claim,
    lead_event,
    queue,
    rows,
    subscribe_channels,
)

# What the feed keeps besides events and deliveries: pruning leaves it as it is.
FEED = (subscriptions, webhook_endpoints, lead_threads)
OLD = NOW - timedelta(days=40)
CUTOFF = NOW - timedelta(days=30)


async def close(engine: AsyncEngine, state: str, *event_ids: int) -> None:
    """Settle the deliveries of these events in `state` (as the feed does once it posts)."""
    async with engine.begin() as conn:
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.event_id.in_(event_ids))
            .values(state=state, finished_at=NOW)
        )


async def event_ids(engine: AsyncEngine) -> list[int]:
    return [row["id"] for row in await rows(engine, events)]


async def delivered_events(engine: AsyncEngine) -> list[int]:
    return sorted({row["event_id"] for row in await rows(engine, deliveries)})


async def test_old_settled_events_go_with_their_deliveries(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    for at in (OLD, OLD, NOW):
        await queue(engine, token, lead_event(), now=at, queued=2)
    old_1, old_2, new = await event_ids(engine)
    await close(engine, "done", old_1, new)
    await close(engine, "failed", old_2)

    pruned = await prune_events(engine, before=CUTOFF)

    assert pruned == 2
    assert await event_ids(engine) == [new]
    assert await delivered_events(engine) == [new]


async def test_an_event_with_a_delivery_still_open_stays(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    for _ in range(4):
        await queue(engine, token, lead_event(), now=OLD, queued=2)
    pending, claimed, half_done, settled = await event_ids(engine)
    await close(engine, "skipped", settled)
    async with engine.begin() as conn:
        # One channel posted, the other has yet to.
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.event_id == half_done, deliveries.c.channel_id == "C1")
            .values(state="done")
        )
        await conn.execute(
            update(deliveries).where(deliveries.c.event_id == claimed).values(state="claimed")
        )

    pruned = await prune_events(engine, before=CUTOFF)

    assert pruned == 1
    assert await event_ids(engine) == [pending, claimed, half_done]
    assert await delivered_events(engine) == [pending, claimed, half_done]
    # The open row of the half-posted event is still there, next to its done sibling.
    assert len(await rows(engine, deliveries, deliveries.c.event_id == half_done)) == 2


async def test_events_that_queued_nothing_go_too(engine: AsyncEngine) -> None:
    # The channel wants only one status: other events are kept, but nothing is posted.
    token = await subscribe_channels(engine, "C1", statuses=(100,))
    await queue(engine, token, lead_event(status=10), now=OLD, queued=0)
    await queue(engine, token, lead_event(status=40), now=OLD, queued=0)

    assert await prune_events(engine, before=CUTOFF) == 2
    assert await event_ids(engine) == []


async def test_pruning_goes_in_batches_until_done(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    for n in range(7):
        await queue(engine, token, lead_event(), now=OLD + timedelta(minutes=n))
    ids = await event_ids(engine)
    # Open ones among them: each batch skips them instead of stopping at them.
    await close(engine, "done", *ids[:2], *ids[3:5], ids[6])

    pruned = await prune_events(engine, before=CUTOFF, batch=2)

    assert pruned == 5
    assert await event_ids(engine) == [ids[2], ids[5]]


async def test_a_batch_exactly_full_then_nothing_left(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    for _ in range(4):
        await queue(engine, token, lead_event(), now=OLD)
    await close(engine, "done", *await event_ids(engine))

    assert await prune_events(engine, before=CUTOFF, batch=2) == 4
    assert await event_ids(engine) == []


async def test_events_at_or_after_the_cutoff_stay(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(), now=CUTOFF)
    await queue(engine, token, lead_event(), now=CUTOFF - timedelta(microseconds=1000))
    at_cutoff, before_it = await event_ids(engine)
    await close(engine, "done", at_cutoff, before_it)

    assert await prune_events(engine, before=CUTOFF) == 1
    assert await event_ids(engine) == [at_cutoff]


async def test_nothing_to_prune(engine: AsyncEngine) -> None:
    assert await prune_events(engine, before=NOW) == 0


async def test_the_feed_itself_is_left_alone(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_B), now=OLD)
    (batch,) = await claim(engine, OLD)
    await outbox.start_thread(engine, batch, {"status": 10}, OLD)
    await outbox.finish(engine, batch, OLD)
    kept = [await rows(engine, table) for table in FEED]

    assert await prune_events(engine, before=CUTOFF) == 1

    assert [await rows(engine, table) for table in FEED] == kept
    assert await rows(engine, deliveries) == []
