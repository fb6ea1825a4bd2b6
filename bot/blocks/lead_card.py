"""The lead card: a lead's status, local time, latest calls and answers as one Block Kit message."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.blocks.ids import ActionId, CallRef, CallsRef, CardRef
from bot.blocks.lead_actions import action_elements
from bot.blocks.privacy import Audience, Surface
from bot.blocks.text import (
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FALLBACK_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    MAX_URL,
    date_token,
    mrkdwn,
    one_line,
    plain,
    prose,
    safe,
)
from bot.blocks.values import format_duration, humanize_key, lead_name, local_time
from bot.nlpearl.models import Call
from bot.nlpearl.statuses import (
    IN_PROGRESS_CALL,
    UNANSWERED_CALLS,
    Status,
    call_status,
    conversation_status,
)
from bot.nlpearl.statuses import lead_status as lead_status_of
from bot.records import CallSlot, LeadReport

# Budgets that keep the card inside Slack's limits, including the undocumented
# ~12k-character cap on the text of a whole message, whatever the data.
ANSWERS_ON_CARD = 20
MAX_CALLS_ON_CARD = 10
ANSWER_LABEL_CHARS = 60
ANSWER_VALUE_CHARS = 160
SUMMARY_CHARS = 500
INPUT_CHARS = 120
TAGS_ON_CALL = 5
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def lead_card(
    report: LeadReport,
    ref: CardRef,
    *,
    now: datetime,
    mask: bool,
    surface: Surface = "message",
) -> dict[str, Any]:
    """The card as `{"text", "blocks"}`; `mask` hides every phone number but its last four."""
    # Whether to mask is the caller's to say (`bot.blocks.privacy.card_audience` decides it). In a
    # message the card can be shared; in a modal it cannot (there is no channel).
    audience = Audience(masked=mask)
    lead = report.lead
    status = lead_status_of(lead.status)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"👤 {_title(report, audience)}", MAX_HEADER_TEXT)},
        {"type": "section", "fields": _facts(report, status, now, audience)},
    ]
    blocks += _answers(report, audience)
    blocks += _calls(report, audience)
    blocks += _inputs(report, audience)
    blocks.append(_footer(report, ref, audience))
    blocks += _buttons(report, ref, surface)
    return {"text": _fallback(report, status, audience), "blocks": blocks}


def lead_title(report: LeadReport, mask: bool) -> str:
    """Who the lead is: the name, else the phone number, external ID or lead ID."""
    return _title(report, Audience(masked=mask))


def _title(report: LeadReport, audience: Audience) -> str:
    lead = report.lead
    name = lead_name(lead) or audience.phone(lead.phone_number) or lead.external_id or lead.id
    return one_line(audience.text(name or "Lead"))


def _facts(
    report: LeadReport, status: Status, now: datetime, audience: Audience
) -> list[dict[str, Any]]:
    lead = report.lead
    phone = audience.phone(lead.phone_number)
    external = lead.external_id and prose(one_line(audience.text(lead.external_id)), 200)
    facts: list[tuple[str, str | None]] = [
        ("Status", prose(status.text, 200)),
        ("Phone", prose(phone, 100) if phone else None),
        ("Local time", local_time(lead.time_zone, now)),
        ("Calls", str(report.total_calls)),
        ("External ID", external),
        ("Added", date_token(lead.created) if lead.created else None),
    ]
    return [mrkdwn(f"*{label}*\n{value}") for label, value in facts if value]


def _answer_labels(report: LeadReport) -> dict[str, str]:
    """Display names of the campaign's variables, as the calls report them."""
    labels: dict[str, str] = {}
    calls = [slot.call for slot in report.calls if slot.call]
    if report.lead.last_call:
        calls.append(report.lead.last_call)
    for call in calls:
        for info in call.collected_info:
            if info.id and info.name:
                labels.setdefault(info.id, info.name)
    return labels


def _collected(report: LeadReport) -> list[tuple[str, Any]]:
    labels = _answer_labels(report)
    if report.lead.collected_data:
        return [
            (labels.get(k) or humanize_key(k), v) for k, v in report.lead.collected_data.items()
        ]
    latest = next((slot.call for slot in report.calls if slot.call), None)
    infos = latest.collected_info if latest else []
    return [(i.name or humanize_key(i.id or "answer"), i.value) for i in infos]


def _answers(report: LeadReport, audience: Audience) -> list[dict[str, Any]]:
    answers = _collected(report)
    if not answers:
        return []
    shown = answers[:ANSWERS_ON_CARD]
    fields = [
        mrkdwn(
            f"*{prose(one_line(audience.text(label)), ANSWER_LABEL_CHARS)}*\n"
            f"{prose(audience.value(value), ANSWER_VALUE_CHARS)}"
        )
        for label, value in shown
    ]
    blocks: list[dict[str, Any]] = [{"type": "divider"}]
    for start in range(0, len(fields), MAX_FIELDS):
        section: dict[str, Any] = {"type": "section", "fields": fields[start : start + MAX_FIELDS]}
        if start == 0:
            section["text"] = mrkdwn("*📝 Answers*")
        blocks.append(section)
    if len(answers) > len(shown):
        more = len(answers) - len(shown)
        blocks.append(_context(f"+ {more} more {_plural(more, 'answer')} not shown"))
    return blocks


def _calls(report: LeadReport, audience: Audience) -> list[dict[str, Any]]:
    if not report.calls:
        return [{"type": "divider"}, _context("No calls yet.")]
    blocks: list[dict[str, Any]] = [{"type": "divider"}]
    shown = report.calls[:MAX_CALLS_ON_CARD]
    for index, slot in enumerate(shown):
        blocks += _call_blocks(slot, index, audience)
    if (n := report.total_calls - len(shown)) > 0:
        blocks.append(_context(f"+ {n} earlier {_plural(n, 'call')}"))
    return blocks


