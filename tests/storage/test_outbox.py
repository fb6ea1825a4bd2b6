"""The outbox: lanes in order, one batch per channel per claim, pacing, leases and outcomes."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import outbox
from bot.storage.outbox import Batch, Thread
from bot.storage.rows import Workspace
from bot.storage.subscriptions import list_subscriptions
from bot.storage.tables import channel_pacing, deliveries, lead_threads, subscriptions
from tests.storage.support import (
    CAMPAIGN,
    GRID_TEAM,
    LEAD_A,
    LEAD_B,
    LEASE,
    NOW,
    OTHER_TEAM,
    PAST_PACING,
    POST_INTERVAL,
    TEAM,
    Lane,
    by_channel,
    call_event,
    claim,
    delivery,
    ids,
    lane_of,
    lead_event,
    queue,
    rows,
    subscribe_channels,
)


async def _pacing(engine: AsyncEngine, channel: str, ws: Workspace = TEAM) -> datetime | None:
    found = [
        r
        for r in await rows(engine, channel_pacing)
        if (r["team_id"], r["enterprise_id"], r["channel_id"])
        == (ws.team_id, ws.enterprise_id, channel)
    ]
    return found[0]["next_post_at"] if found else None


async def _lane_ids(engine: AsyncEngine, lead_key: str, channel: str = "C1") -> list[int]:
    return [
        r["id"]
        for r in await rows(engine, deliveries)
        if (r["lead_key"], r["channel_id"]) == (lead_key, channel)
    ]


# ---- claiming ----


async def test_a_claim_takes_a_batch_and_leases_it(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", statuses=(10, 20))
    first, second = lead_event(LEAD_A, status=10), call_event(LEAD_A)
    await queue(engine, token, first, NOW)
    await queue(engine, token, second, NOW + timedelta(seconds=1))
    now = NOW + timedelta(seconds=2)

    (batch,) = await claim(engine, now, worker="worker-1")

    (sub,) = await rows(engine, subscriptions)
    assert batch.marker
    assert len(batch.marker) <= 40
    assert batch.resumed is False
    assert (batch.team_id, batch.enterprise_id, batch.channel_id, batch.lead_key) == (
        "T0001",
        "",
        "C1",
        LEAD_A,
    )
    assert batch.campaign_id == CAMPAIGN
    assert batch.subscription_id == sub["id"]
    assert batch.statuses == (10, 20)
    assert batch.attempts == 1
    assert batch.reply_ts is None
    assert [i.kind for i in batch.items] == ["lead", "call"]
    assert [i.payload for i in batch.items] == [first.payload, second.payload]
    assert [i.received_at for i in batch.items] == [NOW, NOW + timedelta(seconds=1)]
    assert [i.reply_ts for i in batch.items] == [None, None]
    assert ids(batch) == await _lane_ids(engine, LEAD_A)
    for row in await rows(engine, deliveries):
        assert row["state"] == "claimed"
        assert row["claimed_by"] == "worker-1"
        assert row["claimed_until"] == now + LEASE
        assert row["batch"] == batch.marker
        assert row["attempts"] == 1
    paced = await _pacing(engine, "C1")
    assert paced is not None
    assert paced >= now + POST_INTERVAL
    # Leased and paced: nobody else gets it.
    assert await claim(engine, now, worker="worker-2") == []
    assert await claim(engine, now + PAST_PACING, worker="worker-2") == []


async def test_a_batch_coalesces_the_ready_rows_of_its_lane_only(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    lane_a = [lead_event(LEAD_A, status=s) for s in (10, 20, 30)]
    for i, event in enumerate([lane_a[0], lead_event(LEAD_B), lane_a[1], call_event(LEAD_B)]):
        await queue(engine, token, event, NOW + timedelta(seconds=i))
    await queue(engine, token, lane_a[2], NOW + timedelta(seconds=4))

    (batch,) = await claim(engine, NOW + timedelta(seconds=5))

    assert batch.lead_key == LEAD_A
    assert [i.payload for i in batch.items] == [e.payload for e in lane_a]
    assert ids(batch) == await _lane_ids(engine, LEAD_A)
    for row in await rows(engine, deliveries):
        if row["lead_key"] == LEAD_B:
            assert (row["state"], row["batch"], row["attempts"]) == ("pending", None, 0)


async def test_a_batch_holds_at_most_fifty_events(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    for _ in range(outbox.MAX_BATCH_ITEMS + 3):
        await queue(engine, token, lead_event(LEAD_A), NOW)
    lane = await _lane_ids(engine, LEAD_A)

    (first,) = await claim(engine, NOW)
    await outbox.finish(engine, first, NOW)
    (rest,) = await claim(engine, NOW + PAST_PACING)

    assert ids(first) == lane[: outbox.MAX_BATCH_ITEMS]
    assert ids(rest) == lane[outbox.MAX_BATCH_ITEMS :]


async def test_one_batch_per_channel_per_claim(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    await queue(engine, token, lead_event(LEAD_B), NOW)
    await queue(engine, token, lead_event("+15550000003"), NOW)

    batches = await claim(engine, NOW, limit=8)

    assert [b.lead_key for b in batches] == [LEAD_A]
    waiting = [r for r in await rows(engine, deliveries) if r["lead_key"] != LEAD_A]
    assert [(r["state"], r["batch"]) for r in waiting] == [("pending", None)] * 2


async def test_different_channels_are_claimed_together(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", "C2", "C3")
    await queue(engine, token, lead_event(LEAD_A), NOW, queued=3)
    await queue(engine, token, lead_event(LEAD_B), NOW, queued=3)

    batches = await claim(engine, NOW)

    assert sorted(b.channel_id for b in batches) == ["C1", "C2", "C3"]
    assert {b.lead_key for b in batches} == {LEAD_A}
    assert len({b.marker for b in batches}) == 3


async def test_the_limit_caps_the_batches_and_the_rest_come_next(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", "C2", "C3")
    await queue(engine, token, lead_event(LEAD_A), NOW, queued=3)

    first = await claim(engine, NOW, limit=2)
    second = await claim(engine, NOW, limit=2)

    assert len(first) == 2
    assert len(second) == 1
    assert sorted(b.channel_id for b in first + second) == ["C1", "C2", "C3"]
    assert await claim(engine, NOW, limit=2) == []


async def test_lanes_come_out_in_order_never_two_batches_of_a_lane(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    a1, b1, a2, b2, a3 = (lead_event(k) for k in (LEAD_A, LEAD_B, LEAD_A, LEAD_B, LEAD_A))
    await queue(engine, token, a1, NOW)
    await queue(engine, token, b1, NOW)
    seen: dict[str, list[list[object]]] = defaultdict(list)

    def note(batches: list[Batch]) -> list[Batch]:
        for b in batches:
            seen[b.lead_key].append([i.payload for i in b.items])
        return batches

    # The oldest head wins the channel.
    (batch_a1,) = note(await claim(engine, NOW))
    assert batch_a1.lead_key == LEAD_A
    now = NOW + timedelta(seconds=1)
    for event in (a2, b2, a3):
        await queue(engine, token, event, now)

    # Lane A is in flight, so only lane B can go; it takes both its rows.
    now += PAST_PACING
    (batch_b,) = note(await claim(engine, now))
    assert batch_b.lead_key == LEAD_B
    # Both lanes in flight: nothing, however long we wait short of the lease.
    now += PAST_PACING
    assert await claim(engine, now) == []
    await outbox.finish(engine, batch_a1, now)
    (batch_a23,) = note(await claim(engine, now))
    await outbox.finish(engine, batch_b, now)
    await outbox.finish(engine, batch_a23, now)
    assert await claim(engine, now + PAST_PACING) == []

    assert seen[LEAD_A] == [[a1.payload], [a2.payload, a3.payload]]
    assert seen[LEAD_B] == [[b1.payload, b2.payload]]
    assert {r["state"] for r in await rows(engine, deliveries)} == {"done"}


async def test_a_lead_in_two_campaigns_has_a_lane_in_each(engine: AsyncEngine) -> None:
    """Same channel, same lead (phone number), two campaigns: two lanes, never one batch."""
    one = await subscribe_channels(engine, "C1")
    two = await subscribe_channels(engine, "C1", campaign="camp-2", statuses=(20,))
    await queue(engine, one, lead_event(LEAD_A, status=10), NOW)
    await queue(engine, two, lead_event(LEAD_A, status=20), NOW)
    await queue(engine, one, lead_event(LEAD_A, status=30), NOW)
    subs = {s["campaign_id"]: s["id"] for s in await rows(engine, subscriptions)}

    (first,) = await claim(engine, NOW)
    # camp-1's batch in flight does not hold camp-2's lane (only the channel's pacing does).
    (second,) = await claim(engine, NOW + PAST_PACING)

    assert (first.campaign_id, first.subscription_id, first.statuses) == (
        CAMPAIGN,
        subs[CAMPAIGN],
        None,
    )
    assert (second.campaign_id, second.subscription_id, second.statuses) == (
        "camp-2",
        subs["camp-2"],
        (20,),
    )
    assert [i.payload["status"] for i in first.items] == [10, 30]
    assert [i.payload["status"] for i in second.items] == [20]
    # (claim() also checks that every item belongs to its batch's subscription.)


async def test_a_row_waiting_for_its_retry_holds_back_its_lane(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    (batch,) = await claim(engine, NOW)
    retry_at = NOW + timedelta(minutes=2)
    await outbox.retry_later(engine, batch, at=retry_at, error="boom", keep_marker=False)
    await queue(engine, token, lead_event(LEAD_A), NOW + timedelta(seconds=5))
    await queue(engine, token, lead_event(LEAD_B), NOW + timedelta(seconds=5))

    (other,) = await claim(engine, NOW + PAST_PACING)
    await outbox.finish(engine, other, NOW + PAST_PACING)

    assert other.lead_key == LEAD_B
    assert await claim(engine, retry_at - timedelta(seconds=1)) == []
    (again,) = await claim(engine, retry_at)
    assert ids(again) == await _lane_ids(engine, LEAD_A)


# ---- pacing ----


async def test_a_paced_channel_is_skipped_until_its_time(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    await queue(engine, token, lead_event(LEAD_A), NOW, queued=2)
    until = NOW + timedelta(seconds=30)
    async with engine.begin() as conn:
        await conn.execute(
            channel_pacing.insert().values(team_id="T0001", channel_id="C1", next_post_at=until)
        )

    (c2,) = await claim(engine, NOW)
    assert c2.channel_id == "C2"
    assert await claim(engine, until - timedelta(milliseconds=1)) == []
    (c1,) = await claim(engine, until)
    assert c1.channel_id == "C1"


async def test_a_claim_paces_its_channel_for_every_worker(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    await queue(engine, token, lead_event(LEAD_A), NOW, queued=2)
    await queue(engine, token, lead_event(LEAD_B), NOW, queued=2)

    first = by_channel(await claim(engine, NOW, worker="w1"))
    assert sorted(first) == ["C1", "C2"]
    await outbox.finish(engine, first["C1"], NOW)
    await outbox.finish(engine, first["C2"], NOW)

    # Lane B is free in both channels, but both channels were just posted to.
    assert await claim(engine, NOW + POST_INTERVAL / 2, worker="w2") == []
    later = by_channel(await claim(engine, NOW + PAST_PACING, worker="w2"))
    assert sorted(later) == ["C1", "C2"]
    assert {b.lead_key for b in later.values()} == {LEAD_B}


async def test_hold_channel_keeps_every_worker_off_that_channel(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    await queue(engine, token, lead_event(LEAD_A), NOW, queued=2)
    await queue(engine, token, lead_event(LEAD_B), NOW, queued=2)
    batches = by_channel(await claim(engine, NOW))
    until = NOW + timedelta(minutes=1)

    await outbox.hold_channel(engine, batches["C1"], until)
    await outbox.retry_later(engine, batches["C1"], at=NOW, error="ratelimited", keep_marker=True)
    await outbox.finish(engine, batches["C2"], NOW)

    assert await _pacing(engine, "C1") == until
    (c2,) = await claim(engine, NOW + PAST_PACING, worker="w2")
    assert (c2.channel_id, c2.lead_key) == ("C2", LEAD_B)
    assert await claim(engine, until - timedelta(seconds=1), worker="w2") == []
    (c1,) = await claim(engine, until, worker="w2")
    assert (c1.channel_id, c1.marker, c1.resumed) == ("C1", batches["C1"].marker, True)


async def test_a_hold_never_brings_a_channels_next_post_forward(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    await queue(engine, token, lead_event(LEAD_B), NOW)
    (batch,) = await claim(engine, NOW)
    long_hold, short_hold = NOW + timedelta(minutes=2), NOW + timedelta(seconds=5)

    await outbox.hold_channel(engine, batch, long_hold)
    await outbox.hold_channel(engine, batch, short_hold)

    assert await _pacing(engine, "C1") == long_hold
    await outbox.finish(engine, batch, NOW)
    assert await claim(engine, short_hold) == []
    (later,) = await claim(engine, long_hold)
    assert later.lead_key == LEAD_B


# ---- leases ----


async def test_an_expired_lease_is_taken_over_and_resumes_the_same_batch(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    await queue(engine, token, call_event(LEAD_A), NOW)
    (lost,) = await claim(engine, NOW, worker="w1")
    await outbox.record_reply(engine, lost, "1700000000.000100")
    # More of the lead arrives while w1 is gone.
    await queue(engine, token, lead_event(LEAD_A), NOW + timedelta(seconds=30))
    newest = (await _lane_ids(engine, LEAD_A))[-1]

    assert await claim(engine, NOW + LEASE - timedelta(seconds=1), worker="w2") == []
    takeover = NOW + LEASE + timedelta(seconds=1)
    (resumed,) = await claim(engine, takeover, worker="w2")

    assert resumed.resumed is True
    assert resumed.marker == lost.marker
    assert ids(resumed) == ids(lost)
    assert [i.payload for i in resumed.items] == [i.payload for i in lost.items]
    assert resumed.attempts == 2
    assert resumed.reply_ts == "1700000000.000100"
    for delivery_id in ids(lost):
        row = await delivery(engine, delivery_id)
        assert (row["state"], row["claimed_by"], row["attempts"]) == ("claimed", "w2", 2)
        assert row["claimed_until"] == takeover + LEASE
    row = await delivery(engine, newest)
    assert (row["state"], row["batch"], row["attempts"]) == ("pending", None, 0)

    await outbox.finish(engine, resumed, takeover)
    (after,) = await claim(engine, takeover + PAST_PACING, worker="w2")
    assert ids(after) == [newest]
    assert after.resumed is False
    assert after.marker != lost.marker


async def test_a_live_lease_is_not_taken_over(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    (batch,) = await claim(engine, NOW, worker="w1", lease=timedelta(hours=1))

    assert await claim(engine, NOW + timedelta(minutes=59), worker="w2") == []
    assert (await delivery(engine, ids(batch)[0]))["claimed_by"] == "w1"


# ---- outcomes ----


async def test_retry_later_keeping_the_marker_resumes_the_same_batch(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    await queue(engine, token, lead_event(LEAD_A), NOW)
    (batch,) = await claim(engine, NOW)
    at = NOW + timedelta(minutes=1)

    await outbox.retry_later(engine, batch, at=at, error="timeout", keep_marker=True)

    for delivery_id in ids(batch):
        row = await delivery(engine, delivery_id)
        assert row["state"] == "pending"
        assert row["next_attempt_at"] == at
        assert row["claimed_until"] is None
        assert row["last_error"] == "timeout"
        assert row["batch"] == batch.marker
    await queue(engine, token, lead_event(LEAD_A), NOW + timedelta(seconds=10))
    assert await claim(engine, at - timedelta(seconds=1)) == []
    (again,) = await claim(engine, at)
    assert (again.marker, again.resumed, again.attempts) == (batch.marker, True, 2)
    assert ids(again) == ids(batch)


async def test_retry_later_dropping_the_marker_starts_a_new_batch(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    (batch,) = await claim(engine, NOW)
    at = NOW + timedelta(minutes=1)

    await outbox.retry_later(engine, batch, at=at, error="500", keep_marker=False)

    row = await delivery(engine, ids(batch)[0])
    assert (row["state"], row["batch"], row["last_error"]) == ("pending", None, "500")
    assert row["next_attempt_at"] == at
    await queue(engine, token, lead_event(LEAD_A), NOW + timedelta(seconds=10))
    (again,) = await claim(engine, at)
    assert again.resumed is False
    assert again.marker != batch.marker
    # The new batch takes the row that arrived meanwhile along.
    assert ids(again) == await _lane_ids(engine, LEAD_A)
    assert len(again.items) == 2
    assert again.attempts == 2


async def test_a_recorded_reply_keeps_its_marker_through_any_retry(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    await queue(engine, token, lead_event(LEAD_A), NOW)
    (batch,) = await claim(engine, NOW)

    await outbox.record_reply(engine, batch, "1700000000.000200")
    await outbox.retry_later(engine, batch, at=NOW, error="update failed", keep_marker=False)

    for delivery_id in ids(batch):
        row = await delivery(engine, delivery_id)
        assert (row["state"], row["batch"], row["reply_ts"]) == (
            "pending",
            batch.marker,
            "1700000000.000200",
        )
    (again,) = await claim(engine, NOW + PAST_PACING)
    assert (again.marker, again.resumed) == (batch.marker, True)
    assert again.reply_ts == "1700000000.000200"
    assert [i.reply_ts for i in again.items] == ["1700000000.000200"] * 2


async def test_record_reply_touches_only_its_batch(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    await queue(engine, token, lead_event(LEAD_A), NOW, queued=2)
    batches = by_channel(await claim(engine, NOW))

    await outbox.record_reply(engine, batches["C1"], "1.1")

    replies = {r["channel_id"]: r["reply_ts"] for r in await rows(engine, deliveries)}
    assert replies == {"C1": "1.1", "C2": None}


async def test_finish_marks_done_or_skipped(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    await queue(engine, token, lead_event(LEAD_A), NOW, queued=2)
    await queue(engine, token, lead_event(LEAD_B), NOW, queued=2)
    batches = by_channel(await claim(engine, NOW))
    done_at = NOW + timedelta(seconds=3)

    await outbox.finish(engine, batches["C1"], done_at)
    await outbox.finish(engine, batches["C2"], done_at, state="skipped")

    states = {(r["channel_id"], r["lead_key"]): r for r in await rows(engine, deliveries)}
    assert states[("C1", LEAD_A)]["state"] == "done"
    assert states[("C2", LEAD_A)]["state"] == "skipped"
    for key in (("C1", LEAD_A), ("C2", LEAD_A)):
        assert states[key]["finished_at"] == done_at
        assert states[key]["claimed_until"] is None
    for key in (("C1", LEAD_B), ("C2", LEAD_B)):
        assert (states[key]["state"], states[key]["finished_at"]) == ("pending", None)
    # Finished rows are never claimed again; the lanes behind them are.
    later = await claim(engine, NOW + PAST_PACING)
    assert sorted((b.channel_id, b.lead_key) for b in later) == [("C1", LEAD_B), ("C2", LEAD_B)]


async def test_stop_subscription_records_the_problem_and_fails_its_open_rows(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    await queue(engine, token, lead_event(LEAD_A), NOW, queued=2)
    for b in await claim(engine, NOW):
        await outbox.finish(engine, b, NOW)
    await queue(engine, token, lead_event(LEAD_A), NOW, queued=2)
    await queue(engine, token, lead_event(LEAD_B), NOW, queued=2)
    batches = by_channel(await claim(engine, NOW + PAST_PACING))
    stopped_at = NOW + timedelta(minutes=1)
    problem = "channel_not_found " + "x" * 300

    await outbox.stop_subscription(engine, batches["C1"], problem=problem, now=stopped_at)

    subs = {s["channel_id"]: s for s in await rows(engine, subscriptions)}
    assert subs["C1"]["problem"] == problem[:200]
    assert subs["C1"]["problem_at"] == stopped_at
    assert (subs["C2"]["problem"], subs["C2"]["problem_at"]) == (None, None)
    c1 = [r for r in await rows(engine, deliveries) if r["channel_id"] == "C1"]
    assert [r["state"] for r in c1] == ["done", "failed", "failed"]
    for row in c1[1:]:
        assert row["finished_at"] == stopped_at
        assert row["claimed_until"] is None
        assert row["last_error"].startswith("channel_not_found")
    c2 = [r for r in await rows(engine, deliveries) if r["channel_id"] == "C2"]
    assert [r["state"] for r in c2] == ["done", "claimed", "pending"]
    # Finishing the stopped batch afterwards changes nothing; C1 gets nothing more.
    await outbox.finish(engine, batches["C1"], stopped_at)
    assert [r["state"] for r in await rows(engine, deliveries) if r["channel_id"] == "C1"] == [
        "done",
        "failed",
        "failed",
    ]
    await outbox.finish(engine, batches["C2"], stopped_at)
    later = await claim(engine, stopped_at + PAST_PACING)
    assert [(b.channel_id, b.lead_key) for b in later] == [("C2", LEAD_B)]
    info = {i.channel_id: i for i in await list_subscriptions(engine, TEAM)}
    assert info["C1"].problem == problem[:200]


async def test_fail_batch_gives_up_on_that_batch_and_the_lane_moves_on(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    (batch,) = await claim(engine, NOW)
    await queue(engine, token, lead_event(LEAD_A), NOW + timedelta(seconds=1))
    failed_at = NOW + timedelta(seconds=2)

    await outbox.fail_batch(engine, batch, error="invalid_blocks", now=failed_at)

    first, second = await rows(engine, deliveries)
    assert (first["state"], first["last_error"]) == ("failed", "invalid_blocks")
    assert first["finished_at"] == failed_at
    assert first["claimed_until"] is None
    assert (second["state"], second["batch"]) == ("pending", None)
    (sub,) = await rows(engine, subscriptions)
    assert sub["problem"] is None
    (after,) = await claim(engine, NOW + PAST_PACING)
    assert ids(after) == [second["id"]]


# ---- threads ----


async def test_threads_are_started_parented_and_advanced_by_finish(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    (batch,) = await claim(engine, NOW)
    assert await outbox.load_thread(engine, batch) is None

    thread_id = await outbox.start_thread(engine, batch, {"status": 10}, NOW)

    assert isinstance(thread_id, int)
    assert await outbox.load_thread(engine, batch) == Thread(
        thread_id, None, batch.marker, {"status": 10}
    )
    (row,) = await rows(engine, lead_threads)
    assert (row["team_id"], row["enterprise_id"], row["channel_id"]) == ("T0001", "", "C1")
    assert (row["campaign_id"], row["lead_key"]) == (CAMPAIGN, LEAD_A)
    assert row["updated_at"] == NOW

    await outbox.set_parent(engine, thread_id, "1700000000.000300", NOW + timedelta(seconds=1))

    assert await outbox.load_thread(engine, batch) == Thread(
        thread_id, "1700000000.000300", batch.marker, {"status": 10}
    )
    (row,) = await rows(engine, lead_threads)
    assert row["updated_at"] == NOW + timedelta(seconds=1)

    # The snapshot advances with the batch's rows, in finish.
    done_at = NOW + timedelta(seconds=2)
    await outbox.finish(engine, batch, done_at, thread=(thread_id, {"status": 20}))

    assert await outbox.load_thread(engine, batch) == Thread(
        thread_id, "1700000000.000300", batch.marker, {"status": 20}
    )
    (row,) = await rows(engine, lead_threads)
    assert row["updated_at"] == done_at
    assert {r["state"] for r in await rows(engine, deliveries)} == {"done"}


async def test_finish_without_a_thread_leaves_the_snapshot_alone(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    (first,) = await claim(engine, NOW)
    thread_id = await outbox.start_thread(engine, first, {"n": 1}, NOW)
    await outbox.set_parent(engine, thread_id, "1.0", NOW)
    await outbox.finish(engine, first, NOW, thread=(thread_id, {"n": 2}))
    await queue(engine, token, lead_event(LEAD_A), NOW)
    (second,) = await claim(engine, NOW + PAST_PACING)

    await outbox.finish(engine, second, NOW + PAST_PACING, state="skipped")

    loaded = await outbox.load_thread(engine, second)
    assert loaded == Thread(thread_id, "1.0", first.marker, {"n": 2})


async def test_starting_a_thread_again_reuses_its_row(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A), NOW)
    (first,) = await claim(engine, NOW)
    thread_id = await outbox.start_thread(engine, first, {"n": 1}, NOW)
    await outbox.retry_later(engine, first, at=NOW, error="x", keep_marker=False)
    (second,) = await claim(engine, NOW + PAST_PACING)
    assert second.marker != first.marker

    again = await outbox.start_thread(engine, second, {"n": 2}, NOW + PAST_PACING)

    assert again == thread_id
    assert len(await rows(engine, lead_threads)) == 1
    loaded = await outbox.load_thread(engine, second)
    assert loaded == Thread(thread_id, None, second.marker, {"n": 2})


async def test_a_thread_belongs_to_one_lead_channel_campaign_and_workspace(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    other_campaign = await subscribe_channels(engine, "C1", campaign="camp-2")
    theirs = await subscribe_channels(engine, "C1", ws=OTHER_TEAM)
    await queue(engine, token, lead_event(LEAD_A), NOW, queued=2)
    first = by_channel(await claim(engine, NOW))
    mine = first["C1"]
    assert (mine.team_id, mine.campaign_id, mine.lead_key) == ("T0001", CAMPAIGN, LEAD_A)
    started = await outbox.start_thread(engine, mine, {"mine": True}, NOW)
    expected_thread = Thread(started, None, mine.marker, {"mine": True})
    for b in first.values():
        await outbox.finish(engine, b, NOW)
    await queue(engine, token, lead_event(LEAD_B), NOW, queued=2)
    await queue(engine, other_campaign, lead_event(LEAD_A), NOW)
    await queue(engine, theirs, lead_event(LEAD_A), NOW)
    others = [first["C2"]]
    now = NOW
    for _ in range(10):
        now += PAST_PACING
        for b in await claim(engine, now):
            others.append(b)
            await outbox.finish(engine, b, now)

    described = {(b.team_id, b.channel_id, b.campaign_id, b.lead_key) for b in others}
    assert described == {
        ("T0001", "C2", CAMPAIGN, LEAD_A),
        ("T0001", "C1", "camp-2", LEAD_A),
        ("T0002", "C1", CAMPAIGN, LEAD_A),
        ("T0001", "C1", CAMPAIGN, LEAD_B),
        ("T0001", "C2", CAMPAIGN, LEAD_B),
    }
    for b in others:
        assert await outbox.load_thread(engine, b) is None, b
    assert await outbox.load_thread(engine, mine) == expected_thread
    assert len(await rows(engine, lead_threads)) == 1


# ---- time zones ----


async def test_moments_come_back_aware_utc_whatever_zone_they_went_in_with(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    tokyo, new_york = timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))
    await queue(engine, token, lead_event(LEAD_A), NOW.astimezone(tokyo))

    # The same instant, written in another zone, is "now": the row is ready.
    (batch,) = await claim(engine, NOW.astimezone(new_york))

    (item,) = batch.items
    assert item.received_at == NOW
    assert item.received_at.utcoffset() == timedelta(0)
    row = await delivery(engine, item.delivery_id)
    for column in ("next_attempt_at", "created_at"):
        assert row[column] == NOW
        assert row[column].utcoffset() == timedelta(0)
    assert row["claimed_until"] == NOW + LEASE
    # A hold written in Tokyo time ends at that instant for a worker in New York.
    await outbox.hold_channel(engine, batch, (NOW + timedelta(minutes=1)).astimezone(tokyo))
    await outbox.retry_later(engine, batch, at=NOW, error="429", keep_marker=True)
    held_until = (NOW + timedelta(minutes=1)).astimezone(new_york)
    assert await claim(engine, held_until - timedelta(seconds=1)) == []
    assert len(await claim(engine, held_until)) == 1


# ---- workspaces ----


async def test_workspaces_have_their_own_lanes_and_pacing(engine: AsyncEngine) -> None:
    tokens = {
        ws: await subscribe_channels(engine, "C1", ws=ws) for ws in (TEAM, OTHER_TEAM, GRID_TEAM)
    }
    for token in tokens.values():
        await queue(engine, token, lead_event(LEAD_A), NOW)
        await queue(engine, token, lead_event(LEAD_A), NOW + timedelta(seconds=1))

    batches = await claim(engine, NOW)

    # Same channel ID, same lead, three workspaces: three channels, three lanes.
    assert sorted((b.team_id, b.enterprise_id) for b in batches) == [
        ("T0001", ""),
        ("T0001", "E0001"),
        ("T0002", ""),
    ]
    assert all(len(b.items) == 1 for b in batches)
    ours = next(b for b in batches if (b.enterprise_id, b.team_id) == ("", "T0001"))
    # Holding our C1 does not hold theirs; finishing ours frees only our lane.
    await outbox.hold_channel(engine, ours, NOW + timedelta(hours=1))
    for b in batches:
        await outbox.finish(engine, b, NOW)
    later = await claim(engine, NOW + PAST_PACING)
    assert sorted((b.team_id, b.enterprise_id) for b in later) == [
        ("T0001", "E0001"),
        ("T0002", ""),
    ]
    assert await _pacing(engine, "C1", TEAM) == NOW + timedelta(hours=1)
    for b in later:
        await outbox.finish(engine, b, NOW + PAST_PACING)
    (last,) = await claim(engine, NOW + timedelta(hours=1))
    assert (last.enterprise_id, last.team_id, last.channel_id, last.lead_key) == (
        "",
        "T0001",
        "C1",
        LEAD_A,
    )


async def test_a_busy_lane_in_one_workspace_does_not_block_another(engine: AsyncEngine) -> None:
    ours = await subscribe_channels(engine, "C1", ws=TEAM)
    theirs = await subscribe_channels(engine, "C1", ws=GRID_TEAM)
    await queue(engine, ours, lead_event(LEAD_A), NOW)
    (busy,) = await claim(engine, NOW)
    assert busy.enterprise_id == ""
    await queue(engine, theirs, lead_event(LEAD_A), NOW)

    (free,) = await claim(engine, NOW)

    assert (free.team_id, free.enterprise_id, free.lead_key) == ("T0001", "E0001", LEAD_A)


# ---- a long, scripted run ----


async def test_a_long_run_with_retries_and_crashes_keeps_every_lane_in_order(
    engine: AsyncEngine,
) -> None:
    """Random (seeded) outcomes for every batch; each row ends done once, lanes in order."""
    rng = random.Random(20250314)
    token = await subscribe_channels(engine, "C1", "C2", "C3")
    leads = [f"+1555000{n:04d}" for n in range(5)]
    lease = timedelta(seconds=25)
    for _ in range(20):
        await queue(engine, token, lead_event(rng.choice(leads)), NOW, queued=3)
    done_order: dict[Lane, list[int]] = defaultdict(list)
    seen = {"resumed": 0, "taken_over": 0, "with_reply": 0}
    holders: dict[str, str] = {}
    now = NOW
    for _round in range(400):
        if _round < 60 and rng.random() < 0.3:
            await queue(engine, token, lead_event(rng.choice(leads)), now, queued=3)
        worker = f"w{_round % 3}"
        for batch in await claim(engine, now, worker=worker, lease=lease):
            seen["resumed"] += batch.resumed
            seen["taken_over"] += holders.get(batch.marker, worker) != worker
            seen["with_reply"] += batch.reply_ts is not None
            holders[batch.marker] = worker
            roll = rng.random()
            if roll < 0.5:
                await outbox.finish(engine, batch, now)
                done_order[lane_of(batch)].extend(ids(batch))
            elif roll < 0.65:
                at = now + timedelta(seconds=rng.choice([0, 15, 40]))
                await outbox.retry_later(engine, batch, at=at, error="e", keep_marker=True)
            elif roll < 0.8:
                at = now + timedelta(seconds=rng.choice([0, 15, 40]))
                await outbox.retry_later(engine, batch, at=at, error="e", keep_marker=False)
            elif roll < 0.9:
                await outbox.record_reply(engine, batch, f"{_round}.{batch.channel_id}")
                await outbox.retry_later(engine, batch, at=now, error="e", keep_marker=False)
            # else: the worker crashed; the lease runs out.
        now += PAST_PACING
        remaining = [r for r in await rows(engine, deliveries) if r["state"] != "done"]
        if not remaining and _round >= 60:
            break
    else:
        raise AssertionError(f"{len(remaining)} rows never finished")

    all_rows = await rows(engine, deliveries)
    assert {r["state"] for r in all_rows} == {"done"}
    finished = [i for lane in done_order.values() for i in lane]
    assert sorted(finished) == [r["id"] for r in all_rows]  # each exactly once
    for lane, order in done_order.items():
        assert order == sorted(order), f"lane {lane} finished out of order: {order}"
    # The run went through every path it means to test.
    assert all(seen.values()), seen
