"""Times of day: reading "HH:MM"-ish text, and when a daily post is next due across DST."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.parsing.schedule import (
    last_due,
    local_day_bounds,
    next_due,
    parse_time_of_day,
    report_day,
    zone_or_utc,
)

# Whole hours, half and quarter hours, both hemispheres, midnight transitions (Santiago,
# Havana), a 30-minute DST (Lord Howe), a 2-hour DST (Troll), and no DST at all.
ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Santiago",
    "America/Havana",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Antarctica/Troll",
]
CLOCK = re.compile(r"[0-9]{2}:[0-9]{2}")
PROPERTIES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

zones = st.sampled_from(ZONES)
times_of_day = st.times().map(lambda t: f"{t.hour:02d}:{t.minute:02d}")
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2037, 12, 31))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A UTC moment."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(moment: datetime, zone: str) -> datetime:
    """The moment on the zone's clock, as a naive wall time."""
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def skipped(wall: datetime, zone: str) -> bool:
    """Whether DST skips this wall time in the zone (it does not survive a round trip)."""
    aware = wall.replace(tzinfo=ZoneInfo(zone))
    return aware.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) != wall


def gap_length(wall: datetime, zone: str) -> timedelta:
    """How far the clock jumps over a skipped wall time."""
    after = wall.replace(tzinfo=ZoneInfo(zone), fold=1).utcoffset()
    before = wall.replace(tzinfo=ZoneInfo(zone), fold=0).utcoffset()
    assert after is not None
    assert before is not None
    return after - before


# Reading a time of day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9", "09:00"),
        ("0", "00:00"),
        ("9:30", "09:30"),
        ("09:30", "09:30"),
        ("09.30", "09:30"),
        ("9h30", "09:30"),
        ("9H30", "09:30"),
        ("930", "09:30"),
        ("2100", "21:00"),
        ("21:00", "21:00"),
        ("23:59", "23:59"),
        ("00:00", "00:00"),
        ("9am", "09:00"),
        ("9 AM", "09:00"),
        ("9a.m.", "09:00"),
        ("12am", "00:00"),
        ("12:30am", "00:30"),
        ("12pm", "12:00"),
        ("12:15pm", "12:15"),
        ("1pm", "13:00"),
        ("9:30pm", "21:30"),
        ("9:30 p.m.", "21:30"),
        ("  17:30  ", "17:30"),
    ],
)
def test_times_of_day_are_read_as_24_hour_clock_times(text: str, expected: str) -> None:
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "24:00",
        "25",
        "13pm",
        "0am",
        "00pm",
        "9:60",
        "9:5",
        "9 30",
        "9h",
        "9:30:00",
        "123:00",
        "-9",
        "",
        "   ",
        "nine",
        "9 o'clock",
        "noon",
        "9pmm",
        "T09:00",
    ],
)
def test_anything_else_is_not_a_time_of_day(text: str) -> None:
    assert parse_time_of_day(text) is None


@PROPERTIES
@given(st.text(max_size=40))
@example("٩:٣٠")  # Arabic-Indic digits
@example("9\n")
@example("9:30\npm")
@example("\x00")
def test_any_text_reads_as_a_clock_time_or_nothing(text: str) -> None:
    found = parse_time_of_day(text)

    if found is not None:
        assert CLOCK.fullmatch(found), found
        hour, minute = (int(part) for part in found.split(":"))
        assert 0 <= hour <= 23
        assert 0 <= minute <= 59
        assert parse_time_of_day(found) == found


@PROPERTIES
@given(st.integers(0, 23), st.integers(0, 59))
def test_every_clock_time_reads_the_same_in_each_spelling(hour: int, minute: int) -> None:
    expected = f"{hour:02d}:{minute:02d}"
    half = "am" if hour < 12 else "pm"
    twelve = hour % 12 or 12

    assert parse_time_of_day(f"{hour}:{minute:02d}") == expected
    assert parse_time_of_day(f"{hour:02d}{minute:02d}") == expected
    assert parse_time_of_day(f"{hour}h{minute:02d}") == expected
    assert parse_time_of_day(f"{twelve}:{minute:02d}{half}") == expected
    assert parse_time_of_day(f"{twelve}:{minute:02d} {half.upper()}") == expected


# Zones


@pytest.mark.parametrize(
    "name",
    [None, "", "Mars/Olympus", "America", "Etc", "../etc/passwd", "/etc/localtime", "a" * 300],
)
def test_a_zone_this_machine_cannot_read_is_utc(name: str | None) -> None:
    assert zone_or_utc(name) == ZoneInfo("UTC")


@pytest.mark.parametrize("name", ZONES)
def test_a_known_zone_is_itself(name: str) -> None:
    assert zone_or_utc(name).key == name


@PROPERTIES
@given(st.text(max_size=80))
@example("\ud800")
@example("America/")
def test_any_zone_name_gives_a_zone(name: str) -> None:
    assert isinstance(zone_or_utc(name), ZoneInfo)


