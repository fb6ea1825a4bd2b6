"""Read NLPearl webhook bodies: tell Lead from Call webhooks and key them for dedupe and order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from bot.grammar import normalize_phone
from bot.nlpearl import Call, Lead
from bot.nlpearl.statuses import IN_PROGRESS_CALL

CallPhase = Literal["start", "end"]
_CALL_KEYS = {"to", "conversationstatus"}
_LEAD_KEYS = {"phonenumber", "externalid", "callsid", "calldata"}


class BadPayload(ValueError):
    """The body is not a Lead or Call webhook we can read; the message says why."""


@dataclass(frozen=True)
class LeadChange:
    """A Lead Webhook: the lead's status changed."""

    lead: Lead

    kind = "lead"

    @property
    def dedupe_key(self) -> str:
        """Same lead, same status (and same number of calls, when known) is a redelivery."""
        lead = self.lead
        calls = len(lead.calls_id) or (lead.last_call.id if lead.last_call else "") or ""
        return f"lead:{lead.id or lead_key(self)}:{lead.status}:{calls}"


@dataclass(frozen=True)
class CallUpdate:
    """A Call Webhook: a call started or ended."""

    call: Call
    phase: CallPhase

    kind = "call"

    @property
    def dedupe_key(self) -> str:
        """Same call, same phase is a redelivery."""
        return f"call:{self.call.id}:{self.phase}"


WebhookEvent = LeadChange | CallUpdate


def parse_webhook(body: Any) -> WebhookEvent:
    """The event in a webhook body, in V2 camelCase or V1 PascalCase."""
    if not isinstance(body, dict):
        raise BadPayload("the body is not a JSON object")
    keys = {str(k).lower() for k in body}
    try:
        if keys & _CALL_KEYS:
            return _call_update(Call.model_validate(body))
        if keys & _LEAD_KEYS:
            return _lead_change(Lead.model_validate(body))
    except ValidationError as exc:
        raise BadPayload("the body could not be read") from exc
    raise BadPayload("the body is neither a Lead nor a Call webhook")


def _lead_change(lead: Lead) -> LeadChange:
    if not (lead.id or lead.phone_number):
        raise BadPayload("the lead has neither an id nor a phone number")
    return LeadChange(lead)


def _call_update(call: Call) -> CallUpdate:
    if not call.id:
        raise BadPayload("the call has no id")
    ongoing = call.status == IN_PROGRESS_CALL and call.conversation_status is None
    return CallUpdate(call, "start" if ongoing else "end")


def lead_key(event: WebhookEvent) -> str:
    """What ties a lead's events together: its phone number (E.164), else its NLPearl ID."""
    if isinstance(event, LeadChange):
        phone, lead_id = event.lead.phone_number, event.lead.id
    else:
        phone, lead_id = event.call.to, event.call.lead_id
    normalized = normalize_phone(phone) if phone else None
    if normalized:
        return normalized
    if lead_id:
        return f"lead:{lead_id}"
    if phone:
        return f"phone:{phone.strip()[:100]}"
    # A call with neither the lead's phone nor its ID can only be threaded on its own.
    return f"call:{event.call.id}" if isinstance(event, CallUpdate) else "lead:unknown"
