"""What a failed Slack Web API call means, in one place: wait, retry, stop, change, or reinstall."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

# What a Slack call raises when Slack or the way to it fails (anything else is a bug): catch
# these, then `classify`.
SLACK_FAILURES: tuple[type[Exception], ...] = (
    SlackApiError,
    aiohttp.ClientError,
    TimeoutError,
    OSError,
)
# A proxy's Retry-After may be anything; no answer holds a feed up for longer than this.
MAX_RETRY_AFTER_SECONDS = 600.0
RATE_LIMIT_WAIT_SECONDS = 1.0


class Kind(enum.Enum):
    """What to do about a failure."""

    RATE_LIMITED = "rate limited"  # wait `retry_after`, then try again
    PASSING = "passing"  # Slack or the way to it had a moment: try again with back-off
    UNKNOWN = "unknown"  # an error Lead Bot does not know: try again with back-off
    AUTH_REVOKED = "auth revoked"  # the bot token no longer works: reinstall the app
    NOT_ALLOWED = "not allowed"  # a scope or a workspace policy forbids it
    CHANNEL_GONE = "channel gone"  # the channel cannot be posted to any more
    BLOCKS_REFUSED = "blocks refused"  # the blocks were refused; the same words as text may pass
    MESSAGE_REFUSED = "message refused"  # this message can never be posted as it is
    MESSAGE_GONE = "message gone"  # the message or thread named no longer exists
    # The message is still there, but Slack no longer lets it be edited (too old, say).
    UNEDITABLE = "uneditable"


_ERRORS: dict[Kind, frozenset[str]] = {
    Kind.RATE_LIMITED: frozenset({"ratelimited", "rate_limited"}),
    Kind.PASSING: frozenset(
        {
            "internal_error",
            "fatal_error",
            "request_timeout",
            "service_unavailable",
            "team_added_to_org",
            "message_limit_exceeded",
        }
    ),
    Kind.AUTH_REVOKED: frozenset(
        {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
    ),
    Kind.NOT_ALLOWED: frozenset(
        {
            "missing_scope",
            "no_permission",
            "not_allowed_token_type",
            "access_denied",
            "restricted_action",
            "restricted_action_read_only_channel",
            "restricted_action_thread_only_channel",
            "restricted_action_non_threadable_channel",
            "team_access_not_granted",
            "ekm_access_denied",
        }
    ),
    Kind.CHANNEL_GONE: frozenset({"channel_not_found", "not_in_channel", "is_archived"}),
    Kind.BLOCKS_REFUSED: frozenset(
        {"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long"}
    ),
    Kind.MESSAGE_REFUSED: frozenset(
        {
            "msg_too_long",
            "no_text",
            "invalid_arguments",
            "invalid_attachments",
            "too_many_attachments",
            "invalid_metadata_format",
            "invalid_metadata_schema",
            "metadata_too_large",
            "metadata_must_be_sent_from_app",
        }
    ),
    Kind.MESSAGE_GONE: frozenset({"message_not_found", "thread_not_found"}),
    Kind.UNEDITABLE: frozenset({"cant_update_message", "edit_window_closed"}),
}
KIND_OF_ERROR: Mapping[str, Kind] = {
    code: kind for kind, codes in _ERRORS.items() for code in codes
}
RETRYABLE = frozenset({Kind.RATE_LIMITED, Kind.PASSING, Kind.UNKNOWN})


@dataclass(frozen=True)
class SlackFailure:
    """A failed Slack call: what to do, Slack's error code (or a word for it), HTTP status."""

    kind: Kind
    error: str
    status: int | None = None
    retry_after: float | None = None
    # False when the call never reached Slack's answer: a connection error, not an HTTP one.
    answered: bool = True

    @property
    def retryable(self) -> bool:
        """Whether trying the same call again later may work."""
        return self.kind in RETRYABLE

    def describe(self) -> str:
        """The failure in a few plain words, for people and logs; no stack trace, no secrets."""
        if self.kind is Kind.RATE_LIMITED:
            return f"Slack rate limited the call; try again in {self.retry_after or 1:.0f} s"
        if not self.answered:
            return f"Slack could not be reached ({self.error})"
        if self.error.startswith("http_"):
            what = "a temporary error" if self.kind is Kind.PASSING else "not an answer from Slack"
            return f"Slack answered HTTP {self.status} without its usual JSON, {what}"
        if self.kind is Kind.PASSING:
            return f"Slack had a temporary problem ({self.error}, HTTP {self.status})"
        return f"{_SAYS[self.kind]} ({self.error})"


