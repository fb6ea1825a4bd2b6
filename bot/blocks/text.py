"""Text objects, escaping and Slack's length limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.parsing.look_alikes import MARKERS

# Slack's limits (docs.slack.dev/reference/block-kit), kept here so builders share one source.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_FALLBACK_TEXT = 3000
ELLIPSIS = "…"


def escape(text: str) -> str:
    """Escape the three characters that let outside text form mentions, links or dates."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


# Inside a code span nothing formats, but a backtick would end the span early.
_BACKTICK = str.maketrans({"`": "\u02cb"})
# Bidi embeddings, overrides and isolates would reverse the text that follows the outside text.
_BIDI_CONTROLS = str.maketrans(dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))


def safe(text: str, limit: int) -> str:
    """Text escaped and cut to fit, markers kept but for backticks: for IDs in code spans."""
    return _cut(escape(text.translate(_BIDI_CONTROLS)), limit).translate(_BACKTICK)


def prose(text: str, limit: int) -> str:
    """Outside text for mrkdwn: shown as typed, it cannot mention, link or format; cut to fit."""
    return _cut(escape(text.translate(_BIDI_CONTROLS)), limit).translate(MARKERS)


def _cut(escaped: str, limit: int) -> str:
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(0, limit - 1)]
    # Never leave half an entity such as "&am" at the cut.
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + ELLIPSIS


def one_line(text: str) -> str:
    """Collapse whitespace and newlines so text fits a single line."""
    return " ".join(text.split())


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object; `verbatim` stops Slack from auto-linking or parsing mentions."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def plain(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    """A plain_text object, cut to the limit; never empty, which Slack rejects."""
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": True}


def date_token(moment: datetime, token: str = "{date_short_pretty} at {time}") -> str:
    """A Slack date token, shown in each viewer's own time zone, with a UTC fallback."""
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{token}|{fallback}>"


def link(url: str, label: str) -> str:
    """A mrkdwn link whose label is escaped and whose URL cannot break out of `<url|label>`."""
    target = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")
    return f"<{target}|{escape(label)}>"
