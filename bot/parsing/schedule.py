"""Times of day in a person's time zone: read "HH:MM", and find when a daily post is next due."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_AT = "09:00"
FALLBACK_ZONE = "UTC"
# 9, 9:30, 09:30, 9.30, 9h30, 9am, 9:30pm, 21:00, 2100
_TIME = re.compile(
    r"^(?P<hour>\d{1,2})(?:[:.h]?(?P<minute>\d{2}))?\s*(?P<half>[ap]\.?m\.?)?$", re.IGNORECASE
)


def parse_time_of_day(text: str) -> str | None:
    """The time as "HH:MM" (24-hour), or None when it is not a time of day."""
    found = _TIME.match(text.strip())
    if found is None:
        return None
    hour, minute = int(found["hour"]), int(found["minute"] or 0)
    half = (found["half"] or "").lower()[:1]
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The IANA zone of this name, or UTC when Slack gave none or one this machine lacks."""
    try:
        return ZoneInfo(name or FALLBACK_ZONE)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a region such as "America" is a folder, and a very long name is no file name.
        return ZoneInfo(FALLBACK_ZONE)


def next_due(at_time: str, zone_name: str, after: datetime) -> datetime:
    """The first moment strictly after `after` when the local clock in the zone reads `at_time`."""
    zone = zone_or_utc(zone_name)
    hour, minute = (int(part) for part in at_time.split(":"))
    local_day = after.astimezone(zone).date()
    for offset in range(3):
        due = _local_moment(local_day + timedelta(days=offset), time(hour, minute), zone)
        if due > after:
            return due
    raise AssertionError("a local time of day always comes round within three days")


def last_due(at_time: str, zone_name: str, now: datetime) -> datetime:
    """The latest moment at or before `now` when the local clock in the zone read `at_time`."""
    zone = zone_or_utc(zone_name)
    hour, minute = (int(part) for part in at_time.split(":"))
    local_day = now.astimezone(zone).date()
    for offset in range(3):
        due = _local_moment(local_day - timedelta(days=offset), time(hour, minute), zone)
        if due <= now:
            return due
    raise AssertionError("a local time of day always came round within three days")


def report_day(due_at: datetime, zone_name: str) -> date:
    """The day a digest due at `due_at` reports on: the local day before."""
    return due_at.astimezone(zone_or_utc(zone_name)).date() - timedelta(days=1)


def local_day_bounds(day: date, zone_name: str) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of a local day, in UTC."""
    zone = zone_or_utc(zone_name)
    start = _local_moment(day, time(0, 0), zone)
    end = _local_moment(day + timedelta(days=1), time(0, 0), zone)
    return start, end


def _local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC moment of a local wall time; one skipped by DST moves on by the gap's length."""
    # fold=0 reads an ambiguous wall time as its first occurrence, and one in a gap with the
    # offset from before the gap (PEP 495): 02:30 on a day that skips 02:00-03:00 is 03:30.
    # An hour added by hand is wrong for other gaps: Lord Howe's 30 minutes, Troll's two hours.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
