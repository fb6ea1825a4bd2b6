"""Channel feed messages: a lead's parent message and the thread replies under it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.blocks.ids import ActionId, CallsRef
from bot.blocks.lead_actions import action_elements
from bot.blocks.lead_card import call_buttons, call_outcome
from bot.blocks.privacy import Audience
from bot.blocks.text import (
    MAX_BUTTON_VALUE,
    MAX_FALLBACK_TEXT,
    MAX_FIELDS,
    date_token,
    mrkdwn,
    one_line,
    plain,
    prose,
    safe,
)
from bot.blocks.values import format_duration
from bot.nlpearl.models import Call
from bot.nlpearl.statuses import lead_status
from bot.records import LeadSnapshot

# Budgets that keep a reply under Slack's ~12k characters of text per message:
# 4 calls × (summary + 6 answers) plus 2,000 characters of status changes.
ANSWERS_ON_PARENT = 4
ANSWERS_ON_REPLY = 6
CALLS_PER_REPLY = 4
SUMMARY_CHARS = 500
VALUE_CHARS = 120
STATUS_LINES_CHARS = 2000
SWEEP_MARK = "🔎"


def lead_label(snapshot: LeadSnapshot, mask: bool) -> str:
    """Who the lead is, in as few words as we know."""
    return _label(snapshot, Audience(masked=mask))


def _label(snapshot: LeadSnapshot, audience: Audience) -> str:
    phone = audience.phone(snapshot.phone)
    who = snapshot.name or phone or snapshot.external_id or snapshot.lead_id or "A lead"
    return one_line(audience.text(who))


def parent_message(snapshot: LeadSnapshot, *, mask: bool) -> dict[str, Any]:
    """The lead's parent message: current status, who, where, and its key answers."""
    # `mask` hides every phone number but its last four digits (the feed's audience decides it).
    audience = Audience(masked=mask)
    status = lead_status(snapshot.status)
    label = _label(snapshot, audience)
    headline = f"*{prose(label, 150)}*  ·  {prose(status.text, 100)}"
    if snapshot.on_call:
        headline += "\n📞 *On a call now*"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": mrkdwn(headline)}]
    facts = _facts(snapshot, audience)
    if facts:
        blocks.append({"type": "section", "fields": facts[:MAX_FIELDS]})
    blocks.append({"type": "context", "elements": [mrkdwn(_footer(snapshot, audience))]})
    buttons = _all_calls(snapshot)
    buttons += action_elements(snapshot.campaign_id, snapshot.lead_id, snapshot.status, "feed")
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    text = f"{label}: {status.text}"
    return {"text": prose(text, MAX_FALLBACK_TEXT), "blocks": blocks}


def _all_calls(snapshot: LeadSnapshot) -> list[dict[str, Any]]:
    """The All calls button, when the lead has an ID and calls, and it fits Slack's limit."""
    if not (snapshot.lead_id and snapshot.calls):
        return []
    value = CallsRef(campaign_id=snapshot.campaign_id, lead_id=snapshot.lead_id).model_dump_json()
    if len(value) > MAX_BUTTON_VALUE:
        return []
    return [
        {
            "type": "button",
            "action_id": ActionId.ALL_CALLS,
            "text": plain("📞 All calls"),
            "value": value,
        }
    ]


def _facts(snapshot: LeadSnapshot, audience: Audience) -> list[dict[str, Any]]:
    facts: list[tuple[str, str | None]] = [
        ("Phone", audience.phone(snapshot.phone) if snapshot.name else None),
        ("Calls", str(snapshot.calls) if snapshot.calls else None),
    ]
    answers = list(snapshot.answers.items())[-ANSWERS_ON_PARENT:]
    facts += [(audience.text(label), audience.value(value)) for label, value in answers]
    return [
        mrkdwn(f"*{prose(one_line(label), 60)}*\n{prose(one_line(value), VALUE_CHARS)}")
        for label, value in facts
        if value
    ]


