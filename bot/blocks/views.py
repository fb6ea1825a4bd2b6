"""Modals: the lookup form, a lead's or a campaign's card, a call's transcript, calls, help.

`modal` and `notice_modal` (bot.blocks.modal) are re-exported here for the listeners.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.blocks.ids import ActionId, BlockId, CallRef, CallsRef, ViewId
from bot.blocks.lead_card import call_buttons, call_outcome
from bot.blocks.messages import help_message, notice
from bot.blocks.modal import modal
from bot.blocks.modal import notice_modal as notice_modal
from bot.blocks.text import (
    date_token,
    mrkdwn,
    one_line,
    plain,
    prose,
    truncate,
)
from bot.blocks.values import format_duration
from bot.nlpearl.models import Call, TranscriptMessage
from bot.parsing.grammar import LeadKey
from bot.records import CallSlot

TURNS_PER_PAGE = 30
TURN_CHARS = 1500  # keeps a page well under the 250 kB view limit
CALLS_PER_PAGE = 10
SUMMARY_CHARS = 400
MAX_OPTIONS = 100
# The picker's leads travel in private_metadata, which holds 3,000 characters.
MAX_PICK = 40
ROLE_NAMES = {2: "👤 Lead", 3: "🤖 Pearl"}


def campaign_option(campaign_id: str, name: str | None) -> dict[str, Any]:
    """An option of the campaign picker: the name (or ID) shown, the ID as value."""
    label = f"{name} ({campaign_id[-6:]})" if name else campaign_id
    return {"text": plain(label, 75), "value": campaign_id[:150]}


def campaign_input(campaign: tuple[str, str | None] | None) -> dict[str, Any]:
    """The campaign picker of a form, searching the account's campaigns as one types."""
    picker: dict[str, Any] = {
        "type": "external_select",
        "action_id": ActionId.CAMPAIGN,
        "placeholder": plain("Search campaigns, or paste an ID"),
        "min_query_length": 0,
    }
    if campaign:
        picker["initial_option"] = campaign_option(*campaign)
    return {
        "type": "input",
        "block_id": BlockId.CAMPAIGN,
        "label": plain("Campaign"),
        "element": picker,
    }


