"""Post, reply and edit feed messages in Slack; a refusal ends the attempt, classified once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.feed.plain import as_plain_text
from bot.parsing.slack_errors import SLACK_FAILURES, Kind, SlackFailure, classify
from bot.storage.rows import Workspace

# The metadata event types that mark our posts, so a retry can find them (reconcile.py).
PARENT_EVENT = "lead_bot_parent"
REPLY_EVENT = "lead_bot_reply"
NOTICE_EVENT = "lead_bot_notice"

Message = dict[str, Any]
# The Web API client with the bot token of a workspace (one token, or each workspace's own).
SlackFor = Callable[[Workspace], Awaitable[AsyncWebClient]]


class SlackFailed(Exception):
    """A Slack call failed; `failure` says what that means for the batch.

    `keep_marker` when a post of this batch may be in Slack already: the retry looks first.
    """

    def __init__(self, failure: SlackFailure, keep_marker: bool) -> None:
        super().__init__(failure.describe())
        self.failure = failure
        self.keep_marker = keep_marker


@dataclass
class Notes:
    """What went not quite as meant in a batch that was still delivered; kept as its note."""

    # Failures that had a message posted as plain text instead of with its blocks.
    plain_text: list[str] = field(default_factory=list)
    # Why the lead's parent message was left as it was.
    parent_not_updated: str | None = None

    def text(self) -> str | None:
        """The notes in one line, or None when all went as meant."""
        said = []
        if self.plain_text:
            said.append(f"Posted as plain text: {'; '.join(self.plain_text)}")
        if self.parent_not_updated:
            said.append(f"Parent message not updated: {self.parent_not_updated}")
        return ". ".join(said) or None


def marked(event_type: str, marker: str) -> dict[str, Any]:
    """Message metadata carrying the batch's marker."""
    return {"event_type": event_type, "event_payload": {"marker": marker}}


class SlackPoster:
    """The three Slack calls of the feed: a lead's parent, a reply under it, and its edit."""

    def __init__(self, slack: AsyncWebClient) -> None:
        self._slack = slack

    async def post_parent(self, channel: str, marker: str, parent: Message, notes: Notes) -> str:
        """Post a lead's parent message; its ts."""
        response = await self._send(
            self._slack.chat_postMessage,
            notes,
            channel=channel,
            metadata=marked(PARENT_EVENT, marker),
            unfurl_links=False,
            unfurl_media=False,
            maybe_posted=True,
            **parent,
        )
        return str(response["ts"])

    async def post_reply(
        self, channel: str, parent_ts: str, marker: str, reply: Message, notes: Notes
    ) -> str:
        """Post a batch's reply in the lead's thread; its ts."""
        response = await self._send(
            self._slack.chat_postMessage,
            notes,
            channel=channel,
            thread_ts=parent_ts,
            metadata=marked(REPLY_EVENT, marker),
            unfurl_links=False,
            unfurl_media=False,
            maybe_posted=True,
            **reply,
        )
        return str(response["ts"])

    async def update_parent(
        self, channel: str, parent_ts: str, parent: Message, notes: Notes
    ) -> None:
        """Bring the parent up to date, unless Slack no longer lets it be edited."""
        noted = len(notes.plain_text)
        try:
            await self._send(
                self._slack.chat_update,
                notes,
                channel=channel,
                ts=parent_ts,
                maybe_posted=False,
                editing=True,
                **parent,
            )
        except SlackFailed as failed:
            if failed.failure.kind is not Kind.UNEDITABLE:
                raise
            # The parent is still in the channel (too old to edit, say): a new one would show
            # the lead twice. Its thread goes on; the batch's reply says what changed.
            del notes.plain_text[noted:]  # a refused plain-text edit showed nothing either
            notes.parent_not_updated = failed.failure.describe()

    async def _send(
        self,
        method: Callable[..., Awaitable[Any]],
        notes: Notes,
        *,
        maybe_posted: bool,
        editing: bool = False,
        **message: Any,
    ) -> Any:
        """Post (or edit) a message; if Slack refuses its blocks, the same words as plain text."""
        try:
            return await _call(method, maybe_posted=maybe_posted, **message)
        except SlackFailed as failed:
            if failed.failure.kind is not Kind.BLOCKS_REFUSED:
                raise
            notes.plain_text.append(failed.failure.describe())
        return await _call(method, maybe_posted=maybe_posted, **_as_plain(message, editing))


def _as_plain(message: Message, editing: bool) -> Message:
    """The message without its blocks, its words as the text."""
    plain = {key: value for key, value in message.items() if key != "blocks"}
    plain["text"] = as_plain_text(message)
    if editing:
        # chat.update keeps the old blocks unless told to drop them.
        plain["blocks"] = []
    return plain


async def _call(method: Callable[..., Awaitable[Any]], *, maybe_posted: bool, **kwargs: Any) -> Any:
    """Call Slack; a failure ends the attempt, saying what it means (parsing.slack_errors)."""
    try:
        return await method(**kwargs)
    except SLACK_FAILURES as exc:
        failure = classify(exc)
        # A 5xx or a lost connection may come after Slack made the post; a refusal not.
        raise SlackFailed(failure, maybe_posted and failure.kind is Kind.PASSING) from exc
