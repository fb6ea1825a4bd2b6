"""Deliver the outbox to Slack: one parent per lead and channel, a reply per batch of events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.blocks.notifications import StatusChange, parent_message, thread_reply
from bot.blocks.privacy import channel_audience
from bot.feed.backoff import BugsShown, FailingRounds
from bot.feed.plain import as_plain_text
from bot.feed.snapshot import apply
from bot.nlpearl import Call
from bot.parsing.slack_errors import SLACK_FAILURES, Kind, SlackFailure, classify
from bot.parsing.webhooks import BadPayload, CallUpdate, LeadChange, parse_webhook
from bot.records import LeadSnapshot, utc_now
from bot.storage import outbox
from bot.storage.faults import in_few_words, unreachable
from bot.storage.outbox import Batch, Thread

logger = logging.getLogger(__name__)

# Slack failures that stop the channel's subscription: nothing can be posted there as it is.
STOPS_SUBSCRIPTION = frozenset({Kind.CHANNEL_GONE, Kind.AUTH_REVOKED, Kind.NOT_ALLOWED})
HISTORY_PAGES = 5
PARENT_EVENT = "lead_bot_parent"
REPLY_EVENT = "lead_bot_reply"
MAX_BACKOFF_SECONDS = 300.0
MIN_IDLE_SECONDS = 0.02
WAKE_DEBOUNCE_SECONDS = 0.03

CampaignNames = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True)
class DeliveryTiming:
    """How the loop paces itself; tests shorten these."""

    lease: timedelta = timedelta(seconds=60)
    post_interval: timedelta = timedelta(seconds=1)
    idle_poll_seconds: float = 0.5

    @property
    def idle_wait(self) -> float:
        """How long to wait for work: no longer than a channel's pacing, so bursts flow."""
        interval = self.post_interval.total_seconds()
        return max(MIN_IDLE_SECONDS, min(self.idle_poll_seconds, interval))

    batches_per_round: int = 8


@dataclass(frozen=True)
class Folded:
    """A batch's events applied to the lead: the new snapshot and what to say about them."""

    snapshot: LeadSnapshot
    changes: list[StatusChange] = field(default_factory=list)
    ended_calls: list[Call] = field(default_factory=list)


def fold(before: LeadSnapshot, events: list[tuple[LeadChange | CallUpdate, datetime]]) -> Folded:
    """Apply events in order, collecting status changes and finished calls."""
    snapshot = before
    changes: list[StatusChange] = []
    calls: list[Call] = []
    for event, at in events:
        previous = snapshot.status
        snapshot = apply(snapshot, event, at)
        if isinstance(event, LeadChange):
            changes.append(StatusChange(previous, snapshot.status, at))
        elif event.phase == "end":
            calls.append(event.call)
    return Folded(snapshot, changes, calls)


class _Failed(Exception):
    """A Slack call failed; `failure` says what that means for the batch.

    `keep_marker` when a post of this batch may be in Slack already: the retry looks first.
    """

    def __init__(self, failure: SlackFailure, keep_marker: bool) -> None:
        super().__init__(failure.describe())
        self.failure = failure
        self.keep_marker = keep_marker


class _ParentGone(_Failed):
    """The lead's parent message is gone (deleted), so its thread cannot be replied in."""

    def __init__(self, failure: SlackFailure, thread_id: int, parent_ts: str) -> None:
        super().__init__(failure, keep_marker=True)
        self.thread_id = thread_id
        self.parent_ts = parent_ts


@dataclass
class _Notes:
    """What went not quite as meant in a batch that was still delivered; kept as its note."""

    # Failures that had a message posted as plain text instead of with its blocks.
    plain_text: list[str] = field(default_factory=list)
    # Why the lead's parent message was left as it was.
    parent_not_updated: str | None = None

    def text(self) -> str | None:
        said = []
        if self.plain_text:
            said.append(f"Posted as plain text: {'; '.join(self.plain_text)}")
        if self.parent_not_updated:
            said.append(f"Parent message not updated: {self.parent_not_updated}")
        return ". ".join(said) or None


