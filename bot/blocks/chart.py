"""The digest's chart: calls per day as bars, the success rate as a line, as a PNG."""

from __future__ import annotations

import functools
import io
import math
import unicodedata
from collections.abc import Sequence
from datetime import date

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from bot.blocks.days import known_calls, known_rate
from bot.blocks.text import one_line, truncate
from bot.reports import DayPoint

# 8 × 3.6 inches at 100 dpi: 800 × 360 px, wide enough for 14 labelled days in a Slack message.
WIDTH_INCHES = 8.0
HEIGHT_INCHES = 3.6
DPI = 100
TITLE_CHARS = 80
# Beyond this many days the labels would overlap, so only every n-th day is labelled.
MAX_LABELS = 14
# The axes reach a little past the top tick, so a 100% rate or the busiest bar is not clipped.
HEADROOM = 1.05
MIN_SLOTS = 7
LEFT = 0.015

# Slack's own palette, so the chart sits well in a message: blue bars, green line, dark text.
BAR_COLOUR = "#1264A3"
LINE_COLOUR = "#2EB67D"
TEXT_COLOUR = "#1D1C1D"
MUTED_COLOUR = "#616061"
GRID_COLOUR = "#DDDDDD"
FONT = FontProperties(family="DejaVu Sans")
# PNGs carry no "Software" line, so the same days give the same bytes on every version.
PNG_METADATA: dict[str, str | None] = {"Software": None}


def daily_chart_png(days: Sequence[DayPoint], *, title: str) -> bytes:
    """The days as an 800 × 360 PNG: calls as bars, success rate as a line on its own axis."""
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, facecolor="white")
    # Agg and no pyplot: the figure belongs to this call alone, so threads may draw at once.
    FigureCanvasAgg(figure)
    _title(figure, title)
    calls_axis = figure.add_axes((0.07, 0.15, 0.86, 0.64))
    if days:
        _draw(calls_axis, list(days))
    else:
        _empty(calls_axis)
    _legend(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata=PNG_METADATA)
    return buffer.getvalue()


def _title(figure: Figure, title: str) -> None:
    """The title on one line, cut until it fits the picture's width."""
    shown = one_line(_drawable(one_line(title)))
    text = figure.text(
        LEFT,
        0.955,
        truncate(shown, TITLE_CHARS),
        fontproperties=FONT,
        fontsize=13,
        fontweight="bold",
        color=TEXT_COLOUR,
        va="top",
        parse_math=False,
    )
    room = figure.bbox.width * (1 - 2 * LEFT)
    limit = min(len(shown), TITLE_CHARS)
    # Widths differ by letter, so cut in proportion to the overflow until it fits.
    while limit > 1 and (width := text.get_window_extent().width) > room:
        limit = min(limit - 1, int(limit * room / width))
        text.set_text(truncate(shown, limit))


