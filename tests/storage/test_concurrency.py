"""Several workers on separate engines drain one PostgreSQL outbox at once.

Only PostgreSQL serves several processes (SQLite is for one dyno), so only it runs here.
Nothing is timed: the workers run until the outbox is empty, bounded by a round count.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage import outbox
from bot.storage.engine import create_engine
from bot.storage.tables import deliveries
from tests.clock import FakeClock
from tests.storage.support import (
    NOW,
    Lane,
    ids,
    lane_of,
    lead_event,
    queue,
    rows,
    subscribe_channels,
    subscribed,
)

pytestmark = pytest.mark.postgres

CHANNELS = [f"C{n}" for n in range(6)]
LEADS = [f"+1555010{n:04d}" for n in range(10)]
EVENTS = 50  # x 6 channels = 300 deliveries, in 60 lanes
ENGINES = 3
WORKERS_PER_ENGINE = 2
MAX_ROUNDS = 2000


class Ledger:
    """What the workers saw, checked as they go."""

    def __init__(self) -> None:
        self.claims: dict[int, list[str]] = defaultdict(list)
        self.in_flight: dict[int, str] = {}
        self.lane_in_flight: dict[Lane, str] = {}
        self.lane_order: dict[Lane, list[int]] = defaultdict(list)
        self.errors: list[str] = []

    def claimed(self, worker: str, batch: outbox.Batch) -> None:
        lane = lane_of(batch)
        if lane in self.lane_in_flight:
            self.errors.append(f"{worker} got {lane} while {self.lane_in_flight[lane]} has it")
        self.lane_in_flight[lane] = worker
        for delivery_id in ids(batch):
            if delivery_id in self.in_flight:
                self.errors.append(
                    f"{worker} got delivery {delivery_id} held by {self.in_flight[delivery_id]}"
                )
            self.in_flight[delivery_id] = worker
            self.claims[delivery_id].append(worker)
        self.lane_order[lane].extend(ids(batch))

    def released(self, batch: outbox.Batch) -> None:
        # Before the rows are finished: once they are, another worker may rightly take the lane.
        del self.lane_in_flight[lane_of(batch)]
        for delivery_id in ids(batch):
            del self.in_flight[delivery_id]


async def _detect_deadlocks_quickly(engine: AsyncEngine) -> None:
    """Check for deadlocks after 50 ms instead of 1 s in this test database (new connections)."""
    async with engine.connect() as conn:
        name = (await conn.execute(select(func.current_database()))).scalar_one()
        try:
            await conn.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET deadlock_timeout = '50ms'")
            await conn.commit()
        except DBAPIError:  # needs a superuser; only slower without it
            await conn.rollback()
    await engine.dispose()


async def _sessions_waiting_for_a_lock(engine: AsyncEngine) -> bool:
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with engine.connect() as conn:
        return bool((await conn.execute(query)).scalar_one())


async def _open_rows(engine: AsyncEngine) -> int:
    query = select(func.count()).select_from(deliveries).where(deliveries.c.state != "done")
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def _worker(engine: AsyncEngine, name: str, clock: FakeClock, ledger: Ledger) -> int:
    """Claim, and finish what the previous round claimed (so batches overlap other claims)."""
    held: list[outbox.Batch] = []
    for _ in range(MAX_ROUNDS):
        # The clock the workers share: each claim round moves it on a second.
        now = clock.advance(1)
        # No error is tolerated: a deadlock here fails the test.
        batches = await outbox.claim_batches(
            engine,
            worker_id=name,
            now=now,
            lease=timedelta(days=1),
            post_interval=timedelta(0),
            limit=4,
        )
        for batch in batches:
            ledger.claimed(name, batch)
        for batch in held:
            ledger.released(batch)
            await outbox.finish(engine, batch, now)
        held = batches
        if not held and await _open_rows(engine) == 0:
            return 0
    return len(held) + 1  # never drained


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_workers_on_several_engines_deliver_each_row_once_in_lane_order(
    engine: AsyncEngine, database_url: str
) -> None:
    token = await subscribe_channels(engine, *CHANNELS)
    # Events arrive a second apart, so lanes become ready bit by bit and take several batches.
    for n in range(EVENTS):
        event = lead_event(LEADS[(n * 7) % len(LEADS)], status=10 + n)
        await queue(engine, token, event, NOW + timedelta(seconds=n), queued=len(CHANNELS))
    expected = await rows(engine, deliveries)
    assert len(expected) == EVENTS * len(CHANNELS)
    await _detect_deadlocks_quickly(engine)

    engines = [create_engine(database_url) for _ in range(ENGINES)]
    clock, ledger = FakeClock(NOW), Ledger()
    try:
        outcomes = await asyncio.gather(
            *(
                _worker(e, f"w{k}.{w}", clock, ledger)
                for k, e in enumerate(engines)
                for w in range(WORKERS_PER_ENGINE)
            ),
            return_exceptions=True,
        )
    finally:
        for e in engines:
            await e.dispose()

    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    leftovers = list(outcomes)
    assert leftovers == [0] * len(leftovers), "a worker hit MAX_ROUNDS"
    assert ledger.errors == []
    # Every delivery claimed exactly once, by the worker the row names, and done once.
    assert sorted(ledger.claims) == [r["id"] for r in expected]
    assert all(len(who) == 1 for who in ledger.claims.values())
    final = await rows(engine, deliveries)
    for row in final:
        assert row["state"] == "done"
        assert row["attempts"] == 1
        assert row["claimed_by"] == ledger.claims[row["id"]][0]
        assert row["finished_at"] is not None
    # Each lane was claimed oldest first, all of it.
    lanes: dict[Lane, list[int]] = defaultdict(list)
    for row in expected:
        lanes[(row["subscription_id"], row["lead_key"])].append(row["id"])
    assert dict(ledger.lane_order) == dict(lanes)
    # Real concurrency happened: several workers did the work, and lanes took several batches.
    assert len({who[0] for who in ledger.claims.values()}) > 1
    assert len({row["batch"] for row in final}) > len(lanes)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_concurrent_claims_do_not_deadlock(
    engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two claims overlap as two dynos' claims do; the interleaving is forced, not timed.

    The first claim holds its first channel's pacing row until the second claim has paced a
    channel too, waits for a lock, or is done. Claims that lock pacing rows in different orders
    would deadlock (PostgreSQL aborts one). Since a claim locks only the heads it takes, the
    second passes over the channels the first holds, and paces none of them at all.
    """
    c1 = await subscribed(engine, channel="C1", campaign="camp-1")
    c2 = await subscribed(engine, channel="C2", campaign="camp-2")
    assert c1
    assert c2
    # Ten lanes; each channel's head is its lowest open id: 1 (C1) and 2 (C2).
    order = [c1, c2, c1, c2, c1, c2, c1, c2, c2, c1]
    for token, lead in zip(order, LEADS, strict=True):
        await queue(engine, token, lead_event(lead), NOW)
    await _detect_deadlocks_quickly(engine)

    observer = create_engine(database_url)
    other = create_engine(database_url)
    tasks: dict[str, asyncio.Task[list[outbox.Batch]]] = {}
    paced: dict[str, list[str]] = defaultdict(list)
    real_pace = outbox._pace

    async def until_paced_or_blocked(name: str) -> None:
        """Until `name` has paced a channel, finished, or waits for a lock; polled, not timed."""
        for _ in range(5000):
            task = tasks.get(name)
            if paced[name] or (task is not None and task.done()):
                return
            if await _sessions_waiting_for_a_lock(observer):
                return
        raise AssertionError(f"the {name} claim neither paced a channel nor blocked")

    async def pace(conn: AsyncConnection, head: object, until: datetime) -> None:
        task = asyncio.current_task()
        name = task.get_name() if task else "?"
        await real_pace(conn, head, until)
        paced[name].append(head.channel_id)  # type: ignore[attr-defined]
        if name == "first" and len(paced[name]) == 1:
            # Keep the first channel's pacing row locked until the second claim holds one too
            # (or is waiting for this one, as it should when locks are taken in one order).
            await until_paced_or_blocked("second")

    monkeypatch.setattr(outbox, "_pace", pace)

    async def claim_as(engine: AsyncEngine, name: str) -> list[outbox.Batch]:
        if name == "second":
            await until_paced_or_blocked("first")
        return await outbox.claim_batches(
            engine,
            worker_id=name,
            now=NOW,
            lease=timedelta(minutes=5),
            post_interval=timedelta(seconds=1),
            limit=2,
        )

    try:
        tasks["first"] = asyncio.create_task(claim_as(engine, "first"), name="first")
        tasks["second"] = asyncio.create_task(claim_as(other, "second"), name="second")
        results = await asyncio.gather(*tasks.values(), return_exceptions=True)
    finally:
        await other.dispose()
        await observer.dispose()

    for result in results:
        if isinstance(result, BaseException):
            raise result
    first, second = results
    assert isinstance(first, list)
    assert isinstance(second, list)
    # The two claims overlapped: the first took both channels' heads, and the second, finding
    # them locked, took nothing rather than a second batch for a channel already posting.
    assert sorted(b.channel_id for b in first) == ["C1", "C2"]
    assert second == []
    claimed = [i for b in first for i in ids(b)]
    assert len(claimed) == len(set(claimed)) == 2
