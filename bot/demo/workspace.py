"""The console's Slack workspace, in memory: channels and threads, ephemeral messages, views.

It keeps what Slack would keep for one person and one app, applies what the app asks of the
Web API and response URLs, and counts every change so the page knows when to redraw.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

Json = dict[str, Any]

# Slack's own limits, and the console's memory.
MAX_MESSAGES_PER_CHANNEL = 2000  # then the oldest thread goes, whole
MAX_MODALS = 3  # views.push refuses a fourth
MAX_NOTICES = 20
# Slack's trigger lasts 3 s; a busy machine (CI's, a laptop's) is given more.
TRIGGER_SECONDS = 10.0
# A response URL answers 5 times within 30 minutes.
RESPONSE_USES = 5
RESPONSE_SECONDS = 30 * 60.0


class SlackError(Exception):
    """A Web API error, by Slack's error code (`channel_not_found`, `hash_conflict`, …)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Message:
    """One message in a channel, as the person sees it."""

    ts: str
    author_id: str
    text: str
    blocks: list[Json]
    ephemeral: bool = False
    thread_ts: str | None = None
    edited: bool = False
    metadata: Json | None = None

    def as_slack(self, bot_user_id: str, bot_id: str, *, with_metadata: bool = False) -> Json:
        """The message object the Web API and interaction payloads carry."""
        shown: Json = {"type": "message", "ts": self.ts, "text": self.text, "blocks": self.blocks}
        shown["user"] = self.author_id
        if self.author_id == bot_user_id:
            shown["bot_id"] = bot_id
        if self.thread_ts is not None:
            shown["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata is not None:
            shown["metadata"] = self.metadata
        return shown


@dataclass
class Channel:
    """A channel the person and the app are both in."""

    id: str
    name: str
    messages: list[Message] = field(default_factory=list)


@dataclass(frozen=True)
class ResponseTarget:
    """Where a response URL answers: a channel and, once known, the message it replaces."""

    channel_id: str
    message_ts: str | None
    issued: float
    uses: int = 0


@dataclass
class Workspace:
    """One workspace, one person, one app."""

    team_id: str = "T0DEMO"
    team_name: str = "Lead Bot demo"
    team_domain: str = "lead-bot-demo"
    user_id: str = "U0DEMO"
    user_name: str = "you"
    bot_user_id: str = "U0LEADBOT"
    bot_id: str = "B0LEADBOT"
    app_name: str = "Lead Bot"
    channels: dict[str, Channel] = field(default_factory=dict)
    views: dict[str, Json] = field(default_factory=dict)
    modals: list[str] = field(default_factory=list)
    home: str | None = None
    notices: list[Json] = field(default_factory=list)
    version: int = 0
    _targets: dict[str, ResponseTarget] = field(default_factory=dict)
    _triggers: dict[str, float] = field(default_factory=dict)
    _clock: Callable[[], float] = time.monotonic
    _ts: Callable[[], str] = field(default_factory=lambda: _timestamps())
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _listeners: list[Callable[[Message], None]] = field(default_factory=list)

    # Channels and messages

    def add_channel(self, channel_id: str, name: str) -> None:
        """A channel the person sees in the sidebar."""
        self.channels[channel_id] = Channel(channel_id, name)
        self._changed()

    def channel(self, channel_id: str) -> Channel:
        """The channel, or `channel_not_found` as Slack says it."""
        found = self.channels.get(channel_id)
        if found is None:
            raise SlackError("channel_not_found")
        return found

    def on_message(self, listener: Callable[[Message], None]) -> None:
        """Calls `listener` with each message posted or changed."""
        self._listeners.append(listener)

    def post(
        self,
        channel_id: str,
        *,
        author_id: str,
        text: str,
        blocks: list[Json] | None = None,
        ephemeral: bool = False,
        thread_ts: str | None = None,
        metadata: Json | None = None,
    ) -> Message:
        """Posts a message; a reply to a reply joins its parent's thread, as in Slack."""
        channel = self.channel(channel_id)
        if thread_ts is not None:
            parent = self._find(channel, thread_ts)
            if parent is None:
                raise SlackError("thread_not_found")
            thread_ts = parent.thread_ts or parent.ts
        message = Message(
            self._ts(),
            author_id,
            text,
            blocks or [],
            ephemeral=ephemeral,
            thread_ts=thread_ts,
            metadata=metadata,
        )
        channel.messages.append(message)
        while len(channel.messages) > MAX_MESSAGES_PER_CHANNEL:
            _forget_oldest_thread(channel)
        self._told(message)
        return message

    def update(self, channel_id: str, ts: str, *, text: str, blocks: list[Json] | None) -> Message:
        """chat.update and replace_original: new content, marked edited."""
        message = self._find(self.channel(channel_id), ts)
        if message is None:
            raise SlackError("message_not_found")
        message.text = text
        if blocks is not None:
            message.blocks = blocks
        message.edited = not message.ephemeral
        self._told(message)
        return message

    def delete(self, channel_id: str, ts: str) -> None:
        """Removes a message (delete_original)."""
        channel = self.channel(channel_id)
        channel.messages = [m for m in channel.messages if m.ts != ts]
        self._changed()

    def message(self, channel_id: str, ts: str) -> Message:
        """One message, or `message_not_found`."""
        found = self._find(self.channel(channel_id), ts)
        if found is None:
            raise SlackError("message_not_found")
        return found

    def history(self, channel_id: str, thread_ts: str | None = None) -> list[Message]:
        """A channel's top-level messages, newest first; or a thread, oldest first."""
        channel = self.channel(channel_id)
        public = [m for m in channel.messages if not m.ephemeral]
        if thread_ts is None:
            return [m for m in reversed(public) if m.thread_ts in (None, m.ts)]
        return [m for m in public if thread_ts in (m.ts, m.thread_ts)]

    # Response URLs and triggers

    def response_target(self, channel_id: str, message_ts: str | None = None) -> str:
        """A new response URL name, answering in `channel_id` (about `message_ts`, if given)."""
        self.channel(channel_id)
        now = self._clock()
        self._targets = {
            name: target
            for name, target in self._targets.items()
            if now - target.issued < RESPONSE_SECONDS
        }
        name = secrets.token_urlsafe(12)
        self._targets[name] = ResponseTarget(channel_id, message_ts, now)
        return name

    def respond(self, name: str, body: Json) -> None:
        """What a post to a response URL does: a new message, or the original replaced or gone."""
        target = self._targets.get(name)
        if target is None or self._clock() - target.issued >= RESPONSE_SECONDS:
            raise SlackError("expired_url")
        if target.uses >= RESPONSE_USES:
            raise SlackError("used_url")
        target = replace(target, uses=target.uses + 1)
        self._targets[name] = target
        if body.get("delete_original") is True:
            if target.message_ts is not None:
                self.delete(target.channel_id, target.message_ts)
            return
        text = str(body.get("text") or "")
        blocks = body.get("blocks") if isinstance(body.get("blocks"), list) else None
        if is_true(body.get("replace_original")) and target.message_ts is not None:
            self.update(target.channel_id, target.message_ts, text=text, blocks=blocks)
            return
        in_channel = body.get("response_type") == "in_channel"
        message = self.post(
            target.channel_id,
            author_id=self.bot_user_id,
            text=text,
            blocks=blocks,
            ephemeral=not in_channel,
            thread_ts=body.get("thread_ts") if isinstance(body.get("thread_ts"), str) else None,
        )
        # A command's first ephemeral answer is what its response URL replaces next.
        if target.message_ts is None and not in_channel:
            self._targets[name] = replace(target, message_ts=message.ts)

    def new_trigger(self) -> str:
        """A trigger_id for one interaction, good for opening one modal."""
        now = self._clock()
        self._triggers = {t: at for t, at in self._triggers.items() if now - at < TRIGGER_SECONDS}
        trigger = f"{next(self._ids)}.{secrets.token_hex(8)}"
        self._triggers[trigger] = now
        return trigger

    def _use_trigger(self, trigger_id: object) -> None:
        """Exchanges a trigger: once, and soon after the click that made it."""
        if not isinstance(trigger_id, str):
            raise SlackError("invalid_trigger_id")
        issued = self._triggers.pop(trigger_id, None)
        if issued is None:
            raise SlackError("invalid_trigger_id")
        if self._clock() - issued >= TRIGGER_SECONDS:
            raise SlackError("expired_trigger_id")

    # Views

    def open_view(self, trigger_id: object, view: object) -> Json:
        """views.open: the modal on top of nothing."""
        self._use_trigger(trigger_id)
        stored = self._store(view, "modal")
        self.modals = [stored["id"]]
        self._changed()
        return stored

    def push_view(self, trigger_id: object, view: object) -> Json:
        """views.push: a modal on top of the open one."""
        self._use_trigger(trigger_id)
        if not self.modals:
            raise SlackError("not_found")
        if len(self.modals) >= MAX_MODALS:
            raise SlackError("push_limit_reached")
        stored = self._store(view, "modal", root=self.modals[0], previous=self.modals[-1])
        self.modals.append(stored["id"])
        self._changed()
        return stored

    def update_view(
        self,
        view: object,
        *,
        view_id: object = None,
        external_id: object = None,
        hash: object = None,
    ) -> Json:
        """views.update: new content for an open view, refused if its hash is stale."""
        current = self._view(view_id, external_id)
        if isinstance(hash, str) and hash and hash != current["hash"]:
            raise SlackError("hash_conflict")
        stored = self._store(
            view,
            current["type"],
            view_id=current["id"],
            root=current.get("root_view_id"),
            previous=current.get("previous_view_id"),
        )
        self._changed()
        return stored

    def publish_home(self, user_id: object, view: object) -> Json:
        """views.publish: the person's Home tab."""
        if user_id != self.user_id:
            raise SlackError("user_not_found")
        stored = self._store(view, "home", view_id=self.home)
        self.home = stored["id"]
        self._changed()
        return stored

    def view(self, view_id: str) -> Json:
        """An open view, or `not_found`."""
        return self._view(view_id, None)

    def close_view(self, view_id: str, *, clear: bool = False) -> None:
        """Closes a modal (and those above it); `clear` closes the whole stack."""
        if clear:
            self.modals = []
        elif view_id in self.modals:
            self.modals = self.modals[: self.modals.index(view_id)]
        self._changed()

    def push_modal(self, view: object) -> Json:
        """A submission's `response_action: push`."""
        return self.push_view(self.new_trigger(), view)

    def with_state(self, view_id: str, values: Json) -> Json:
        """The view as a payload carries it: with what the person typed in its state."""
        view = copy.deepcopy(self.view(view_id))
        view["state"] = {"values": values}
        return view

    # The page

    def notice(self, text: str) -> None:
        """A note from the console itself, shown on the page (not a Slack message)."""
        self.notices.append({"id": next(self._ids), "text": text})
        del self.notices[:-MAX_NOTICES]
        self._changed()

    def snapshot(self) -> Json:
        """Everything the page draws, JSON-ready; the console adds the version and the sandbox."""
        return {
            "workspace": {"name": self.team_name, "team_id": self.team_id},
            "user": {"id": self.user_id, "name": self.user_name},
            "bot": {"id": self.bot_id, "user_id": self.bot_user_id, "name": self.app_name},
            "channels": [
                {"id": c.id, "name": c.name, "messages": self._threaded(c)}
                for c in self.channels.values()
            ],
            "home": self.views.get(self.home) if self.home else None,
            "modals": [self.views[view_id] for view_id in self.modals],
            "notices": list(self.notices),
        }

    def _threaded(self, channel: Channel) -> list[Json]:
        shown: dict[str, Json] = {}
        for message in channel.messages:
            drawn = self._drawn(message)
            if message.thread_ts is None or message.thread_ts == message.ts:
                shown[message.ts] = drawn
            elif message.thread_ts in shown:
                shown[message.thread_ts]["replies"].append(drawn)
        return list(shown.values())

    def _drawn(self, message: Message) -> Json:
        bot = message.author_id == self.bot_user_id
        return {
            "ts": message.ts,
            "author": self.app_name if bot else self.user_name,
            "is_bot": bot,
            "ephemeral": message.ephemeral,
            "text": message.text,
            "blocks": message.blocks,
            "edited": message.edited,
            "replies": [],
        }

    def _find(self, channel: Channel, ts: str) -> Message | None:
        return next((m for m in channel.messages if m.ts == ts), None)

    def _view(self, view_id: object, external_id: object) -> Json:
        live = {*self.modals, self.home}
        for view in self.views.values():
            named = view["id"] == view_id or (external_id and view["external_id"] == external_id)
            if named and view["id"] in live:
                return view
        raise SlackError("not_found")

    def _store(
        self,
        view: object,
        kind: str,
        *,
        view_id: str | None = None,
        root: str | None = None,
        previous: str | None = None,
    ) -> Json:
        if not isinstance(view, dict) or view.get("type") != kind:
            raise SlackError("invalid_arguments")
        view_id = view_id or f"V0DEMO{next(self._ids):04d}"
        stored: Json = {
            **copy.deepcopy(view),
            "id": view_id,
            "team_id": self.team_id,
            "app_id": "A0LEADBOT",
            "bot_id": self.bot_id,
            "hash": secrets.token_hex(6),
            "state": {"values": {}},
            "root_view_id": root or view_id,
            "previous_view_id": previous,
            "private_metadata": str(view.get("private_metadata") or ""),
            "callback_id": str(view.get("callback_id") or ""),
            "external_id": str(view.get("external_id") or ""),
        }
        self.views[view_id] = stored
        live = {*self.modals, self.home, view_id}
        self.views = {key: value for key, value in self.views.items() if key in live}
        return stored

    def _told(self, message: Message) -> None:
        self._changed()
        for listener in self._listeners:
            listener(message)

    def _changed(self) -> None:
        self.version += 1


def _forget_oldest_thread(channel: Channel) -> None:
    """Drops the channel's oldest message with its whole thread (a parent never goes alone)."""
    oldest = channel.messages[0]
    root = oldest.thread_ts or oldest.ts
    channel.messages = [m for m in channel.messages if root not in (m.ts, m.thread_ts)]


def is_true(value: object) -> bool:
    """A boolean as JSON or a form's text sends it."""
    return value is True or value in ("true", "1")


def _timestamps() -> Callable[[], str]:
    """Increasing message timestamps from the clock, as Slack's `ts` values are."""
    last = [0]

    def next_ts() -> str:
        micros = max(int(time.time() * 1_000_000), last[0] + 1)
        last[0] = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    return next_ts
