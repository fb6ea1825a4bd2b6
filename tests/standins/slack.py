"""A local stand-in for the Slack Web API, `response_url`s and file upload URLs, recording every
request."""

from __future__ import annotations

import base64
import copy
import dataclasses
import functools
import json
import math
import mimetypes
import operator
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.message import Message
from typing import Any
from urllib.parse import parse_qs

from bot.demo import loopback as server
from bot.demo.loopback import JSON_CONTENT_TYPE, Answer, Request, StandIn, fault_headers

AUTH_TEST_REPLY: dict[str, Any] = {
    "ok": True,
    "url": "https://test.slack.com/",
    "team": "Test",
    "user": "leadbot",
    "team_id": "T0TEST",
    "user_id": "U0BOT",
    "bot_id": "B0BOT",
}
VIEW_METHODS = frozenset({"views.open", "views.push", "views.update", "views.publish"})
RATE_LIMITED_METHODS = frozenset({"chat.postMessage", "chat.update"})
JSON_ARGUMENTS = ("blocks", "attachments", "view", "metadata", "files")
MESSAGE_ECHO_KEYS = ("blocks", "attachments", "thread_ts", "metadata")
RESPONSE_PREFIX = "/response/"
API_PREFIX = "/api/"
HISTORY_METHODS = frozenset({"conversations.history", "conversations.replies"})
DEFAULT_PAGE_SIZE = 100  # Slack's default `limit` for conversations.history and .replies
MAX_PAGE_SIZE = 999
TRUE_VALUES = frozenset({"1", "true", "True"})
PEOPLE_METHODS = frozenset({"users.info", "usergroups.list", "usergroups.users.list"})
# Where files.getUploadURLExternal points the bytes (Slack's are https://files.slack.com/upload/v1/…).
UPLOAD_PREFIX = "/upload/v1/"
# The key fail_next() takes to fail the next post of bytes to an upload URL.
UPLOAD_FAULT_KEY = "upload"
# Methods whose blocks may show files by `slack_file`, which must be completed uploads.
BLOCK_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})
WORKSPACE_URL = AUTH_TEST_REPLY["url"]
# Answered without a bearer token: the app authenticates with its client ID and secret.
OAUTH_METHOD = "oauth.v2.access"
# What oauth.v2.access grants by default: the bot scopes manifest.yml asks for.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "users:read",
    "usergroups:read",
    "files:write",
)
APP_ID = "A0LEADBOT"
TOKEN_LIFETIME = 43_200  # seconds: Slack's rotating tokens expire after 12 hours


@dataclass(frozen=True)
class Recorded:
    """One request received: API method (or response path), lower-cased headers, parsed body."""

    method_or_path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int = 200
    reply: dict[str, Any] | None = None
    # When it was answered (time.monotonic()), to see how a client paces itself.
    at: float = field(default_factory=time.monotonic, compare=False)
    # The bearer token the call carried, and the team_id auth.test answers for it: None for
    # a token bound to no workspace (and for response URLs and uploads). For oauth.v2.access,
    # which carries no bearer token, the team installed or refreshed.
    token: str | None = None
    team_id: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the stand-in answered this request successfully."""
        return self.status == 200 and (self.reply is None or self.reply.get("ok") is True)


@dataclass(frozen=True)
class _Failure:
    """A programmed failure for one call of an API method."""

    status: int
    error: str
    headers: dict[str, str]
    # A body that is not Slack's JSON, as a proxy in front of Slack may send.
    body: bytes | None = None
    content_type: str = JSON_CONTENT_TYPE


@dataclass(frozen=True)
class _Usergroup:
    """A user group as added: its handle, display name and members."""

    id: str
    handle: str
    name: str
    members: tuple[str, ...]

    def listed(self, *, with_users: bool) -> dict[str, Any]:
        """The group as usergroups.list shows it (with its members if asked for)."""
        shown: dict[str, Any] = {
            "id": self.id,
            "handle": self.handle,
            "name": self.name,
            "user_count": len(self.members),
        }
        if with_users:
            shown["users"] = list(self.members)
        return shown


@dataclass(frozen=True)
class Upload:
    """One file the app started uploading: what files.getUploadURLExternal was told, the bytes
    posted to its upload URL (None until then), and whether files.completeUploadExternal
    completed it, with its title and the channels it was shared into."""

    file_id: str
    filename: str
    length: int  # as declared to files.getUploadURLExternal
    content: bytes | None = None
    completed: bool = False
    title: str | None = None
    channel_ids: tuple[str, ...] = ()
    thread_ts: str | None = None
    initial_comment: str | None = None

    @property
    def channel_id(self) -> str | None:
        """The (first) channel the file was shared into; None for a private upload."""
        return self.channel_ids[0] if self.channel_ids else None

    @property
    def mimetype(self) -> str:
        """The MIME type Slack would show, from the file name."""
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"

    def described(self, created: int) -> dict[str, Any]:
        """The file object files.completeUploadExternal and shared messages show."""
        extension = self.filename.rpartition(".")[2].lower() if "." in self.filename else ""
        return {
            "id": self.file_id,
            "created": created,
            "timestamp": created,
            "name": self.filename,
            "title": self.title or self.filename,
            "mimetype": self.mimetype,
            "filetype": extension or "binary",
            "user": "U0BOT",
            "size": len(self.content or b""),
            "mode": "hosted",
            "is_external": False,
            "is_public": bool(self.channel_ids),
            "url_private": f"https://files.slack.com/files-pri/T0TEST-{self.file_id}/{self.filename}",
            "permalink": f"{WORKSPACE_URL}files/U0BOT/{self.file_id}/{self.filename}",
        }


@dataclass(frozen=True)
class Workspace:
    """Whom a bot token speaks for: one workspace or, installed org-wide, a whole enterprise."""

    team_id: str | None  # None for an org-wide install
    team_name: str | None = None
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    bot_user_id: str = "U0BOT"
    bot_id: str = "B0BOT"

    @property
    def is_enterprise_install(self) -> bool:
        """Whether the token serves every workspace of its enterprise."""
        return self.team_id is None

    @property
    def key(self) -> str:
        """The team_id auth.test answers: the enterprise's ID for an org-wide install."""
        return self.team_id or str(self.enterprise_id)

    def auth_test(self) -> dict[str, Any]:
        """What auth.test answers for a token bound here."""
        host = f"{self.key.lower()}.enterprise" if self.is_enterprise_install else self.key.lower()
        reply: dict[str, Any] = {"ok": True, "url": f"https://{host}.slack.com/"}
        reply |= {"team": self.team_name or self.enterprise_name or self.key, "user": "leadbot"}
        reply |= {"team_id": self.key, "user_id": self.bot_user_id, "bot_id": self.bot_id}
        if self.enterprise_id is not None:
            reply["enterprise_id"] = self.enterprise_id
        return reply | {"is_enterprise_install": self.is_enterprise_install}

    def reaches(self, team_id: str, enterprise_id: str | None) -> bool:
        """Whether a token bound here may use the channels of workspace `team_id`."""
        if self.is_enterprise_install:
            return enterprise_id == self.enterprise_id
        return team_id == self.team_id


