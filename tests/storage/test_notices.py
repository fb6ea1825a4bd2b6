"""Scheduled notices: queued once by key, claimed by one worker, posted once; and digests queued."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import notices
from bot.storage.digests import digest_by_id, set_digest
from bot.storage.engine import create_engine
from bot.storage.notices import KEY_LENGTH, NewNotice, Notice, NoticeRow, notice_key, notices_of
from bot.storage.rows import DigestInfo, Workspace
from bot.storage.tables import notices as notice_table
from tests.storage.support import CAMPAIGN, GRID_TEAM, NOW, OTHER_TEAM, TEAM, rows

LEASE = timedelta(minutes=2)
TICK = timedelta(microseconds=1)
DUE = NOW.replace(hour=9, minute=0, second=0, microsecond=0)
NEXT_DUE = DUE + timedelta(days=1)
RACERS = 10
BODY = {"text": "Daily digest", "blocks": [{"type": "section", "text": {"type": "mrkdwn"}}]}


def _notice(
    key: str = "digest:1:2025-03-13",
    *,
    ws: Workspace = TEAM,
    channel: str = "C1",
    kind: str = "digest",
    body: dict[str, Any] | None = None,
    digest_id: int | None = None,
) -> NewNotice:
    """A notice for a channel of TEAM, due at DUE."""
    return NewNotice(
        workspace=ws,
        channel_id=channel,
        campaign_id=CAMPAIGN,
        kind=kind,
        key=key,
        due_at=DUE,
        body=body,
        digest_id=digest_id,
    )


async def _queue(engine: AsyncEngine, notice: NewNotice, now: datetime = NOW) -> bool:
    """Queue a notice in a transaction of its own."""
    async with engine.begin() as conn:
        return await notices.queue(conn, notice, now)


async def _queue_many(engine: AsyncEngine, count: int) -> None:
    """Queue `count` alerts, alert:0 first."""
    for n in range(count):
        assert await _queue(engine, _notice(f"alert:{n}", kind="alert"))


async def _claim(
    engine: AsyncEngine, now: datetime = NOW, *, worker: str = "worker-1", limit: int = 4
) -> list[Notice]:
    """One claim round."""
    return await notices.claim_notices(engine, worker_id=worker, now=now, lease=LEASE, limit=limit)


async def _row(engine: AsyncEngine, key: str = "digest:1:2025-03-13") -> RowMapping:
    """The notice's row."""
    (row,) = await rows(engine, notice_table, notice_table.c.key == key)
    return row


async def _claimed_one(engine: AsyncEngine, now: datetime = NOW) -> Notice:
    """The one notice a claim round gives."""
    (notice,) = await _claim(engine, now)
    return notice


async def _digest(engine: AsyncEngine, channel: str = "C1") -> DigestInfo:
    """A digest of CAMPAIGN in a channel of TEAM, due at DUE."""
    info, _ = await set_digest(
        engine,
        TEAM,
        channel_id=channel,
        campaign_id=CAMPAIGN,
        at_time="09:00",
        time_zone="UTC",
        user_id="U0001",
        next_due_at=DUE,
        now=NOW,
    )
    return info


async def _queue_digest(engine: AsyncEngine, info: DigestInfo, was_due: datetime = DUE) -> bool:
    """Queue the digest's notice for the day before DUE, moving it on a day."""
    notice = _notice(notice_key("digest", info.id, "2025-03-13"), digest_id=info.id)
    return await notices.queue_digest(
        engine, notice, digest_id=info.id, was_due=was_due, next_due_at=NEXT_DUE, now=NOW
    )


# Keys


def test_a_short_key_is_its_parts_joined() -> None:
    assert notice_key("digest", 7, "2025-03-13") == "digest:7:2025-03-13"


def test_a_key_of_exactly_the_column_width_is_kept_and_one_more_is_hashed() -> None:
    fits = "x" * KEY_LENGTH
    too_long = "x" * (KEY_LENGTH + 1)

    assert notice_key(fits) == fits
    assert notice_key(too_long).startswith("h:")
    assert len(notice_key(too_long)) <= KEY_LENGTH


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=150), st.integers()), min_size=1, max_size=4))
@example(["alert", CAMPAIGN * 40, "silent", "2025-03-14T09:26:53+00:00"])
def test_any_key_fits_its_column_and_is_stable(parts: list[object]) -> None:
    key = notice_key(*parts)

    assert len(key) <= KEY_LENGTH
    assert notice_key(*parts) == key
    joined = ":".join(str(p) for p in parts)
    assert key == joined if len(joined) <= KEY_LENGTH else key != joined


