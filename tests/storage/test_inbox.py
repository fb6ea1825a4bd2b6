"""Webhooks stored once, with one outbox row per matching, healthy subscription."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feed.receive import incoming
from bot.parsing.webhooks import parse_webhook
from bot.storage import inbox, outbox
from bot.storage.engine import create_engine
from bot.storage.inbox import IncomingEvent, Outcome, store_webhook
from bot.storage.subscriptions import unsubscribe
from bot.storage.tables import deliveries, events, subscriptions, webhook_endpoints
from tests.storage.support import (
    LEAD_A,
    LEAD_B,
    NOW,
    OTHER_TEAM,
    TEAM,
    call_event,
    claim,
    lead_event,
    rows,
    subscribe_channels,
    subscribed,
)


async def test_a_webhook_is_stored_with_a_delivery_per_subscribed_channel(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    event = lead_event(LEAD_A, status=20)
    received = NOW + timedelta(seconds=3)

    stored = await store_webhook(engine, token, event, received)

    assert stored == inbox.Stored(Outcome.STORED, 2)
    (row,) = await rows(engine, events)
    (endpoint,) = await rows(engine, webhook_endpoints)
    assert row["endpoint_id"] == endpoint["id"]
    assert (row["kind"], row["lead_key"]) == ("lead", LEAD_A)
    assert row["dedupe_key"].startswith(event.dedupe_key)
    assert row["payload"] == event.payload
    assert row["received_at"] == received
    assert endpoint["last_received_at"] == received
    subs = {s["channel_id"]: s["id"] for s in await rows(engine, subscriptions)}
    queued = await rows(engine, deliveries)
    assert sorted(d["channel_id"] for d in queued) == ["C1", "C2"]
    for d in queued:
        assert d["event_id"] == row["id"]
        assert d["subscription_id"] == subs[d["channel_id"]]
        assert (d["team_id"], d["enterprise_id"], d["lead_key"]) == ("T0001", "", LEAD_A)
        assert d["state"] == "pending"
        assert d["attempts"] == 0
        assert d["next_attempt_at"] == received
        assert d["created_at"] == received
        assert (d["batch"], d["claimed_by"], d["claimed_until"], d["reply_ts"]) == (None,) * 4


async def test_the_same_dedupe_key_again_is_a_duplicate_and_queues_nothing(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    first = lead_event(LEAD_A, status=20, key="lead:42:20:1")
    assert (await store_webhook(engine, token, first, NOW)).queued == 2
    (batch, _) = await claim(engine, NOW)
    await outbox.finish(engine, batch, NOW)
    before = await rows(engine, deliveries)

    again = IncomingEvent("lead", "lead:42:20:1", LEAD_A, 20, {"different": "body"})
    stored = await store_webhook(engine, token, again, NOW + timedelta(minutes=1))

    assert stored == inbox.Stored(Outcome.DUPLICATE, 0)
    (row,) = await rows(engine, events)
    assert row["payload"] == first.payload
    assert await rows(engine, deliveries) == before


async def test_a_lead_event_the_lead_had_at_any_point_before_is_a_duplicate(
    engine: AsyncEngine,
) -> None:
    # Queued, on a call, then the queued webhook once more, late (NLPearl keeps no order):
    # not only a repeat of the lead's latest event is a redelivery.
    token = await subscribe_channels(engine, "C1")
    queued = IncomingEvent("lead", "lead:42:20:", LEAD_A, 20, {"status": 20, "n": 1})
    on_call = IncomingEvent("lead", "lead:42:40:", LEAD_A, 40, {"status": 40})
    late = IncomingEvent("lead", "lead:42:20:", LEAD_A, 20, {"status": 20, "n": 2})

    assert (await store_webhook(engine, token, queued, NOW)).outcome is Outcome.STORED
    assert (await store_webhook(engine, token, on_call, NOW)).outcome is Outcome.STORED
    assert (await store_webhook(engine, token, late, NOW)).outcome is Outcome.DUPLICATE

    assert [r["payload"] for r in await rows(engine, events)] == [queued.payload, on_call.payload]
    assert len(await rows(engine, deliveries)) == 2


async def test_a_lead_back_in_a_status_after_a_call_is_a_new_event(engine: AsyncEngine) -> None:
    # Retry, called, retry again: the call count in the key tells the return from a repeat.
    token = await subscribe_channels(engine, "C1")
    first = IncomingEvent("lead", "lead:42:10:", LEAD_A, 10, {"status": 10, "n": 1})
    called = IncomingEvent("lead", "lead:42:40:", LEAD_A, 40, {"status": 40})
    back = IncomingEvent("lead", "lead:42:10:1", LEAD_A, 10, {"status": 10, "n": 2})

    for event in (first, called, back):
        assert (await store_webhook(engine, token, event, NOW)).outcome is Outcome.STORED
    assert (await store_webhook(engine, token, back, NOW)).outcome is Outcome.DUPLICATE
    assert (await store_webhook(engine, token, first, NOW)).outcome is Outcome.DUPLICATE

    stored = await rows(engine, events)
    assert [r["payload"] for r in stored] == [first.payload, called.payload, back.payload]
    assert len(await rows(engine, deliveries)) == 3


async def test_a_lead_event_stored_with_an_old_numbered_key_is_still_a_duplicate(
    engine: AsyncEngine,
) -> None:
    # Earlier versions numbered a lead's keys along its history ("…#3").
    token = await subscribe_channels(engine, "C1")
    old = IncomingEvent("lead", "lead:42:20:1#3", LEAD_A, 20, {"status": 20})
    other_lead = IncomingEvent("lead", "lead:42:20:1#4", LEAD_B, 20, {"status": 20})
    assert (await store_webhook(engine, token, old, NOW)).outcome is Outcome.STORED
    assert (await store_webhook(engine, token, other_lead, NOW)).outcome is Outcome.STORED
    # Revision 0006 marks the endpoints that have such keys; only those look for them.
    await mark_legacy_endpoints(engine)

    again = IncomingEvent("lead", "lead:42:20:1", LEAD_A, 20, {"status": 20})
    assert (await store_webhook(engine, token, again, NOW)).outcome is Outcome.DUPLICATE
    # A key that only begins the same way is another event.
    shorter = IncomingEvent("lead", "lead:42:20:", LEAD_A, 20, {"status": 20})
    assert (await store_webhook(engine, token, shorter, NOW)).outcome is Outcome.STORED


async def mark_legacy_endpoints(engine: AsyncEngine) -> None:
    """What revision 0006 does to a database holding old `#n` keys."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE webhook_endpoints SET legacy_dedupe = 1 WHERE id IN (SELECT DISTINCT "
                "endpoint_id FROM events WHERE kind = 'lead' AND dedupe_key LIKE '%#%')"
            )
        )


