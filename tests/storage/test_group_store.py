"""Many webhooks stored in one transaction, each answered as if it had come alone."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import RowMapping, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feed.receive import incoming
from bot.parsing.webhooks import parse_webhook
from bot.storage import inbox
from bot.storage.engine import create_engine
from bot.storage.inbox import (
    LAST_RECEIVED_PRECISION,
    Arrival,
    IncomingEvent,
    Outcome,
    Stored,
    store_webhook,
    store_webhooks,
)
from bot.storage.tables import deliveries, events, subscriptions, webhook_endpoints
from tests.feed.samples import v2_call_end, v2_call_start
from tests.migrated import migrated_sqlite
from tests.storage.support import (
    LEAD_A,
    LEAD_B,
    NOW,
    call_event,
    lead_event,
    rows,
    subscribe_channels,
    subscribed,
)

UNKNOWN_TOKEN = "no-such-token-0123456789abcdef"


def call_phase(call_id: str, phase: str) -> IncomingEvent:
    """A Call webhook's start or end, keyed by the receiver itself."""
    body = v2_call_start(id=call_id) if phase == "start" else v2_call_end(id=call_id)
    return incoming(parse_webhook(body))


def swept(event: IncomingEvent) -> IncomingEvent:
    """The same change, as the sweep (not NLPearl) found it."""
    return IncomingEvent(
        event.kind,
        event.dedupe_key,
        event.lead_key,
        event.lead_status,
        event.payload,
        event.stale_after,
        event.serial,
        from_nlpearl=False,
    )


async def keys_by_lane(engine: AsyncEngine) -> dict[tuple[str, str], list[str]]:
    """Each channel's deliveries per lead, as the dedupe keys of their events in id order."""
    key_of = {e["id"]: e["dedupe_key"] for e in await rows(engine, events)}
    lanes: dict[tuple[str, str], list[str]] = {}
    for d in await rows(engine, deliveries):
        lanes.setdefault((d["channel_id"], d["lead_key"]), []).append(key_of[d["event_id"]])
    return lanes


async def endpoint_of(engine: AsyncEngine, campaign: str) -> RowMapping:
    """The webhook endpoint of a campaign."""
    (endpoint,) = await rows(engine, webhook_endpoints, webhook_endpoints.c.campaign_id == campaign)
    return endpoint


