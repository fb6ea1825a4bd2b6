"""The Windows time-zone names NLPearl accepts, grouped and labelled for the forms' picker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

import pytest
from tzlocal.windows_tz import win_tz

from bot.parsing import time_zones
from bot.parsing.time_zones import (
    REGION_ORDER,
    WINDOWS_ZONES,
    format_offset,
    is_windows_zone,
    zone_groups,
)

WINTER = datetime(2026, 1, 15, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, tzinfo=UTC)


def labels(now: datetime) -> dict[str, str]:
    return {name: label for _, zones in zone_groups(now) for name, label in zones}


def test_the_names_are_tzlocal_s_windows_zones_sorted() -> None:
    assert list(WINDOWS_ZONES) == sorted(win_tz)
    assert len(WINDOWS_ZONES) > 100
    assert "Pacific Standard Time" in WINDOWS_ZONES


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("Pacific Standard Time", True),
        ("UTC", True),
        ("pacific standard time", False),
        ("America/Los_Angeles", False),
        ("-8.0", False),
        ("", False),
    ],
)
def test_only_exact_windows_names_are_zones(name: str, known: bool) -> None:
    assert is_windows_zone(name) is known


def test_every_zone_is_offered_once_in_a_known_region() -> None:
    groups = zone_groups(WINTER)
    names = [name for _, zones in groups for name, _ in zones]
    assert sorted(names) == list(WINDOWS_ZONES)
    assert [region for region, _ in groups] == [r for r in REGION_ORDER if r in dict(groups)]


def test_regions_follow_the_iana_name() -> None:
    regions = {name: region for region, zones in zone_groups(WINTER) for name, _ in zones}
    assert regions["Pacific Standard Time"] == "Americas"
    assert regions["W. Europe Standard Time"] == "Europe"
    assert regions["South Africa Standard Time"] == "Africa"
    assert regions["Tokyo Standard Time"] == "Asia"
    assert regions["AUS Eastern Standard Time"] == "Australia & Pacific"
    assert regions["Hawaiian Standard Time"] == "Australia & Pacific"
    assert regions["UTC"] == "Other"
    assert regions["Azores Standard Time"] == "Other"


def test_labels_show_the_offset_at_the_moment_daylight_saving_included() -> None:
    assert labels(WINTER)["Pacific Standard Time"] == "(UTC−08:00) Pacific Standard Time"
    assert labels(SUMMER)["Pacific Standard Time"] == "(UTC−07:00) Pacific Standard Time"
    assert labels(WINTER)["India Standard Time"] == "(UTC+05:30) India Standard Time"
    assert labels(WINTER)["GMT Standard Time"] == "(UTC+00:00) GMT Standard Time"
    assert labels(WINTER)["Nepal Standard Time"] == "(UTC+05:45) Nepal Standard Time"


def test_a_naive_moment_is_read_as_utc() -> None:
    assert labels(WINTER.replace(tzinfo=None)) == labels(WINTER)


@pytest.mark.parametrize("now", [WINTER, SUMMER])
def test_groups_fit_a_static_select_and_sort_by_offset_then_name(now: datetime) -> None:
    groups = zone_groups(now)
    assert len(groups) <= 100
    for _, zones in groups:
        assert 0 < len(zones) <= 100
        assert all(0 < len(label) <= 75 and len(name) <= 150 for name, label in zones)
        keys = [(_offset_of(label), name) for name, label in zones]
        assert keys == sorted(keys)


def _offset_of(label: str) -> int:
    sign = -1 if label[4] == "−" else 1
    return sign * (int(label[5:7]) * 60 + int(label[8:10]))


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (timedelta(hours=-8), "UTC−08:00"),
        (timedelta(hours=5, minutes=30), "UTC+05:30"),
        (timedelta(0), "UTC+00:00"),
        (timedelta(hours=-9, minutes=-30), "UTC−09:30"),
        (timedelta(hours=14), "UTC+14:00"),
    ],
)
def test_offsets_are_written_as_windows_writes_them(offset: timedelta, text: str) -> None:
    assert format_offset(offset) == text


def test_a_zone_this_machine_cannot_load_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    real = time_zones.ZoneInfo

    def picky(key: str) -> object:
        if key == win_tz["Pacific Standard Time"]:
            raise ZoneInfoNotFoundError(key)
        return real(key)

    monkeypatch.setattr(time_zones, "ZoneInfo", picky)
    names = [name for _, zones in zone_groups(WINTER) for name, _ in zones]
    assert "Pacific Standard Time" not in names
    assert len(names) == len(WINDOWS_ZONES) - 1