def _footer(snapshot: LeadSnapshot, audience: Audience) -> str:
    parts = []
    if snapshot.campaign_name:
        parts.append(f"📣 {prose(one_line(audience.text(snapshot.campaign_name)), 150)}")
    # The IDs let the message shortcut find this lead again.
    parts.append(f"Campaign `{safe(snapshot.campaign_id, 60)}`")
    if snapshot.lead_id:
        parts.append(f"Lead `{safe(snapshot.lead_id, 60)}`")
    if snapshot.updated_at:
        parts.append(f"Updated {date_token(snapshot.updated_at)}")
    return " · ".join(parts)


@dataclass(frozen=True)
class StatusChange:
    """A lead's status moving from one code to another at a moment."""

    before: int | None
    after: int | None
    at: datetime
    # Made up by the periodic sweep because NLPearl never sent this change's webhook.
    found_by_sweep: bool = False

    @property
    def words(self) -> str:
        """`☑️ Completed → ✅ Success`."""
        new = lead_status(self.after).text
        if self.before is None or self.before == self.after:
            return new
        return f"{lead_status(self.before).text} → {new}"

    @property
    def line(self) -> str:
        """The change with its time as a date token, shown in each viewer's zone."""
        return f"{prose(self.words, 200)} · {date_token(self.at, '{time}')}"


def call_ended_blocks(call: Call, index: int, audience: Audience) -> list[dict[str, Any]]:
    """A finished call: duration, outcome, summary, answers, Transcript and Recording buttons."""
    heading = ["*📞 Call ended*"]
    if duration := format_duration(call.duration):
        heading.append(duration)
    heading.append(prose(call_outcome(call), 100))
    lines = [" · ".join(heading)]
    if call.summary:
        lines.append(f"> {prose(one_line(audience.text(call.summary)), SUMMARY_CHARS)}")
    blocks: list[dict[str, Any]] = [{"type": "section", "text": mrkdwn("\n".join(lines))}]
    answers = [
        mrkdwn(
            f"*{prose(one_line(audience.text(info.name or info.id or 'Answer')), 60)}*\n"
            f"{prose(one_line(audience.value(info.value)), VALUE_CHARS)}"
        )
        for info in call.collected_info[:ANSWERS_ON_REPLY]
    ]
    if answers:
        blocks.append({"type": "section", "fields": answers})
    if buttons := call_buttons(call, index):
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def thread_reply(
    changes: list[StatusChange], ended_calls: list[Call], *, mask: bool = True
) -> dict[str, Any] | None:
    """One reply for a batch of a lead's events; None when there is nothing to say."""
    # `mask` hides every phone number in summaries and answers but its last four digits.
    audience = Audience(masked=mask)
    blocks: list[dict[str, Any]] = []
    if changes:
        blocks.append({"type": "section", "text": mrkdwn(_joined(_status_lines(changes)))})
        if note := _sweep_note(changes):
            blocks.append({"type": "context", "elements": [mrkdwn(note)]})
    for index, call in enumerate(ended_calls[-CALLS_PER_REPLY:]):
        blocks += call_ended_blocks(call, index, audience)
    if (more := len(ended_calls) - CALLS_PER_REPLY) > 0:
        blocks.append({"type": "context", "elements": [mrkdwn(f"+ {more} earlier calls")]})
    if not blocks:
        return None
    text = changes[-1].words if changes else "Call ended"
    return {"text": prose(text, MAX_FALLBACK_TEXT), "blocks": blocks}


def _status_lines(changes: list[StatusChange]) -> list[str]:
    """A line per change; among several, those the sweep found carry its mark."""
    if len(changes) == 1:
        return [changes[0].line]
    return [f"{c.line} {SWEEP_MARK}" if c.found_by_sweep else c.line for c in changes]


def _sweep_note(changes: list[StatusChange]) -> str | None:
    """Why a change came late and unasked, when the sweep found any of them."""
    if not any(c.found_by_sweep for c in changes):
        return None
    which = "this change" if len(changes) == 1 else f"the changes marked {SWEEP_MARK}"
    return f"{SWEEP_MARK} Found by the periodic check: NLPearl sent no webhook for {which}."


def _joined(lines: list[str]) -> str:
    # Keep the newest changes if a burst has more than a section can hold.
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        if size + len(line) + 1 > STATUS_LINES_CHARS:
            kept.append(f"… {len(lines) - len(kept)} earlier changes")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(reversed(kept))
