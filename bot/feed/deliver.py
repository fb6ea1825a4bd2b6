"""One attempt at a batch: fold its events, post them in the lead's thread, settle the outcome."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.blocks.notifications import StatusChange, parent_message, thread_reply
from bot.blocks.privacy import channel_audience
from bot.feed.backoff import BugsShown
from bot.feed.posting import Notes, SlackFailed, SlackFor, SlackPoster
from bot.feed.reconcile import EarlierPosts
from bot.feed.snapshot import apply
from bot.feed.thread import LeadThreads
from bot.nlpearl.models import Call
from bot.parsing.slack_errors import Kind, SlackFailure
from bot.parsing.webhooks import BadPayload, CallUpdate, LeadChange, parse_webhook
from bot.records import LeadSnapshot, utc_now
from bot.storage import outbox
from bot.storage.faults import in_few_words, unreachable
from bot.storage.outbox import Batch, Thread
from bot.storage.rows import Workspace

logger = logging.getLogger(__name__)

# Slack failures that stop the channel's subscription: nothing can be posted there as it is.
STOPS_SUBSCRIPTION = frozenset({Kind.CHANNEL_GONE, Kind.AUTH_REVOKED, Kind.NOT_ALLOWED})
MAX_BACKOFF_SECONDS = 300.0
# The key the sweep (bot.feed.sweep) adds to the Lead webhooks it makes up, and its value.
FOUND_BY_KEY = "leadBotFoundBy"
FOUND_BY_SWEEP = "sweep"

# The name of a workspace's campaign, quickly, or None (bot.nlpearl.names in production).
CampaignNames = Callable[[Workspace, str], Awaitable[str | None]]

Events = list[tuple[LeadChange | CallUpdate, datetime]]


@dataclass(frozen=True)
class Folded:
    """A batch's events applied to the lead: the new snapshot and what to say about them."""

    snapshot: LeadSnapshot
    changes: list[StatusChange] = field(default_factory=list)
    ended_calls: list[Call] = field(default_factory=list)


def fold(before: LeadSnapshot, events: Events) -> Folded:
    """Apply events in order, collecting status changes and finished calls."""
    snapshot = before
    changes: list[StatusChange] = []
    calls: list[Call] = []
    for event, at in events:
        previous = snapshot.status
        snapshot = apply(snapshot, event, at)
        if isinstance(event, LeadChange):
            swept = found_by_sweep(event.payload)
            changes.append(StatusChange(previous, snapshot.status, at, found_by_sweep=swept))
        elif event.phase == "end":
            calls.append(event.call)
    return Folded(snapshot, changes, calls)


def found_by_sweep(payload: dict[str, Any]) -> bool:
    """Whether a Lead event was made by the sweep for missed webhooks, not sent by NLPearl."""
    return any(
        str(key).lower() == FOUND_BY_KEY.lower()
        and isinstance(value, str)
        and value.strip().lower() == FOUND_BY_SWEEP
        for key, value in payload.items()
    )


def for_the_channel(batch: Batch, thread: Thread | None, events: Events) -> Events | None:
    """The events the batch's channel hears about; None when it hears none of them."""
    threaded = thread is not None and thread.parent_ts is not None
    if not batch.statuses or threaded:
        return events
    # A filtered channel hears about calls only of leads it already follows.
    return [(e, at) for e, at in events if isinstance(e, LeadChange)] or None


