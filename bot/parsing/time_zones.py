"""The Windows time-zone names NLPearl's `timeZoneId` accepts, grouped and labelled for a picker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz

WINDOWS_ZONES: tuple[str, ...] = tuple(sorted(win_tz))
_KNOWN = frozenset(WINDOWS_ZONES)
# The first part of an IANA name says where a zone is; oceans and Etc/ zones are "Other".
_REGIONS = {
    "America": "Americas",
    "Europe": "Europe",
    "Africa": "Africa",
    "Asia": "Asia",
    "Australia": "Australia & Pacific",
    "Pacific": "Australia & Pacific",
}
REGION_ORDER = ("Americas", "Europe", "Africa", "Asia", "Australia & Pacific", "Other")
# Slack's limits on a static select: option text, and options per group.
MAX_LABEL = 75
MAX_GROUP = 100


def is_windows_zone(name: str) -> bool:
    """Whether `name` is one of the Windows zone names NLPearl accepts, exactly."""
    return name in _KNOWN


def iana_zone(name: str) -> ZoneInfo | None:
    """The IANA zone a Windows zone name stands for, if this machine's tz database has it."""
    iana = win_tz.get(name)
    if iana is None:
        return None
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def region_of(name: str) -> str:
    """The picker group of a Windows zone name, from its IANA name's first part."""
    return _REGIONS.get(win_tz.get(name, "").split("/", 1)[0], "Other")


def format_offset(offset: timedelta) -> str:
    """`UTC−08:00`, `UTC+05:30` or `UTC+00:00`, with a true minus sign as Windows shows it."""
    minutes = round(offset.total_seconds() / 60)
    sign = "−" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def zone_groups(now: datetime) -> list[tuple[str, list[tuple[str, str]]]]:
    """(region, [(windows name, label)]) for every zone, west to east by its offset at `now`."""
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    grouped: dict[str, list[tuple[timedelta, str]]] = {region: [] for region in REGION_ORDER}
    for name in WINDOWS_ZONES:
        zone = iana_zone(name)
        if zone is None:
            continue
        offset = moment.astimezone(zone).utcoffset() or timedelta(0)
        grouped[region_of(name)].append((offset, name))
    return [
        (region, [(name, zone_label(name, offset)) for offset, name in sorted(zones)[:MAX_GROUP]])
        for region, zones in grouped.items()
        if zones
    ]


def zone_label(name: str, offset: timedelta) -> str:
    """`(UTC−08:00) Pacific Standard Time`, cut to Slack's 75 characters of option text."""
    return f"({format_offset(offset)}) {name}"[:MAX_LABEL]
