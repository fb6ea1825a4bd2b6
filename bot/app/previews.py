"""What `lead-bot preview --surface` prints: the card, or one of the views acting on it opens."""

from __future__ import annotations

from typing import Any

from bot.blocks import views
from bot.blocks.ids import ActRef, Pending
from bot.blocks.lead_actions import confirm_view, denied_view
from bot.blocks.lead_forms import add_lead_view, edit_lead_view
from bot.blocks.privacy import PRIVATE
from bot.nlpearl.lead_actions import Verb, changes_status, offered, primary
from bot.parsing.lead_form import fingerprint
from bot.parsing.message_leads import AddPrefill
from bot.records import LeadReport, utc_now
from bot.usecases.acting import lead_label

SURFACES = ("card", "confirm", "edit", "add", "denied")


def surface_preview(surface: str, report: LeadReport, card: dict[str, Any]) -> dict[str, Any]:
    """The Block Kit of one surface for this lead; `card` is its card as a message."""
    lead, now = report.lead, utc_now()
    if surface not in SURFACES or surface == "card":
        return card
    if surface == "denied":
        return denied_view()
    if surface == "add":
        prefill = AddPrefill(phone=lead.phone_number)
        campaign = views.campaign_input((report.campaign_id, report.campaign_name))
        return add_lead_view(campaign, prefill=prefill, private_metadata="", now=now)
    verb = Verb.EDIT if surface == "edit" else _state_change(lead.status)
    act = ActRef(
        verb=verb, campaign_id=report.campaign_id, lead_id=lead.id or "", seen_status=lead.status
    )
    if verb is Verb.EDIT:
        pending = Pending(act=act, fingerprint=fingerprint(lead))
        return edit_lead_view(lead, pending, now=now, title_name=lead_label(lead))
    return confirm_view(Pending(act=act), lead_label(lead), PRIVATE.phone(lead.phone_number))


def _state_change(status: int | None) -> Verb:
    """The action the card offers first for this status."""
    return primary(status) or next(v for v in offered(status) if changes_status(v))
