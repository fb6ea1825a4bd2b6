"""A run of days in words: names, the figures a day can show, and the chart told as text.

Kept apart from chart.py, which loads matplotlib: the digest's words need none of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from bot.blocks.text import truncate
from bot.reports import DayPoint

MAX_ALT_TEXT = 2000
# More calls than this in a day is not a count NLPearl could mean.
MAX_CALLS = 10**15


def day_name(day: date) -> str:
    """`Thu 3 Dec`."""
    return f"{day:%a} {day.day} {day:%b}"


def known_calls(point: DayPoint) -> int | None:
    """The day's calls, or None when unknown or not a count at all."""
    calls = point.calls
    return calls if calls is not None and 0 <= calls < MAX_CALLS else None


def known_rate(point: DayPoint) -> float | None:
    """The day's success rate within 0–100, or None when unknown or not a number."""
    rate = point.success_rate
    # Compared rather than converted: an int too large for a float would raise on conversion.
    if rate is None or not -math.inf < rate < math.inf:
        return None
    return float(min(100, max(0, rate)))


# Alt text


def chart_alt_text(days: Sequence[DayPoint]) -> str:
    """The chart in words, for screen readers and for a message without the picture."""
    if not days:
        return "No days to chart yet."
    first, last = days[0].day, days[-1].day
    counted = [(point.day, calls) for point in days if (calls := known_calls(point)) is not None]
    rates = [rate for point in days if (rate := known_rate(point)) is not None]
    span = "1 day" if len(days) == 1 else f"{len(days)} days"
    parts = [
        f"Chart of calls per day (bars) and success rate (line), {span} "
        f"from {day_name(first)} to {day_name(last)} {last.year}."
    ]
    if counted:
        total = sum(calls for _, calls in counted)
        busiest, most = max(counted, key=lambda pair: pair[1])
        parts.append(
            f"{total:,} calls in all; the busiest day was {day_name(busiest)} with {most:,}."
            if most
            else "No calls on any day."
        )
    if rates:
        low, high = min(rates), max(rates)
        parts.append(
            f"Success rate {low:.0f}% every day."
            if round(low) == round(high)
            else f"Success rate between {low:.0f}% and {high:.0f}%."
        )
    parts.append(f"Day by day: {days_line(days)}.")
    return truncate(" ".join(parts), MAX_ALT_TEXT)


def days_line(days: Sequence[DayPoint]) -> str:
    """`Mon 30 Nov 80 calls, 12% success; Tue 1 Dec no data; …`."""
    return "; ".join(_day_words(point) for point in days)


def _day_words(point: DayPoint) -> str:
    calls, rate = known_calls(point), known_rate(point)
    if calls is None and rate is None:
        return f"{day_name(point.day)} no data"
    words = [f"{calls:,} calls" if calls is not None else "calls unknown"]
    if rate is not None:
        words.append(f"{rate:.0f}% success")
    return f"{day_name(point.day)} {', '.join(words)}"