def _draw(calls_axis: Axes, days: list[DayPoint]) -> None:
    positions = list(range(len(days)))
    calls = [known_calls(point) for point in days]
    rates = [known_rate(point) for point in days]

    _style(calls_axis)
    known = [(x, count) for x, count in zip(positions, calls, strict=True) if count is not None]
    if known:
        calls_axis.bar(
            [x for x, _ in known], [count for _, count in known], width=0.62, color=BAR_COLOUR
        )
    # An unknown day is a gap, never a zero: it says so where its bar would be.
    for x, count in zip(positions, calls, strict=True):
        if count is None:
            calls_axis.text(
                x,
                0.02,
                "no data",
                transform=calls_axis.get_xaxis_transform(),
                rotation=90,
                ha="center",
                va="bottom",
                fontsize=8.5,
                color=MUTED_COLOUR,
                fontproperties=FONT,
                parse_math=False,
            )
    # Both axes get five ticks at the same heights, so one set of grid lines serves both.
    step = _tick_step(max((count for count in calls if count is not None), default=0))
    calls_axis.set_ylim(0, step * 4 * HEADROOM)
    calls_axis.set_yticks([step * n for n in range(5)])
    calls_axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _compact(value)))
    # A few days keep the width of a week's bars rather than growing into slabs.
    pad = max(0, MIN_SLOTS - len(days)) / 2
    calls_axis.set_xlim(-0.6 - pad, len(days) - 0.4 + pad)
    every = max(1, math.ceil(len(days) / MAX_LABELS))
    ticks = positions[::every]
    before = [None, *ticks[:-1]]
    labels = [
        _tick(days[index].day, None if prior is None else days[prior].day)
        for index, prior in zip(ticks, before, strict=True)
    ]
    calls_axis.set_xticks(ticks, labels)

    rate_axis = calls_axis.twinx()
    _style(rate_axis)
    rate_axis.grid(False)
    # NaN breaks the line, so an unknown rate is a gap rather than a dip to zero.
    rate_axis.plot(
        positions,
        [math.nan if rate is None else rate for rate in rates],
        color=LINE_COLOUR,
        linewidth=2,
        marker="o",
        markersize=3.5,
    )
    rate_axis.set_ylim(0, 100 * HEADROOM)
    rate_axis.set_yticks([0, 25, 50, 75, 100])
    rate_axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}%"))


def _tick_step(highest: int) -> int:
    """A round step such that four of them reach the busiest day: 1, 2, 3, 4, 5, 6, 8, 10, 20…"""
    wanted = max(1.0, highest / 4)
    magnitude = 10 ** math.floor(math.log10(wanted))
    for multiple in (1, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = multiple * magnitude
        if step >= wanted and step == int(step):
            return int(step)
    return int(10 * magnitude)


def _empty(axis: Axes) -> None:
    axis.set_axis_off()
    axis.text(
        0.5,
        0.5,
        "No days to show yet",
        transform=axis.transAxes,
        ha="center",
        va="center",
        fontsize=12,
        color=MUTED_COLOUR,
        fontproperties=FONT,
        parse_math=False,
    )


def _style(axis: Axes) -> None:
    for side in ("top", "left", "right"):
        axis.spines[side].set_visible(False)
    axis.spines["bottom"].set_color(GRID_COLOUR)
    axis.tick_params(
        colors=MUTED_COLOUR, labelsize=8.5, length=0, pad=4, labelfontfamily=FONT.get_family()[0]
    )
    axis.grid(axis="y", color=GRID_COLOUR, linewidth=0.6)
    axis.set_axisbelow(True)


def _legend(figure: Figure) -> None:
    # Proxies, so the legend reads the same whether or not any day had a bar or a rate.
    handles = [
        Patch(color=BAR_COLOUR, label="Calls"),
        Line2D([], [], color=LINE_COLOUR, linewidth=2, marker="o", label="Success rate"),
    ]
    figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(LEFT - 0.008, 0.895),
        ncols=2,
        frameon=False,
        prop=FontProperties(family="DejaVu Sans", size=10.5),
        labelcolor=TEXT_COLOUR,
    )


def _tick(day: date, before: date | None) -> str:
    """`Mon 3`, with the month under the first label and wherever the month changed."""
    label = f"{day:%a} {day.day}"
    if before is None or (before.year, before.month) != (day.year, day.month):
        return f"{label}\n{day:%b}"
    return label


def _compact(value: float) -> str:
    """A count short enough for a tick: 950, 1,284, 12k, 1.2M."""
    for size, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**4, "k")):
        if abs(value) >= size:
            scaled = value / size
            return f"{scaled:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:,.0f}"


def _drawable(text: str) -> str:
    """Text with each character the font lacks shown as `?`, which also keeps it from warning."""
    glyphs = _glyphs()
    # Invisible format characters go: a bidi override would reverse the rest of the title.
    visible = (ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    return "".join(ch if ord(ch) in glyphs else "?" for ch in visible)


@functools.cache
def _glyphs() -> frozenset[int]:
    """The code points the chart's font can draw; any other would warn and draw a box."""
    return frozenset(FT2Font(findfont(FONT)).get_charmap())
