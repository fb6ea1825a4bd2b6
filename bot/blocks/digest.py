"""The daily digest: yesterday's calls, outcomes, rates, budget and chart for a campaign."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from bot.blocks.alerts import duration_words
from bot.blocks.days import chart_alt_text, day_name, known_calls, known_rate
from bot.blocks.ids import ActionId, AttentionRef
from bot.blocks.text import (
    MAX_BUTTON_VALUE,
    MAX_FALLBACK_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    mrkdwn,
    one_line,
    plain,
    prose,
    safe,
    truncate,
)
from bot.blocks.values import format_amount
from bot.reports import Digest, Rate

NAME_CHARS = 150
ID_CHARS = 60
ZONE_CHARS = 60
LABEL_CHARS = 60
MAX_OUTCOMES = 20
MAX_DIFFERENCES = 5
DIFFERENCE_CHARS = 400
MAX_MISSING = 8
MISSING_CHARS = 40
# The no-chart line shows the last week: enough to see a trend, short enough for one line.
LINE_DAYS = 7
# A count or amount past this is no figure NLPearl could mean: shown as unknown.
MAX_FIGURE = 10**15
UNKNOWN = "—"
ATTENTION_BUTTON = "⚠️ Leads needing attention"
CHART_TITLE = "Calls and success rate by day"
RATES_NOTE = f"▲ ▼ against the average of the 7 days before · {UNKNOWN} NLPearl didn't say"
_FILE_ID = re.compile(r"^F[A-Z0-9]{2,40}$")


def digest_message(digest: Digest) -> dict[str, Any]:
    """The digest as `{"text", "blocks"}` for chat.postMessage."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(_header(digest), MAX_HEADER_TEXT)},
        _context(_period(digest)),
        {"type": "section", "text": mrkdwn(_calls(digest))},
        {"type": "section", "fields": _facts(digest)[:MAX_FIELDS]},
        _context(RATES_NOTE),
    ]
    if button := _attention_button(digest):
        blocks.append({"type": "actions", "elements": [button]})
    blocks.append(_chart(digest))
    if digest.late_by is not None and digest.late_by > timedelta(0):
        late = duration_words(digest.late_by)
        blocks.append(_context(f"⏰ Sent {late} late: the app was not running when it was due."))
    if digest.differences:
        blocks.append(_context(_differences(digest.differences)))
    if digest.missing:
        blocks.append(_context(_missing(digest.missing)))
    return {"text": _fallback(digest), "blocks": blocks}


def digest_without_chart(message: dict[str, Any]) -> dict[str, Any]:
    """The same digest with the chart's numbers in words where the picture was."""
    blocks = [
        _context(f"📈 {prose(block.get('alt_text', ''), MAX_SECTION_TEXT - 2)}")
        if block.get("type") == "image"
        else block
        for block in message.get("blocks", [])
    ]
    return {**message, "blocks": blocks}


def _title(digest: Digest) -> str:
    """The campaign's name on one line, else its ID."""
    return one_line(digest.campaign_name or "") or one_line(digest.campaign_id) or "Campaign"


def _header(digest: Digest) -> str:
    # The name comes last, so however long or right-to-left it is, the day stays readable.
    return f"📊 Daily digest · {day_name(digest.day)} · {_title(digest)}"


def _period(digest: Digest) -> str:
    zone = prose(one_line(digest.time_zone), ZONE_CHARS) or "UTC"
    campaign = safe(one_line(digest.campaign_id), ID_CHARS) or "?"
    return f"{_long_day(digest.day)}, {zone} time · Campaign `{campaign}`"


def _long_day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B} {day.year}"


def _calls(digest: Digest) -> str:
    """`*📞 1,284 calls*` and each outcome with its count."""
    calls = _number(digest.calls)
    if calls is None:
        heading = f"*📞 Calls:* {UNKNOWN}"
    elif digest.calls == 0:
        heading = "*📞 No calls*"
    else:
        heading = f"*📞 {calls} {'call' if digest.calls == 1 else 'calls'}*"
    outcomes = [
        f"{prose(one_line(label), LABEL_CHARS) or '?'} *{count}*"
        for label, number in digest.outcomes[:MAX_OUTCOMES]
        if (count := _number(number)) is not None
    ]
    if (more := len(digest.outcomes) - MAX_OUTCOMES) > 0:
        outcomes.append(f"+ {more} more")
    return f"{heading}\n{' · '.join(outcomes)}" if outcomes else heading


def _facts(digest: Digest) -> list[dict[str, Any]]:
    # Fields fill two columns: the rates on the left, what came of the calls on the right.
    facts = [
        ("Reached", _rate(digest.reached)),
        ("Bookings", _number(digest.bookings) or UNKNOWN),
        ("Success", _rate(digest.success)),
        ("Transfers", _number(digest.transfers) or UNKNOWN),
        ("Voicemail", _rate(digest.voicemail)),
        ("Needing attention now", _attention(digest.attention)),
        ("Budget", _budget(digest.budget_used, digest.budget_total)),
    ]
    return [mrkdwn(f"*{label}*\n{value}") for label, value in facts]


def _number(value: int | None) -> str | None:
    """A count with thousands separators, or None when unknown or impossible."""
    if value is None or not 0 <= value < MAX_FIGURE:
        return None
    return f"{value:,}"