def test_long_keys_that_differ_anywhere_hash_apart() -> None:
    base = ["alert", "c" * 300, "silent"]

    assert notice_key(*base) != notice_key(*base[:2], "errors")
    assert notice_key(*base) != notice_key("alert", "c" * 299 + "d", "silent")


# Queueing


async def test_a_queued_notice_waits_pending(engine: AsyncEngine) -> None:
    assert await _queue(engine, _notice(ws=GRID_TEAM, body=BODY, digest_id=7), NOW)

    row = await _row(engine)
    assert (row["team_id"], row["enterprise_id"], row["channel_id"], row["campaign_id"]) == (
        "T0001",
        "E0001",
        "C1",
        CAMPAIGN,
    )
    assert (row["kind"], row["digest_id"], row["due_at"], row["body"]) == ("digest", 7, DUE, BODY)
    assert (row["state"], row["attempts"], row["posting"]) == ("pending", 0, 0)
    assert (row["next_attempt_at"], row["created_at"]) == (NOW, NOW)
    assert len(row["marker"]) == 32
    assert (row["claimed_by"], row["claimed_until"], row["ts"], row["file_id"]) == (None,) * 4
    assert (row["last_error"], row["finished_at"]) == (None, None)
    assert await notices_of(engine, GRID_TEAM) == [
        NoticeRow("digest:1:2025-03-13", "digest", "C1", "pending", None, None, 0, None)
    ]


async def test_queueing_a_key_again_is_a_no_op(engine: AsyncEngine) -> None:
    assert await _queue(engine, _notice(body={"text": "first"}))

    assert not await _queue(engine, _notice(channel="C2", body={"text": "second"}))

    (row,) = await rows(engine, notice_table)
    assert (row["channel_id"], row["body"]) == ("C1", {"text": "first"})
    # Keys are global: callers put what makes the notice one (a digest's id, a campaign) in them.
    assert not await _queue(engine, _notice(ws=OTHER_TEAM))
    assert await notices_of(engine, OTHER_TEAM) == []


async def test_a_hashed_long_key_is_stored(engine: AsyncEngine) -> None:
    key = notice_key("alert", "c" * 300, "silent")

    assert await _queue(engine, _notice(key))
    assert not await _queue(engine, _notice(notice_key("alert", "c" * 300, "silent")))

    assert [n.key for n in await notices_of(engine, TEAM)] == [key]


async def test_a_notice_is_queued_in_the_callers_transaction(engine: AsyncEngine) -> None:
    async def queue_then_fail() -> None:
        async with engine.begin() as conn:
            assert await notices.queue(conn, _notice(), NOW)
            raise RuntimeError("the caller's work failed")

    with pytest.raises(RuntimeError, match="caller's work"):
        await queue_then_fail()

    assert await rows(engine, notice_table) == []


async def test_notices_of_keeps_to_the_workspace_oldest_first(engine: AsyncEngine) -> None:
    for key, ws in [("b", TEAM), ("a", TEAM), ("c", GRID_TEAM), ("d", OTHER_TEAM)]:
        await _queue(engine, _notice(key, ws=ws))

    assert [n.key for n in await notices_of(engine, TEAM)] == ["b", "a"]
    assert [n.key for n in await notices_of(engine, GRID_TEAM)] == ["c"]
    assert [n.key for n in await notices_of(engine, Workspace("T0003"))] == []


# A digest's schedule and its notice


async def test_queueing_a_digest_moves_its_schedule_and_queues_its_notice(
    engine: AsyncEngine,
) -> None:
    info = await _digest(engine)

    assert await _queue_digest(engine, info)

    moved = await digest_by_id(engine, info.id)
    assert moved is not None
    assert moved.next_due_at == NEXT_DUE
    (row,) = await rows(engine, notice_table)
    assert (row["key"], row["digest_id"], row["kind"], row["state"]) == (
        f"digest:{info.id}:2025-03-13",
        info.id,
        "digest",
        "pending",
    )