def lookup_modal(
    *,
    campaign: tuple[str, str | None] | None = None,
    key: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The lookup form: a campaign picker (remembering the last choice) and one key field."""
    field: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ActionId.LEAD_KEY,
        "placeholder": plain("Lead ID, phone number or external ID"),
        "max_length": 200,
    }
    if key:
        field["initial_value"] = truncate(key, 200)
    blocks: list[dict[str, Any]] = []
    if note:
        blocks.append({"type": "context", "elements": [mrkdwn(note)]})
    blocks += [
        campaign_input(campaign),
        _show_campaign_button(),
        {
            "type": "input",
            "block_id": BlockId.LEAD_KEY,
            "label": plain("Lead"),
            "element": field,
            "hint": plain("For example 6650f1c2a9e4b27d3c8e41a7, +14155550137 or crm-004512"),
        },
    ]
    return modal(ViewId.LOOKUP, "Look up a lead", blocks, submit="Look up", close="Cancel")


def _show_campaign_button() -> dict[str, Any]:
    """Opens the card of the campaign picked above; the picker's value comes with the click."""
    button = {
        "type": "button",
        "action_id": ActionId.LOOKUP_SHOW_CAMPAIGN,
        "text": plain("📣 Show campaign"),
    }
    return {"type": "actions", "block_id": BlockId.SHOW_CAMPAIGN, "elements": [button]}


def pick_a_campaign_first() -> dict[str, Any]:
    """Show campaign was pressed with nothing in the picker."""
    return notice_modal(
        "Campaign",
        notice(
            "👆",
            "Pick a campaign first",
            "Choose one in the *Campaign* field (or paste its ID), then press *Show campaign*.",
        ),
    )


def campaign_modal(card: dict[str, Any]) -> dict[str, Any]:
    """A campaign's card in a modal: Refresh redraws it in place; Share needs a message, so goes."""
    blocks = []
    for block in card["blocks"]:
        if block.get("type") == "actions":
            kept = [e for e in block["elements"] if e.get("action_id") != ActionId.CAMPAIGN_SHARE]
            block = {**block, "elements": kept}
            if not kept:
                continue
        blocks.append(block)
    return modal(ViewId.CAMPAIGN, "Campaign", blocks)


def pick_modal(leads: list[tuple[str, LeadKey]]) -> dict[str, Any]:
    """Several leads in one message: choose which to look up."""
    options = [
        {"text": plain(f"{_key_label(key)} · campaign …{campaign[-6:]}", 75), "value": str(i)}
        for i, (campaign, key) in enumerate(leads[:MAX_PICK])
    ]
    blocks = [
        {
            "type": "input",
            "block_id": BlockId.PICK_LEAD,
            "label": plain("This message mentions several leads"),
            "element": {
                "type": "static_select",
                "action_id": ActionId.PICK_LEAD,
                "options": options,
                "initial_option": options[0],
            },
        }
    ]
    metadata = "|".join(f"{c}:{k.kind}:{k.value[:40]}" for c, k in leads[:MAX_PICK])
    return modal(ViewId.PICK, "Look up a lead", blocks, submit="Look up", private_metadata=metadata)


def _key_label(key: LeadKey) -> str:
    kind = {"id": "Lead", "phone": "Phone", "external": "External ID"}[key.kind]
    return f"{kind} {key.value}"


def loading_modal(
    title: str = "Look up a lead", what: str = "Looking up the lead…"
) -> dict[str, Any]:
    """Shown at once while NLPearl answers, since a trigger_id lasts only 3 seconds."""
    return modal(ViewId.LOADING, title, [{"type": "section", "text": mrkdwn(f"⏳ {what}")}])


def card_modal(card: dict[str, Any], private_metadata: str) -> dict[str, Any]:
    """A lead's card in a modal, with a channel picker to post it for everyone."""
    picker = {
        "type": "input",
        "block_id": BlockId.POST_CHANNEL,
        "optional": True,
        "label": plain("Post to channel"),
        "element": {
            "type": "conversations_select",
            "action_id": ActionId.POST_CHANNEL,
            "placeholder": plain("Choose a channel"),
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        },
        "hint": plain("Phone numbers are masked in cards posted to a channel."),
    }
    blocks = [*card["blocks"], {"type": "divider"}, picker]
    return modal(ViewId.CARD, "Lead", blocks, submit="Post", private_metadata=private_metadata)


def _speaker(role: int | None) -> str:
    return ROLE_NAMES.get(role or 0, f"🗣️ Speaker {role}" if role is not None else "🗣️ Speaker")


def _clock(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f" · {minutes}:{secs:02d}"


def transcript_modal(call: Call, page: int) -> dict[str, Any]:
    """A call's transcript, speaker by speaker, in pages that fit a modal."""
    turns = [t for t in call.transcript if t.content]
    pages = max(1, -(-len(turns) // TURNS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = turns[page * TURNS_PER_PAGE : (page + 1) * TURNS_PER_PAGE]
    blocks: list[dict[str, Any]] = [{"type": "context", "elements": [mrkdwn(_call_heading(call))]}]
    blocks += [_turn(turn) for turn in shown] or [
        {"type": "section", "text": mrkdwn("_This call has no transcript._")}
    ]
    if pages > 1 and (call_id := call.id):

        def page_ref(to: int) -> str:
            return CallRef(call_id=call_id, page=to).model_dump_json()

        blocks.append(
            _pager(ActionId.TRANSCRIPT_PAGE, page, pages, page_ref, ("← Previous", "Next →"))
        )
    return modal(ViewId.TRANSCRIPT, "Transcript", blocks)


def _turn(turn: TranscriptMessage) -> dict[str, Any]:
    text = (
        f"*{_speaker(turn.role)}*{_clock(turn.start_time)}\n{prose(turn.content or '', TURN_CHARS)}"
    )
    return {"type": "section", "text": mrkdwn(text)}


def _call_heading(call: Call) -> str:
    parts = [f"📞 {date_token(call.start_time)}" if call.start_time else "📞 Call"]
    if duration := format_duration(call.duration):
        parts.append(duration)
    parts.append(prose(call_outcome(call), 100))
    return " · ".join(parts)


def _pager(
    action: str, page: int, pages: int, value_of: Callable[[int], str], labels: tuple[str, str]
) -> dict[str, Any]:
    """Back and forward buttons; each carries the page it opens."""
    steps = [(f"{action}.prev", labels[0], page - 1), (f"{action}.next", labels[1], page + 1)]
    buttons = [
        {"type": "button", "action_id": action_id, "text": plain(label), "value": value_of(to)}
        for action_id, label, to in steps
        if 0 <= to < pages
    ]
    return {"type": "actions", "block_id": f"pager-{page}", "elements": buttons}


def calls_modal(
    ref: CallsRef, slots: Sequence[CallSlot], total: int, *, lead_label: str
) -> dict[str, Any]:
    """One page of a lead's calls, newest first, each with its transcript and recording."""
    pages = max(1, -(-total // CALLS_PER_PAGE))
    heading = f"*{prose(lead_label, 150)}* · {total} {'call' if total == 1 else 'calls'}"
    if pages > 1:
        heading += f" · page {ref.page + 1} of {pages}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": mrkdwn(heading)}]
    for index, slot in enumerate(slots):
        blocks.append({"type": "divider"})
        blocks += _call_entry(slot, index)
    if not slots:
        blocks.append({"type": "section", "text": mrkdwn("_No calls yet._")})
    if pages > 1:

        def page_ref(to: int) -> str:
            return ref.model_copy(update={"page": to}).model_dump_json()

        blocks.append(
            _pager(ActionId.CALLS_PAGE, ref.page, pages, page_ref, ("← Newer", "Older →"))
        )
    return modal(ViewId.CALLS, "All calls", blocks)


def _call_entry(slot: CallSlot, index: int) -> list[dict[str, Any]]:
    call = slot.call
    if call is None:
        return [
            {"type": "section", "text": mrkdwn("*📞 Call unavailable*\nNLPearl could not load it.")}
        ]
    text = _call_heading(call)
    if call.summary:
        text += f"\n> {prose(one_line(call.summary), SUMMARY_CHARS)}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": mrkdwn(text)}]
    if buttons := call_buttons(call, index):
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def help_modal() -> dict[str, Any]:
    """How to use Lead Bot, as a modal (from the Home tab)."""
    return modal(ViewId.HELP, "Lead Bot help", help_message()["blocks"])