@dataclass(frozen=True)
class _Install:
    """An install oauth.v2.access hands out: the token, whom it is for and how it was granted."""

    workspace: Workspace
    token: str
    scopes: tuple[str, ...]
    authed_user_id: str
    expires_in: int
    refresh_token: str | None  # None unless the token rotates

    def reply(self, app_id: str) -> dict[str, Any]:
        """Slack's v2 OAuth answer: the bot token, its workspace, a refresh token if it rotates."""
        workspace = self.workspace
        team, enterprise = None, None
        if workspace.team_id is not None:
            team = {"id": workspace.team_id, "name": workspace.team_name}
        if workspace.enterprise_id is not None:
            enterprise = {"id": workspace.enterprise_id, "name": workspace.enterprise_name}
        reply: dict[str, Any] = {"ok": True, "access_token": self.token, "token_type": "bot"}
        reply |= {"scope": ",".join(self.scopes), "bot_user_id": workspace.bot_user_id}
        reply |= {"app_id": app_id, "team": team, "enterprise": enterprise}
        reply["is_enterprise_install"] = workspace.is_enterprise_install
        reply["authed_user"] = {"id": self.authed_user_id}
        if self.refresh_token is not None:
            reply |= {"refresh_token": self.refresh_token, "expires_in": self.expires_in}
        return reply


# The server and handler classes, by the names bench/common.py tunes them through.
_Server = server.LoopbackServer
_Handler = server.Handler


