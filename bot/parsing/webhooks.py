"""Read NLPearl webhook bodies: tell Lead from Call webhooks and key them for dedupe and order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from bot.nlpearl.models import Call, Lead
from bot.nlpearl.statuses import IN_PROGRESS_CALL
from bot.parsing.grammar import normalize_phone
from bot.parsing.storable import BadPayload as BadPayload
from bot.parsing.storable import bounded, storable

CallPhase = Literal["start", "end"]
_CALL_KEYS = {"to", "conversationstatus"}
_LEAD_KEYS = {"phonenumber", "externalid", "callsid", "calldata"}
# The widths of the columns the keys go in (events.dedupe_key, events/deliveries.lead_key).
DEDUPE_KEY_LENGTH = 250
LEAD_KEY_LENGTH = 120
# As long as a hash: "lead:" and three parts with two colons stay within DEDUPE_KEY_LENGTH.
KEY_PART_LENGTH = 71


@dataclass(frozen=True)
class LeadChange:
    """A Lead Webhook: the lead's status changed."""

    lead: Lead
    payload: dict[str, Any]

    kind = "lead"

    @property
    def dedupe_key(self) -> str:
        """Same lead, same status and same number of calls is the same event, whenever it comes.

        A lead that genuinely returns to a status has had a call in between (NLPearl sends
        `callsId`), so its count differs. Without any call information the count is empty,
        and a status the lead has had before counts as a redelivery too.
        """
        lead = self.lead
        calls = str(len(lead.calls_id) or (lead.last_call.id if lead.last_call else "") or "")
        who = lead.id or lead_key(self)
        return f"lead:{_part(who)}:{_part(str(lead.status))}:{_part(calls)}"

    @property
    def stale_after(self) -> tuple[str, ...]:
        """Nothing makes a lead event stale but its own dedupe key (a redelivery)."""
        return ()

    @property
    def serial(self) -> str | None:
        """Lead events need not be stored one at a time."""
        return None


@dataclass(frozen=True)
class CallUpdate:
    """A Call Webhook: a call started or ended."""

    call: Call
    phase: CallPhase
    payload: dict[str, Any]

    kind = "call"

    @property
    def dedupe_key(self) -> str:
        """Same call, same phase is a redelivery."""
        return _call_key(self.call, self.phase)

    @property
    def stale_after(self) -> tuple[str, ...]:
        """A call's start that comes after its end says nothing new: the call is over."""
        return (_call_key(self.call, "end"),) if self.phase == "start" else ()

    @property
    def serial(self) -> str | None:
        """A call's start and end are stored one at a time, so neither misses the other."""
        return f"call:{_part(self.call.id or '')}"


WebhookEvent = LeadChange | CallUpdate


def parse_webhook(body: Any) -> WebhookEvent:
    """The event in a webhook body (V2 camelCase or V1 PascalCase), its body made storable."""
    if not isinstance(body, dict):
        raise BadPayload("the body is not a JSON object")
    body = storable(body)
    keys = {str(k).lower() for k in body}
    try:
        if keys & _CALL_KEYS:
            return _call_update(Call.model_validate(body), body)
        if keys & _LEAD_KEYS:
            return _lead_change(Lead.model_validate(body), body)
    except ValidationError as exc:
        raise BadPayload("the body could not be read") from exc
    raise BadPayload("the body is neither a Lead nor a Call webhook")


def _lead_change(lead: Lead, body: dict[str, Any]) -> LeadChange:
    if not (lead.id or lead.phone_number):
        raise BadPayload("the lead has neither an id nor a phone number")
    return LeadChange(lead, body)


def _call_update(call: Call, body: dict[str, Any]) -> CallUpdate:
    if not call.id:
        raise BadPayload("the call has no id")
    ongoing = call.status == IN_PROGRESS_CALL and call.conversation_status is None
    return CallUpdate(call, "start" if ongoing else "end", body)


def _call_key(call: Call, phase: CallPhase) -> str:
    return f"call:{_part(call.id or '')}:{phase}"


def _part(text: str) -> str:
    """A part of a dedupe key; a long one is hashed, so that three fit the column."""
    return bounded(text, KEY_PART_LENGTH)


def lead_key(event: WebhookEvent) -> str:
    """What ties a lead's events together: its phone number (E.164), else its NLPearl ID.

    Over-long keys become a hash of themselves, so the same lead always gets the same key.
    """
    return bounded(_lead_key(event), LEAD_KEY_LENGTH)


def lead_keys_of(phone: str | None, lead_id: str | None) -> list[str]:
    """Every key a lead with this phone and ID may have been filed under, as `lead_key` makes."""
    keys = []
    if phone and (normalized := normalize_phone(phone)):
        keys.append(normalized)
    if lead_id:
        keys.append(f"lead:{lead_id}")
    if phone:
        keys.append(f"phone:{phone.strip()}")
    return [bounded(key, LEAD_KEY_LENGTH) for key in keys]


def _lead_key(event: WebhookEvent) -> str:
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
        return f"phone:{phone.strip()}"
    # A call with neither the lead's phone nor its ID can only be threaded on its own.
    return f"call:{event.call.id}" if isinstance(event, CallUpdate) else "lead:unknown"