async def test_each_webhook_of_a_group_gets_its_own_answer(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    first, stray, second = lead_event(LEAD_A), lead_event(LEAD_B), call_event(LEAD_B)

    stored = await store_webhooks(
        engine,
        [
            Arrival(token, first, NOW),
            Arrival(UNKNOWN_TOKEN, stray, NOW),
            Arrival(token, second, NOW),
        ],
    )

    assert stored == [
        Stored(Outcome.STORED, 2),
        Stored(Outcome.UNKNOWN_TOKEN, 0),
        Stored(Outcome.STORED, 2),
    ]
    assert [e["dedupe_key"] for e in await rows(engine, events)] == [
        first.dedupe_key,
        second.dedupe_key,
    ]
    assert await keys_by_lane(engine) == {
        ("C1", LEAD_A): [first.dedupe_key],
        ("C2", LEAD_A): [first.dedupe_key],
        ("C1", LEAD_B): [second.dedupe_key],
        ("C2", LEAD_B): [second.dedupe_key],
    }


async def test_the_same_key_twice_in_a_group_is_stored_once(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    first = lead_event(LEAD_A, key="lead:42:20:1")
    again = IncomingEvent("lead", "lead:42:20:1", LEAD_A, 20, {"the": "redelivery"})

    stored = await store_webhooks(engine, [Arrival(token, first, NOW), Arrival(token, again, NOW)])

    assert stored == [Stored(Outcome.STORED, 1), Stored(Outcome.DUPLICATE, 0)]
    (row,) = await rows(engine, events)
    assert row["payload"] == first.payload
    assert len(await rows(engine, deliveries)) == 1


async def test_a_calls_start_after_its_end_in_one_group_is_stale(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    start, end = call_phase("call-1", "start"), call_phase("call-1", "end")

    stored = await store_webhooks(engine, [Arrival(token, end, NOW), Arrival(token, start, NOW)])

    assert stored == [Stored(Outcome.STORED, 1), Stored(Outcome.STALE, 0)]
    assert [e["dedupe_key"] for e in await rows(engine, events)] == [end.dedupe_key]
    assert len(await rows(engine, deliveries)) == 1


async def test_a_calls_start_then_end_in_one_group_are_both_stored_in_order(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    start, end = call_phase("call-1", "start"), call_phase("call-1", "end")

    stored = await store_webhooks(engine, [Arrival(token, start, NOW), Arrival(token, end, NOW)])

    assert stored == [Stored(Outcome.STORED, 1), Stored(Outcome.STORED, 1)]
    assert [e["dedupe_key"] for e in await rows(engine, events)] == [
        start.dedupe_key,
        end.dedupe_key,
    ]
    assert await keys_by_lane(engine) == {
        ("C1", start.lead_key): [start.dedupe_key, end.dedupe_key]
    }


async def test_what_was_stored_before_the_group_still_counts(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    earlier = lead_event(LEAD_A)
    ended = call_phase("call-1", "end")
    assert (await store_webhook(engine, token, earlier, NOW)).outcome is Outcome.STORED
    assert (await store_webhook(engine, token, ended, NOW)).outcome is Outcome.STORED
    fresh = lead_event(LEAD_B)

    stored = await store_webhooks(
        engine,
        [
            Arrival(token, earlier, NOW),
            Arrival(token, call_phase("call-1", "start"), NOW),
            Arrival(token, fresh, NOW),
        ],
    )

    assert stored == [
        Stored(Outcome.DUPLICATE, 0),
        Stored(Outcome.STALE, 0),
        Stored(Outcome.STORED, 1),
    ]
    keys = [e["dedupe_key"] for e in await rows(engine, events)]
    assert keys == [earlier.dedupe_key, ended.dedupe_key, fresh.dedupe_key]


async def test_a_leads_deliveries_follow_the_order_its_webhooks_came_in(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    came = [
        lead_event(LEAD_A, 10),
        lead_event(LEAD_B, 10),
        call_event(LEAD_A),
        lead_event(LEAD_A, 40),
        lead_event(LEAD_B, 100),
        lead_event(LEAD_A, 100),
    ]

    await store_webhooks(engine, [Arrival(token, event, NOW) for event in came])

    in_order = {
        lead: [e.dedupe_key for e in came if e.lead_key == lead] for lead in (LEAD_A, LEAD_B)
    }
    assert await keys_by_lane(engine) == {
        (channel, lead): keys for channel in ("C1", "C2") for lead, keys in in_order.items()
    }


async def test_a_status_filter_is_applied_to_each_event_of_a_group(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C-all")
    await subscribed(engine, channel="C-filtered", statuses=(10,))
    listed, unlisted, call = lead_event(LEAD_A, 10), lead_event(LEAD_A, 20), call_event(LEAD_A)

    stored = await store_webhooks(
        engine, [Arrival(token, e, NOW) for e in (listed, unlisted, call)]
    )

    assert [s.queued for s in stored] == [2, 1, 2]
    assert await keys_by_lane(engine) == {
        ("C-all", LEAD_A): [listed.dedupe_key, unlisted.dedupe_key, call.dedupe_key],
        ("C-filtered", LEAD_A): [listed.dedupe_key, call.dedupe_key],
    }


async def test_a_subscription_with_a_problem_gets_nothing_from_a_group(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C-gone", "C-fine")
    async with engine.begin() as conn:
        await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.channel_id == "C-gone")
            .values(problem="channel_not_found", problem_at=NOW)
        )
    came = [lead_event(LEAD_A), call_event(LEAD_B)]

    stored = await store_webhooks(engine, [Arrival(token, event, NOW) for event in came])

    assert stored == [Stored(Outcome.STORED, 1), Stored(Outcome.STORED, 1)]
    assert {d["channel_id"] for d in await rows(engine, deliveries)} == {"C-fine"}


async def test_only_an_endpoint_marked_legacy_looks_for_old_numbered_keys(
    engine: AsyncEngine,
) -> None:
    # Revision 0006 marks (legacy_dedupe = 1) the endpoints holding lead events with old "#n"
    # keys: those alone look them up, so an unmarked endpoint takes the plain key as new.
    marked = await subscribe_channels(engine, "C1", campaign="camp-old")
    unmarked = await subscribe_channels(engine, "C1", campaign="camp-new")
    key = "lead:42:20:1"
    for token in (marked, unmarked):
        old = IncomingEvent("lead", f"{key}#3", LEAD_A, 20, {"status": 20, "old": True})
        assert (await store_webhook(engine, token, old, NOW)).outcome is Outcome.STORED
    async with engine.begin() as conn:
        await conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.campaign_id == "camp-old")
            .values(legacy_dedupe=1)
        )
    plain = IncomingEvent("lead", key, LEAD_A, 20, {"status": 20})

    stored = await store_webhooks(
        engine, [Arrival(marked, plain, NOW), Arrival(unmarked, plain, NOW)]
    )

    assert stored == [Stored(Outcome.DUPLICATE, 0), Stored(Outcome.STORED, 1)]
    new = await endpoint_of(engine, "camp-new")
    stored_keys = {(e["endpoint_id"], e["dedupe_key"]) for e in await rows(engine, events)}
    assert (new["id"], key) in stored_keys
    assert len(stored_keys) == 3


async def test_only_webhooks_from_nlpearl_move_last_received_at(engine: AsyncEngine) -> None:
    called = await subscribe_channels(engine, "C1", campaign="camp-called")
    only_swept = await subscribe_channels(engine, "C1", campaign="camp-swept")
    later = NOW + timedelta(hours=1)

    await store_webhooks(
        engine,
        [
            Arrival(called, lead_event(LEAD_A), NOW),
            # Later than NLPearl's, but the sweep found it: NLPearl did not call at that time.
            Arrival(called, swept(lead_event(LEAD_B)), later),
            Arrival(only_swept, swept(lead_event(LEAD_A)), later),
        ],
    )

    assert (await endpoint_of(engine, "camp-called"))["last_received_at"] == NOW
    assert (await endpoint_of(engine, "camp-swept"))["last_received_at"] is None
    assert [e["swept"] for e in await rows(engine, events)] == [0, 1, 1]

    await store_webhooks(engine, [Arrival(called, swept(lead_event(LEAD_A)), later)])
    assert (await endpoint_of(engine, "camp-called"))["last_received_at"] == NOW
    await store_webhooks(engine, [Arrival(only_swept, lead_event(LEAD_B), later)])
    assert (await endpoint_of(engine, "camp-swept"))["last_received_at"] == later


async def test_a_group_that_fails_after_its_events_went_in_stores_nothing(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    came = [lead_event(LEAD_A, key="k1"), lead_event(LEAD_B, key="k2"), call_event(LEAD_A)]
    real = inbox._deliveries_for
    asked: list[tuple[str, int]] = []

    def fails_on_the_second(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        # Called once the events are inserted (it is given their ids), for each in turn.
        planned = real(*args, **kwargs)
        asked.append((args[1].event.dedupe_key, args[2]))
        if len(asked) == 2:
            raise RuntimeError("the database went away mid-group")
        return planned

    monkeypatch.setattr(inbox, "_deliveries_for", fails_on_the_second)
    with pytest.raises(RuntimeError, match="mid-group"):
        await store_webhooks(engine, [Arrival(token, event, NOW) for event in came])
    monkeypatch.undo()

    assert [key for key, _ in asked] == ["k1", "k2"]
    assert len({event_id for _, event_id in asked}) == 2
    assert await rows(engine, events) == []
    assert await rows(engine, deliveries) == []
    (endpoint,) = await rows(engine, webhook_endpoints)
    assert endpoint["last_received_at"] is None
    # NLPearl's retries find nothing half-stored in their way.
    again = await store_webhooks(engine, [Arrival(token, event, NOW) for event in came])
    assert again == [Stored(Outcome.STORED, 2)] * 3


# ---- the group against the same webhooks one at a time ----

LEADS = (LEAD_A, LEAD_B)
CALL_LEADS = {"call-1": LEAD_A, "call-2": LEAD_B}
ROLES = ("camp-1", "camp-2", "unknown")


@dataclass(frozen=True)
class Drawn:
    """One webhook of a drawn sequence: where it went and which event it carries."""

    role: str
    event: IncomingEvent
    from_nlpearl: bool


def _lead(lead: str, status: int, calls: int, n: int) -> IncomingEvent:
    return IncomingEvent(
        "lead", f"lead:{lead}:{status}:{calls}", lead, status, {"status": status, "n": n}
    )


def _call(call_id: str, phase: str, n: int) -> IncomingEvent:
    end = f"call:{call_id}:end"
    return IncomingEvent(
        "call",
        f"call:{call_id}:{phase}",
        CALL_LEADS[call_id],
        None,
        {"id": call_id, "phase": phase, "n": n},
        stale_after=(end,) if phase == "start" else (),
        serial=f"call:{call_id}",
    )


# Few keys, leads and phases, so that redeliveries and a call's two phases meet often.
_events = st.one_of(
    st.tuples(st.sampled_from(LEADS), st.sampled_from((10, 20)), st.integers(0, 1)).map(
        lambda t: ("lead", t)
    ),
    st.tuples(st.sampled_from(sorted(CALL_LEADS)), st.sampled_from(("start", "end"))).map(
        lambda t: ("call", t)
    ),
)
_webhooks = st.lists(
    st.tuples(st.sampled_from(ROLES), _events, st.booleans()), min_size=1, max_size=12
)


def _drawn(webhooks: list[tuple[str, tuple[str, Any], bool]]) -> list[Drawn]:
    drawn = []
    for n, (role, (kind, parts), from_nlpearl) in enumerate(webhooks):
        if kind == "lead":
            lead, status, calls = parts
            event = _lead(lead, status, calls, n)
        else:
            call_id, phase = parts
            event = _call(call_id, phase, n)
        drawn.append(Drawn(role, event, from_nlpearl))
    return drawn


@dataclass(frozen=True)
class Outcomes:
    """What the webhooks were answered and what the database holds afterwards."""

    answers: list[Stored]
    events: dict[tuple[str, str], tuple[Any, ...]]
    lanes: dict[tuple[str, str, str], list[str]]
    last_received: dict[str, datetime | None]


async def _store(path: Path, drawn: list[Drawn], *, together: bool) -> Outcomes:
    # Off the event loop: the first copy in a process runs the migrations, which run their own.
    await asyncio.to_thread(migrated_sqlite, path)
    engine = create_engine(f"sqlite:///{path}")
    try:
        tokens = {
            "camp-1": await subscribe_channels(engine, "C1", campaign="camp-1"),
            "camp-2": await subscribe_channels(engine, "C1", "C2", campaign="camp-2"),
            "unknown": UNKNOWN_TOKEN,
        }
        await subscribed(engine, channel="C3", campaign="camp-2", statuses=(10,))
        arrivals = [
            Arrival(tokens[d.role], d.event if d.from_nlpearl else swept(d.event), _moment(n))
            for n, d in enumerate(drawn)
        ]
        if together:
            answers = await store_webhooks(engine, arrivals)
        else:
            answers = [
                await store_webhook(engine, a.token, a.event, a.received_at) for a in arrivals
            ]
        return await _outcomes(engine, answers)
    finally:
        await engine.dispose()


def _moment(n: int) -> datetime:
    return NOW + timedelta(seconds=4 * n)


async def _outcomes(engine: AsyncEngine, answers: list[Stored]) -> Outcomes:
    campaign = {e["id"]: e["campaign_id"] for e in await rows(engine, webhook_endpoints)}
    stored = await rows(engine, events)
    by_id = {e["id"]: e for e in stored}
    channel = {s["id"]: s["channel_id"] for s in await rows(engine, subscriptions)}
    lanes: dict[tuple[str, str, str], list[str]] = {}
    for d in await rows(engine, deliveries):
        event = by_id[d["event_id"]]
        lane = (campaign[event["endpoint_id"]], channel[d["subscription_id"]], d["lead_key"])
        lanes.setdefault(lane, []).append(event["dedupe_key"])
    return Outcomes(
        answers,
        {
            (campaign[e["endpoint_id"]], e["dedupe_key"]): (
                e["payload"],
                e["lead_key"],
                e["received_at"],
                e["swept"],
            )
            for e in stored
        },
        lanes,
        {e["campaign_id"]: e["last_received_at"] for e in await rows(engine, webhook_endpoints)},
    )


@settings(max_examples=30, deadline=None)
@given(webhooks=_webhooks)
async def test_a_group_stores_what_the_same_webhooks_one_at_a_time_would(
    webhooks: list[tuple[str, tuple[str, Any], bool]],
) -> None:
    drawn = _drawn(webhooks)
    with tempfile.TemporaryDirectory() as folder:
        together = await _store(Path(folder) / "together.db", drawn, together=True)
        alone = await _store(Path(folder) / "alone.db", drawn, together=False)

    assert together.answers == alone.answers
    assert together.events == alone.events
    assert together.lanes == alone.lanes
    # "Last webhook" is kept to LAST_RECEIVED_PRECISION: one at a time, it may stop short of
    # the latest arrival by less than that; together, it is the latest.
    for role in ("camp-1", "camp-2"):
        called = [_moment(n) for n, d in enumerate(drawn) if d.role == role and d.from_nlpearl]
        for outcome in (together, alone):
            noted = outcome.last_received[role]
            if not called:
                assert noted is None
            else:
                assert noted is not None
                assert timedelta(0) <= max(called) - noted < LAST_RECEIVED_PRECISION
        assert together.last_received[role] == (max(called) if called else None)