class SlackStandIn(StandIn[Recorded, _Failure]):
    """Emulates the Slack Web API under `/api/{method}`, `response_url`s under `/response/` and
    the upload URLs files.getUploadURLExternal hands out under `/upload/v1/`.

    `valid_token` speaks for AUTH_TEST_REPLY's workspace. More workspaces come with their own
    tokens (`add_workspace`), or by OAuth (`program_install`, then oauth.v2.access); a channel
    registered to one workspace is unknown to the others' tokens.
    """

    thread_name = "slack-standin"

    def __init__(self, valid_token: str = "xoxb-test-token") -> None:
        super().__init__()
        self.valid_token = valid_token
        self._overrides: dict[str, dict[str, Any]] = {}
        self._rate_window: float | None = None
        self._last_post: dict[str, float] = {}
        self._ts_sequence = 0
        # What Slack would show: every successfully posted message, per channel, in post order.
        self._messages: dict[str, list[dict[str, Any]]] = {}
        # Messages someone deleted, per channel: their ts.
        self._deleted: dict[str, set[str]] = {}
        # The workspace's people (users.info answers) and user groups: data, kept by reset().
        self._users: dict[str, dict[str, Any]] = {}
        self._usergroups: dict[str, _Usergroup] = {}
        # Files by ID, in the order their upload URLs were handed out. The sequence outlives
        # reset(), so an upload URL from before a reset stays unknown rather than reused.
        self._uploads: dict[str, Upload] = {}
        # Methods held before they take effect (`hold`), and how many calls are held now.
        self._holds: set[str] = set()
        # Methods answered late, after they took effect: seconds each.
        self._slow: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._file_sequence = 0
        # Bot tokens other than `valid_token` (which speaks for AUTH_TEST_REPLY's workspace),
        # and the workspaces they speak for: added, or handed out by oauth.v2.access.
        self._workspaces: dict[str, Workspace] = {}
        # Tokens that answer an error however valid they were: token_expired, token_revoked.
        self._dead: dict[str, str] = {}
        # Channels registered to a workspace, which no other workspace's token can see, and
        # the enterprise of each workspace that has one (its org-wide tokens see its channels).
        self._channel_teams: dict[str, str] = {}
        self._enterprises: dict[str, str] = {}
        # The app's OAuth client (ID, secret), installs waiting for their code and refresh
        # tokens not yet used (Slack revokes a refresh token once it is exchanged).
        self._oauth_client: tuple[str, str] | None = None
        self._app_id = APP_ID
        self._codes: dict[str, _Install] = {}
        self._refresh_tokens: dict[str, _Install] = {}
        # Numbers the tokens the stand-in makes up; outlives reset(), so they never repeat.
        self._token_sequence = 0

    @property
    def api_url(self) -> str:
        """The Web API base URL to give the app as SLACK_API_URL."""
        return self.url + API_PREFIX

    def response_url(self, name: str = "r1") -> str:
        """A `response_url` whose posts are recorded under `name`."""
        return self.url + RESPONSE_PREFIX + name

    # Programming

    def fail_next(
        self,
        method: str,
        status: int = 429,
        error: str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        body: bytes | None = None,
        content_type: str = JSON_CONTENT_TYPE,
    ) -> None:
        """Fails the next `times` calls of `method`: HTTP error, or `ok: false` with status 200.

        `body` replaces Slack's JSON answer with raw bytes (an HTML page from a proxy, say).
        `method` "upload" (UPLOAD_FAULT_KEY) fails the next posts of bytes to upload URLs: the
        bytes are not kept, and the answer is `body` or the error as text.
        """
        if status == 200 and (error is None or body is not None):
            raise ValueError("a failure with status 200 needs an error, e.g. 'channel_not_found'")
        failure = _Failure(
            status=status,
            error=error or _default_error(status),
            headers=fault_headers(status, headers),
            body=body,
            content_type=content_type,
        )
        with self._condition:
            self._faults.add(functools.partial(operator.eq, method), failure, times)

    def hold(self, method: str) -> None:
        """Holds every later call of `method` before it takes effect, until `drop_held`.

        `held` counts the calls waiting, so a test knows when to kill the app that made one.
        """
        with self._condition:
            self._holds.add(method)

    def drop_held(self, method: str) -> None:
        """Ends the hold: calls still held fail with a 503 and never take effect."""
        with self._condition:
            self._holds.discard(method)
            self._condition.notify_all()

    def answer_late(self, method: str, seconds: float) -> None:
        """Answers every later call of `method` `seconds` after it took effect (0: at once)."""
        with self._condition:
            self._slow[method] = seconds

    def held(self, method: str) -> int:
        """How many calls of `method` are being held right now."""
        with self._condition:
            return self._held.get(method, 0)

    def _hold(self, method: str) -> bool:
        """Waits while `method` is held; True if the call was dropped instead of done."""
        with self._condition:
            if method not in self._holds:
                return False
            self._held[method] = self._held.get(method, 0) + 1
            try:
                while method in self._holds and not self._stopping.is_set():
                    self._condition.wait(0.05)
            finally:
                self._held[method] -= 1
            return True

    def set_response(self, method: str, body: dict[str, Any]) -> None:
        """Answers every later call of `method` with `body` (after auth and programmed failures)."""
        with self._condition:
            self._overrides[method] = body

    def rate_limit_per_channel(self, seconds: float | None = 1.0) -> None:
        """Answers 429 to a chat.postMessage/chat.update on a channel posted to within `seconds`."""
        with self._condition:
            self._rate_window = seconds
            self._last_post.clear()

    def set_latency(self, seconds: float) -> None:
        """Delays every Web API answer by `seconds`, after the call took effect.

        A client that gives up (or dies) while waiting leaves the effect in place: the message
        is posted on "Slack's side" though its poster never learns the `ts`.
        """
        super().set_latency(seconds)

    def delete_message(self, channel: str, ts: str) -> None:
        """Deletes a kept message as a person in Slack would.

        A message with replies stays as a tombstone, still taking replies; one without is gone,
        and replying to it fails with `thread_not_found`. Editing either fails with
        `message_not_found`.
        """
        with self._condition:
            kept = self._messages.get(channel, [])
            message = next(m for m in kept if m["ts"] == ts)
            if any(m.get("thread_ts") == ts != m["ts"] for m in kept):
                for key in ("blocks", "attachments", "metadata"):
                    message.pop(key, None)
                message |= {"subtype": "tombstone", "text": "This message was deleted."}
            else:
                kept.remove(message)
            self._deleted.setdefault(channel, set()).add(ts)

    def add_user(
        self,
        user_id: str,
        name: str = "tess",
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        deleted: bool = False,
        team_id: str = "T0TEST",
    ) -> None:
        """Adds (or replaces) a person users.info describes; the flags are shown as given.

        (Slack marks a primary owner an owner and an admin too: pass all three to be faithful.)
        """
        flags = {"deleted": deleted, "is_admin": is_admin, "is_owner": is_owner}
        user = _user(user_id, name, team_id, flags | {"is_primary_owner": is_primary_owner})
        with self._condition:
            self._users[user_id] = user

    def add_usergroup(
        self, usergroup_id: str, handle: str, members: Iterable[str], *, name: str | None = None
    ) -> None:
        """Adds (or replaces) a user group that usergroups.list and .users.list show."""
        group = _Usergroup(usergroup_id, handle, name or handle, tuple(members))
        with self._condition:
            self._usergroups[usergroup_id] = group

    # Workspaces and OAuth

    def add_workspace(
        self,
        team_id: str,
        token: str,
        *,
        enterprise_id: str | None = None,
        bot_user_id: str | None = None,
        bot_id: str | None = None,
        team_name: str | None = None,
        channels: Iterable[str] = (),
    ) -> Workspace:
        """Makes `token` a valid bot token of workspace `team_id`, which owns `channels`.

        auth.test answers the workspace's team_id, enterprise_id and bot user (by default
        `U0BOT<team_id>`, bot `B0BOT<team_id>`); its channels are unknown to other workspaces.
        """
        if token == self.valid_token:
            raise ValueError(f"{token!r} already speaks for {AUTH_TEST_REPLY['team_id']}")
        workspace = Workspace(
            team_id,
            team_name or team_id,
            enterprise_id,
            bot_user_id=bot_user_id or f"U0BOT{team_id}",
            bot_id=bot_id or f"B0BOT{team_id}",
        )
        with self._condition:
            self._workspaces[token] = workspace
            if enterprise_id is not None:
                self._enterprises[team_id] = enterprise_id
            for channel in channels:
                self._channel_teams[channel] = team_id
        return workspace

    def add_channel(self, channel_id: str, team_id: str | None = None) -> None:
        """Registers a channel to workspace `team_id` (by default `valid_token`'s).

        Only tokens of that workspace (or org-wide ones of its enterprise) may name it; the
        others get `channel_not_found`. A channel registered nowhere is open to every token.
        """
        with self._condition:
            self._channel_teams[channel_id] = team_id or AUTH_TEST_REPLY["team_id"]

    def set_oauth_client(self, client_id: str, client_secret: str, *, app_id: str = APP_ID) -> None:
        """The client credentials oauth.v2.access accepts, and the app ID it answers."""
        with self._condition:
            self._oauth_client = (client_id, client_secret)
            self._app_id = app_id

    def program_install(
        self,
        code: str,
        *,
        token: str,
        bot_user_id: str,
        team_id: str | None = None,
        team_name: str | None = None,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
        is_enterprise_install: bool = False,
        bot_id: str | None = None,
        scopes: Iterable[str] = BOT_SCOPES,
        rotating: bool = False,
        expires_in: int = TOKEN_LIFETIME,
        refresh_token: str | None = None,
        authed_user_id: str = "U0INSTALLER",
    ) -> None:
        """Answers oauth.v2.access with `code` (once) by installing the app: `token` becomes a
        bot token of workspace `team_id`, or of every workspace of `enterprise_id` when
        `is_enterprise_install`. A `rotating` token comes with a refresh token (made up unless
        given) and `expires_in`."""
        if is_enterprise_install != (team_id is None) or (
            is_enterprise_install and enterprise_id is None
        ):
            raise ValueError("a team install needs team_id; an org-wide one, enterprise_id only")
        key = team_id or str(enterprise_id)
        workspace = Workspace(
            team_id,
            team_name,
            enterprise_id,
            enterprise_name,
            bot_user_id=bot_user_id,
            bot_id=bot_id or f"B0BOT{key}",
        )
        with self._condition:
            if rotating and refresh_token is None:
                refresh_token = f"xoxe-1-{self._next_token_number()}-install"
            install = _Install(
                workspace,
                token,
                tuple(scopes),
                authed_user_id,
                expires_in,
                refresh_token if rotating else None,
            )
            self._codes[code] = install
            if team_id is not None and enterprise_id is not None:
                self._enterprises[team_id] = enterprise_id

    def expire_token(self, token: str) -> None:
        """Makes `token` answer `token_expired`, as a rotating token does after `expires_in`."""
        with self._condition:
            self._dead[token] = "token_expired"

    def revoke(self, token: str) -> None:
        """Makes `token` answer `token_revoked`, as after auth.revoke."""
        with self._condition:
            self._dead[token] = "token_revoked"

    def uninstall(self, team_id: str) -> None:
        """Uninstalls the app from `team_id` (an enterprise's ID: an org-wide install): its bot
        tokens answer `token_revoked` and its refresh tokens `invalid_refresh_token`."""
        with self._condition:
            tokens = [t for t, w in self._workspaces.items() if w.key == team_id]
            if team_id == AUTH_TEST_REPLY["team_id"]:
                tokens.append(self.valid_token)
            for token in tokens:
                self._dead[token] = "token_revoked"
            for refresh_token, install in list(self._refresh_tokens.items()):
                if install.workspace.key == team_id:
                    del self._refresh_tokens[refresh_token]

    def reset(self) -> None:
        """Forgets requests, failures, overrides, the rate limit, latency, kept messages and
        uploads (what the app did, like its messages; new file IDs never repeat old ones), and
        which tokens were expired or revoked (programmed trouble, like failures: the next test
        on a shared stand-in never inherits a dead `valid_token`).

        People and user groups are data, like NLPearl's stand-in's leads, and stay: a test that
        adds them to a shared stand-in uses IDs no other test relies on. So do workspaces,
        channels, the OAuth client and installs, with the tokens and refresh tokens issued:
        Slack's side of an install outlives a test, and made-up tokens never repeat. refreshes()
        counts from the records, so it starts again from 0.
        """
        with self._condition:
            super().reset()
            self._dead.clear()
            self._deleted.clear()
            self._overrides.clear()
            self._rate_window = None
            self._last_post.clear()
            self._messages.clear()
            self._uploads.clear()
            self._holds.clear()
            self._slow.clear()

    # Inspection

    def records(self, method_or_path: str | None = None) -> list[Recorded]:
        """Every recorded request, or those for one API method or response path."""
        return self._recorded(lambda r: method_or_path in (None, r.method_or_path))

    def calls(
        self, method: str, *, ok_only: bool = False, team_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Bodies of the calls of one API method, optionally only those answered successfully
        or made with a token of workspace `team_id` (see Recorded.team_id)."""
        return [
            r.body
            for r in self.records(method)
            if (r.ok or not ok_only) and team_id in (None, r.team_id)
        ]

    def refreshes(self, team_id: str) -> int:
        """How many times oauth.v2.access refreshed a token of `team_id` (an enterprise's ID for
        an org-wide install) since start or reset()."""
        refreshed = [
            r
            for r in self.records(OAUTH_METHOD)
            if r.ok and r.team_id == team_id and r.body.get("grant_type") == "refresh_token"
        ]
        return len(refreshed)

    def workspace_of(self, token: str) -> Workspace | None:
        """The workspace a bot token speaks for (expired or revoked or not), None if none."""
        with self._condition:
            return self._workspace_of(token)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Copies of the messages kept in `channel` (parents and replies), oldest first.

        Each has `ts`, `text`, and `blocks`, `thread_ts` and `metadata` when they were posted;
        chat.update edits them in place.
        """
        with self._condition:
            return copy.deepcopy(self._messages.get(channel, []))

    def channels(self) -> list[str]:
        """The channels with at least one kept message, in order of their first post."""
        with self._condition:
            return list(self._messages)

    def uploads(self, *, completed_only: bool = False) -> list[Upload]:
        """The files upload URLs were handed out for (or only those completed), oldest first."""
        with self._condition:
            return [u for u in self._uploads.values() if u.completed or not completed_only]

    def responses(self, name: str | None = None) -> list[dict[str, Any]]:
        """Bodies posted to response URLs, optionally only to the one called `name`."""
        return [r.body for r in self._recorded(lambda r: _is_response_to(r, name))]

    def wait_for_calls(
        self,
        method: str,
        count: int,
        timeout: float = 10,
        *,
        ok_only: bool = False,
        team_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Waits until at least `count` calls of `method` (with a token of `team_id`, if given)
        arrived and returns all of them."""
        select = functools.partial(self.calls, method, ok_only=ok_only, team_id=team_id)
        return self._wait_for(select, count, timeout, method, _as_json)

    def wait_for_responses(
        self, count: int, name: str | None = None, timeout: float = 10
    ) -> list[dict[str, Any]]:
        """Waits until at least `count` response-URL posts arrived and returns all of them."""
        what = f"posts to response URL {name!r}" if name else "posts to response URLs"
        return self._wait_for(lambda: self.responses(name), count, timeout, what, _as_json)

    def wait_for_uploads(
        self, count: int, timeout: float = 10, *, completed_only: bool = True
    ) -> list[Upload]:
        """Waits until at least `count` uploads were completed (or only started, if not
        `completed_only`) and returns all of them; completed is when the app is done."""
        select = functools.partial(self.uploads, completed_only=completed_only)
        what = "completed uploads" if completed_only else "uploads"
        return self._wait_for(select, count, timeout, what, _uploads_shown)

    def wait_for_request(
        self, matches: Callable[[Recorded], bool], *, after: int = 0, timeout: float = 10
    ) -> Recorded:
        """Waits until a request beyond the first `after` recorded ones matches; returns it.

        It returns as soon as the request is recorded, before its (delayed) answer is sent.
        """

        def first_match() -> Recorded | None:
            return next((r for r in self._records[after:] if matches(r)), None)

        with self._condition:
            if self._condition.wait_for(lambda: first_match() is not None, timeout):
                found = first_match()
                assert found is not None
                return found
            arrived = len(self._records) - after
        raise AssertionError(f"no matching request within {timeout}s ({arrived} others arrived)")

    # Serving

    def _answer(self, request: Request) -> Answer:
        """Records one request and computes its answer."""
        path, headers = request.path, request.headers
        if path.startswith(RESPONSE_PREFIX):
            return self._answer_response_url(path, headers, request.body)
        if path.startswith(UPLOAD_PREFIX):
            return self._answer_upload(request)
        if not path.startswith(API_PREFIX):
            return Answer(404, b"", "text/plain")
        method = path.removeprefix(API_PREFIX)
        # slack_sdk sends the files.* methods' arguments in the query string of a POST.
        body: dict[str, Any] = {key: values[0] for key, values in parse_qs(request.query).items()}
        extra_headers: dict[str, str] = {}
        failure = None
        if self._hold(method):
            self._record(Recorded(f"dropped:{method}", headers, {}, 503))
            return Answer(503, b"held and dropped", "text/plain")
        try:
            body = _json_arguments_decoded(body) | _parse_body(headers, request.body)
        except json.JSONDecodeError:
            status, reply = 200, {"ok": False, "error": "invalid_json"}
        else:
            status, reply, extra_headers, failure = self._reply(method, headers, body)
        token = _bearer(headers)
        if method == OAUTH_METHOD:
            team_id = _installed_team(reply)
        else:
            with self._condition:
                workspace = self._workspace_of(token)
            team_id = workspace.key if workspace is not None else None
        self._record(Recorded(method, headers, body, status, reply, token=token, team_id=team_id))
        with self._condition:
            latency = self.latency + self._slow.get(method, 0.0)
        # Answered even if stop() cuts the delay short: the call has taken effect.
        self._pause(latency)
        if failure is not None and failure.body is not None:
            return Answer(status, failure.body, failure.content_type, extra_headers)
        return Answer(status, json.dumps(reply).encode(), JSON_CONTENT_TYPE, extra_headers)

    def _answer_response_url(self, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        """Records a post to a response URL; answers `ok`, or 400 for a body that is not JSON."""
        try:
            body = _parse_body(headers, raw)
        except json.JSONDecodeError:
            self._record(Recorded(path, headers, {}, 400))
            return Answer(400, b"invalid_payload", "text/html")
        self._record(Recorded(path, headers, body))
        return Answer(200, b"ok", "text/html")

    def _answer_upload(self, request: Request) -> Answer:
        """Keeps the bytes posted (raw, or as the file of a multipart form) to an upload URL.

        Answers as Slack's upload service does: 200 `OK - <length>` as text; 404 for a URL it
        did not hand out (or whose file was completed). No token is needed: the URL is the
        permission. The record shows the file ID and size, never the bytes.
        """
        path, headers = request.path, request.headers
        file_id = path.removeprefix(UPLOAD_PREFIX)
        recorded: dict[str, Any] = {"file_id": file_id}
        failure = None
        with self._condition:
            upload = self._uploads.get(file_id)
            if upload is not None and not upload.completed and request.method == "POST":
                failure = self._faults.take(UPLOAD_FAULT_KEY)
            if request.method != "POST":
                status, text = 405, "method_not_allowed"
            elif upload is None or upload.completed:
                status, text = 404, "not_found"
            elif failure is not None:
                status, text = failure.status, failure.error
            else:
                try:
                    content = _uploaded_bytes(headers, request.body)
                except ValueError:
                    status, text = 400, "invalid_multipart"
                else:
                    self._uploads[file_id] = dataclasses.replace(upload, content=content)
                    status, text = 200, f"OK - {len(content)}"
                    recorded["size"] = len(content)
        self._record(Recorded(path, headers, recorded, status))
        if failure is None:
            return Answer(status, text.encode(), "text/plain; charset=utf-8")
        if failure.body is not None:
            return Answer(status, failure.body, failure.content_type, failure.headers)
        return Answer(status, text.encode(), "text/plain; charset=utf-8", failure.headers)

    def _reply(
        self, method: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str], _Failure | None]:
        """Status, JSON body, extra headers and the programmed failure, for one Web API call."""
        with self._condition:
            token = _bearer(headers)
            # oauth.v2.access checks the app's client credentials instead, in its answer.
            workspace = None if method == OAUTH_METHOD else self._workspace_of(token)
            if method != OAUTH_METHOD:
                refused = self._dead.get(token or "")
                if refused is None and workspace is None:
                    refused = "invalid_auth"
                if refused is not None:
                    return 200, {"ok": False, "error": refused}, {}, None
            failure = self._faults.take(method)
            if failure is not None:
                reply = {"ok": False, "error": failure.error}
                return failure.status, reply, failure.headers, failure
            retry_after = self._retry_after(method, body)
            if retry_after is not None:
                reply = {"ok": False, "error": "ratelimited"}
                return 429, reply, {"Retry-After": retry_after}, None
            gone = self._foreign_channel(method, body, workspace) or self._gone(method, body)
            if gone is not None:
                return 200, {"ok": False, "error": gone}, {}, None
            unknown_files = self._unknown_files(method, body)
            if unknown_files:
                return 200, _invalid_blocks(unknown_files), {}, None
            if method in self._overrides:
                reply = self._overrides[method]
            else:
                reply = self._default_reply(method, body, headers)
            if method in RATE_LIMITED_METHODS and reply.get("ok"):
                self._last_post[str(body.get("channel"))] = time.monotonic()
            return 200, reply, {}, None

    def _workspace_of(self, token: str | None) -> Workspace | None:
        """The workspace `token` speaks for; `valid_token`'s is AUTH_TEST_REPLY's."""
        if token is not None and token == self.valid_token:
            return Workspace(
                AUTH_TEST_REPLY["team_id"],
                AUTH_TEST_REPLY["team"],
                AUTH_TEST_REPLY.get("enterprise_id"),
                bot_user_id=AUTH_TEST_REPLY["user_id"],
                bot_id=AUTH_TEST_REPLY["bot_id"],
            )
        return self._workspaces.get(token or "")

    def _foreign_channel(
        self, method: str, body: dict[str, Any], workspace: Workspace | None
    ) -> str | None:
        """`channel_not_found` if the call names a channel registered to a workspace the
        token does not speak for (as Slack cannot see another workspace's channels)."""
        if workspace is None:
            return None
        named = [str(body["channel"])] if body.get("channel") else []
        if method == "files.completeUploadExternal":
            named += _share_channels(body)
        for channel in named:
            owner = self._channel_teams.get(channel)
            if owner is not None and not workspace.reaches(owner, self._enterprise_of(owner)):
                return "channel_not_found"
        return None

    def _enterprise_of(self, team_id: str) -> str | None:
        """The enterprise workspace `team_id` belongs to, if any."""
        if team_id == AUTH_TEST_REPLY["team_id"]:
            return AUTH_TEST_REPLY.get("enterprise_id")
        return self._enterprises.get(team_id)

    def _oauth_access(self, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: installs the app for a programmed code, or refreshes a token."""
        client_id, client_secret = _client_credentials(headers, body)
        if self._oauth_client is None or client_id != self._oauth_client[0]:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != self._oauth_client[1]:
            return {"ok": False, "error": "bad_client_secret"}
        grant_type = body.get("grant_type") or "authorization_code"
        if grant_type == "refresh_token":
            return self._refresh(str(body.get("refresh_token") or ""))
        if grant_type != "authorization_code":
            return {"ok": False, "error": "invalid_grant_type"}
        # A code is good for one exchange: used, it is as unknown as one never handed out.
        install = self._codes.pop(str(body.get("code") or ""), None)
        if install is None:
            return {"ok": False, "error": "invalid_code"}
        self._issue(install)
        return install.reply(self._app_id)

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        """A new access token and refresh token for the install `refresh_token` came with.

        The refresh token is used up, as Slack revokes it; the old access token stays valid
        (until it expires on Slack's side: `expire_token`).
        """
        install = self._refresh_tokens.pop(refresh_token, None)
        if install is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        number = self._next_token_number()
        renewed = dataclasses.replace(
            install,
            token=f"xoxe.xoxb-1-{number}-refreshed",
            refresh_token=f"xoxe-1-{number}-refresh",
        )
        self._issue(renewed)
        return renewed.reply(self._app_id)

    def _issue(self, install: _Install) -> None:
        """Makes an install's token a valid bot token, and its refresh token exchangeable."""
        self._workspaces[install.token] = install.workspace
        if install.refresh_token is not None:
            self._refresh_tokens[install.refresh_token] = install

    def _next_token_number(self) -> str:
        """A number no token the stand-in made up has had."""
        self._token_sequence += 1
        return f"{self._token_sequence:06d}"

    def _gone(self, method: str, body: dict[str, Any]) -> str | None:
        """The error for editing a deleted message, or replying to one that left no thread."""
        channel = str(body.get("channel"))
        deleted = self._deleted.get(channel, set())
        if method == "chat.update" and str(body.get("ts")) in deleted:
            return "message_not_found"
        thread_ts = body.get("thread_ts")
        if method == "chat.postMessage" and thread_ts is not None and str(thread_ts) in deleted:
            kept = self._messages.get(channel, [])
            if not any(m["ts"] == str(thread_ts) for m in kept):
                return "thread_not_found"
        return None

    def _unknown_files(self, method: str, body: dict[str, Any]) -> list[str]:
        """JSON pointers to the `slack_file`s in a message's blocks that are not completed
        uploads (Slack cannot show them, so it refuses the blocks)."""
        blocks = body.get("blocks")
        if method not in BLOCK_METHODS or not isinstance(blocks, list):
            return []
        unknown = []
        for pointer, slack_file in _slack_files(blocks):
            if isinstance(slack_file, dict) and isinstance(slack_file.get("url"), str):
                continue  # shown from its URL, which the stand-in cannot check
            file_id = slack_file.get("id") if isinstance(slack_file, dict) else None
            upload = self._uploads.get(file_id) if isinstance(file_id, str) else None
            if upload is None or not upload.completed:
                unknown.append(pointer)
        return unknown

    def _upload_url(self, body: dict[str, Any]) -> dict[str, Any]:
        """files.getUploadURLExternal: a fresh file ID and the URL to post its bytes to."""
        filename, length = body.get("filename"), _length(body.get("length"))
        if not isinstance(filename, str) or not filename or length is None:
            return {"ok": False, "error": "invalid_arguments"}
        if length <= 0:
            # As Slack documents `missing_argument`: "typically when the length provided is 0".
            return {"ok": False, "error": "missing_argument"}
        self._file_sequence += 1
        file_id = f"F0UP{self._file_sequence:07d}"
        self._uploads[file_id] = Upload(file_id, filename, length)
        return {"ok": True, "upload_url": self.url + UPLOAD_PREFIX + file_id, "file_id": file_id}

    def _complete_upload(self, body: dict[str, Any]) -> dict[str, Any]:
        """files.completeUploadExternal: completes files whose bytes arrived, all or none, and
        shares them in one message per channel if `channel_id` (or `channels`) is given."""
        files = body.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        if not all(isinstance(f, dict) and isinstance(f.get("id"), str) for f in files):
            return {"ok": False, "error": "invalid_arguments"}
        uploads = [self._uploads.get(f["id"]) for f in files]
        ready = [u for u in uploads if u is not None and u.content is not None and not u.completed]
        if len(ready) < len(files):
            return {"ok": False, "error": "file_not_found"}
        channel_ids = _share_channels(body)
        thread_ts = str(body["thread_ts"]) if body.get("thread_ts") else None
        comment = body.get("initial_comment")
        completed = []
        for upload, asked in zip(ready, files, strict=True):
            title = asked.get("title")
            upload = dataclasses.replace(
                upload,
                completed=True,
                title=str(title) if title else upload.filename,
                channel_ids=channel_ids,
                thread_ts=thread_ts,
                initial_comment=str(comment) if comment else None,
            )
            self._uploads[upload.file_id] = upload
            completed.append(upload)
        described = [u.described(int(time.time())) for u in completed]
        for channel in channel_ids:
            message: dict[str, Any] = {"type": "message", "user": "U0BOT", "bot_id": "B0BOT"}
            message |= {"text": str(comment or ""), "files": described, "upload": True}
            if thread_ts is not None:
                message["thread_ts"] = thread_ts
            self._keep(channel, message | {"ts": self._next_ts()})
        # Slack shares asynchronously: the answer does not list the shares yet.
        return {"ok": True, "files": copy.deepcopy(described)}

    def _keep(self, channel: str, message: dict[str, Any]) -> None:
        """Keeps a posted message; a reply to a reply joins the thread of its parent."""
        kept = self._messages.setdefault(channel, [])
        thread_ts = message.get("thread_ts")
        if thread_ts is not None:
            root = next((m for m in kept if m["ts"] == str(thread_ts)), None)
            if root is not None and root.get("thread_ts") not in (None, root["ts"]):
                message["thread_ts"] = root["thread_ts"]
        kept.append(copy.deepcopy(message))

    def _edit(self, channel: str, body: dict[str, Any]) -> None:
        """Applies chat.update to the kept message it names (unknown messages stay unknown)."""
        for message in self._messages.get(channel, []):
            if message["ts"] == str(body.get("ts")):
                for key in ("text", "blocks", "attachments", "metadata"):
                    if key in body:
                        message[key] = copy.deepcopy(body[key])
                message["edited"] = {"user": "U0BOT", "ts": self._next_ts()}
                return

    def _history(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """conversations.history (top level, newest first) or .replies (a thread, oldest first)."""
        channel = str(body.get("channel") or "")
        kept = self._messages.get(channel, [])
        if method == "conversations.history":
            found = [m for m in reversed(kept) if m.get("thread_ts") in (None, m["ts"])]
            found = _between(found, body)
        else:
            wanted = str(body.get("ts") or "")
            named = next((m for m in kept if m["ts"] == wanted), None)
            if named is None:
                return {"ok": False, "error": "thread_not_found"}
            root = str(named.get("thread_ts") or named["ts"])
            found = [m for m in kept if root in (m["ts"], m.get("thread_ts"))]
            found = [found[0], *_between(found[1:], body)] if found else []
        with_metadata = str(body.get("include_all_metadata")) in TRUE_VALUES
        shown = [_shown(m, kept, with_metadata=with_metadata) for m in found]
        try:
            limit = min(MAX_PAGE_SIZE, max(1, int(body.get("limit") or DEFAULT_PAGE_SIZE)))
            start = _offset(body.get("cursor"))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        page = shown[start : start + limit]
        more = start + limit < len(shown)
        next_cursor = _cursor(start + limit) if more else ""
        reply: dict[str, Any] = {"ok": True, "messages": page, "has_more": more}
        reply["response_metadata"] = {"next_cursor": next_cursor}
        return reply

    def _people(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """users.info, usergroups.list or usergroups.users.list, from the people added."""
        if method == "users.info":
            user = self._users.get(str(body.get("user") or ""))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": copy.deepcopy(user)}
        if method == "usergroups.list":
            with_users = str(body.get("include_users")) in TRUE_VALUES
            groups = [g.listed(with_users=with_users) for g in self._usergroups.values()]
            return {"ok": True, "usergroups": groups}
        group = self._usergroups.get(str(body.get("usergroup") or ""))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(group.members)}

    def _retry_after(self, method: str, body: dict[str, Any]) -> str | None:
        """The Retry-After seconds if this post breaks the per-channel rate limit, else None."""
        if self._rate_window is None or method not in RATE_LIMITED_METHODS:
            return None
        last = self._last_post.get(str(body.get("channel")))
        if last is None:
            return None
        remaining = self._rate_window - (time.monotonic() - last)
        return str(max(1, math.ceil(remaining))) if remaining > 0 else None

    def _default_reply(
        self, method: str, body: dict[str, Any], headers: dict[str, str]
    ) -> dict[str, Any]:
        """What Slack answers to a successful call of `method`."""
        channel = body.get("channel")
        if method == "auth.test":
            token = _bearer(headers)
            if token == self.valid_token:
                return dict(AUTH_TEST_REPLY)
            return self._workspaces[str(token)].auth_test()
        if method == OAUTH_METHOD:
            return self._oauth_access(headers, body)
        if method == "chat.postMessage":
            ts = self._next_ts()
            message = _echo(body, ts)
            self._keep(str(channel), message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            self._edit(str(channel), body)
            return {
                "ok": True,
                "channel": channel,
                "ts": body.get("ts"),
                "text": body.get("text", ""),
                "message": _echo(body, body.get("ts")),
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "conversations.info":
            return {"ok": True, "channel": _channel(channel)}
        if method in HISTORY_METHODS:
            return self._history(method, body)
        if method in PEOPLE_METHODS:
            return self._people(method, body)
        if method == "files.getUploadURLExternal":
            return self._upload_url(body)
        if method == "files.completeUploadExternal":
            return self._complete_upload(body)
        if method in VIEW_METHODS:
            view = body.get("view") or {}
            return {"ok": True, "view": {**view, "id": body.get("view_id") or "V123"}}
        return {"ok": True}

    def _next_ts(self) -> str:
        """A unique, increasing message timestamp such as `1700000000.000100`."""
        self._ts_sequence += 1
        return f"{1_700_000_000 + self._ts_sequence // 10_000}.{self._ts_sequence % 10_000:04d}00"


def _as_json(bodies: list[dict[str, Any]]) -> str:
    """Bodies as a failed wait shows them."""
    return json.dumps(bodies, indent=2)


def _bearer(headers: dict[str, str]) -> str | None:
    """The bearer token of the Authorization header, if it has one."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if scheme == "Bearer" and token else None


def _client_credentials(
    headers: dict[str, str], body: dict[str, Any]
) -> tuple[str | None, str | None]:
    """The client ID and secret of an OAuth call: HTTP Basic auth (as slack_sdk sends them),
    else the `client_id` and `client_secret` fields."""
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            return None, None
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return body.get("client_id"), body.get("client_secret")


def _installed_team(reply: dict[str, Any]) -> str | None:
    """The team (or, org-wide, the enterprise) an oauth.v2.access answer installed."""
    if reply.get("ok") is not True:
        return None
    for key in ("team", "enterprise"):
        place = reply.get(key)
        if isinstance(place, dict) and place.get("id"):
            return str(place["id"])
    return None


def _default_error(status: int) -> str:
    """The Slack error code that goes with an HTTP failure status."""
    if status == 429:
        return "ratelimited"
    return "internal_error" if status >= 500 else "fatal_error"


def _parse_body(headers: dict[str, str], raw: bytes) -> dict[str, Any]:
    """The request body as a dict: JSON, or form fields with JSON-valued arguments decoded."""
    if not raw:
        return {}
    if headers.get("content-type", "").startswith("application/json"):
        parsed = json.loads(raw)
        return parsed if isinstance(parsed, dict) else {"json": parsed}
    form: dict[str, Any] = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
    return _json_arguments_decoded(form)


def _json_arguments_decoded(form: dict[str, Any]) -> dict[str, Any]:
    """Form or query fields with the JSON-valued arguments (blocks, files…) decoded."""
    decoded = dict(form)
    for key in JSON_ARGUMENTS:
        if isinstance(decoded.get(key), str) and decoded[key][:1] in ("[", "{"):
            decoded[key] = json.loads(decoded[key])
    return decoded


def _uploaded_bytes(headers: dict[str, str], raw: bytes) -> bytes:
    """The file posted to an upload URL: the raw body, or the file part of a multipart form
    (the part with a filename, else the first); ValueError for a form that is not one."""
    if not headers.get("content-type", "").startswith("multipart/form-data"):
        return raw
    parsed = Message()
    parsed["content-type"] = headers["content-type"]
    boundary = parsed.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ValueError("no boundary")
    delimiter = b"--" + boundary.encode()
    parts = []
    for chunk in raw.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise ValueError("a part without headers")
        parts.append((head.decode("latin-1").lower(), content.removesuffix(b"\r\n")))
    if not parts:
        raise ValueError("no parts")
    return next((c for h, c in parts if "filename=" in h), parts[0][1])


def _length(value: Any) -> int | None:
    """An integer argument as sent in a form, a query or JSON; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _share_channels(body: dict[str, Any]) -> tuple[str, ...]:
    """Where files.completeUploadExternal shares: `channel_id`, else the `channels` list."""
    if body.get("channel_id"):
        return (str(body["channel_id"]),)
    return tuple(c for c in str(body.get("channels") or "").split(",") if c)


def _slack_files(blocks: list[Any]) -> list[tuple[str, Any]]:
    """Each `slack_file` of an image block or context image element, with its JSON pointer."""
    found = []
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        if block.get("type") == "image" and "slack_file" in block:
            found.append((f"/blocks/{i}/slack_file", block["slack_file"]))
        elements = block.get("elements") if block.get("type") == "context" else None
        for j, element in enumerate(elements if isinstance(elements, list) else []):
            if (
                isinstance(element, dict)
                and element.get("type") == "image"
                and "slack_file" in element
            ):
                found.append((f"/blocks/{i}/elements/{j}/slack_file", element["slack_file"]))
    return found


def _invalid_blocks(pointers: list[str]) -> dict[str, Any]:
    """Slack's refusal of blocks showing files it cannot show."""
    errors = [f"invalid slack_file [json-pointer:{pointer}]" for pointer in pointers]
    return {
        "ok": False,
        "error": "invalid_blocks",
        "errors": errors,
        "response_metadata": {"messages": [f"[ERROR] {error}" for error in errors]},
    }


def _uploads_shown(uploads: list[Upload]) -> str:
    """Uploads as a failed wait shows them (without their bytes)."""
    return (
        ", ".join(
            f"{u.file_id} {u.filename!r} ({'completed' if u.completed else 'not completed'}, "
            f"{'no bytes' if u.content is None else f'{len(u.content)} bytes'})"
            for u in uploads
        )
        or "none"
    )


def _echo(body: dict[str, Any], ts: Any) -> dict[str, Any]:
    """The message object Slack returns for a post or update."""
    message = {"type": "message", "user": "U0BOT", "bot_id": "B0BOT", "text": body.get("text", "")}
    message |= {key: body[key] for key in MESSAGE_ECHO_KEYS if key in body}
    return message | {"ts": ts}


def _channel(channel_id: Any) -> dict[str, Any]:
    """A public channel the bot is a member of."""
    return {
        "id": channel_id,
        "name": "leads",
        "is_channel": True,
        "is_private": False,
        "is_archived": False,
        "is_member": True,
    }


def _user(user_id: str, name: str, team_id: str, flags: dict[str, bool]) -> dict[str, Any]:
    """A person as users.info shows them; `flags` says deleted, admin, owner, primary owner."""
    real_name = name.title()
    return {
        "id": user_id,
        "team_id": team_id,
        "name": name,
        "real_name": real_name,
        **flags,
        "is_bot": False,
        "profile": {"display_name": name, "real_name": real_name},
    }


def _is_response_to(record: Recorded, name: str | None) -> bool:
    """Whether `record` is a post to a response URL (the one called `name`, if given)."""
    if name is None:
        return record.method_or_path.startswith(RESPONSE_PREFIX)
    return record.method_or_path == RESPONSE_PREFIX + name


def _ts_value(ts: Any) -> Decimal | None:
    """A message timestamp as a number, or None if it is not one."""
    try:
        return Decimal(str(ts))
    except InvalidOperation:
        return None


def _between(messages: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages within `oldest`/`latest` (exclusive unless `inclusive`), as Slack filters."""
    oldest, latest = _ts_value(body.get("oldest") or 0), _ts_value(body.get("latest") or "inf")
    inclusive = str(body.get("inclusive")) in TRUE_VALUES
    kept = []
    for message in messages:
        ts = _ts_value(message["ts"])
        if ts is None or oldest is None or latest is None:
            continue
        if (oldest <= ts <= latest) if inclusive else (oldest < ts < latest):
            kept.append(message)
    return kept


def _shown(
    message: dict[str, Any], kept: list[dict[str, Any]], *, with_metadata: bool
) -> dict[str, Any]:
    """A kept message as history shows it: thread counts on parents, metadata if asked for."""
    shown = copy.deepcopy(message)
    if not with_metadata:
        shown.pop("metadata", None)
    replies = [m["ts"] for m in kept if m.get("thread_ts") == message["ts"] != m["ts"]]
    if replies:
        shown |= {"thread_ts": message["ts"], "reply_count": len(replies)}
        shown["latest_reply"] = replies[-1]
    return shown


def _cursor(offset: int) -> str:
    """An opaque pagination cursor for a position in a listing."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: Any) -> int:
    """The position a cursor stands for (0 without one); ValueError if it is not ours."""
    if not cursor:
        return 0
    text = base64.urlsafe_b64decode(str(cursor).encode()).decode()
    if not text.startswith("offset:"):
        raise ValueError(cursor)
    return int(text.removeprefix("offset:"))