_SAYS = {
    Kind.UNKNOWN: "Slack answered with an error Lead Bot does not know",
    Kind.AUTH_REVOKED: "Slack no longer accepts the bot token",
    Kind.NOT_ALLOWED: "Slack does not allow it: a scope or a workspace setting is missing",
    Kind.CHANNEL_GONE: "Slack says the channel cannot be posted to",
    Kind.BLOCKS_REFUSED: "Slack refused the message's layout",
    Kind.MESSAGE_REFUSED: "Slack refused the message",
    Kind.MESSAGE_GONE: "The message is gone from Slack",
    Kind.UNEDITABLE: "Slack no longer lets the message be edited",
}

# What people are told when Slack stopped a channel's feed, and what to do about it. The
# stored problem is Slack's error code (rows of every version hold one): the sentence is
# chosen when it is shown.
INVITE = "Invite me with `/invite @Lead Bot`, then run `/lead subscribe` again."
REINSTALL = "Slack no longer accepts my token. Ask an admin to reinstall Lead Bot."
_STOPPED_BY_CODE = {
    "not_in_channel": f"I was removed from the channel. {INVITE}",
    "channel_not_found": (
        "I can't find the channel any more: it was deleted, or it is private and I was removed. "
        "If it still exists, invite me with `/invite @Lead Bot`, then run `/lead subscribe` again."
    ),
    "is_archived": "The channel was archived. Unarchive it, then run `/lead subscribe` again.",
}
_STOPPED_BY_KIND = {
    Kind.CHANNEL_GONE: f"I can't post in the channel any more. {INVITE}",
    Kind.AUTH_REVOKED: REINSTALL,
    Kind.NOT_ALLOWED: (
        "Slack doesn't allow me to post there: a permission or a workspace setting is missing. "
        "Ask an admin to check the channel's posting settings or reinstall Lead Bot, then run "
        "`/lead subscribe` again."
    ),
}
_STOPPED_OTHERWISE = "Slack refused my posts there. Run `/lead subscribe` in the channel again."


def why_stopped(code: str) -> str:
    """A plain sentence on why a channel's feed stopped, and what to do, from Slack's code."""
    if sentence := _STOPPED_BY_CODE.get(code):
        return sentence
    kind = KIND_OF_ERROR.get(code)
    return _STOPPED_BY_KIND.get(kind, _STOPPED_OTHERWISE) if kind else _STOPPED_OTHERWISE


def classify(exc: BaseException) -> SlackFailure:
    """What a failure of a Slack call (one of SLACK_FAILURES) means."""
    if isinstance(exc, SlackApiError):
        return _answered(exc.response)
    # aiohttp's timeouts are both ClientError and TimeoutError: name them by their own class.
    return SlackFailure(Kind.PASSING, type(exc).__name__, answered=False)


def _answered(response: Any) -> SlackFailure:
    # slack_sdk hands over its own response object, or aiohttp's when the body was not JSON
    # although it said so (an HTML page from a proxy): read both the same way.
    status = _status(response)
    data = getattr(response, "data", None)
    error = str(data.get("error") or "") if isinstance(data, Mapping) else ""
    wait = retry_after(getattr(response, "headers", None))
    if status == 429 or KIND_OF_ERROR.get(error) is Kind.RATE_LIMITED:
        return SlackFailure(
            Kind.RATE_LIMITED, error or "ratelimited", status, wait or RATE_LIMIT_WAIT_SECONDS
        )
    if not error:
        error = f"http_{status}"
        kind = Kind.PASSING if status is None or status >= 500 else Kind.UNKNOWN
    else:
        kind = KIND_OF_ERROR.get(error) or (
            Kind.PASSING if status is not None and status >= 500 else Kind.UNKNOWN
        )
    return SlackFailure(kind, error, status, wait if kind in RETRYABLE else None)


def _status(response: Any) -> int | None:
    for name in ("status_code", "status"):
        value = getattr(response, name, None)
        if isinstance(value, int):
            return value
    return None


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """The seconds a Retry-After header asks for (bounded), or None if there is no number."""
    if not headers:
        return None
    value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    try:
        seconds = float(str(value).strip())
    except ValueError:
        return None
    if not math.isfinite(seconds):
        return None
    return min(MAX_RETRY_AFTER_SECONDS, max(1.0, seconds))