async def test_a_digest_already_moved_on_queues_nothing(engine: AsyncEngine) -> None:
    info = await _digest(engine)

    assert not await _queue_digest(engine, info, was_due=DUE - timedelta(days=1))
    # Nor does one that is gone.
    assert not await notices.queue_digest(
        engine, _notice(), digest_id=info.id + 1, was_due=DUE, next_due_at=NEXT_DUE, now=NOW
    )

    assert (await digest_by_id(engine, info.id)) == info
    assert await rows(engine, notice_table) == []


async def test_of_many_schedulers_queueing_a_digest_at_once_one_does(engine: AsyncEngine) -> None:
    info = await _digest(engine)

    done = await asyncio.gather(*(_queue_digest(engine, info) for _ in range(RACERS)))

    assert sorted(done) == [False] * (RACERS - 1) + [True]
    moved = await digest_by_id(engine, info.id)
    assert moved is not None
    assert moved.next_due_at == NEXT_DUE
    assert len(await rows(engine, notice_table)) == 1


async def test_of_many_schedulers_on_separate_engines_one_queues_the_digest(
    engine: AsyncEngine, database_url: str
) -> None:
    info = await _digest(engine)
    others = [create_engine(database_url) for _ in range(2)]
    engines = [engine, *others]
    try:
        done = await asyncio.gather(*(_queue_digest(engines[n % 3], info) for n in range(RACERS)))
    finally:
        for other in others:
            await other.dispose()

    assert done.count(True) == 1
    assert len(await rows(engine, notice_table)) == 1


# Claiming


async def test_ready_notices_are_claimed_oldest_first_up_to_the_limit(
    engine: AsyncEngine,
) -> None:
    await _queue_many(engine, 5)

    first = await _claim(engine, limit=3)
    second = await _claim(engine, worker="worker-2", limit=3)

    assert [n.key for n in first] == ["alert:0", "alert:1", "alert:2"]
    assert [n.key for n in second] == ["alert:3", "alert:4"]
    assert await _claim(engine, worker="worker-3") == []
    for row in await rows(engine, notice_table):
        assert row["state"] == "claimed"
        assert row["attempts"] == 1
        assert row["claimed_until"] == NOW + LEASE
    claimed_by = {r["key"]: r["claimed_by"] for r in await rows(engine, notice_table)}
    assert claimed_by == {f"alert:{n}": "worker-1" if n < 3 else "worker-2" for n in range(5)}


async def test_a_claimed_notice_carries_what_it_was_queued_with(engine: AsyncEngine) -> None:
    await _queue(engine, _notice(ws=GRID_TEAM, channel="C9", body=BODY, digest_id=7))

    notice = await _claimed_one(engine)

    row = await _row(engine)
    assert notice == Notice(
        id=row["id"],
        workspace=GRID_TEAM,
        channel_id="C9",
        campaign_id=CAMPAIGN,
        kind="digest",
        key="digest:1:2025-03-13",
        digest_id=7,
        due_at=DUE,
        body=BODY,
        file_id=None,
        marker=row["marker"],
        attempts=1,
        posting=False,
        created_at=row["created_at"],
    )


async def test_a_notice_queued_for_later_is_not_claimed_before(engine: AsyncEngine) -> None:
    later = NOW + timedelta(minutes=1)
    await _queue(engine, _notice(), now=later)

    assert await _claim(engine, later - TICK) == []
    assert len(await _claim(engine, later)) == 1


async def test_a_claimed_notice_is_not_claimed_again_while_its_lease_holds(
    engine: AsyncEngine,
) -> None:
    await _queue(engine, _notice())
    first = await _claimed_one(engine)

    for later in (NOW, NOW + LEASE / 2, NOW + LEASE):
        assert await _claim(engine, later, worker="worker-2") == []

    row = await _row(engine)
    assert (row["claimed_by"], row["attempts"]) == ("worker-1", 1)
    # Once it runs out, the worker is taken for dead: another claims it, marker and all.
    again = await _claim(engine, NOW + LEASE + TICK, worker="worker-2")
    assert [(n.id, n.marker, n.attempts) for n in again] == [(first.id, first.marker, 2)]
    row = await _row(engine)
    assert (row["claimed_by"], row["claimed_until"]) == ("worker-2", NOW + LEASE + TICK + LEASE)


