"""Chart drawing: how long the digest's 14-day chart takes to draw as a PNG, in process.

The digest draws its chart with matplotlib's Agg canvas before uploading it, so the drawing is
time the scheduler spends per campaign per day. The baseline, measured in the same run and the
same process, is the least any PNG costs on that canvas: a Figure of the same size with one
point on one axis. Draws alternate between the two, so both see the same load on the machine.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import date, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bench.common import Outcome, median, percentile
from bot.blocks.chart import DPI, HEIGHT_INCHES, WIDTH_INCHES, daily_chart_png
from bot.reports import DayPoint

DRAWS = 20
MAX_MEDIAN_SECONDS = 1.0
LAST_DAY = date(2026, 12, 3)
TITLE = "Solar – Spring Re-engagement · calls and success rate, last 14 days"
# A fortnight with a weekend lull, a day NLPearl could not report and a missing rate.
CALLS = [80, 95, 0, None, 120, 140, 60, 88, 101, 130, 150, 77, 99, 110]
RATES = [12.5, 10.0, None, None, 14.0, 15.2, 8.0, 11.0, None, 13.0, 12.0, 9.5, 10.1, 12.3]
FORTNIGHT = [
    DayPoint(LAST_DAY - timedelta(days=13 - n), calls, rate)
    for n, (calls, rate) in enumerate(zip(CALLS, RATES, strict=True))
]


def _chart() -> bytes:
    return daily_chart_png(FORTNIGHT, title=TITLE)


def _one_point() -> bytes:
    """The baseline: the same size of PNG on the same canvas, with next to nothing on it."""
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.add_subplot().plot([0], [0])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _timed(draw: Callable[[], bytes]) -> float:
    started = time.perf_counter()
    draw()
    return time.perf_counter() - started


def run() -> Outcome:
    """One warm-up of each, then DRAWS timed draws of each, alternating."""
    began = time.perf_counter()
    first_chart = _timed(_chart)
    first_baseline = _timed(_one_point)
    charts: list[float] = []
    baselines: list[float] = []
    for _ in range(DRAWS):
        charts.append(_timed(_chart))
        baselines.append(_timed(_one_point))
    chart_ms = [seconds * 1000 for seconds in charts]
    baseline_ms = [seconds * 1000 for seconds in baselines]
    chart_median = median(chart_ms)
    baseline_median = median(baseline_ms)
    png = _chart()
    passed = chart_median < MAX_MEDIAN_SECONDS * 1000

    def spread(values: list[float]) -> str:
        return (
            f"{median(values):.0f} / {percentile(values, 0.9):.0f} / {max(values):.0f} ms "
            f"(min {min(values):.0f})"
        )

    return Outcome(
        title="Chart drawing",
        measures=(
            "How long the daily digest's 14-day chart (calls as bars, success rate as a line on "
            "a second axis, 800 × 360 px) takes to draw as a PNG with matplotlib's Agg canvas."
        ),
        method=(
            f"In the benchmark's own process, no server: one warm-up draw of each, then {DRAWS} "
            f"draws of the chart alternating with {DRAWS} of the baseline, each timed from the "
            f"call to the PNG's bytes. The baseline, in the same run and process, is a Figure of "
            f"the same size on the same Agg canvas with one point on one axis, saved as PNG: "
            f"what any PNG of that size costs."
        ),
        goal=(
            f"14-day chart median < {MAX_MEDIAN_SECONDS:.0f} s; the ratio to the one-point "
            f"baseline is reported."
        ),
        passed=passed,
        figures=[
            ("Chart draws timed (after one warm-up)", f"{DRAWS}, 14 days, one gap, PNG"),
            ("Chart median / p90 / max", spread(chart_ms)),
            (f"Baseline: one-point Figure, median / p90 / max ({DRAWS})", spread(baseline_ms)),
            ("Chart median / baseline median", f"{chart_median / baseline_median:.2f}×"),
            (
                "First draw after import, chart; baseline",
                f"{first_chart * 1000:.0f} ms; {first_baseline * 1000:.0f} ms",
            ),
            ("Chart PNG size", f"{len(png):,} bytes"),
        ],
        notes=[
            "The chart's first draw in a process also loads its font; the scheduler pays that "
            "once, not per digest.",
        ],
        seconds=time.perf_counter() - began,
    )
