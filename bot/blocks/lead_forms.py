"""Forms that change NLPearl: Edit lead, Add a lead, and the twin shown before adding anyway."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.blocks.ids import ActionId, AddDraft, BlockId, Pending, ViewId
from bot.blocks.modal import modal
from bot.blocks.text import (
    MAX_BUTTON_VALUE,
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    mrkdwn,
    one_line,
    plain,
    prose,
)
from bot.blocks.values import format_phone, humanize_key, lead_zone
from bot.nlpearl.models import Lead
from bot.parsing.lead_form import (
    MAX_EXTERNAL_ID,
    MAX_INPUT,
    MAX_PHONE_INPUT,
    VALUE,
    data_block,
    editable_keys,
    form_text,
)
from bot.parsing.message_leads import AddPrefill
from bot.parsing.time_zones import format_offset, zone_groups

LABEL_CHARS = 60
# Longer values get a multi-line box, so they can be read whole.
ONE_LINE_CHARS = 80
OTHER_PHONES_SHOWN = 5
# Slack's undocumented cap on a whole message's text (`msg_blocks_too_long`), with room to spare.
MAX_MESSAGE_TEXT = 11_000
PRIVATE_METADATA = 3000
TWIN_NOTICE = (
    "👥 *This number is already a lead in that campaign.*\nHere is its card; add it again anyway?"
)


def edit_lead_view(
    lead: Lead, pending: Pending, *, now: datetime, title_name: str
) -> dict[str, Any]:
    """The Edit lead form: phone, external ID, time zone and call data, filled in as they are."""
    keys = editable_keys(lead)
    blocks: list[dict[str, Any]] = [
        _context("Only what you change is sent to NLPearl."),
        _phone_input(lead.phone_number),
    ]
    if lead.external_id is None or len(lead.external_id) <= MAX_EXTERNAL_ID:
        blocks.append(_external_id_input(lead.external_id))
    blocks.append(_zone_input(now, _zone_hint(lead.time_zone, now)))
    blocks.append({"type": "divider"})
    blocks.append(
        {
            "type": "section",
            "text": mrkdwn("📋 *Call data*\nEmpty a field to remove it from the lead."),
        }
    )
    blocks += _data_inputs(lead, keys)
    if hidden := len(lead.call_data) - len(keys):
        fields = "field isn't" if hidden == 1 else "fields aren't"
        blocks.append(_context(f"{hidden} more call-data {fields} shown here; kept as they are."))
    blocks.append(_new_data_input("Add call data", None))
    return modal(
        ViewId.EDIT_LEAD,
        f"Edit {one_line(title_name) or 'lead'}",
        blocks,
        submit="Save",
        close="Cancel",
        private_metadata=pending.model_dump_json(exclude_none=True),
    )


def add_lead_view(
    campaign_block: dict[str, Any] | None,
    *,
    prefill: AddPrefill,
    private_metadata: str,
    now: datetime,
) -> dict[str, Any]:
    """The Add a lead form, filled in with what a message offered; the campaign picker first."""
    blocks: list[dict[str, Any]] = [campaign_block] if campaign_block else []
    blocks.append(_phone_input(prefill.phone))
    if prefill.other_phones:
        blocks.append(_context(_also_in_message(prefill.other_phones)))
    blocks.append(_external_id_input(prefill.external_id))
    blocks.append(_zone_input(now, "Leave it empty to use the campaign's time zone."))
    names = [("firstName", prefill.first_name), ("lastName", prefill.last_name)]
    pairs = "\n".join(f"{key}={one_line(value)}" for key, value in names if value)
    blocks.append(_new_data_input("Call data", pairs or None))
    return modal(
        ViewId.ADD_LEAD,
        "Add a lead",
        blocks,
        submit="Add lead",
        close="Cancel",
        private_metadata=private_metadata,
    )


def duplicate_blocks(card: dict[str, Any], draft: AddDraft) -> dict[str, Any]:
    """A message: the number is already a lead here, its card, and an "Add anyway" button."""
    value = draft.model_dump_json(exclude_none=True)
    tail: list[dict[str, Any]]
    if len(value) <= MAX_BUTTON_VALUE:
        button = {
            "type": "button",
            "action_id": ActionId.ADD_ANYWAY,
            "text": plain("➕ Add anyway"),
            "value": value,
        }
        tail = [{"type": "divider"}, {"type": "actions", "elements": [button]}]
    else:
        tail = [
            _context(
                "This lead's details are too long for a button. To add it anyway, use the "
                "“Add a lead” shortcut."
            )
        ]
    head = [{"type": "section", "text": mrkdwn(TWIN_NOTICE)}]
    room = MAX_MESSAGE_BLOCKS - len(head) - len(tail)
    blocks = [*head, *_fitting(card.get("blocks") or [], room, _text_size([*head, *tail])), *tail]
    return {"text": "This number is already a lead in that campaign.", "blocks": blocks}


def duplicate_view(card: dict[str, Any], draft: AddDraft) -> dict[str, Any]:
    """The same, in the Add a lead modal: submitting it adds the lead anyway."""
    metadata = draft.model_dump_json(exclude_none=True)
    fits = len(metadata) <= PRIVATE_METADATA
    head = [{"type": "section", "text": mrkdwn(TWIN_NOTICE)}]
    if not fits:
        head.append(
            _context("This lead's details are too long to carry here, so it can't be added.")
        )
    room = MAX_VIEW_BLOCKS - len(head)
    blocks = [*head, *(card.get("blocks") or [])[:room]]
    return modal(
        ViewId.ADD_DUPLICATE,
        "Already a lead",
        blocks,
        submit="Add anyway" if fits else None,
        close="Cancel",
        private_metadata=metadata if fits else "",
    )


def zone_options(now: datetime) -> list[dict[str, Any]]:
    """The time-zone picker's option groups: regions, each zone labelled with its offset now."""
    return [
        {
            "label": plain(region, 75),
            "options": [{"text": plain(label, 75), "value": name} for name, label in zones],
        }
        for region, zones in zone_groups(now)
    ]