def call_outcome(call: Call) -> str:
    """What came of a call: the conversation outcome, with the line's result when it says more."""
    line = call_status(call.status)
    if call.conversation_status is None:
        return line.text
    outcome = conversation_status(call.conversation_status).text
    if call.status in UNANSWERED_CALLS:
        return f"{outcome} ({line.label.lower()})"
    return outcome


def _call_blocks(slot: CallSlot, index: int, audience: Audience) -> list[dict[str, Any]]:
    call = slot.call
    if call is None:
        text = "*📞 Call unavailable*\nNLPearl could not load it."
        return [{"type": "section", "text": mrkdwn(text)}]
    heading = [f"*📞 {date_token(call.start_time)}*" if call.start_time else "*📞 Call*"]
    if duration := format_duration(call.duration):
        heading.append(duration)
    if call.status == IN_PROGRESS_CALL and call.conversation_status is None:
        heading.append("📞 On the call now")
    else:
        heading.append(prose(call_outcome(call), 100))
    lines = [" · ".join(heading)]
    if call.summary:
        lines.append(f"> {prose(one_line(audience.text(call.summary)), SUMMARY_CHARS)}")
    if call.tags:
        tags = ", ".join(
            prose(one_line(audience.text(tag)), 40) for tag in call.tags[:TAGS_ON_CALL]
        )
        lines.append(f"🏷️ {tags}")
    blocks: list[dict[str, Any]] = [{"type": "section", "text": mrkdwn("\n".join(lines))}]
    if buttons := call_buttons(call, index):
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def call_buttons(call: Call, index: int) -> list[dict[str, Any]]:
    """Transcript (when there is one) and Recording (when it is a web link) for a call."""
    buttons: list[dict[str, Any]] = []
    if call.id and call.transcript:
        value = CallRef(call_id=call.id).model_dump_json()
        buttons += _button(f"{ActionId.TRANSCRIPT}.{index}", "📝 Transcript", value)
    if (url := call.recording_url) and len(url) <= MAX_URL:
        buttons.append(
            {
                "type": "button",
                "action_id": f"{ActionId.OPEN_RECORDING}.{index}",
                "text": plain("▶️ Recording"),
                "url": url,
            }
        )
    return buttons


def _inputs(report: LeadReport, audience: Audience) -> list[dict[str, Any]]:
    inputs = list(report.lead.call_data.items())
    if not inputs:
        return []
    room = MAX_CONTEXT_ELEMENTS - 1
    elements = [
        mrkdwn(
            f"*{prose(audience.text(humanize_key(k)), 40)}:* "
            f"{prose(one_line(audience.value(v)), INPUT_CHARS)}"
        )
        for k, v in inputs[:room]
    ]
    if len(inputs) > room:
        elements[-1] = mrkdwn(f"+ {len(inputs) - room + 1} more inputs")
    return [{"type": "context", "elements": [mrkdwn("📋 *Inputs*"), *elements]}]


def _footer(report: LeadReport, ref: CardRef, audience: Audience) -> dict[str, Any]:
    parts = []
    if report.campaign_name:
        parts.append(f"📣 {prose(one_line(audience.text(report.campaign_name)), 150)}")
    parts.append(f"Campaign `{safe(report.campaign_id, 60)}`")
    if report.lead.id:
        parts.append(f"Lead `{safe(report.lead.id, 60)}`")
    if ref.shared_by and _USER_ID.match(ref.shared_by):
        parts.append(f"Shared by <@{ref.shared_by}>")
    return _context(" · ".join(parts), escaped=True)


def _buttons(report: LeadReport, ref: CardRef, surface: Surface) -> list[dict[str, Any]]:
    value = ref.model_dump_json(exclude_none=True)
    buttons = _button(ActionId.REFRESH_CARD, "🔄 Refresh", value)
    if report.lead.id and report.total_calls:
        calls = CallsRef(campaign_id=report.campaign_id, lead_id=report.lead.id)
        buttons += _button(ActionId.ALL_CALLS, "📞 All calls", calls.model_dump_json())
    if surface == "message" and not ref.shared_by:
        share = _button(ActionId.SHARE_CARD, "📣 Share in channel", value)
        buttons += [{**button, "style": "primary"} for button in share]
    # Acting on the lead, wherever the card is: private, shared in a channel, or in a modal.
    acts = action_elements(report.campaign_id, report.lead.id, report.lead.status, "card")
    if any("style" in button for button in buttons):
        # One green button per row: where Share is offered it keeps the colour.
        acts = [{k: v for k, v in act.items() if k != "style"} for act in acts]
    buttons += acts
    return [{"type": "actions", "elements": buttons}] if buttons else []


def _button(action_id: str, text: str, value: str) -> list[dict[str, Any]]:
    """A button carrying `value`, or none when the value is over Slack's limit."""
    if len(value) > MAX_BUTTON_VALUE:
        return []
    return [{"type": "button", "action_id": action_id, "text": plain(text), "value": value}]


def _fallback(report: LeadReport, status: Status, audience: Audience) -> str:
    name = _title(report, audience)
    campaign = f" · {audience.text(report.campaign_name)}" if report.campaign_name else ""
    return prose(f"{name}: {status.text}{campaign}", MAX_FALLBACK_TEXT)


def _context(text: str, *, escaped: bool = False) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text if escaped else prose(text, 3000))]}


def _plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"