class BatchDelivery:
    """Delivers one claimed batch to Slack, or settles what its failure means for it."""

    def __init__(
        self,
        engine: AsyncEngine,
        slack_for: SlackFor,
        *,
        campaign_names: CampaignNames,
        mask_shared_phone_numbers: bool = True,
        post_interval: timedelta = timedelta(seconds=1),
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._campaign_names = campaign_names
        # The feed is posted to channels, so it is masked as the workspace says.
        self._mask = channel_audience(mask_shared_phone_numbers).masked
        self._now = now
        self._slack_for = slack_for
        self._spacing = post_interval.total_seconds()
        self._bugs = BugsShown()

    async def attempt(self, batch: Batch) -> None:
        """Deliver the batch; a failure is settled here unless the database is out of reach."""
        try:
            await self.deliver(batch)
        except SlackFailed as failed:
            await self._settle(batch, failed.failure, failed.keep_marker)
        except Exception as exc:
            if unreachable(exc) is not None:
                # The loop reports it and backs off; the claim runs out and the batch resumes.
                raise
            self._report_bug(batch, exc)
            await self._retry(batch, in_few_words(exc), None, keep_marker=True)

    async def deliver(self, batch: Batch) -> None:
        """Post one batch: create or reconcile the parent, reply in its thread, update it."""
        try:
            events = [(parse_webhook(item.payload), item.received_at) for item in batch.items]
        except BadPayload as exc:
            await outbox.fail_batch(self._engine, batch, error=str(exc), now=self._now())
            return
        thread = await outbox.load_thread(self._engine, batch)
        heard = for_the_channel(batch, thread, events)
        if heard is None:
            await outbox.finish(self._engine, batch, self._now(), state="skipped")
            return
        before = (
            LeadSnapshot.model_validate(thread.snapshot)
            if thread
            else LeadSnapshot(campaign_id=batch.campaign_id)
        )
        folded = fold(before, heard)
        after = await self._named(batch.workspace, folded.snapshot)
        await self._post(batch, thread, before, after, folded)

    async def _post(
        self,
        batch: Batch,
        thread: Thread | None,
        before: LeadSnapshot,
        after: LeadSnapshot,
        folded: Folded,
    ) -> None:
        """Post the folded events, then close the batch with what the parent now shows."""
        parent = parent_message(after, mask=self._mask)
        reply = thread_reply(folded.changes, folded.ended_calls, mask=self._mask)
        notes = Notes()
        threads = await self._threads(batch.workspace)
        thread_id = await threads.post(batch, thread, before, parent, reply, notes)
        note = notes.text()
        if note:
            logger.warning("Batch %s: %s", batch.marker, note)
        # The thread moves on to the new snapshot only with the batch, so a retry starts over
        # from what the channel has seen. `finish` reads only the batch's marker, the same for
        # the reply-less copy the thread used when it had to start a new parent.
        await outbox.finish(
            self._engine,
            batch,
            self._now(),
            thread=(thread_id, after.model_dump(mode="json")),
            note=note,
        )

    async def _threads(self, ws: Workspace) -> LeadThreads:
        """The lead threads of the workspace's channels, posted with its bot token."""
        slack = await self._slack_for(ws)
        return LeadThreads(
            self._engine,
            SlackPoster(slack),
            EarlierPosts(slack),
            spacing=self._spacing,
            now=self._now,
        )

    async def _named(self, ws: Workspace, snapshot: LeadSnapshot) -> LeadSnapshot:
        """The snapshot with its campaign's name, when it has none yet and one can be had."""
        if snapshot.campaign_name:
            return snapshot
        name = await self._campaign_names(ws, snapshot.campaign_id)
        return snapshot.model_copy(update={"campaign_name": name}) if name else snapshot

    async def _settle(self, batch: Batch, failure: SlackFailure, keep_marker: bool) -> None:
        """Act on the Slack failure that ended this attempt at the batch."""
        kind = failure.kind
        if kind is Kind.RATE_LIMITED:
            wait = failure.retry_after or 1.0
            await outbox.hold_channel(self._engine, batch, self._now() + timedelta(seconds=wait))
            await self._retry(batch, failure.describe(), wait, keep_marker=keep_marker)
        elif failure.retryable or kind is Kind.MESSAGE_GONE:
            delay = failure.retry_after
            await self._retry(batch, failure.describe(), delay, keep_marker=keep_marker)
        elif kind in STOPS_SUBSCRIPTION:
            logger.warning(
                "Stopping subscription %s: %s", batch.subscription_id, failure.describe()
            )
            await outbox.stop_subscription(
                self._engine, batch, problem=failure.error, now=self._now()
            )
        else:
            logger.error("Slack refused batch %s: %s", batch.marker, failure.describe())
            await outbox.fail_batch(self._engine, batch, error=failure.describe(), now=self._now())

    async def _retry(
        self, batch: Batch, reason: str, delay: float | None, *, keep_marker: bool
    ) -> None:
        """Put the batch back for later: after `delay`, or a jittered back-off by its attempts."""
        if delay is None:
            ceiling = min(MAX_BACKOFF_SECONDS, 2.0 ** min(batch.attempts, 12))
            delay = random.uniform(ceiling / 2, ceiling)
        logger.warning("Batch %s will be retried in %.1fs: %s", batch.marker, delay, reason)
        await outbox.retry_later(
            self._engine,
            batch,
            at=self._now() + timedelta(seconds=delay),
            error=reason,
            keep_marker=keep_marker,
        )

    def _report_bug(self, batch: Batch, exc: Exception) -> None:
        """Its traceback the first time a bug is seen, one line each time it comes back."""
        if self._bugs.first_time(exc):
            logger.exception("Delivery of batch %s failed unexpectedly", batch.marker)
        else:
            logger.error("Delivery of batch %s failed again (%s)", batch.marker, in_few_words(exc))
