"""Put a batch in its lead's thread: the parent (found, or posted), a reply once, the edit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feed.posting import Message, Notes, SlackFailed, SlackPoster
from bot.feed.reconcile import EarlierPosts
from bot.parsing.slack_errors import Kind, SlackFailure
from bot.records import LeadSnapshot
from bot.storage import outbox
from bot.storage.outbox import Batch, Thread

logger = logging.getLogger(__name__)


class ParentGone(SlackFailed):
    """The lead's parent message is gone (deleted), so its thread cannot be replied in."""

    def __init__(self, failure: SlackFailure, thread_id: int, parent_ts: str) -> None:
        super().__init__(failure, keep_marker=True)
        self.thread_id = thread_id
        self.parent_ts = parent_ts


class LeadThreads:
    """Posts batches in their leads' threads, recording each step before the next."""

    def __init__(
        self,
        engine: AsyncEngine,
        poster: SlackPoster,
        earlier: EarlierPosts,
        *,
        spacing: float,
        now: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._poster = poster
        self._earlier = earlier
        # Slack allows about one post per second per channel, bursts included: space them.
        self._spacing = spacing
        self._now = now

    async def post(
        self,
        batch: Batch,
        thread: Thread | None,
        before: LeadSnapshot,
        parent: Message,
        reply: Message | None,
        notes: Notes,
    ) -> int:
        """Post the batch in its lead's thread, a new one if the parent was deleted; its id."""
        try:
            return await self._in_thread(batch, thread, before, parent, reply, notes)
        except ParentGone as gone:
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
            fresh = batch.without_reply()
            return await self._in_thread(fresh, lost, before, parent, reply, notes)

    async def _in_thread(
        self,
        batch: Batch,
        thread: Thread | None,
        before: LeadSnapshot,
        parent: Message,
        reply: Message | None,
        notes: Notes,
    ) -> int:
        """Have a parent, reply under it, bring it up to date; returns the thread's id."""
        if thread is not None and thread.parent_ts is not None:
            thread_id, parent_ts, fresh = thread.id, thread.parent_ts, False
        else:
            thread_id, parent_ts, fresh = await self._have_parent(
                batch, thread, before, parent, notes
            )
        try:
            await self._reply_and_update(batch, parent_ts, fresh, parent, reply, notes)
        except SlackFailed as failed:
            if failed.failure.kind is Kind.MESSAGE_GONE:
                raise ParentGone(failed.failure, thread_id, parent_ts) from failed
            raise
        return thread_id

    async def _reply_and_update(
        self,
        batch: Batch,
        parent_ts: str,
        fresh: bool,
        parent: Message,
        reply: Message | None,
        notes: Notes,
    ) -> None:
        """Reply under the parent, then edit it unless it was just posted with this batch."""
        replied = False
        if reply is not None:
            if fresh:
                await asyncio.sleep(self._spacing)
            replied = await self._reply_once(batch, parent_ts, reply, notes)
        if not fresh:
            if replied:
                await asyncio.sleep(self._spacing)
            await self._poster.update_parent(batch.channel_id, parent_ts, parent, notes)

    async def _have_parent(
        self,
        batch: Batch,
        thread: Thread | None,
        before: LeadSnapshot,
        parent: Message,
        notes: Notes,
    ) -> tuple[int, str, bool]:
        """The thread's id and parent ts, and whether the parent shows this batch already."""
        if thread is not None and thread.parent_marker:
            # An earlier attempt may have posted it just before a crash.
            found = await self._earlier.parent(batch.channel_id, thread.parent_marker)
            if found:
                await outbox.set_parent(self._engine, thread.id, found, self._now())
                return thread.id, found, False
        thread_id = await outbox.start_thread(
            self._engine, batch, before.model_dump(mode="json"), self._now()
        )
        ts = await self._poster.post_parent(batch.channel_id, batch.marker, parent, notes)
        await outbox.set_parent(self._engine, thread_id, ts, self._now())
        return thread_id, ts, True

    async def _reply_once(self, batch: Batch, parent_ts: str, reply: Message, notes: Notes) -> bool:
        """Post the batch's reply unless it already was; True if it was posted now."""
        if batch.reply_ts:
            return False
        if batch.resumed and await self._earlier.reply(batch.channel_id, parent_ts, batch.marker):
            return False
        ts = await self._poster.post_reply(batch.channel_id, parent_ts, batch.marker, reply, notes)
        # Recorded before the batch is marked done, so a crash in between cannot repeat it.
        await outbox.record_reply(self._engine, batch, ts)
        return True
