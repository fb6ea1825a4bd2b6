"""Find a post an earlier attempt may have made just before a crash, by its batch marker."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.feed.posting import NOTICE_EVENT, PARENT_EVENT, REPLY_EVENT, SlackFailed
from bot.parsing.slack_errors import SLACK_FAILURES, Kind, classify

logger = logging.getLogger(__name__)

# Each page is a Slack call: the search stops after this many.
HISTORY_PAGES = 5
PAGE_SIZE = 200


class EarlierPosts:
    """Looks through a channel's or thread's history for a post carrying a batch's marker."""

    def __init__(self, slack: AsyncWebClient) -> None:
        self._slack = slack

    async def parent(self, channel: str, marker: str) -> str | None:
        """The ts of the parent message posted with this marker, if the channel has it."""
        return await self._find(channel, None, PARENT_EVENT, marker)

    async def reply(self, channel: str, parent_ts: str, marker: str) -> str | None:
        """The ts of the reply posted with this marker, if the thread has it."""
        return await self._find(channel, parent_ts, REPLY_EVENT, marker)

    async def notice(self, channel: str, marker: str) -> str | None:
        """The ts of the digest or alert posted with this marker, if the channel has it."""
        return await self._find(channel, None, NOTICE_EVENT, marker)

    async def _find(
        self, channel: str, thread_ts: str | None, event_type: str, marker: str
    ) -> str | None:
        """The ts of a message we posted with this marker, if Slack has it."""
        try:
            return await self._search(channel, thread_ts, event_type, marker)
        except SLACK_FAILURES as exc:
            failure = classify(exc)
            if failure.kind in (Kind.RATE_LIMITED, Kind.PASSING):
                # Slack may have the post: asking again later beats posting it twice.
                raise SlackFailed(failure, keep_marker=True) from exc
            # Without history (no scope, thread gone) we cannot tell; posting again risks a
            # duplicate, losing it is worse.
            logger.warning(
                "Could not look for an earlier post in %s: %s", channel, failure.describe()
            )
        return None

    async def _search(
        self, channel: str, thread_ts: str | None, event_type: str, marker: str
    ) -> str | None:
        """Page through history, a few pages at most."""
        cursor = None
        for _ in range(HISTORY_PAGES):
            page = await self._page(channel, thread_ts, cursor)
            found = _marked_in(page, event_type, marker)
            if found is not None:
                return found
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    async def _page(self, channel: str, thread_ts: str | None, cursor: str | None) -> Any:
        """A page of a thread (oldest first) or of the channel (newest first)."""
        common: dict[str, Any] = {
            "channel": channel,
            "include_all_metadata": True,
            "limit": PAGE_SIZE,
        }
        if cursor:
            common["cursor"] = cursor
        if thread_ts:
            return await self._slack.conversations_replies(ts=thread_ts, **common)
        return await self._slack.conversations_history(**common)


def _marked_in(page: Any, event_type: str, marker: str) -> str | None:
    """The ts of the page's message with this event type and marker, if any."""
    for message in page.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == event_type and payload.get("marker") == marker:
            return str(message["ts"])
    return None
