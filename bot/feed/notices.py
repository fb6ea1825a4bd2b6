"""Post scheduled notices (digests and alerts) once each, surviving crashes and Slack's moods."""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.blocks.digest import digest_without_chart
from bot.feed.backoff import BugsShown
from bot.feed.deliver import STOPS_SUBSCRIPTION
from bot.feed.posting import NOTICE_EVENT, SlackFailed, SlackFor, marked
from bot.feed.reconcile import EarlierPosts
from bot.nlpearl.errors import NLPearlError
from bot.parsing.slack_errors import SLACK_FAILURES, Kind, SlackFailure, classify
from bot.records import utc_now
from bot.storage import digests, notices
from bot.storage.faults import in_few_words, unreachable
from bot.storage.notices import Notice

logger = logging.getLogger(__name__)

# A notice not out after this long is stale news: it is dropped rather than posted late.
GIVE_UP_AFTER = timedelta(days=1)
MAX_BACKOFF_SECONDS = 600.0
NOT_READY_SECONDS = 300.0

# Builds a digest's message (uploading its chart, kept through the callback); None: not wanted.
BuildDigest = Callable[[Notice, Callable[[str], Awaitable[None]]], Awaitable[dict[str, Any] | None]]


class NoticeSender:
    """Claims due notices and posts each once; any number of processes may share one database."""

    def __init__(
        self,
        engine: AsyncEngine,
        slack_for: SlackFor,
        *,
        build_digest: BuildDigest,
        lease: timedelta = timedelta(seconds=120),
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._slack_for = slack_for
        self._build_digest = build_digest
        self._lease = lease
        self._now = now
        self._bugs = BugsShown()
        self.worker_id = f"notices-{uuid.uuid4().hex[:12]}"

    async def run_once(self) -> int:
        """Post the notices that are due; how many were claimed."""
        # One at a time: a digest can take a while to build, and a notice claimed alongside it
        # could see its lease run out while it waits its turn.
        claimed = await notices.claim_notices(
            self._engine, worker_id=self.worker_id, now=self._now(), lease=self._lease, limit=1
        )
        for notice in claimed:
            await self.attempt(notice)
        return len(claimed)

    async def attempt(self, notice: Notice) -> None:
        """Post one notice, or settle what its failure means."""
        try:
            await self._send(notice)
        except NLPearlError as exc:
            # NLPearl could not answer what the digest needs yet; it waits a while for it.
            await self._retry(notice, str(exc), NOT_READY_SECONDS, posting=False)
        except SlackFailed as failed:
            await self._settle(notice, failed.failure, failed.keep_marker)
        except SLACK_FAILURES as exc:
            # A 5xx or a lost connection may come after Slack made the post.
            failure = classify(exc)
            await self._settle(notice, failure, failure.kind is Kind.PASSING)
        except Exception as exc:
            if unreachable(exc) is not None:
                raise
            if self._bugs.first_time(exc):
                logger.exception("Notice %s failed unexpectedly", notice.key)
            await self._retry(notice, in_few_words(exc), None, posting=None)

    async def _send(self, notice: Notice) -> None:
        now = self._now()
        if notice.posting:
            earlier = EarlierPosts(await self._slack_for(notice.workspace))
            ts = await earlier.notice(notice.channel_id, notice.marker)
            if ts is not None:
                await notices.posted(self._engine, notice, ts, now)
                return
        if now - notice.due_at > GIVE_UP_AFTER:
            await notices.give_up(self._engine, notice, error="too old to post", now=now)
            return
        body = notice.body if notice.body is not None else await self._build(notice)
        if body is None:
            await notices.give_up(self._engine, notice, error="the digest was turned off", now=now)
            return
        if not await notices.about_to_post(
            self._engine, notice, now=self._now(), lease=self._lease
        ):
            logger.warning("Notice %s was taken over by another worker; leaving it", notice.key)
            return
        ts = await self._post(notice, body)
        await notices.posted(self._engine, notice, ts, self._now())

    async def _build(self, notice: Notice) -> dict[str, Any] | None:
        """The digest's message, kept so that every later attempt posts the same."""
        body = await self._build_digest(notice, partial(notices.keep_file, self._engine, notice))
        if body is not None:
            await notices.keep_body(self._engine, notice, body)
        return body

    async def _post(self, notice: Notice, body: dict[str, Any]) -> str:
        try:
            return await self._post_message(notice, body)
        except SLACK_FAILURES as exc:
            failure = classify(exc)
            if failure.kind is not Kind.BLOCKS_REFUSED or notice.kind != "digest":
                raise SlackFailed(failure, failure.kind is Kind.PASSING) from exc
            # Slack may refuse a chart it has not finished processing: the numbers go out alone.
            logger.warning("Digest %s: chart refused (%s)", notice.key, failure.describe())
            body = digest_without_chart(body)
            await notices.keep_body(self._engine, notice, body)
            return await self._post_message(notice, body)

    async def _post_message(self, notice: Notice, body: dict[str, Any]) -> str:
        slack = await self._slack_for(notice.workspace)
        response = await slack.chat_postMessage(
            channel=notice.channel_id,
            metadata=marked(NOTICE_EVENT, notice.marker),
            unfurl_links=False,
            unfurl_media=False,
            **body,
        )
        return str(response["ts"])

    async def _settle(self, notice: Notice, failure: SlackFailure, maybe_posted: bool) -> None:
        kind = failure.kind
        if kind is Kind.RATE_LIMITED or failure.retryable:
            await self._retry(notice, failure.describe(), failure.retry_after, posting=maybe_posted)
            return
        logger.error("Slack refused notice %s: %s", notice.key, failure.describe())
        await notices.give_up(self._engine, notice, error=failure.describe(), now=self._now())
        if kind in STOPS_SUBSCRIPTION and notice.digest_id is not None:
            await digests.stop_digest_for_good(self._engine, notice.digest_id, failure.error)

    async def _retry(
        self, notice: Notice, reason: str, delay: float | None, *, posting: bool | None
    ) -> None:
        if delay is None:
            ceiling = min(MAX_BACKOFF_SECONDS, 2.0 ** min(notice.attempts + 2, 12))
            delay = random.uniform(ceiling / 2, ceiling)
        logger.warning("Notice %s will be retried in %.0fs: %s", notice.key, delay, reason)
        await notices.retry_later(
            self._engine,
            notice,
            at=self._now() + timedelta(seconds=delay),
            error=reason,
            posting=posting,
        )