def call_phase(call_id: str, phase: str) -> IncomingEvent:
    """A call's start or end, keyed as the receiver keys them."""
    end = f"call:{call_id}:end"
    return IncomingEvent(
        "call",
        f"call:{call_id}:{phase}",
        LEAD_A,
        None,
        {"id": call_id, "phase": phase},
        stale_after=(end,) if phase == "start" else (),
        serial=f"call:{call_id}",
    )


async def test_a_calls_start_after_its_end_is_stale_and_writes_nothing(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    assert (await store_webhook(engine, token, call_phase("c1", "end"), NOW)).queued == 1
    before = (await rows(engine, events), await rows(engine, deliveries))

    late = await store_webhook(engine, token, call_phase("c1", "start"), NOW)

    assert late == inbox.Stored(Outcome.STALE, 0)
    assert (await rows(engine, events), await rows(engine, deliveries)) == before
    # Another call's start is not affected, and a start before its end is stored as ever.
    assert (await store_webhook(engine, token, call_phase("c2", "start"), NOW)).queued == 1
    assert (await store_webhook(engine, token, call_phase("c2", "end"), NOW)).queued == 1


async def test_a_calls_start_and_end_at_once_never_queue_the_start_after_the_end(
    engine: AsyncEngine, database_url: str
) -> None:
    token = await subscribe_channels(engine, "C1")
    second_engine = create_engine(database_url)
    try:
        for n in range(12):
            start, end = call_phase(f"race{n}", "start"), call_phase(f"race{n}", "end")
            pair = (start, end) if n % 2 else (end, start)
            await asyncio.gather(
                store_webhook(engine, token, pair[0], NOW),
                store_webhook(second_engine, token, pair[1], NOW),
            )
    finally:
        await second_engine.dispose()

    order = [r["dedupe_key"] for r in await rows(engine, events)]
    for n in range(12):
        start, end = f"call:race{n}:start", f"call:race{n}:end"
        assert end in order
        assert start not in order or order.index(start) < order.index(end), order


async def test_the_same_webhook_twice_at_once_is_stored_once(
    engine: AsyncEngine, database_url: str
) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    second_engine = create_engine(database_url)
    try:
        for event in (lead_event(LEAD_A), call_event(LEAD_A), lead_event(LEAD_B)):
            outcomes = await asyncio.gather(
                store_webhook(engine, token, event, NOW),
                store_webhook(second_engine, token, event, NOW),
            )
            assert sorted(o.outcome.value for o in outcomes) == ["duplicate", "stored"]
            assert sorted(o.queued for o in outcomes) == [0, 2]
    finally:
        await second_engine.dispose()

    assert len(await rows(engine, events)) == 3
    assert len(await rows(engine, deliveries)) == 6


async def test_dedupe_keys_are_per_endpoint(engine: AsyncEngine) -> None:
    one = await subscribe_channels(engine, "C1", campaign="camp-1")
    two = await subscribe_channels(engine, "C1", campaign="camp-2")
    theirs = await subscribed(engine, OTHER_TEAM, channel="C1", campaign="camp-1")
    assert theirs is not None

    for token in (one, two, theirs):
        stored = await store_webhook(engine, token, lead_event(key="lead:1:10:0"), NOW)
        assert stored == inbox.Stored(Outcome.STORED, 1)

    assert len(await rows(engine, events)) == 3
    assert len(await rows(engine, deliveries)) == 3


async def test_the_keys_of_a_very_long_call_id_fit_and_still_dedupe(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    event = incoming(parse_webhook({"id": "x" * 400, "status": 4, "conversationStatus": 100}))
    assert len(event.dedupe_key) <= 250
    assert len(event.lead_key) <= 120

    assert (await store_webhook(engine, token, event, NOW)).outcome is Outcome.STORED
    again = await store_webhook(engine, token, event, NOW)

    assert again.outcome is Outcome.DUPLICATE
    assert len(await rows(engine, events)) == 1


async def test_an_unknown_token_writes_nothing(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")

    for wrong in ("nope", token[:-1], token + "A", ""):
        stored = await store_webhook(engine, wrong, lead_event(), NOW + timedelta(hours=1))
        assert stored == inbox.Stored(Outcome.UNKNOWN_TOKEN, 0)

    assert await rows(engine, events) == []
    assert await rows(engine, deliveries) == []
    (endpoint,) = await rows(engine, webhook_endpoints)
    assert endpoint["last_received_at"] is None


async def test_a_subscription_with_a_problem_gets_no_deliveries(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    assert (await store_webhook(engine, token, lead_event(LEAD_A), NOW)).queued == 2
    batches = await claim(engine, NOW)
    c1 = next(b for b in batches if b.channel_id == "C1")
    await outbox.stop_subscription(engine, c1, problem="channel_not_found", now=NOW)

    stored = await store_webhook(engine, token, lead_event(LEAD_B), NOW)

    assert stored == inbox.Stored(Outcome.STORED, 1)
    newest = [d for d in await rows(engine, deliveries) if d["lead_key"] == LEAD_B]
    assert [d["channel_id"] for d in newest] == ["C2"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [(10, {"C-all", "C-filtered"}), (150, {"C-all", "C-filtered"}), (20, {"C-all"})],
)
async def test_lead_events_pass_a_status_filter_only_when_listed(
    engine: AsyncEngine, status: int, expected: set[str]
) -> None:
    token = await subscribe_channels(engine, "C-all")
    await subscribed(engine, channel="C-filtered", statuses=(10, 150))

    stored = await store_webhook(engine, token, lead_event(status=status), NOW)

    assert stored.outcome is Outcome.STORED
    assert stored.queued == len(expected)
    assert {d["channel_id"] for d in await rows(engine, deliveries)} == expected


async def test_a_lead_event_without_a_status_does_not_pass_a_filter(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C-all")
    await subscribed(engine, channel="C-filtered", statuses=(10,))
    event = IncomingEvent("lead", "lead:x::", LEAD_A, None, {"id": "x"})

    stored = await store_webhook(engine, token, event, NOW)

    assert stored.queued == 1
    assert {d["channel_id"] for d in await rows(engine, deliveries)} == {"C-all"}


async def test_call_events_always_queue_even_on_filtered_channels(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C-all")
    await subscribed(engine, channel="C-filtered", statuses=(10,))

    stored = await store_webhook(engine, token, call_event(), NOW)

    assert stored == inbox.Stored(Outcome.STORED, 2)
    assert {d["channel_id"] for d in await rows(engine, deliveries)} == {"C-all", "C-filtered"}
    (row,) = await rows(engine, events)
    assert row["kind"] == "call"


async def test_an_endpoint_without_subscriptions_stores_the_event_and_queues_nothing(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    await unsubscribe(engine, TEAM, channel_id="C1", campaign_id="camp-1")

    stored = await store_webhook(engine, token, lead_event(), NOW)

    assert stored == inbox.Stored(Outcome.STORED, 0)
    assert len(await rows(engine, events)) == 1
    assert await rows(engine, deliveries) == []


async def test_the_event_and_its_deliveries_commit_together(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await subscribe_channels(engine, "C1", "C2")

    def broken(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        rows = real(*args, **kwargs)
        assert len(rows) == 2
        raise RuntimeError("the database went away mid-way")

    real = inbox._deliveries_for
    monkeypatch.setattr(inbox, "_deliveries_for", broken)
    with pytest.raises(RuntimeError, match="mid-way"):
        await store_webhook(engine, token, lead_event(key="k1"), NOW)
    monkeypatch.undo()

    assert await rows(engine, events) == []
    assert await rows(engine, deliveries) == []
    (endpoint,) = await rows(engine, webhook_endpoints)
    assert endpoint["last_received_at"] is None
    # Nothing half-stored blocks NLPearl's retry of the same webhook.
    assert await store_webhook(engine, token, lead_event(key="k1"), NOW) == inbox.Stored(
        Outcome.STORED, 2
    )


async def test_token_exists_only_for_issued_tokens(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    assert await inbox.token_exists(engine, token)
    # Subscribing C1 again keeps the URL: the same token, still valid.
    assert await subscribe_channels(engine, "C1") == token

    assert await inbox.token_exists(engine, token)
    assert not await inbox.token_exists(engine, token + "x")
    assert not await inbox.token_exists(engine, "")
