"""Deliver the outbox to Slack: one parent per lead and channel, a reply per batch of events."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.blocks.notifications import StatusChange, parent_message, thread_reply
from bot.nlpearl import Call
from bot.notify.payloads import BadPayload, CallUpdate, LeadChange, parse_webhook
from bot.notify.snapshot import LeadSnapshot, apply
from bot.services import utc_now
from bot.storage import outbox
from bot.storage.outbox import Batch, Thread

logger = logging.getLogger(__name__)

# Slack errors that mean the channel (or the whole install) cannot be posted to any more.
CHANNEL_GONE = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_authed",
        "no_permission",
        "missing_scope",
        "restricted_action",
        "team_access_not_granted",
        "ekm_access_denied",
    }
)
# Slack errors that mean this message can never be posted as it is.
MESSAGE_REFUSED = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_arguments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "msg_blocks_too_long",
    }
)
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


class _Retry(Exception):
    def __init__(self, reason: str, delay: float | None, maybe_posted: bool) -> None:
        super().__init__(reason)
        self.delay = delay
        self.maybe_posted = maybe_posted


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
        self._mask = mask_phone
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
        while not stopping.is_set():
            try:
                delivered = await self.run_once()
            except Exception:
                logger.exception("Delivery round failed; trying again shortly")
                delivered = 0
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
        await asyncio.gather(*(self._deliver_safely(batch) for batch in batches))
        return len(batches)

    async def _deliver_safely(self, batch: Batch) -> None:
        try:
            await self.deliver(batch)
        except _Rated as rated:
            until = self._now() + timedelta(seconds=rated.delay or 1.0)
            await outbox.hold_channel(self._engine, batch, until)
            await self._retry(batch, rated)
        except _Retry as retry:
            await self._retry(batch, retry)
        except _ChannelGone as gone:
            logger.warning("Stopping subscription %s: Slack said %s", batch.subscription_id, gone)
            await outbox.stop_subscription(self._engine, batch, problem=str(gone), now=self._now())
        except _Refused as refused:
            logger.error("Slack refused batch %s: %s", batch.marker, refused)
            await outbox.fail_batch(self._engine, batch, error=str(refused), now=self._now())
        except Exception as exc:
            logger.exception("Delivery of batch %s failed unexpectedly", batch.marker)
            await self._retry(batch, _Retry(f"{type(exc).__name__}: {exc}", None, True))

    async def _retry(self, batch: Batch, retry: _Retry) -> None:
        delay = retry.delay
        if delay is None:
            ceiling = min(MAX_BACKOFF_SECONDS, 2.0 ** min(batch.attempts, 12))
            delay = random.uniform(ceiling / 2, ceiling)
        logger.warning("Batch %s will be retried in %.1fs: %s", batch.marker, delay, retry)
        await outbox.retry_later(
            self._engine,
            batch,
            at=self._now() + timedelta(seconds=delay),
            error=str(retry),
            keep_marker=retry.maybe_posted,
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
        if thread is not None and thread.parent_ts is not None:
            thread_id, parent_ts, fresh = thread.id, thread.parent_ts, False
        else:
            thread_id, parent_ts, fresh = await self._create_parent(batch, thread, before, parent)
        reply = thread_reply(folded.changes, folded.ended_calls)
        # Slack allows about one post per second per channel, bursts included: space them.
        spacing = self._timing.post_interval.total_seconds()
        replied = False
        if reply is not None:
            if fresh:
                await asyncio.sleep(spacing)
            replied = await self._reply_once(batch, parent_ts, reply)
        if not fresh:
            if replied:
                await asyncio.sleep(spacing)
            await self._call(
                self._slack.chat_update,
                channel=batch.channel_id,
                ts=parent_ts,
                maybe_posted=False,
                **parent,
            )
        # The thread moves on to the new snapshot only with the batch, so a retry starts over
        # from what the channel has seen.
        await outbox.finish(
            self._engine,
            batch,
            self._now(),
            thread=(thread_id, after.model_dump(mode="json")),
        )

    async def _create_parent(
        self,
        batch: Batch,
        thread: Thread | None,
        before: LeadSnapshot,
        parent: dict[str, Any],
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
        response = await self._call(
            self._slack.chat_postMessage,
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

    async def _reply_once(self, batch: Batch, parent_ts: str, reply: dict[str, Any]) -> bool:
        """Post the batch's reply unless it already was; True if it was posted now."""
        if batch.reply_ts:
            return False
        if batch.resumed and await self._find_post(
            batch.channel_id, parent_ts, REPLY_EVENT, batch.marker
        ):
            return False
        response = await self._call(
            self._slack.chat_postMessage,
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
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            # Without history we cannot tell; posting again risks a duplicate, losing it is worse.
            logger.warning("Could not look for an earlier post in %s: %s", channel, exc)
        return None

    async def _history_page(self, channel: str, thread_ts: str | None, cursor: str | None) -> Any:
        """A page of a thread (oldest first) or of the channel (newest first)."""
        common: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "limit": 200}
        if cursor:
            common["cursor"] = cursor
        if thread_ts:
            return await self._slack.conversations_replies(ts=thread_ts, **common)
        return await self._slack.conversations_history(**common)

    async def _call(
        self, method: Callable[..., Awaitable[Any]], *, maybe_posted: bool, **kwargs: Any
    ) -> Any:
        """Call Slack, turning failures into a retry, a stopped subscription or a refused batch."""
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            raise self._classify(exc) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _Retry(f"Slack unreachable: {type(exc).__name__}", None, maybe_posted) from exc

    def _classify(self, exc: SlackApiError) -> Exception:
        response = exc.response
        error = str(response.get("error") or "") if response is not None else ""
        status = getattr(response, "status_code", 0)
        if status == 429 or error == "ratelimited":
            headers = getattr(response, "headers", {}) or {}
            wait = _seconds(headers.get("Retry-After") or headers.get("retry-after"))
            return _Rated(wait)
        if error in CHANNEL_GONE:
            return _ChannelGone(error)
        if error in MESSAGE_REFUSED:
            return _Refused(error)
        return _Retry(f"Slack error {status} {error}".strip(), None, False)

    async def _with_campaign_name(self, snapshot: LeadSnapshot) -> LeadSnapshot:
        if snapshot.campaign_name:
            return snapshot
        name = await self._campaign_names(snapshot.campaign_id)
        return snapshot.model_copy(update={"campaign_name": name}) if name else snapshot


class _Rated(_Retry):
    def __init__(self, wait: float) -> None:
        super().__init__(f"Slack rate limited the channel for {wait:.0f}s", wait, False)


class _ChannelGone(Exception):
    """Slack will never accept posts to this channel (as things stand)."""


class _Refused(Exception):
    """Slack refused this message's content."""


def _seconds(header: str | None) -> float:
    try:
        return max(1.0, float(header)) if header else 1.0
    except ValueError:
        return 1.0


def _marker(event_type: str, marker: str) -> dict[str, Any]:
    return {"event_type": event_type, "event_payload": {"marker": marker}}
