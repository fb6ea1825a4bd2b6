"""Read the Edit lead and Add lead forms' submitted state into NLPearl changes; pure.

Errors are keyed by block_id, as `response_action: "errors"` wants them, and are plain text:
Slack shows them under the field without reading them as mrkdwn.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bot.nlpearl.changes import LeadUpdate, NewLead
from bot.nlpearl.models import Lead
from bot.parsing.grammar import PairProblem, normalize_phone, read_phone, split_pair
from bot.parsing.time_zones import is_windows_zone

T = TypeVar("T")

# The form's block and action IDs. They are bot.blocks.ids' BlockId and ActionId values, which
# this lower layer may not import; tests/test_lead_form.py keeps the two equal.
PHONE = "phone"
EXTERNAL_ID = "external_id"
TIME_ZONE = "time_zone"
CALL_DATA = "data"
NEW_DATA = "new_data"
CAMPAIGN = "campaign"
CAMPAIGN_ACTION = "lookup.campaign"
VALUE = "value"

# At most this many call-data fields are editable; the rest are kept as they are.
MAX_SHOWN_KEYS = 40
# A plain_text_input holds 3,000 characters; a longer value can't be shown, so it is kept.
MAX_INPUT = 3000
# The initial values' bytes, so a view of 40 long non-Latin values stays under 250 kB.
MAX_SHOWN_BYTES = 120_000
MAX_ERROR = 150
# The inputs' own limits; a longer value is not put in them (an external ID not shown is kept).
MAX_PHONE_INPUT = 60
MAX_EXTERNAL_ID = 255

PHONE_ERROR = "Enter a phone number with its country code, like +14155550137."
CLEAR_EXTERNAL_ERROR = (
    "Lead Bot can't remove an external ID. Put the old one back, or enter a new one."
)
ZONE_ERROR = "Choose a time zone from the list."
CAMPAIGN_ERROR = "Choose a campaign."


@dataclass(frozen=True)
class FormResult(Generic[T]):
    """What a form said: the change to make, or the errors to show under its fields."""

    value: T | None
    errors: dict[str, str] = field(default_factory=dict)


def data_block(index: int) -> str:
    """The block_id of the input for the lead's `index`-th editable call-data key."""
    return f"{CALL_DATA}.{index}"


