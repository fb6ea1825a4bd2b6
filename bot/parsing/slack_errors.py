"""What a failed Slack Web API call means, in one place: wait, retry, stop, change, or reinstall."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.parsing.slack_codes import KIND_OF_ERROR, RETRYABLE
from bot.parsing.slack_codes import Kind as Kind  # what callers match a failure's kind against

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

    @property
    def without_json(self) -> bool:
        """Whether Slack's side answered with a bare HTTP status, not its usual JSON."""
        return self.error.startswith("http_")

    def describe(self) -> str:
        """The failure in a few plain words, for people and logs; no stack trace, no secrets."""
        if self.kind is Kind.RATE_LIMITED:
            return f"Slack rate limited the call; try again in {self.retry_after or 1:.0f} s"
        if not self.answered:
            return f"Slack could not be reached ({self.error})"
        if self.without_json:
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
