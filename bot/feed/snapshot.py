"""How each webhook changes what a lead's parent message shows (records.LeadSnapshot); pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.blocks.values import humanize_key, lead_name
from bot.parsing.webhooks import CallUpdate, LeadChange, WebhookEvent
from bot.records import LeadSnapshot

ON_A_CALL = 40
ANSWERS_KEPT = 8
# Names remembered for answers' IDs: a few more than the answers shown, never a whole webhook's.
NAMES_KEPT = 4 * ANSWERS_KEPT


def apply(snapshot: LeadSnapshot, event: WebhookEvent, at: datetime) -> LeadSnapshot:
    """The snapshot after one event."""
    if isinstance(event, LeadChange):
        return _apply_lead(snapshot, event, at)
    return _apply_call(snapshot, event, at)


def _apply_lead(snapshot: LeadSnapshot, event: LeadChange, at: datetime) -> LeadSnapshot:
    lead = event.lead
    names = snapshot.answer_names
    answers = {names.get(k) or humanize_key(k): v for k, v in lead.collected_data.items()}
    return snapshot.model_copy(
        update={
            "lead_id": lead.id or snapshot.lead_id,
            "name": lead_name(lead) or snapshot.name,
            "phone": lead.phone_number or snapshot.phone,
            "external_id": lead.external_id or snapshot.external_id,
            "status": lead.status if lead.status is not None else snapshot.status,
            "on_call": lead.status == ON_A_CALL,
            "calls": max(snapshot.calls, len(lead.calls_id)),
            "answers": _merged(snapshot.answers, answers),
            "updated_at": at,
        }
    )


def _apply_call(snapshot: LeadSnapshot, event: CallUpdate, at: datetime) -> LeadSnapshot:
    call = event.call
    changes: dict[str, Any] = {
        "lead_id": snapshot.lead_id or call.lead_id,
        "name": snapshot.name or call.name,
        "phone": snapshot.phone or call.to,
        "on_call": event.phase == "start",
        "updated_at": at,
    }
    if event.phase == "end":
        changes["calls"] = snapshot.calls + 1
        infos = call.collected_info
        answers = {(i.name or humanize_key(i.id or "answer")): i.value for i in infos}
        named = {i.id: i.name for i in infos if i.id and i.name}
        # The same answer shown earlier under its ID's wording gives way to its name.
        renamed = {humanize_key(key) for key, name in named.items() if humanize_key(key) != name}
        earlier = {k: v for k, v in snapshot.answers.items() if k not in renamed}
        changes["answers"] = _merged(earlier, answers)
        names = {**snapshot.answer_names, **named}
        changes["answer_names"] = dict(list(names.items())[-NAMES_KEPT:])
    return snapshot.model_copy(update=changes)


def _merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Newest answers last, so the cap drops the stalest ones."""
    kept = {k: v for k, v in old.items() if k not in new}
    return dict(list({**kept, **new}.items())[-ANSWERS_KEPT:])