def form_text(value: Any) -> str:
    """A call-data value as the form shows it: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return str(value)


def editable_keys(lead: Lead) -> list[str]:
    """The call-data keys the edit form shows, in order; the form and its reader share this."""
    keys: list[str] = []
    budget = MAX_SHOWN_BYTES
    for key, value in lead.call_data.items():
        text = form_text(value)
        if len(text) > MAX_INPUT:
            continue
        size = len(text.encode("utf-8", "replace"))
        if len(keys) == MAX_SHOWN_KEYS or size > budget:
            break
        keys.append(key)
        budget -= size
    return keys


def read_edit_form(values: Any, original: Lead) -> FormResult[LeadUpdate]:
    """The Edit lead form as an update holding only what changed since `original`."""
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    if not _same_digits(_text(values, PHONE), original.phone_number):
        phone = _phone(values, errors)
        if phone is not None and phone != _normal_phone(original.phone_number):
            changes["phone_number"] = phone
    external = _text(values, EXTERNAL_ID)
    if external is not None and external.strip() != (original.external_id or ""):
        if external.strip():
            changes["external_id"] = external.strip()
        else:
            errors[EXTERNAL_ID] = CLEAR_EXTERNAL_ERROR
    if zone := _zone(values, errors):
        changes["time_zone_id"] = zone
    call_data = _edited_call_data(values, original, errors)
    if call_data != original.call_data:
        # Whether NLPearl merges or replaces callData is unconfirmed: the whole map is right if
        # it replaces, and loses nothing if it merges (a removed key would then stay).
        changes["call_data"] = call_data
    if errors:
        return FormResult(None, errors)
    return FormResult(LeadUpdate(**changes))


def read_add_form(
    values: Any, *, campaign_id: str | None = None
) -> FormResult[tuple[str, NewLead]]:
    """The Add lead form as (campaign, new lead); `campaign_id` when the form has no picker."""
    errors: dict[str, str] = {}
    campaign = _selected(values, CAMPAIGN, CAMPAIGN_ACTION) or campaign_id
    if not campaign:
        errors[CAMPAIGN] = CAMPAIGN_ERROR
    phone = _phone(values, errors)
    external = (_text(values, EXTERNAL_ID) or "").strip() or None
    zone = _zone(values, errors)
    pairs = _new_data(values, errors)
    if errors or not campaign or phone is None:
        return FormResult(None, errors)
    lead = NewLead(
        phone_number=phone, external_id=external, time_zone_id=zone, call_data=pairs or None
    )
    return FormResult((campaign, lead))


def fingerprint(lead: Lead) -> str:
    """A short hash of what the edit form starts from, to tell if the lead changed meanwhile."""
    # Key order counts: the form's call-data inputs are numbered in that order.
    fields = [lead.status, lead.phone_number, lead.external_id, lead.call_data]
    try:
        text = json.dumps(fields, ensure_ascii=True, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(fields)
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


def _phone(values: Any, errors: dict[str, str]) -> str | None:
    phone = read_phone(_text(values, PHONE) or "")
    if phone is None:
        errors[PHONE] = PHONE_ERROR
    return phone


def _zone(values: Any, errors: dict[str, str]) -> str | None:
    zone = _selected(values, TIME_ZONE)
    if zone is not None and not is_windows_zone(zone):
        errors[TIME_ZONE] = ZONE_ERROR
        return None
    return zone


def _same_digits(typed: str | None, phone: str | None) -> bool:
    """Whether the form kept the lead's number, however spelled, even one NLPearl can't call."""
    digits = [_digits(text) for text in (typed, phone)]
    return bool(digits[0]) and digits[0] == digits[1]


def _digits(text: str | None) -> str:
    return "".join(ch for ch in text or "" if ch.isdecimal())


def _normal_phone(phone: str | None) -> str | None:
    return (normalize_phone(phone) or phone) if phone else None


def _edited_call_data(values: Any, original: Lead, errors: dict[str, str]) -> dict[str, Any]:
    """The lead's call data with the form's edits, removals and new pairs applied."""
    data = dict(original.call_data)
    for index, key in enumerate(editable_keys(original)):
        typed = _text(values, data_block(index))
        before = original.call_data[key]
        # Compared as the form showed it, so an untouched number or list is not a change; and
        # word by word, since Slack may give back other line endings or trailing spaces.
        if typed is None or typed.split() == form_text(before).split():
            continue
        if typed.strip():
            data[key] = _typed_like(before, typed.strip())
        else:
            data.pop(key, None)
    data.update(_new_data(values, errors))
    return data


def _typed_like(before: Any, text: str) -> Any:
    """An edited value keeps its JSON type when the new text reads as one; else it is text."""
    if isinstance(before, str) or before is None:
        return text
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if isinstance(before, bool) or isinstance(value, bool):
        return value if isinstance(value, bool) and isinstance(before, bool) else text
    if isinstance(before, int | float) and isinstance(value, int | float):
        return value if isinstance(value, int) or math.isfinite(value) else text
    return value if type(value) is type(before) else text


def _new_data(values: Any, errors: dict[str, str]) -> dict[str, str]:
    """The `key=value` lines of the new-data box, or an error naming the first bad line."""
    pairs: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate((_text(values, NEW_DATA) or "").splitlines(), start=1):
        if not line.strip():
            continue
        pair = split_pair(line)
        if isinstance(pair, str):
            errors[NEW_DATA] = _line_problem(number, line, pair)
            return {}
        key, value = pair
        if key in lines:
            errors[NEW_DATA] = _cut(f"Line {number}: {_quoted(key)} is on line {lines[key]} too.")
            return {}
        pairs[key], lines[key] = value, number
    return pairs


def _line_problem(number: int, line: str, problem: PairProblem) -> str:
    key = _quoted(line.partition("=")[0].strip())
    why = {
        "not_a_pair": f"{_quoted(line.strip())} isn't name=value; write one a line, like plan=Pro.",
        "no_name": "needs a name before the =, like plan=Pro.",
        "bad_name": f"{key} can't be a name; use letters, digits, _, - or . (like firstName).",
        "no_value": f"{key} has no value; write it like plan=Pro.",
    }[problem]
    return _cut(f"Line {number}: {why}")


def _quoted(text: str) -> str:
    flat = " ".join(text.split())
    return f"“{flat if len(flat) <= 30 else flat[:29] + '…'}”"


def _cut(text: str) -> str:
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def _action(values: Any, block_id: str, action_id: str) -> dict[str, Any] | None:
    """One element's state: by its action_id, else the block's only element."""
    block = values.get(block_id) if isinstance(values, dict) else None
    if not isinstance(block, dict):
        return None
    state = block.get(action_id)
    if state is None and len(block) == 1:
        state = next(iter(block.values()))
    return state if isinstance(state, dict) else None


def _text(values: Any, block_id: str, action_id: str = VALUE) -> str | None:
    """What a text input holds ("" when emptied), or None when the form has no such input."""
    state = _action(values, block_id, action_id)
    if state is None:
        return None
    value = state.get("value")
    return value if isinstance(value, str) else ""


def _selected(values: Any, block_id: str, action_id: str = VALUE) -> str | None:
    """The value of a select's chosen option, if one is chosen."""
    state = _action(values, block_id, action_id)
    option = state.get("selected_option") if state else None
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) and value else None