def _rate(rate: Rate) -> str:
    """`43% · ▲ 5 pts`, `43% · no change`, `43% · —`, or `—`."""
    day = _finite(rate.day)
    if day is None:
        return UNKNOWN
    shown = f"{day:,.0f}%"
    week = _finite(rate.week_before)
    if week is None:
        return f"{shown} · {UNKNOWN}"
    # Rounded like the rates, so "43% · no change" never sits beside a 0.4-point move.
    change = round(day) - round(week)
    if change == 0:
        return f"{shown} · no change"
    arrow = "▲" if change > 0 else "▼"
    return f"{shown} · {arrow} {abs(change):,} pts"


def _finite(value: float | None) -> float | None:
    """A usable number as a float (an int may come in), or None."""
    # Compared rather than converted: NaN fails the test, and a huge int never meets float().
    if value is None or not abs(value) < MAX_FIGURE:
        return None
    return float(value)


def _budget(used: float | None, total: float | None) -> str:
    """`312 of 1,500 used (21%) · 1,188 left`, `312 used · no limit`, or `—`."""
    used, total = _finite(used), _finite(total)
    if used is None:
        return f"{UNKNOWN} of {format_amount(total)}" if total is not None else UNKNOWN
    if total is None:
        return f"{format_amount(used)} used · no limit"
    spent = f"{format_amount(used)} of {format_amount(total)} used"
    if total > 0:
        spent += f" ({used / total * 100:,.0f}%)"
    left = total - used
    return (
        f"{spent} · {format_amount(left)} left"
        if left >= 0
        else f"{spent} · {format_amount(-left)} over"
    )


def _attention(count: int | None) -> str:
    shown = _number(count)
    if shown is None:
        return UNKNOWN
    if count == 0:
        return "None 🎉"
    return f"⚠️ {shown} {'lead' if count == 1 else 'leads'}"


def _attention_button(digest: Digest) -> dict[str, Any] | None:
    """The campaign card's button, so the same listener opens the same list."""
    if digest.attention == 0:
        return None
    value = AttentionRef(campaign_id=digest.campaign_id).model_dump_json()
    if len(value) > MAX_BUTTON_VALUE:
        return None
    return {
        "type": "button",
        "action_id": ActionId.CAMPAIGN_ATTENTION,
        "text": plain(ATTENTION_BUTTON),
        "value": value,
    }


def _chart(digest: Digest) -> dict[str, Any]:
    """The uploaded chart, or the last days' numbers in a line when there is none."""
    file_id = digest.chart_file_id
    # Only a Slack file ID goes into the block; anything else would make Slack refuse it.
    if file_id and _FILE_ID.match(file_id):
        return {
            "type": "image",
            "slack_file": {"id": file_id},
            "alt_text": chart_alt_text(digest.days),
            "title": plain(CHART_TITLE),
        }
    return _context(_days_line(digest))


def _days_line(digest: Digest) -> str:
    """`📈 Last 7 days, calls and success: Fri 27 Nov 81 · 10% | …`."""
    days = digest.days[-LINE_DAYS:]
    if not days:
        return "📈 No earlier days to compare with yet."
    parts = []
    for point in days:
        calls, rate = known_calls(point), known_rate(point)
        shown = [UNKNOWN if calls is None else f"{calls:,}"]
        if rate is not None:
            shown.append(f"{rate:.0f}%")
        parts.append(f"{day_name(point.day)} {' · '.join(shown)}")
    span = "Last day" if len(days) == 1 else f"Last {len(days)} days"
    return f"📈 {span}, calls and success rate: {' | '.join(parts)}"


def _differences(sentences: tuple[str, ...]) -> str:
    shown = [prose(one_line(s), DIFFERENCE_CHARS) for s in sentences[:MAX_DIFFERENCES]]
    shown = [s for s in shown if s]
    if (more := len(sentences) - MAX_DIFFERENCES) > 0:
        shown.append(f"+ {more} more")
    return "🔎 Feed vs NLPearl: " + (" ".join(shown) or "they differ.")


def _missing(names: tuple[str, ...]) -> str:
    shown = [prose(one_line(n), MISSING_CHARS) for n in names[:MAX_MISSING]]
    shown = [n for n in shown if n] or ["some figures"]
    if (more := len(names) - MAX_MISSING) > 0:
        shown.append(f"{more} more")
    return (
        f"⚠️ NLPearl could not give everything this time (missing: {', '.join(shown)}); "
        f"those figures show as {UNKNOWN}."
    )


def _fallback(digest: Digest) -> str:
    """The notification's words: the day, the campaign, and its headline numbers."""
    parts = []
    if (calls := _number(digest.calls)) is not None:
        parts.append(f"{calls} calls")
    if (success := _finite(digest.success.day)) is not None:
        parts.append(f"{success:,.0f}% success")
    if (bookings := _number(digest.bookings)) is not None:
        parts.append(f"{bookings} bookings")
    if digest.attention and (attention := _number(digest.attention)) is not None:
        parts.append(f"{attention} leads need attention")
    name = prose(_title(digest), NAME_CHARS)
    summary = f": {', '.join(parts)}" if parts else ""
    return truncate(
        f"📊 Daily digest · {day_name(digest.day)} · {name}{summary}", MAX_FALLBACK_TEXT
    )


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}
