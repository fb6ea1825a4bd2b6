"""Lead data as people read it: phone numbers, names, local times, durations and answers."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.values import (
    MASK,
    format_duration,
    format_phone,
    format_value,
    humanize_key,
    lead_name,
    lead_zone,
    local_time,
    mask_phone,
    utc_offset_label,
)
from bot.nlpearl.models import Lead

# A Friday, 18:42 UTC.
NOW = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)


def lead_with(call_data: dict[str, Any]) -> Lead:
    return Lead.model_validate({"id": "6650f1c2a9e4b27d3c8e41a7", "callData": call_data})


# format_phone / mask_phone


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("+14155550137", "+1 415-555-0137"),
        ("+1 (415) 555-0137", "+1 415-555-0137"),
        ("+442071838750", "+44 20 7183 8750"),
        ("+972501234567", "+972 50-123-4567"),
    ],
)
def test_format_phone_writes_numbers_as_people_do(number: str, shown: str) -> None:
    assert format_phone(number) == shown


@pytest.mark.parametrize("number", ["not a number", "4155550137", "12"])
def test_format_phone_leaves_what_it_cannot_parse(number: str) -> None:
    assert format_phone(number) == number


@pytest.mark.parametrize("number", [None, ""])
def test_format_phone_of_nothing_is_none(number: str | None) -> None:
    assert format_phone(number) is None


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+14155550137", "•••• 0137"),
        ("+1 (415) 555-0137", "•••• 0137"),
        ("4155550137", "•••• 0137"),
        ("+442071838750", "•••• 8750"),
    ],
)
def test_mask_phone_keeps_only_the_last_four_digits(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


@pytest.mark.parametrize("number", ["1234", "+1", "abc", "12"])
def test_mask_phone_hides_short_numbers_entirely(number: str) -> None:
    assert mask_phone(number) == MASK


@pytest.mark.parametrize("number", [None, ""])
def test_mask_phone_of_nothing_is_none(number: str | None) -> None:
    assert mask_phone(number) is None


# lead_name


@pytest.mark.parametrize(
    ("call_data", "name"),
    [
        ({"firstName": "Maria", "lastName": "Gonzalez"}, "Maria Gonzalez"),
        ({"FIRSTNAME": " Maria ", "LastName": "Gonzalez "}, "Maria Gonzalez"),
        ({"firstname": "Maria", "lastname": "Gonzalez"}, "Maria Gonzalez"),
        ({"first_name": "Maria", "last_name": "Gonzalez"}, "Maria Gonzalez"),
        ({"First_Name": "Maria"}, "Maria"),
        ({"lastName": "Gonzalez"}, "Gonzalez"),
        ({"firstName": "Maria", "lastName": None}, "Maria"),
        ({"name": "Maria Gonzalez"}, "Maria Gonzalez"),
        ({"Name": "  Maria  "}, "Maria"),
        ({"fullName": "Maria G."}, "Maria G."),
        ({"full_name": "Maria G."}, "Maria G."),
        ({"contactName": "Maria G."}, "Maria G."),
        ({"firstName": "Maria", "name": "Other"}, "Maria"),
        ({"firstName": 42, "name": "From name"}, "From name"),
        ({"firstName": "  ", "lastName": "", "name": "From name"}, "From name"),
        ({"firstName": "مريم", "lastName": "الحسيني"}, "مريم الحسيني"),
    ],
)
def test_lead_name_from_call_data(call_data: dict[str, Any], name: str) -> None:
    assert lead_name(lead_with(call_data)) == name


@pytest.mark.parametrize(
    "call_data",
    [{}, {"plan": "Pro"}, {"firstName": "  ", "name": ""}, {"name": 5}, {"name": ["a"]}],
)
def test_lead_name_none_when_no_name_is_given(call_data: dict[str, Any]) -> None:
    assert lead_name(lead_with(call_data)) is None


# lead_zone / local_time


@pytest.mark.parametrize(
    ("time_zone", "offset"),
    [
        ("-5.0", timedelta(hours=-5)),
        ("+5.5", timedelta(hours=5, minutes=30)),
        ("5.5", timedelta(hours=5, minutes=30)),
        ("5:30", timedelta(hours=5, minutes=30)),
        ("-3:30", timedelta(hours=-3, minutes=-30)),
        ("UTC+2", timedelta(hours=2)),
        ("utc-8", timedelta(hours=-8)),
        ("GMT+5:45", timedelta(hours=5, minutes=45)),
        ("-8.0", timedelta(hours=-8)),
        (" -8 ", timedelta(hours=-8)),
        ("+14", timedelta(hours=14)),
        ("0", timedelta(0)),
        ("-0", timedelta(0)),
        ("UTC", timedelta(0)),
    ],
)
def test_lead_zone_reads_hour_offsets(time_zone: str, offset: timedelta) -> None:
    zone = lead_zone(time_zone)
    assert zone is not None
    assert zone.utcoffset(NOW) == offset


def test_lead_zone_reads_zone_names() -> None:
    assert lead_zone("America/New_York") == ZoneInfo("America/New_York")
    assert lead_zone("Asia/Kolkata") == ZoneInfo("Asia/Kolkata")
    assert lead_zone("America/Argentina/Buenos_Aires") == ZoneInfo("America/Argentina/Buenos_Aires")
    assert lead_zone("Etc/GMT+5") == ZoneInfo("Etc/GMT+5")


@pytest.mark.parametrize(
    "time_zone",
    [
        None,
        "",
        "   ",
        "garbage",
        "Mars/Olympus_Mons",
        "America",
        "../../etc/passwd",
        "/etc/localtime",
        "+20",
        "-20",
        "14.5",
        "UTC+99",
        "Europe/London\x00",
        "x" * 500,
        # zoneinfo imports a package per part: this name once overflowed the stack.
        "a/" * 400 + "b",
        "Europe/Paris" + "/x" * 300,
    ],
)
def test_lead_zone_none_for_unreadable_or_out_of_range(time_zone: str | None) -> None:
    assert lead_zone(time_zone) is None
    assert local_time(time_zone, NOW) is None


@pytest.mark.parametrize(
    ("time_zone", "shown"),
    [
        ("-8.0", "🕘 Fri 10:42 AM (UTC−8)"),
        ("-5.0", "🕘 Fri 1:42 PM (UTC−5)"),
        ("America/New_York", "🕘 Fri 1:42 PM (UTC−5)"),
        ("0", "🕘 Fri 6:42 PM (UTC)"),
        ("-3:30", "🕘 Fri 3:12 PM (UTC−3:30)"),
    ],
)
def test_local_time_in_calling_hours(time_zone: str, shown: str) -> None:
    assert local_time(time_zone, NOW) == shown


@pytest.mark.parametrize(
    ("time_zone", "shown"),
    [
        ("+5.5", "🌙 Sat 12:12 AM (UTC+5:30) · outside calling hours"),
        ("5:30", "🌙 Sat 12:12 AM (UTC+5:30) · outside calling hours"),
        ("UTC+2", "🌙 Fri 8:42 PM (UTC+2) · outside calling hours"),
        ("+9", "🌙 Sat 3:42 AM (UTC+9) · outside calling hours"),
    ],
)
def test_local_time_outside_calling_hours(time_zone: str, shown: str) -> None:
    assert local_time(time_zone, NOW) == shown


def test_local_time_follows_daylight_saving_for_named_zones() -> None:
    summer = datetime(2026, 7, 10, 14, 0, tzinfo=UTC)
    assert local_time("America/New_York", summer) == "🕘 Fri 10:00 AM (UTC−4)"


@pytest.mark.parametrize(
    ("hour", "polite"),
    [(8, False), (9, True), (12, True), (19, True), (20, False), (23, False), (0, False)],
)
def test_calling_hours_are_nine_to_eight(hour: int, polite: bool) -> None:
    moment = datetime(2026, 11, 27, hour, 59, tzinfo=UTC)
    shown = local_time("0", moment)
    assert shown is not None
    assert ("outside calling hours" not in shown) is polite


def test_utc_offset_label() -> None:
    assert utc_offset_label(NOW) == "UTC"
    assert utc_offset_label(NOW.astimezone(ZoneInfo("Asia/Kathmandu"))) == "UTC+5:45"
    assert utc_offset_label(NOW.astimezone(ZoneInfo("America/St_Johns"))) == "UTC−3:30"


# format_duration


@pytest.mark.parametrize("seconds", [0, 0.0, None, -1, -142.5])
def test_format_duration_none_when_no_time_passed(seconds: float | None) -> None:
    assert format_duration(seconds) is None


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (1, "1s"),
        (45, "45s"),
        (59, "59s"),
        (60, "1m 00s"),
        (142, "2m 22s"),
        (141.6, "2m 22s"),
        (3599, "59m 59s"),
        (3600, "1h 00m"),
        (3780, "1h 03m"),
        (7322, "2h 02m"),
    ],
)
def test_format_duration(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


# format_value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (True, "✅ Yes"),
        (False, "❌ No"),
        (0, "0"),
        (12, "12"),
        (-3, "-3"),
        (10**20, "100000000000000000000"),
        (182.5, "182.5"),
        (3.0, "3"),
        (-0.25, "-0.25"),
        (0.0, "0"),
        ("Thursday", "Thursday"),
        ("  padded  ", "padded"),
        ("", "—"),
        ("   ", "—"),
        ([], "[]"),
        ({}, "{}"),
        (["a", 1, True, None], '["a", 1, true, null]'),
        ({"day": "Thu", "slots": [9, 10.5]}, '{"day": "Thu", "slots": [9, 10.5]}'),
        ({"nested": {"deep": [{"x": False}]}}, '{"nested": {"deep": [{"x": false}]}}'),
        ({"name": "José 🙂"}, '{"name": "José 🙂"}'),
    ],
)
def test_format_value_for_every_json_type(value: Any, shown: str) -> None:
    assert format_value(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf")],
)
def test_format_value_of_non_finite_floats(value: float, shown: str) -> None:
    assert format_value(value) == shown


def test_format_value_of_nested_non_finite_floats_does_not_fail() -> None:
    assert format_value({"x": math.nan, "y": [math.inf]}) == '{"x": NaN, "y": [Infinity]}'


def test_format_value_of_a_non_json_object_falls_back_to_text() -> None:
    moment = datetime(2025, 3, 4, tzinfo=UTC)
    assert format_value({"at": moment}) == '{"at": "2025-03-04 00:00:00+00:00"}'


def test_format_value_is_compact_json_not_python_repr() -> None:
    shown = format_value({"ok": True, "none": None})
    assert "True" not in shown
    assert "None" not in shown
    assert "'" not in shown


# humanize_key


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("preferredDay", "Preferred day"),
        ("roof_age", "Roof age"),
        ("roof-age", "Roof age"),
        ("wantsBattery", "Wants battery"),
        ("monthly_bill_usd", "Monthly bill usd"),
        ("address2Line", "Address2 line"),
        ("plan", "Plan"),
        ("x", "X"),
        ("  spaced   out  ", "Spaced out"),
        ("", ""),
        ("___", "___"),
        ("--", "--"),
    ],
)
def test_humanize_key(key: str, label: str) -> None:
    assert humanize_key(key) == label
