"""Turn lead data into words people read: names, phone numbers, durations, local times, answers."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from bot.nlpearl.models import Lead

# An IANA zone name such as `America/Argentina/Buenos_Aires`; anything else is never looked up,
# since zoneinfo imports a package per part and a name of hundreds of parts overflows the stack.
_ZONE_NAME = re.compile(r"^[A-Za-z][\w+\-]{0,40}(?:/[\w+\-]{1,40}){0,2}$", re.ASCII)
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-]?)\s*(\d{1,2}(?:\.\d+)?)(?::(\d{2}))?$", re.IGNORECASE)
_NAME_KEYS = (("firstname", "lastname"), ("first_name", "last_name"))
_FULL_NAME_KEYS = ("name", "fullname", "full_name", "leadname", "contactname")
MASK = "••••"


def format_phone(number: str | None) -> str | None:
    """A phone number as people write it, e.g. `+1 415-555-0137`; unparseable input unchanged."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask_phone(number: str | None) -> str | None:
    """Only the last four digits of a phone number, e.g. `•••• 0137`."""
    if not number:
        return None
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"{MASK} {digits[-4:]}" if len(digits) > 4 else MASK


def lead_name(lead: Lead) -> str | None:
    """The lead's name from its call data, if the campaign supplied one."""
    data = {key.lower(): value for key, value in lead.call_data.items()}
    for first_key, last_key in _NAME_KEYS:
        parts = [data.get(first_key), data.get(last_key)]
        name = " ".join(str(p).strip() for p in parts if isinstance(p, str) and p.strip())
        if name:
            return name
    for key in _FULL_NAME_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def lead_zone(time_zone: str | None) -> tzinfo | None:
    """The lead's time zone from NLPearl's `timeZone`: an hour offset such as `-5.0`, or a name."""
    if not time_zone:
        return None
    text = time_zone.strip()
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        offset = float(hours) * 60 + (int(minutes) if minutes else 0)
        if offset > 14 * 60:
            return None
        delta = timedelta(minutes=-offset if sign == "-" else offset)
        return UTC if not delta else timezone(delta)
    if not _ZONE_NAME.match(text):
        return None
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # A region's folder ("America") in the tzdata package is a directory, not a zone.
        return None


def utc_offset_label(moment: datetime) -> str:
    """`UTC−8`, `UTC+5:30` or `UTC` for an aware datetime."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(time_zone: str | None, now: datetime) -> str | None:
    """What time it is for the lead now, and whether that is a polite time to call."""
    zone = lead_zone(time_zone)
    if zone is None:
        return None
    here = now.astimezone(zone)
    clock = here.strftime("%a %I:%M %p").replace(" 0", " ")
    polite = 9 <= here.hour < 20
    emoji = "🕘" if polite else "🌙"
    hint = "" if polite else " · outside calling hours"
    return f"{emoji} {clock} ({utc_offset_label(here)}){hint}"


def format_amount(value: float) -> str:
    """Money as cards show it: whole numbers bare, others with two decimals."""
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}"


def format_duration(seconds: float | None) -> str | None:
    """`2m 22s`, `45s` or `1h 03m`."""
    if seconds is None or seconds <= 0:
        return None
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def format_value(value: Any) -> str:
    """An answer of any JSON type as short plain text: yes/no marks, numbers, compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✅ Yes" if value else "❌ No"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, str):
        return value.strip() or "—"
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def humanize_key(key: str) -> str:
    """A variable ID as a label: `preferredDay` → `Preferred day`, `roof_age` → `Roof age`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").replace("-", " ")
    words = spaced.split()
    return " ".join(words).capitalize() if words else key