def _phone_input(phone: str | None) -> dict[str, Any]:
    # Shown as people write it (+1 415-555-0137); the reader compares numbers, not spellings.
    element = _text_element(format_phone(phone), MAX_PHONE_INPUT, "+14155550137")
    return {
        "type": "input",
        "block_id": BlockId.PHONE,
        "label": plain("Phone number"),
        "element": element,
        "hint": plain("With its country code, like +14155550137."),
    }


def _external_id_input(external_id: str | None) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": BlockId.EXTERNAL_ID,
        "optional": True,
        "label": plain("External ID"),
        "element": _text_element(external_id, MAX_EXTERNAL_ID, "crm-004512"),
        "hint": plain("Your own ID for this lead, such as its CRM ID."),
    }


def _zone_input(now: datetime, hint: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": BlockId.TIME_ZONE,
        "optional": True,
        "label": plain("Time zone"),
        "element": {
            "type": "static_select",
            "action_id": VALUE,
            "placeholder": plain("Choose a time zone"),
            "option_groups": zone_options(now),
        },
        "hint": plain(hint),
    }


def _zone_hint(time_zone: str | None, now: datetime) -> str:
    """What the lead's zone is now: NLPearl reports an offset such as `-8.0`, not a name."""
    zone = lead_zone(time_zone)
    if zone is None:
        return "Leave it empty to keep the lead's time zone."
    offset = now.astimezone(zone).utcoffset() or timedelta(0)
    return f"Currently {format_offset(offset)}. Leave it empty to keep it."


def _data_inputs(lead: Lead, keys: list[str]) -> list[dict[str, Any]]:
    """One optional input per call-data key, numbered as the form's reader expects."""
    labels = [_label(key) for key in keys]
    blocks = []
    for index, (key, label) in enumerate(zip(keys, labels, strict=True)):
        text = form_text(lead.call_data[key])
        element = _text_element(text, MAX_INPUT, None)
        if len(text) > ONE_LINE_CHARS or "\n" in text:
            element["multiline"] = True
        shown = label if labels.count(label) == 1 else f"{label} ({one_line(key)})"
        block: dict[str, Any] = {
            "type": "input",
            "block_id": data_block(index),
            "optional": True,
            "label": plain(shown, LABEL_CHARS),
            "element": element,
        }
        if hint := _type_hint(lead.call_data[key]):
            block["hint"] = plain(hint)
        blocks.append(block)
    return blocks


def _label(key: str) -> str:
    return one_line(humanize_key(key)) or "(no name)"


def _type_hint(value: Any) -> str | None:
    """Say how to write a value that is not text, so an edit keeps its kind."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "A number"
    if isinstance(value, list | dict):
        return "JSON, as shown"
    return None


def _new_data_input(label: str, initial: str | None) -> dict[str, Any]:
    element = _text_element(initial, MAX_INPUT, "plan=Pro")
    element["multiline"] = True
    return {
        "type": "input",
        "block_id": BlockId.NEW_DATA,
        "optional": True,
        "label": plain(label),
        "element": element,
        "hint": plain("One per line, like plan=Pro"),
    }


def _text_element(initial: str | None, max_length: int, placeholder: str | None) -> dict[str, Any]:
    """A text input; a value longer than it may hold is left out rather than refused by Slack."""
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": VALUE,
        "max_length": max_length,
    }
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    if initial and len(initial) <= max_length:
        element["initial_value"] = initial
    return element


def _also_in_message(phones: tuple[str, ...]) -> str:
    shown = [prose(format_phone(phone) or phone, 40) for phone in phones[:OTHER_PHONES_SHOWN]]
    more = len(phones) - len(shown)
    return "Also in the message: " + ", ".join(shown) + (f" and {more} more" if more else "")


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}


def _fitting(blocks: list[dict[str, Any]], room: int, used: int) -> list[dict[str, Any]]:
    """The first blocks of a card that fit in `room` blocks and the message's text budget."""
    kept: list[dict[str, Any]] = []
    for block in blocks[:room]:
        used += _text_size([block])
        if used > MAX_MESSAGE_TEXT:
            break
        kept.append(block)
    return kept


def _text_size(node: Any) -> int:
    """Characters of text in blocks, as Slack's whole-message cap counts them."""
    if isinstance(node, list):
        return sum(_text_size(item) for item in node)
    if not isinstance(node, dict):
        return 0
    text = node.get("text")
    own = len(text) if node.get("type") in {"mrkdwn", "plain_text"} and isinstance(text, str) else 0
    return own + sum(_text_size(value) for value in node.values() if isinstance(value, dict | list))