# When a daily post is next due


def test_the_next_time_is_later_the_same_day_when_it_has_not_come_yet() -> None:
    # 08:00 in Paris (UTC+1 in winter).
    after = utc(2026, 1, 15, 7, 0)

    assert next_due("09:00", "Europe/Paris", after) == utc(2026, 1, 15, 8, 0)


def test_the_next_time_is_tomorrow_once_it_has_passed() -> None:
    after = utc(2026, 1, 15, 8, 0, 1)

    assert next_due("09:00", "Europe/Paris", after) == utc(2026, 1, 16, 8, 0)


def test_the_next_time_is_strictly_after_the_moment_given() -> None:
    at_nine = utc(2026, 1, 15, 8, 0)

    assert next_due("09:00", "Europe/Paris", at_nine) == utc(2026, 1, 16, 8, 0)


def test_the_next_time_is_on_the_local_day_not_the_utc_day() -> None:
    # 23:30 on the 14th in Los Angeles is already the 15th in UTC.
    after = utc(2026, 1, 15, 7, 30)

    due = next_due("23:45", "America/Los_Angeles", after)

    assert local(due, "America/Los_Angeles") == datetime(2026, 1, 14, 23, 45)


def test_a_time_skipped_by_dst_comes_as_far_past_the_gap() -> None:
    # New York skips 02:00-03:00 on 2026-03-08.
    after = utc(2026, 3, 8, 5, 0)

    due = next_due("02:30", "America/New_York", after)

    assert local(due, "America/New_York") == datetime(2026, 3, 8, 3, 30)
    assert due == utc(2026, 3, 8, 7, 30)
    # The day after, it is back on the clock.
    assert local(next_due("02:30", "America/New_York", due), "America/New_York") == datetime(
        2026, 3, 9, 2, 30
    )


@pytest.mark.parametrize(
    ("zone", "day", "at_time", "wall"),
    [
        # A 30-minute gap, 02:00-02:30.
        ("Australia/Lord_Howe", date(2026, 10, 4), "02:15", datetime(2026, 10, 4, 2, 45)),
        # A 2-hour gap, 01:00-03:00 (an hour added by hand landed at 00:30, before the gap).
        ("Antarctica/Troll", date(2026, 3, 29), "01:30", datetime(2026, 3, 29, 3, 30)),
        # Midnight itself skipped: Santiago goes from 00:00 straight to 01:00.
        ("America/Santiago", date(2026, 9, 6), "00:00", datetime(2026, 9, 6, 1, 0)),
    ],
)
def test_a_gap_of_any_length_moves_the_time_on_by_its_length(
    zone: str, day: date, at_time: str, wall: datetime
) -> None:
    start_of_day = datetime.combine(day, time(0, 0)) - timedelta(hours=1)
    after = start_of_day.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)

    due = next_due(at_time, zone, after)

    assert local(due, zone) == wall


def test_a_time_repeated_by_dst_comes_at_its_first_occurrence() -> None:
    # New York reads 01:00-02:00 twice on 2026-11-01: first EDT (UTC-4), then EST (UTC-5).
    after = utc(2026, 11, 1, 4, 0)

    due = next_due("01:30", "America/New_York", after)

    assert due == utc(2026, 11, 1, 5, 30)
    assert due.astimezone(ZoneInfo("America/New_York")).fold == 0


def test_between_the_two_occurrences_the_next_is_tomorrows() -> None:
    between = utc(2026, 11, 1, 6, 0)

    due = next_due("01:30", "America/New_York", between)

    assert local(due, "America/New_York") == datetime(2026, 11, 2, 1, 30)


def test_an_unknown_zone_schedules_in_utc() -> None:
    after = utc(2026, 1, 15, 10, 0)

    assert next_due("09:00", "Nowhere/Atlantis", after) == utc(2026, 1, 16, 9, 0)
    assert next_due("09:00", "America", after) == utc(2026, 1, 16, 9, 0)


@PROPERTIES
@given(times_of_day, zones, moments)
@example("02:30", "America/New_York", utc(2026, 3, 8, 5, 0))
@example("01:30", "America/New_York", utc(2026, 11, 1, 5, 45))
@example("02:15", "Australia/Lord_Howe", utc(2026, 10, 3, 14, 0))
@example("01:30", "Antarctica/Troll", utc(2026, 3, 28, 23, 0))
@example("00:00", "America/Santiago", utc(2026, 9, 6, 2, 0))
@example("23:59", "Pacific/Chatham", utc(2026, 4, 4, 13, 0))
def test_the_next_time_is_the_first_one_on_the_local_clock(
    at_time: str, zone: str, after: datetime
) -> None:
    due = next_due(at_time, zone, after)

    assert due.utcoffset() == timedelta(0)
    assert after < due <= after + timedelta(hours=48)
    wall = local(due, zone)
    at = time.fromisoformat(at_time)
    if wall.time() == at:
        day = wall.date()
        # The first of two readings, when DST repeats the hour.
        assert due.astimezone(ZoneInfo(zone)).fold == 0
    else:
        # Only a time DST skipped is missed, and then the clock reads it as far past the gap.
        (day,) = [
            d
            for d in (wall.date() - timedelta(days=1), wall.date())
            if skipped(datetime.combine(d, at), zone)
            and wall == datetime.combine(d, at) + gap_length(datetime.combine(d, at), zone)
        ]
    # It is the first: the day before's reading had come by `after`.
    before = datetime.combine(day - timedelta(days=1), at, tzinfo=ZoneInfo(zone))
    assert before.astimezone(UTC) <= after


