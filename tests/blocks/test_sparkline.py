"""The campaign card's fortnight: sparklines that never raise and say what they show."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.blocks.campaign_card import campaign_card
from bot.blocks.ids import CampaignRef
from bot.blocks.sparkline import BARS, GAP, fortnight_lines, sparkline
from bot.nlpearl.models import Pearl
from bot.reports import DayPoint
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message

LAST = date(2026, 12, 3)


def _days(calls: list[int | None], rates: list[float | None]) -> list[DayPoint]:
    return [
        DayPoint(LAST - timedelta(days=len(calls) - 1 - n), c, r)
        for n, (c, r) in enumerate(zip(calls, rates, strict=True))
    ]


def test_bars_scale_to_the_largest_value_and_dots_mark_unknown_days() -> None:
    assert sparkline([0, 50, 100, None]) == f"{BARS[0]}{BARS[4]}{BARS[-1]}{GAP}"


def test_rates_scale_to_a_hundred_percent_not_to_the_best_day() -> None:
    assert sparkline([10.0, 20.0], top=100.0) == f"{BARS[1]}{BARS[1]}"


def test_all_zero_days_are_flat_and_no_days_are_empty() -> None:
    assert sparkline([0, 0, 0]) == BARS[0] * 3
    assert sparkline([]) == ""


def test_the_fortnight_names_yesterdays_figures_and_only_those() -> None:
    lines = fortnight_lines(_days([80, None, 112], [10.0, 12.0, None]))
    assert lines is not None
    assert "112 yesterday" in lines
    # An older day's rate would read as yesterday's.
    assert "— yesterday" in lines
    assert "12%" not in lines


def test_no_figures_at_all_means_no_fortnight() -> None:
    assert fortnight_lines(_days([None, None], [None, None])) is None
    assert fortnight_lines([]) is None


def test_the_card_shows_the_fortnight_above_its_buttons() -> None:
    card = campaign_card(
        Pearl(id="p1", name="Solar", status=1),
        campaign_id="p1",
        account=None,
        last_webhook=None,
        now=None,  # type: ignore[arg-type]
        ref=CampaignRef(campaign_id="p1"),
        days=_days([5, 9], [50.0, 60.0]),
    )
    text = str(card["blocks"])
    assert "Last 2 days" in text
    assert "9 yesterday" in text
    assert_valid_message(card)


numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30).map(float),
)


@settings(max_examples=100)
@given(st.lists(numbers, max_size=30), st.one_of(st.none(), st.floats(allow_nan=True)))
def test_any_numbers_make_one_character_per_day(
    values: list[float | None], top: float | None
) -> None:
    line = sparkline(values, top=top)
    assert len(line) == len(values)
    assert set(line) <= set(BARS) | {GAP}


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(st.one_of(st.none(), st.integers(-(10**12), 10**12)), numbers),
        max_size=14,
    )
)
def test_any_fortnight_fits_the_card(pairs: list[tuple[int | None, float | None]]) -> None:
    days = _days([c for c, _ in pairs], [r for _, r in pairs])
    card = campaign_card(
        Pearl(id="p1", name="<!channel> <https://evil|x>", status=1),
        campaign_id="p1",
        account=None,
        last_webhook=None,
        now=None,  # type: ignore[arg-type]
        ref=CampaignRef(campaign_id="p1"),
        days=days,
    )
    assert_valid_message(card)
    assert_no_injection(card)


def test_an_unusable_top_falls_back_to_the_largest_value() -> None:
    assert sparkline([1.0, 2.0], top=float("nan")) == f"{BARS[4]}{BARS[-1]}"
    assert sparkline([1.0, 2.0], top=float("inf")) == f"{BARS[4]}{BARS[-1]}"
