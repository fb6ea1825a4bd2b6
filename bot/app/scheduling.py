"""The schedule loop: due digests, the alert check, the sweep and pruning, and the notices."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.settings import Settings
from bot.app.tenancy import ManyWorkspaces, Tenancy
from bot.feed.backoff import FailingRounds
from bot.feed.notices import NoticeSender
from bot.feed.sweep import Sweep
from bot.records import utc_now
from bot.storage.forget import prune_events, prune_kept
from bot.storage.jobs import claim_job, finish_job
from bot.usecases.alerts import AlertPolicy, AlertWatch
from bot.usecases.digests import DigestBuilder, queue_due_digests
from bot.usecases.uninstalling import forget_orphans

logger = logging.getLogger(__name__)

# Notices posted per tick at most, so a tick ends and the jobs get their turn.
NOTICES_PER_TICK = 40
STOP_SECONDS = 10.0
# Old webhooks go a day after they pass the retention period at most.
PRUNE_EVERY = timedelta(hours=1)
# Multi-workspace mode: rows an uninstall left (a failed forget, work in flight) go this soon.
ORPHANS_EVERY = timedelta(minutes=5)

# A periodic job: given where it left off, runs once and says where it got to.
JobRun = Callable[[dict[str, Any] | None], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class Job:
    """A periodic job shared by every process: at most one runs it at a time."""

    name: str
    every: timedelta
    run: JobRun
    lease: timedelta = timedelta(minutes=10)


class Scheduler:
    """Each tick: queue due digests, run the jobs that are due, post the notices that are ready."""

    def __init__(
        self,
        engine: AsyncEngine,
        sender: NoticeSender,
        jobs: list[Job],
        *,
        tick: timedelta,
        now: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._sender = sender
        self._jobs = jobs
        self._tick = tick
        self._now = now
        self.worker_id = f"schedule-{uuid.uuid4().hex[:12]}"

    async def run(self, stopping: asyncio.Event) -> None:
        """Tick until `stopping` is set."""
        failing = FailingRounds(logger, "Schedule")
        while not stopping.is_set():
            try:
                await self.run_once()
            except Exception as exc:
                await _pause(stopping, failing.failed(exc))
                continue
            failing.succeeded()
            await _pause(stopping, self._tick.total_seconds())

    async def run_once(self) -> None:
        """One tick."""
        await queue_due_digests(self._engine, self._now())
        for job in self._jobs:
            await self._run_job(job)
        for _ in range(NOTICES_PER_TICK):
            if not await self._sender.run_once():
                break

    async def _run_job(self, job: Job) -> None:
        now = self._now()
        # A job first runs one interval after the schedule first sees it, never at start-up.
        claimed = await claim_job(
            self._engine,
            job.name,
            worker_id=self.worker_id,
            now=now,
            lease=job.lease,
            first_run_at=now + job.every,
        )
        if claimed is None:
            return
        progress = claimed.progress
        try:
            progress = await job.run(claimed.progress)
        except Exception:
            logger.exception("The %s job failed; it runs again at its next time", job.name)
        await finish_job(
            self._engine,
            job.name,
            worker_id=self.worker_id,
            next_run_at=self._now() + job.every,
            progress=progress,
        )


def build_scheduler(settings: Settings, engine: AsyncEngine, tenancy: Tenancy) -> Scheduler:
    """Digests, alerts, the sweep and pruning for these settings, posting through one sender."""
    builder = DigestBuilder(engine, tenancy.nlpearl_for, tenancy.slack_for, utc_now)
    # A notice is held as long as a delivery batch: a worker that dies lets go of both alike.
    lease = timedelta(seconds=settings.delivery_lease_seconds)
    sender = NoticeSender(engine, tenancy.slack_for, build_digest=builder.build, lease=lease)
    policy = AlertPolicy(
        silent_webhook=timedelta(minutes=settings.alert_silent_webhook_minutes),
        error_share=settings.alert_error_share,
    )
    alerts = AlertWatch(engine, tenancy.nlpearl_for, policy, utc_now)
    jobs = [
        Job("alerts", timedelta(minutes=settings.alert_check_minutes), _checking(alerts)),
        Job("prune", PRUNE_EVERY, _pruning(engine, timedelta(days=settings.event_retention_days))),
    ]
    if isinstance(tenancy, ManyWorkspaces):
        jobs.append(Job("orphans", ORPHANS_EVERY, _forgetting_orphans(engine)))
    if settings.sweep_minutes > 0:
        sweep = Sweep(engine, tenancy.nlpearl_for)
        jobs.append(Job("sweep", timedelta(minutes=settings.sweep_minutes), _sweeping(sweep)))
    tick = timedelta(seconds=settings.schedule_tick_seconds)
    return Scheduler(engine, sender, jobs, tick=tick, now=utc_now)


def _checking(alerts: AlertWatch) -> JobRun:
    async def run(progress: dict[str, Any] | None) -> dict[str, Any] | None:
        queued = await alerts.check_all()
        if queued:
            logger.info("Alerts: %d queued", queued)
        return None

    return run


def _pruning(engine: AsyncEngine, retention: timedelta) -> JobRun:
    async def run(progress: dict[str, Any] | None) -> dict[str, Any] | None:
        now = utc_now()
        pruned = await prune_events(engine, before=now - retention)
        kept = await prune_kept(engine, before=now - retention, now=now)
        if pruned or kept:
            logger.info(
                "Pruned %d webhooks and %d other rows older than %d days",
                pruned,
                kept,
                retention.days,
            )
        return None

    return run


def _forgetting_orphans(engine: AsyncEngine) -> JobRun:
    async def run(progress: dict[str, Any] | None) -> dict[str, Any] | None:
        await forget_orphans(engine)
        return None

    return run


def _sweeping(sweep: Sweep) -> JobRun:
    async def run(progress: dict[str, Any] | None) -> dict[str, Any] | None:
        report, progress = await sweep.run_once(now=utc_now(), progress=progress)
        logger.info("Sweep: %s", report)
        return progress

    return run


@contextlib.asynccontextmanager
async def scheduling(scheduler: Scheduler) -> AsyncIterator[None]:
    """Run the schedule loop while the block runs."""
    stopping = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stopping))
    try:
        yield
    finally:
        stopping.set()
        try:
            await asyncio.wait_for(task, STOP_SECONDS)
        except TimeoutError:
            logger.warning("The schedule did not stop in time; its work resumes on restart")


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
