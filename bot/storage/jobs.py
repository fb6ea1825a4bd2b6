"""Periodic jobs shared by every process: a due job is claimed by one of them, then rescheduled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import read_only, upsert
from bot.storage.tables import jobs


@dataclass(frozen=True)
class Claimed:
    """A job this worker holds until `until`, and where its last run left off."""

    name: str
    until: datetime
    progress: dict[str, Any] | None


async def claim_job(
    engine: AsyncEngine,
    name: str,
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    first_run_at: datetime,
) -> Claimed | None:
    """The job if it is due and nobody holds it, else None; a new job first runs at first_run_at."""
    # Every process asks every tick: a look without the write lock answers most of them.
    async with read_only(engine) as conn:
        row = (
            await conn.execute(
                select(jobs.c.next_run_at, jobs.c.claimed_until).where(jobs.c.name == name)
            )
        ).one_or_none()
    if row is not None and (
        row.next_run_at > now or (row.claimed_until is not None and row.claimed_until >= now)
    ):
        return None
    async with engine.begin() as conn:
        await conn.execute(
            upsert(conn, jobs)
            .values(name=name, next_run_at=first_run_at)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        # One conditional update: of any number of processes asking at once, one changes the row.
        claimed = await conn.execute(
            update(jobs)
            .where(
                jobs.c.name == name,
                jobs.c.next_run_at <= now,
                or_(jobs.c.claimed_until.is_(None), jobs.c.claimed_until < now),
            )
            .values(claimed_by=worker_id, claimed_until=now + lease)
        )
        if claimed.rowcount != 1:
            return None
        progress = (
            await conn.execute(select(jobs.c.progress).where(jobs.c.name == name))
        ).scalar_one()
    return Claimed(name, now + lease, progress)


async def finish_job(
    engine: AsyncEngine,
    name: str,
    *,
    worker_id: str,
    next_run_at: datetime,
    progress: dict[str, Any] | None = None,
) -> None:
    """Release the job until `next_run_at`, keeping where it left off."""
    async with engine.begin() as conn:
        await conn.execute(
            update(jobs)
            .where(and_(jobs.c.name == name, jobs.c.claimed_by == worker_id))
            .values(claimed_by=None, claimed_until=None, next_run_at=next_run_at, progress=progress)
        )