# The day a digest reports on, and a local day's span


@pytest.mark.parametrize(
    ("due_at", "zone", "expected"),
    [
        (utc(2026, 3, 8, 13, 0), "America/New_York", date(2026, 3, 7)),
        # 09:00 on New Year's Day in Tokyo is still New Year's Eve in UTC.
        (utc(2026, 1, 1, 0, 0), "Asia/Tokyo", date(2025, 12, 31)),
        # 18:00 on the 1st in Los Angeles is the 2nd in UTC.
        (utc(2026, 1, 2, 2, 0), "America/Los_Angeles", date(2025, 12, 31)),
        (utc(2026, 1, 2, 2, 0), "Nowhere/Atlantis", date(2026, 1, 1)),
    ],
)
def test_a_digest_reports_on_the_local_day_before_it_is_due(
    due_at: datetime, zone: str, expected: date
) -> None:
    assert report_day(due_at, zone) == expected


@PROPERTIES
@given(times_of_day, zones, moments)
def test_a_digest_reports_on_the_day_before_the_one_it_is_due(
    at_time: str, zone: str, after: datetime
) -> None:
    due = next_due(at_time, zone, after)

    assert report_day(due, zone) == local(due, zone).date() - timedelta(days=1)


@pytest.mark.parametrize(
    ("zone", "day", "hours", "starts_at"),
    [
        ("America/New_York", date(2026, 6, 1), 24, time(0, 0)),
        ("America/New_York", date(2026, 3, 8), 23, time(0, 0)),
        ("America/New_York", date(2026, 11, 1), 25, time(0, 0)),
        ("Europe/London", date(2026, 3, 29), 23, time(0, 0)),
        ("Europe/London", date(2026, 10, 25), 25, time(0, 0)),
        ("Australia/Lord_Howe", date(2026, 10, 4), 23.5, time(0, 0)),
        ("Antarctica/Troll", date(2026, 3, 29), 22, time(0, 0)),
        # Midnight is skipped: the day starts at 01:00.
        ("America/Santiago", date(2026, 9, 6), 23, time(1, 0)),
        ("UTC", date(2026, 3, 8), 24, time(0, 0)),
    ],
)
def test_a_local_day_spans_23_24_or_25_hours_across_dst(
    zone: str, day: date, hours: float, starts_at: time
) -> None:
    start, end = local_day_bounds(day, zone)

    assert start.utcoffset() == end.utcoffset() == timedelta(0)
    assert end - start == timedelta(hours=hours)
    assert local(start, zone) == datetime.combine(day, starts_at)
    assert local(end, zone).date() == day + timedelta(days=1)


def test_an_unknown_zones_day_is_a_utc_day() -> None:
    assert local_day_bounds(date(2026, 3, 8), "Nowhere/Atlantis") == (
        utc(2026, 3, 8, 0, 0),
        utc(2026, 3, 9, 0, 0),
    )


@PROPERTIES
@given(zones, moments)
@example("America/Santiago", utc(2026, 9, 6, 4, 0))
@example("America/Havana", utc(2026, 11, 1, 4, 30))
@example("America/Havana", utc(2026, 11, 1, 5, 30))
def test_local_days_tile_time_and_hold_their_moments(zone: str, moment: datetime) -> None:
    day = local(moment, zone).date()

    start, end = local_day_bounds(day, zone)

    assert start <= moment < end
    assert timedelta(hours=22) <= end - start <= timedelta(hours=26)
    assert local_day_bounds(day + timedelta(days=1), zone)[0] == end
    assert local_day_bounds(day - timedelta(days=1), zone)[1] == start


def test_the_last_due_moment_after_downtime_is_the_latest_local_nine_even_across_dst() -> None:
    """Back on the morning clocks went forward: the 09:00 BST just passed, not Saturday's."""
    back = datetime(2026, 3, 29, 8, 30, tzinfo=UTC)
    assert last_due("09:00", "Europe/London", back) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    earlier = datetime(2026, 3, 29, 7, 59, tzinfo=UTC)
    assert last_due("09:00", "Europe/London", earlier) == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    exactly = datetime(2026, 3, 29, 9, 0, tzinfo=UTC)
    assert last_due("09:00", "UTC", exactly) == exactly
