"""The digest's chart: a PNG of calls and success rate per day, and its alt text."""

from __future__ import annotations

import io
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.blocks.chart import daily_chart_png
from bot.blocks.days import chart_alt_text, day_name
from bot.reports import DayPoint
from tests.blocks.hostile import PROPERTIES, any_text

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIRST = date(2026, 11, 20)
TITLE = "Solar – Spring · last 14 days"
FORTNIGHT = [
    (80, 12.5),
    (95, 10.0),
    (0, None),
    (None, None),
    (120, 14.0),
    (140, 15.2),
    (60, 8.0),
    (88, 11.0),
    (101, None),
    (130, 13.0),
    (150, 12.0),
    (77, 9.5),
    (99, 10.1),
    (110, 12.3),
]
# Drawing takes a tenth of a second, so the property draws fewer examples than the others.
CHART_PROPERTIES = settings(PROPERTIES, max_examples=25)


def days(values: list[tuple[int | None, float | None]], first: date = FIRST) -> list[DayPoint]:
    return [
        DayPoint(first + timedelta(days=n), calls, rate) for n, (calls, rate) in enumerate(values)
    ]


def size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk, which always comes first."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


# the picture


def test_the_fortnight_is_an_800_by_360_png() -> None:
    png = daily_chart_png(days(FORTNIGHT), title=TITLE)

    assert size(png) == (800, 360)
    assert pixels(png).size == (800, 360)


@pytest.mark.parametrize(
    "values",
    [
        [],
        [(0, 0.0)] * 14,
        [(None, None)] * 14,
        [(3, None)],
        [(10**14, 100.0)] * 40,
        [(-5, -20.0), (2**70, float("nan")), (7, float("inf")), (8, 250.0)],
    ],
    ids=["empty", "zeros", "unknown", "one-day", "huge", "impossible"],
)
def test_any_days_give_a_picture(values: list[tuple[int | None, float | None]]) -> None:
    png = daily_chart_png(days(values), title=TITLE)

    assert size(png) == (800, 360)
    # Not blank: the title, the legend or the bars are drawn on the white.
    assert pixels(png).getextrema() != ((255, 255), (255, 255), (255, 255))


def test_the_same_days_give_the_same_bytes_and_others_differ() -> None:
    first = daily_chart_png(days(FORTNIGHT), title=TITLE)
    again = daily_chart_png(days(FORTNIGHT), title=TITLE)
    busier = daily_chart_png(days([(c * 2 if c else c, r) for c, r in FORTNIGHT]), title=TITLE)

    assert first == again
    assert busier != first
    assert daily_chart_png(days(FORTNIGHT), title="Another campaign") != first


def test_an_unknown_day_is_not_drawn_as_zero() -> None:
    unknown = daily_chart_png(days([(5, 10.0), (None, None), (5, 10.0)]), title=TITLE)
    zero = daily_chart_png(days([(5, 10.0), (0, 0.0), (5, 10.0)]), title=TITLE)

    assert unknown != zero


@pytest.mark.parametrize(
    "title",
    [r"$\frac$ and $\undefined$", r"$x^$ costs $5", "<!channel> *bold* `code`", "a\nb\u202eevil"],
)
def test_a_hostile_title_is_drawn_as_text(title: str) -> None:
    # Read as math text, each of the first two is a parse error and drawing would raise.
    png = daily_chart_png(days(FORTNIGHT), title=title)

    assert size(png) == (800, 360)


def test_characters_the_font_lacks_draw_without_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        daily_chart_png(days(FORTNIGHT), title="📊 Campaña 🇺🇸 \u200b 漢字 مرحبا")

    assert [str(w.message) for w in caught] == []


def test_a_long_title_is_cut_to_the_pictures_width() -> None:
    image = pixels(daily_chart_png(days(FORTNIGHT), title="W" * 500))

    title_band = image.crop((790, 0, 800, 40))
    assert title_band.getextrema() == ((255, 255), (255, 255), (255, 255))
    assert pixels(daily_chart_png([], title="W" * 500)).crop((0, 0, 60, 40)).getextrema() != (
        (255, 255),
        (255, 255),
        (255, 255),
    )


def test_threads_can_draw_at_once() -> None:
    inputs = [days(FORTNIGHT), days(FORTNIGHT[:7]), [], days([(1, 50.0)] * 14)]
    alone = [daily_chart_png(d, title=TITLE) for d in inputs]

    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda d: daily_chart_png(d, title=TITLE), inputs * 2))

    assert together == alone * 2


# Ints too large for a float, where a float or a count is expected, as untyped data might be.
huge = st.integers(0, 500).map(lambda exponent: 10**exponent)
counts = st.one_of(st.none(), st.integers(-(10**20), 10**20), huge)
rates = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), huge)


@CHART_PROPERTIES
@given(
    points=st.lists(st.tuples(counts, rates), max_size=60),
    first=st.dates(min_value=date(1, 1, 1), max_value=date(9000, 1, 1)),
    title=any_text,
)
def test_any_days_and_title_give_an_800_by_360_png(
    points: list[tuple[int | None, float | None]], first: date, title: str
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = daily_chart_png(days(points, first), title=title)

    assert size(png) == (800, 360)
    assert [str(w.message) for w in caught] == []
    assert len(chart_alt_text(days(points, first))) <= 2000


# the alt text


def test_the_alt_text_says_the_numbers_in_words() -> None:
    text = chart_alt_text(days(FORTNIGHT))

    assert text.startswith(
        "Chart of calls per day (bars) and success rate (line), 14 days from Fri 20 Nov to "
        "Thu 3 Dec 2026. 1,250 calls in all; the busiest day was Mon 30 Nov with 150. "
        "Success rate between 8% and 15%. Day by day: Fri 20 Nov 80 calls, 12% success; "
        "Sat 21 Nov 95 calls, 10% success; Sun 22 Nov 0 calls; Mon 23 Nov no data; "
    )
    assert "Sat 28 Nov 101 calls; " in text
    assert text.endswith("Thu 3 Dec 110 calls, 12% success.")


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ([], "No days to chart yet."),
        (
            [(0, 0.0)] * 2,
            "Chart of calls per day (bars) and success rate (line), 2 days from Fri 20 Nov to "
            "Sat 21 Nov 2026. No calls on any day. Success rate 0% every day. Day by day: "
            "Fri 20 Nov 0 calls, 0% success; Sat 21 Nov 0 calls, 0% success.",
        ),
        (
            [(None, None)],
            "Chart of calls per day (bars) and success rate (line), 1 day from Fri 20 Nov to "
            "Fri 20 Nov 2026. Day by day: Fri 20 Nov no data.",
        ),
        (
            [(None, 40.0), (-3, 250.0)],
            "Chart of calls per day (bars) and success rate (line), 2 days from Fri 20 Nov to "
            "Sat 21 Nov 2026. Success rate between 40% and 100%. Day by day: "
            "Fri 20 Nov calls unknown, 40% success; Sat 21 Nov calls unknown, 100% success.",
        ),
    ],
)
def test_the_alt_text_of_edge_cases(
    values: list[tuple[int | None, float | None]], words: str
) -> None:
    assert chart_alt_text(days(values)) == words


def test_the_alt_text_fits_slacks_limit() -> None:
    text = chart_alt_text(days([(10**14, 99.0)] * 400))

    assert len(text) == 2000
    assert text.endswith("…")


def test_days_are_named_short() -> None:
    assert day_name(date(2026, 12, 3)) == "Thu 3 Dec"