async def test_each_notice_goes_to_one_of_many_workers_claiming_at_once(
    engine: AsyncEngine,
) -> None:
    await _queue_many(engine, 12)
    workers = [f"worker-{n}" for n in range(RACERS)]

    claims = await asyncio.gather(*(_claim(engine, worker=w) for w in workers))

    got = [(w, n.id) for w, claimed in zip(workers, claims, strict=True) for n in claimed]
    ids = [notice_id for _, notice_id in got]
    assert len(ids) == len(set(ids)), "a notice went to two workers"
    assert all(n.attempts == 1 for claimed in claims for n in claimed)
    by_id = {r["id"]: r for r in await rows(engine, notice_table)}
    for worker, notice_id in got:
        assert by_id[notice_id]["claimed_by"] == worker
        assert by_id[notice_id]["attempts"] == 1
    # Whatever the race left unclaimed is still ready, and nothing was claimed twice.
    rest = await _claim(engine, worker="worker-late", limit=12)
    assert sorted(ids + [n.id for n in rest]) == sorted(by_id)


async def test_each_notice_goes_to_one_worker_across_separate_engines(
    engine: AsyncEngine, database_url: str
) -> None:
    await _queue_many(engine, 12)
    others = [create_engine(database_url) for _ in range(2)]
    engines = [engine, *others]
    try:
        claims = await asyncio.gather(
            *(_claim(engines[n % 3], worker=f"worker-{n}") for n in range(RACERS))
        )
    finally:
        for other in others:
            await other.dispose()

    ids = [n.id for claimed in claims for n in claimed]
    assert len(ids) == len(set(ids)), "a notice went to two workers"
    assert {r["attempts"] for r in await rows(engine, notice_table) if r["id"] in ids} == {1}


# After a claim


async def test_a_kept_file_and_body_survive_a_retry(engine: AsyncEngine) -> None:
    await _queue(engine, _notice())
    notice = await _claimed_one(engine)

    await notices.keep_file(engine, notice, "F0123456789")
    await notices.keep_body(engine, notice, BODY)
    retry_at = NOW + timedelta(seconds=30)
    await notices.retry_later(engine, notice, at=retry_at, error="ratelimited")

    again = await _claimed_one(engine, retry_at)
    assert (again.file_id, again.body, again.attempts, again.marker) == (
        "F0123456789",
        BODY,
        2,
        notice.marker,
    )
    assert await notices_of(engine, TEAM) == [
        NoticeRow(notice.key, "digest", "C1", "claimed", None, "F0123456789", 2, "ratelimited")
    ]
    await notices.keep_file(engine, again, "F" * 40)
    assert (await _row(engine))["file_id"] == "F" * 32


async def test_a_post_in_flight_is_marked_until_a_retry_says_otherwise(
    engine: AsyncEngine,
) -> None:
    await _queue(engine, _notice())
    notice = await _claimed_one(engine)

    assert await notices.about_to_post(engine, notice, now=NOW, lease=timedelta(minutes=1))
    assert (await _row(engine))["posting"] == 1
    # A failure that may have posted keeps the mark: the next attempt looks for the post first.
    await notices.retry_later(engine, notice, at=NOW, error="timed out")
    again = await _claimed_one(engine)
    assert again.posting is True

    await notices.retry_later(engine, again, at=NOW, error="refused", posting=False)
    third = await _claimed_one(engine)
    assert third.posting is False
    await notices.retry_later(engine, third, at=NOW, error="maybe", posting=True)
    assert (await _claimed_one(engine)).posting is True


async def test_a_claim_taken_over_cannot_settle_the_notice_any_more(engine: AsyncEngine) -> None:
    """A worker whose lease ran out neither puts back nor fails what another worker now holds."""
    await _queue(engine, _notice())
    late = await _claimed_one(engine)
    current = await _claimed_one(engine, NOW + timedelta(hours=1))

    await notices.retry_later(engine, late, at=NOW, error="late worker")
    await notices.give_up(engine, late, error="late worker", now=NOW)
    assert (await _row(engine))["state"] == "claimed"

    await notices.posted(engine, current, "1710408413.000100", NOW)
    assert (await _row(engine))["state"] == "done"


