"""Periodic jobs: due at their time, held by one worker at a time, released by their holder."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine
from bot.storage.jobs import Claimed, claim_job, finish_job
from bot.storage.tables import jobs
from tests.storage.support import NOW, rows

LEASE = timedelta(minutes=2)
EVERY = timedelta(minutes=5)
TICK = timedelta(microseconds=1)
RACERS = 10
PROGRESS = {"page": 3, "cursor": "abc", "seen": [1, 2], "nested": {"ok": True}}


async def _claim(
    engine: AsyncEngine,
    now: datetime = NOW,
    *,
    worker: str = "worker-1",
    name: str = "alerts",
    first_run_at: datetime = NOW,
) -> Claimed | None:
    """One claim of a job, due at NOW unless it is known already."""
    return await claim_job(
        engine, name, worker_id=worker, now=now, lease=LEASE, first_run_at=first_run_at
    )


async def _job(engine: AsyncEngine, name: str = "alerts") -> dict[str, object]:
    """The job's row."""
    (row,) = await rows(engine, jobs, jobs.c.name == name)
    return dict(row)


async def test_a_new_job_is_not_due_before_its_first_run(engine: AsyncEngine) -> None:
    first = NOW + EVERY

    assert await _claim(engine, NOW, first_run_at=first) is None
    assert await _claim(engine, first - TICK, first_run_at=first) is None

    assert await _job(engine) == {
        "name": "alerts",
        "next_run_at": first,
        "claimed_by": None,
        "claimed_until": None,
        "progress": None,
    }
    claimed = await _claim(engine, first, first_run_at=first)
    assert claimed == Claimed("alerts", first + LEASE, None)
    job = await _job(engine)
    assert (job["claimed_by"], job["claimed_until"]) == ("worker-1", first + LEASE)


async def test_a_known_job_keeps_its_time_whatever_first_run_at_says(
    engine: AsyncEngine,
) -> None:
    await _claim(engine, NOW, first_run_at=NOW + EVERY)

    # Another process, started later, would put the first run elsewhere: the job is known.
    assert await _claim(engine, NOW, worker="worker-2", first_run_at=NOW) is None

    assert (await _job(engine))["next_run_at"] == NOW + EVERY


async def test_of_many_claims_at_once_exactly_one_wins(engine: AsyncEngine) -> None:
    workers = [f"worker-{n}" for n in range(RACERS)]

    answers = await asyncio.gather(*(_claim(engine, NOW, worker=w) for w in workers))

    (winner,) = [w for w, answer in zip(workers, answers, strict=True) if answer is not None]
    assert (await _job(engine))["claimed_by"] == winner


async def test_of_many_claims_at_once_on_separate_engines_one_wins(
    engine: AsyncEngine, database_url: str
) -> None:
    # Separate connection pools, as separate dynos would have; the row does not exist yet.
    others = [create_engine(database_url) for _ in range(2)]
    engines = [engine, *others]
    workers = [f"worker-{n}" for n in range(RACERS)]
    try:
        answers = await asyncio.gather(
            *(_claim(engines[n % 3], NOW, worker=w) for n, w in enumerate(workers))
        )
    finally:
        for other in others:
            await other.dispose()

    (winner,) = [w for w, answer in zip(workers, answers, strict=True) if answer is not None]
    assert (await _job(engine))["claimed_by"] == winner
    assert len(await rows(engine, jobs)) == 1


async def test_a_held_job_is_not_claimed_while_its_lease_holds(engine: AsyncEngine) -> None:
    await _claim(engine, NOW)

    for later in (NOW, NOW + LEASE / 2, NOW + LEASE):
        assert await _claim(engine, later, worker="worker-2") is None
        assert await _claim(engine, later) is None, "not even by its holder"

    job = await _job(engine)
    assert (job["claimed_by"], job["claimed_until"]) == ("worker-1", NOW + LEASE)


async def test_a_dead_workers_job_is_claimed_again_once_its_lease_runs_out(
    engine: AsyncEngine,
) -> None:
    await _claim(engine, NOW, worker="dead")
    later = NOW + LEASE + TICK

    claimed = await _claim(engine, later, worker="worker-2")

    assert claimed == Claimed("alerts", later + LEASE, None)
    job = await _job(engine)
    assert (job["claimed_by"], job["claimed_until"]) == ("worker-2", later + LEASE)


async def test_finishing_releases_the_job_until_its_next_run_with_its_progress(
    engine: AsyncEngine,
) -> None:
    await _claim(engine, NOW)

    await finish_job(
        engine, "alerts", worker_id="worker-1", next_run_at=NOW + EVERY, progress=PROGRESS
    )

    assert await _job(engine) == {
        "name": "alerts",
        "next_run_at": NOW + EVERY,
        "claimed_by": None,
        "claimed_until": None,
        "progress": PROGRESS,
    }
    assert await _claim(engine, NOW + EVERY - TICK, worker="worker-2") is None
    claimed = await _claim(engine, NOW + EVERY, worker="worker-2")
    assert claimed == Claimed("alerts", NOW + EVERY + LEASE, PROGRESS)
    # Finishing without progress clears it: the next run starts over.
    await finish_job(engine, "alerts", worker_id="worker-2", next_run_at=NOW + 2 * EVERY)
    assert (await _job(engine))["progress"] is None


async def test_finishing_by_another_worker_changes_nothing(engine: AsyncEngine) -> None:
    await _claim(engine, NOW, worker="slow")
    held = await _job(engine)

    await finish_job(
        engine, "alerts", worker_id="other", next_run_at=NOW + EVERY, progress=PROGRESS
    )
    assert await _job(engine) == held

    # The slow worker's lease runs out and another takes the job: the slow one finishing late
    # must not release the new holder's claim.
    await _claim(engine, NOW + LEASE + TICK, worker="worker-2")
    taken = await _job(engine)
    await finish_job(engine, "alerts", worker_id="slow", next_run_at=NOW + EVERY, progress=PROGRESS)
    assert await _job(engine) == taken
    assert taken["claimed_by"] == "worker-2"


async def test_jobs_of_different_names_do_not_share_a_claim(engine: AsyncEngine) -> None:
    await _claim(engine, NOW, name="alerts")

    claimed = await _claim(engine, NOW, worker="worker-2", name="sweep")

    assert claimed == Claimed("sweep", NOW + LEASE, None)
    held = {r["name"]: r["claimed_by"] for r in await rows(engine, jobs)}
    assert held == {"alerts": "worker-1", "sweep": "worker-2"}