class Deliverer:
    """Claims batches from the outbox and posts them; any number may share one database."""

    def __init__(
        self,
        engine: AsyncEngine,
        slack: AsyncWebClient,
        *,
        campaign_names: CampaignNames,
        mask_phone: bool = True,
        timing: DeliveryTiming | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._slack = slack
        self._campaign_names = campaign_names
        # The feed is posted to channels, so it is masked as the workspace says.
        self._mask = channel_audience(mask_phone).masked
        self._timing = timing or DeliveryTiming()
        self._now = now
        self._wake = asyncio.Event()
        self.worker_id = f"worker-{uuid.uuid4().hex[:12]}"
        self._bugs = BugsShown()

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

    async def _idle(self, stopping: asyncio.Event) -> None:
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

    async def run_once(self) -> int:
        """Claim one round of batches and deliver them; returns how many were claimed."""
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
            *(self._deliver_safely(batch) for batch in batches), return_exceptions=True
        )
        # Every batch settled first; then the round fails for the loop to back off.
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(batches)

    async def _deliver_safely(self, batch: Batch) -> None:
        try:
            await self.deliver(batch)
        except _Failed as failed:
            await self._settle(batch, failed.failure, failed.keep_marker)
        except Exception as exc:
            if unreachable(exc) is not None:
                # The loop reports it and backs off; the claim runs out and the batch resumes.
                raise
            if self._bugs.first_time(exc):
                logger.exception("Delivery of batch %s failed unexpectedly", batch.marker)
            else:
                logger.error(
                    "Delivery of batch %s failed again (%s)", batch.marker, in_few_words(exc)
                )
            await self._retry(batch, in_few_words(exc), None, keep_marker=True)

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

    async def deliver(self, batch: Batch) -> None:
        """Post one batch: create or reconcile the parent, reply in its thread, update it."""
        try:
            events = [(parse_webhook(item.payload), item.received_at) for item in batch.items]
        except BadPayload as exc:
            await outbox.fail_batch(self._engine, batch, error=str(exc), now=self._now())
            return
        thread = await outbox.load_thread(self._engine, batch)
        threaded = thread is not None and thread.parent_ts is not None
        if batch.statuses and not threaded:
            # A filtered channel hears about calls only of leads it already follows.
            events = [(e, at) for e, at in events if isinstance(e, LeadChange)]
            if not events:
                await outbox.finish(self._engine, batch, self._now(), state="skipped")
                return
        before = (
            LeadSnapshot.model_validate(thread.snapshot)
            if thread
            else LeadSnapshot(campaign_id=batch.campaign_id)
        )
        folded = fold(before, events)
        after = await self._with_campaign_name(folded.snapshot)
        await self._post(batch, thread, before, after, folded)

    async def _post(
        self,
        batch: Batch,
        thread: Thread | None,
        before: LeadSnapshot,
        after: LeadSnapshot,
        folded: Folded,
    ) -> None:
        parent = parent_message(after, mask=self._mask)
        reply = thread_reply(folded.changes, folded.ended_calls, mask=self._mask)
        notes = _Notes()
        try:
            thread_id = await self._in_thread(batch, thread, before, parent, reply, notes)
        except _ParentGone as gone:
            # Someone deleted the lead's parent message: start a new one, this batch's reply
            # under it. Once per attempt; if that one goes too, the batch is retried.
            logger.warning(
                "The parent message of batch %s is gone (%s); posting a new one",
                batch.marker,
                gone.failure.error,
            )
            await outbox.forget_parent(
                self._engine, batch, gone.thread_id, gone.parent_ts, self._now()
            )
            lost = Thread(gone.thread_id, None, None, before.model_dump(mode="json"))
            batch = batch.without_reply()
            thread_id = await self._in_thread(batch, lost, before, parent, reply, notes)
        note = notes.text()
        if note:
            logger.warning("Batch %s: %s", batch.marker, note)
        # The thread moves on to the new snapshot only with the batch, so a retry starts over
        # from what the channel has seen.
        await outbox.finish(
            self._engine,
            batch,
            self._now(),
            thread=(thread_id, after.model_dump(mode="json")),
            note=note,
        )

    async def _in_thread(
        self,
        batch: Batch,
        thread: Thread | None,
        before: LeadSnapshot,
        parent: dict[str, Any],
        reply: dict[str, Any] | None,
        notes: _Notes,
    ) -> int:
        """Have a parent, reply under it, bring it up to date; returns the thread's id."""
        if thread is not None and thread.parent_ts is not None:
            thread_id, parent_ts, fresh = thread.id, thread.parent_ts, False
        else:
            thread_id, parent_ts, fresh = await self._create_parent(
                batch, thread, before, parent, notes
            )
        # Slack allows about one post per second per channel, bursts included: space them.
        spacing = self._timing.post_interval.total_seconds()
        try:
            replied = False
            if reply is not None:
                if fresh:
                    await asyncio.sleep(spacing)
                replied = await self._reply_once(batch, parent_ts, reply, notes)
            if not fresh:
                if replied:
                    await asyncio.sleep(spacing)
                await self._update_parent(batch, parent_ts, parent, notes)
        except _Failed as failed:
            if failed.failure.kind is Kind.MESSAGE_GONE:
                raise _ParentGone(failed.failure, thread_id, parent_ts) from failed
            raise
        return thread_id

    async def _update_parent(
        self, batch: Batch, parent_ts: str, parent: dict[str, Any], notes: _Notes
    ) -> None:
        """Bring the parent up to date, unless Slack no longer lets it be edited."""
        noted = len(notes.plain_text)
        try:
            await self._send(
                self._slack.chat_update,
                notes,
                channel=batch.channel_id,
                ts=parent_ts,
                maybe_posted=False,
                editing=True,
                **parent,
            )
        except _Failed as failed:
            if failed.failure.kind is not Kind.UNEDITABLE:
                raise
            # The parent is still in the channel (too old to edit, say): a new one would show
            # the lead twice. Its thread goes on; the batch's reply says what changed.
            del notes.plain_text[noted:]  # a refused plain-text edit showed nothing either
            notes.parent_not_updated = failed.failure.describe()

    async def _create_parent(
        self,
        batch: Batch,
        thread: Thread | None,
        before: LeadSnapshot,
        parent: dict[str, Any],
        notes: _Notes,
    ) -> tuple[int, str, bool]:
        """The thread's id and parent ts, and whether the parent shows this batch already."""
        if thread is not None and thread.parent_marker:
            # An earlier attempt may have posted it just before a crash.
            found = await self._find_post(
                batch.channel_id, None, PARENT_EVENT, thread.parent_marker
            )
            if found:
                await outbox.set_parent(self._engine, thread.id, found, self._now())
                return thread.id, found, False
        thread_id = await outbox.start_thread(
            self._engine, batch, before.model_dump(mode="json"), self._now()
        )
        response = await self._send(
            self._slack.chat_postMessage,
            notes,
            channel=batch.channel_id,
            metadata=_marker(PARENT_EVENT, batch.marker),
            unfurl_links=False,
            unfurl_media=False,
            maybe_posted=True,
            **parent,
        )
        ts = str(response["ts"])
        await outbox.set_parent(self._engine, thread_id, ts, self._now())
        return thread_id, ts, True

    async def _reply_once(
        self, batch: Batch, parent_ts: str, reply: dict[str, Any], notes: _Notes
    ) -> bool:
        """Post the batch's reply unless it already was; True if it was posted now."""
        if batch.reply_ts:
            return False
        if batch.resumed and await self._find_post(
            batch.channel_id, parent_ts, REPLY_EVENT, batch.marker
        ):
            return False
        response = await self._send(
            self._slack.chat_postMessage,
            notes,
            channel=batch.channel_id,
            thread_ts=parent_ts,
            metadata=_marker(REPLY_EVENT, batch.marker),
            unfurl_links=False,
            unfurl_media=False,
            maybe_posted=True,
            **reply,
        )
        # Recorded before the batch is marked done, so a crash in between cannot repeat it.
        await outbox.record_reply(self._engine, batch, str(response["ts"]))
        return True

    async def _find_post(
        self, channel: str, thread_ts: str | None, event_type: str, marker: str
    ) -> str | None:
        """The ts of a message we posted with this marker, if Slack has it."""
        cursor = None
        try:
            for _ in range(HISTORY_PAGES):
                page = await self._history_page(channel, thread_ts, cursor)
                for message in page.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == event_type and payload.get("marker") == marker:
                        return str(message["ts"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SLACK_FAILURES as exc:
            failure = classify(exc)
            if failure.kind in (Kind.RATE_LIMITED, Kind.PASSING):
                # Slack may have the post: asking again later beats posting it twice.
                raise _Failed(failure, keep_marker=True) from exc
            # Without history (no scope, thread gone) we cannot tell; posting again risks a
            # duplicate, losing it is worse.
            logger.warning(
                "Could not look for an earlier post in %s: %s", channel, failure.describe()
            )
        return None

    async def _history_page(self, channel: str, thread_ts: str | None, cursor: str | None) -> Any:
        """A page of a thread (oldest first) or of the channel (newest first)."""
        common: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "limit": 200}
        if cursor:
            common["cursor"] = cursor
        if thread_ts:
            return await self._slack.conversations_replies(ts=thread_ts, **common)
        return await self._slack.conversations_history(**common)

    async def _send(
        self,
        method: Callable[..., Awaitable[Any]],
        notes: _Notes,
        *,
        maybe_posted: bool,
        editing: bool = False,
        **message: Any,
    ) -> Any:
        """Post (or edit) a message; if Slack refuses its blocks, the same words as plain text."""
        try:
            return await self._call(method, maybe_posted=maybe_posted, **message)
        except _Failed as failed:
            if failed.failure.kind is not Kind.BLOCKS_REFUSED:
                raise
            notes.plain_text.append(failed.failure.describe())
        plain = {key: value for key, value in message.items() if key != "blocks"}
        plain["text"] = as_plain_text(message)
        if editing:
            # chat.update keeps the old blocks unless told to drop them.
            plain["blocks"] = []
        return await self._call(method, maybe_posted=maybe_posted, **plain)

    async def _call(
        self, method: Callable[..., Awaitable[Any]], *, maybe_posted: bool, **kwargs: Any
    ) -> Any:
        """Call Slack; a failure ends the attempt, saying what it means (parsing.slack_errors)."""
        try:
            return await method(**kwargs)
        except SLACK_FAILURES as exc:
            failure = classify(exc)
            # A 5xx or a lost connection may come after Slack made the post; a refusal not.
            raise _Failed(failure, maybe_posted and failure.kind is Kind.PASSING) from exc

    async def _with_campaign_name(self, snapshot: LeadSnapshot) -> LeadSnapshot:
        if snapshot.campaign_name:
            return snapshot
        name = await self._campaign_names(snapshot.campaign_id)
        return snapshot.model_copy(update={"campaign_name": name}) if name else snapshot


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if the loop is told to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


def _marker(event_type: str, marker: str) -> dict[str, Any]:
    return {"event_type": event_type, "event_payload": {"marker": marker}}
