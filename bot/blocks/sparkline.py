"""A fortnight in one line of text: the campaign card's small chart, no image needed."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.reports import DayPoint

BARS = "▁▂▃▄▅▆▇█"
GAP = "·"


def sparkline(values: Sequence[float | None], *, top: float | None = None) -> str:
    """One bar per value, scaled to the largest (or `top`); a dot where a value is unknown."""
    known = [v for v in values if v is not None and math.isfinite(v) and v >= 0]
    usable_top = top is not None and math.isfinite(top) and top > 0
    ceiling = top if usable_top and top is not None else max(known, default=0.0)
    bars = []
    for value in values:
        if value is None or not math.isfinite(value) or value < 0:
            bars.append(GAP)
        elif ceiling <= 0:
            bars.append(BARS[0])
        else:
            step = round(min(value, ceiling) / ceiling * (len(BARS) - 1))
            bars.append(BARS[step])
    return "".join(bars)


def fortnight_lines(days: Sequence[DayPoint]) -> str | None:
    """Calls per day and the success rate as two sparklines with the last known figures.

    Each line is scaled to its own best day, so a change shows; the figures say how much.
    """
    if not any(d.calls is not None or d.success_rate is not None for d in days):
        return None
    calls = [float(d.calls) if d.calls is not None else None for d in days]
    rates = [d.success_rate for d in days]
    last = days[-1]
    # The figures of the last day only: an older day's would read as yesterday's.
    calls_said = f"{last.calls:,} yesterday" if last.calls is not None else "— yesterday"
    rate = last.success_rate
    rate_said = (
        f"{rate:.0f}% yesterday" if rate is not None and math.isfinite(rate) else "— yesterday"
    )
    return f"`{sparkline(calls)}` calls · {calls_said}\n`{sparkline(rates)}` success · {rate_said}"