async def test_a_posted_notice_is_done_and_never_claimed_again(engine: AsyncEngine) -> None:
    await _queue(engine, _notice())
    notice = await _claimed_one(engine)
    assert await notices.about_to_post(engine, notice, now=NOW, lease=timedelta(minutes=1))

    await notices.posted(engine, notice, "1710408413.000100", NOW + timedelta(seconds=5))

    row = await _row(engine)
    assert (row["state"], row["ts"], row["finished_at"], row["claimed_until"]) == (
        "done",
        "1710408413.000100",
        NOW + timedelta(seconds=5),
        None,
    )
    assert await notices_of(engine, TEAM) == [
        NoticeRow(notice.key, "digest", "C1", "done", "1710408413.000100", None, 1, None)
    ]
    assert await _claim(engine, NOW + timedelta(days=30)) == []


async def test_a_notice_to_retry_waits_for_its_time(engine: AsyncEngine) -> None:
    await _queue(engine, _notice())
    notice = await _claimed_one(engine)
    retry_at = NOW + timedelta(minutes=10)

    await notices.retry_later(engine, notice, at=retry_at, error="x" * 3000)

    row = await _row(engine)
    assert (row["state"], row["next_attempt_at"], row["claimed_until"]) == (
        "pending",
        retry_at,
        None,
    )
    assert row["last_error"] == "x" * 2000
    assert row["finished_at"] is None
    assert await _claim(engine, retry_at - TICK) == []
    assert [n.attempts for n in await _claim(engine, retry_at)] == [2]


async def test_a_notice_given_up_is_failed_for_good(engine: AsyncEngine) -> None:
    await _queue(engine, _notice())
    notice = await _claimed_one(engine)

    await notices.give_up(engine, notice, error="channel_not_found", now=NOW + TICK)

    row = await _row(engine)
    assert (row["state"], row["finished_at"], row["claimed_until"], row["ts"]) == (
        "failed",
        NOW + TICK,
        None,
        None,
    )
    assert await notices_of(engine, TEAM) == [
        NoticeRow(notice.key, "digest", "C1", "failed", None, None, 1, "channel_not_found")
    ]
    assert await _claim(engine, NOW + timedelta(days=30)) == []


async def test_every_claim_counts_an_attempt(engine: AsyncEngine) -> None:
    await _queue(engine, _notice())
    now = NOW

    for attempt in range(1, 5):
        notice = await _claimed_one(engine, now)
        assert notice.attempts == attempt
        now += timedelta(seconds=attempt)
        await notices.retry_later(engine, notice, at=now, error=f"try {attempt}")

    (listed,) = await notices_of(engine, TEAM)
    assert (listed.state, listed.attempts, listed.last_error) == ("pending", 4, "try 4")


async def test_settling_one_notice_leaves_the_others_alone(engine: AsyncEngine) -> None:
    await _queue_many(engine, 2)
    first, second = await _claim(engine)

    await notices.posted(engine, first, "1.2", NOW)
    await notices.keep_file(engine, first, "F1")

    assert [(n.state, n.file_id) for n in await notices_of(engine, TEAM)] == [
        ("done", "F1"),
        ("claimed", None),
    ]
    assert second.key == "alert:1"


async def test_a_notice_that_failed_for_good_is_queued_afresh_under_the_same_key(
    engine: AsyncEngine,
) -> None:
    """The channel was gone, then the digest was set up again there: the day is not lost."""
    await _queue(engine, _notice(digest_id=1))
    failed = await _claimed_one(engine)
    await notices.give_up(engine, failed, error="channel_not_found", now=NOW)

    later = NOW + timedelta(hours=8)
    assert await _queue(engine, _notice(digest_id=2), later)

    again = await _claimed_one(engine, later)
    assert (again.digest_id, again.attempts, again.posting) == (2, 1, False)
    assert again.marker != failed.marker


async def test_a_notice_still_on_its_way_is_not_queued_twice(engine: AsyncEngine) -> None:
    await _queue(engine, _notice(digest_id=1))
    claimed = await _claimed_one(engine)

    assert not await _queue(engine, _notice(digest_id=2))
    await notices.posted(engine, claimed, "1710408413.000100", NOW)
    assert not await _queue(engine, _notice(digest_id=2))
