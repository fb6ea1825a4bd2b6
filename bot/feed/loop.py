"""The delivery loop: claim rounds of batches, wait for work or a wake-up, back off, stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feed.backoff import FailingRounds
from bot.records import utc_now
from bot.storage import outbox
from bot.storage.outbox import Batch

logger = logging.getLogger(__name__)

MIN_IDLE_SECONDS = 0.02
WAKE_DEBOUNCE_SECONDS = 0.03

# One attempt at one batch; it settles the batch itself and raises only to stop the round.
Attempt = Callable[[Batch], Awaitable[None]]


@dataclass(frozen=True)
class DeliveryTiming:
    """How the loop paces itself; tests shorten these."""

    lease: timedelta = timedelta(seconds=60)
    post_interval: timedelta = timedelta(seconds=1)
    idle_poll_seconds: float = 0.5
    batches_per_round: int = 8

    @property
    def idle_wait(self) -> float:
        """How long to wait for work: no longer than a channel's pacing, so bursts flow."""
        interval = self.post_interval.total_seconds()
        return max(MIN_IDLE_SECONDS, min(self.idle_poll_seconds, interval))


class Deliverer:
    """Claims batches from the outbox and attempts each; any number may share one database."""

    def __init__(
        self,
        engine: AsyncEngine,
        attempt: Attempt,
        *,
        timing: DeliveryTiming | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._attempt = attempt
        self._timing = timing or DeliveryTiming()
        self._now = now
        self._wake = asyncio.Event()
        self.worker_id = f"worker-{uuid.uuid4().hex[:12]}"

    def wake(self) -> None:
        """Look for work now rather than at the next poll (a webhook just arrived)."""
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until `stopping` is set; finish what is in flight, start nothing new."""
        logger.info("Delivery loop %s started", self.worker_id)
        failing = FailingRounds(logger, "Delivery")
        while not stopping.is_set():
            try:
                delivered = await self.run_once()
            except Exception as exc:
                await _pause(stopping, failing.failed(exc))
                continue
            failing.succeeded()
            if not delivered:
                await self._idle(stopping)
        logger.info("Delivery loop %s stopped", self.worker_id)

    async def run_once(self) -> int:
        """Claim one round of batches and attempt them; returns how many were claimed."""
        timing = self._timing
        batches = await outbox.claim_batches(
            self._engine,
            worker_id=self.worker_id,
            now=self._now(),
            lease=timing.lease,
            post_interval=timing.post_interval,
            limit=timing.batches_per_round,
        )
        outcomes = await asyncio.gather(
            *(self._attempt(batch) for batch in batches), return_exceptions=True
        )
        # Every batch settled first; then the round fails for the loop to back off.
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(batches)

    async def _idle(self, stopping: asyncio.Event) -> None:
        """Wait for a wake-up, a stop or the poll interval, whichever comes first."""
        woken = asyncio.ensure_future(self._wake.wait())
        stopped = asyncio.ensure_future(stopping.wait())
        try:
            done, _ = await asyncio.wait(
                {woken, stopped},
                timeout=self._timing.idle_wait,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for waiter in (woken, stopped):
                waiter.cancel()
        if woken in done and not stopping.is_set():
            # A burst of webhooks wakes us once per webhook: gather them into one claim round.
            await asyncio.sleep(WAKE_DEBOUNCE_SECONDS)
        self._wake.clear()


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if the loop is told to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
