"""The leads of a campaign needing attention (Error, Wrong country code, Unreachable), a page
at a time, with a menu to fix the number or call again for those who may act."""

from __future__ import annotations

from typing import Any

from bot.blocks.ids import MAX_OPTION_VALUE, ActionId, ActRef, AttentionRef, ViewId
from bot.blocks.lead_card import call_outcome
from bot.blocks.modal import modal
from bot.blocks.text import MAX_VIEW_BLOCKS, date_token, mrkdwn, one_line, plain, prose
from bot.blocks.values import format_phone, lead_name
from bot.nlpearl.lead_actions import Verb, offered
from bot.nlpearl.models import Call, Lead
from bot.nlpearl.statuses import lead_status

TITLE = "Needs attention"
# Outside text in a line: long enough for any real name or number, short enough to read.
NAME_CHARS = 150
PHONE_CHARS = 60
OUTCOME_CHARS = 100
MAX_OPTION_TEXT = 75
# Blocks around the leads: the heading, a divider, the note, the pager and its page count.
FRAME_BLOCKS = 5
NOBODY = "No leads need attention right now. 🎉"
NOT_ALLOWED = (
    "Only workspace admins and owners, and the people they choose, can fix these from here."
)
# The menu's wording: the list is about numbers that don't get through, so editing fixes one.
_FIXES = ((Verb.EDIT, "✏️ Fix number"), (Verb.RETRY, "🔁 Call again"))


def attention_modal(
    ref: AttentionRef,
    campaign_name: str | None,
    leads: list[tuple[Lead, Call | None]],
    count: int,
    *,
    may_act: bool,
    page_size: int = 10,
) -> dict[str, Any]:
    """One page of the campaign's leads needing attention, each with its status and last call."""
    size = max(1, min(page_size, MAX_VIEW_BLOCKS - FRAME_BLOCKS))
    # At least up to this page: if the list shrank meanwhile, Newer still leads back.
    pages = max(1, -(-count // size), ref.page + 1)
    blocks: list[dict[str, Any]] = [_section(_heading(count, campaign_name))]
    shown = leads[:size]
    if shown:
        blocks.append({"type": "divider"})
        blocks += [_lead_block(ref.campaign_id, lead, call, may_act) for lead, call in shown]
        if not may_act:
            blocks.append(_context(NOT_ALLOWED))
    elif count:
        # NLPearl counted more leads than this page holds: the list moved since the last page.
        blocks.append(_context("No leads on this page any more."))
    if pages > 1 and (pager := _pager(ref, pages)):
        blocks.append(pager)
        if ref.page < pages:
            blocks.append(_context(f"Page {ref.page + 1} of {pages}"))
    return modal(
        ViewId.ATTENTION, TITLE, blocks, close="Close", private_metadata=ref.model_dump_json()
    )


def _heading(count: int, campaign_name: str | None) -> str:
    """How many leads need attention, and in which campaign when its name is known."""
    if count <= 0:
        return NOBODY
    counted = (
        f"*{count:,} lead needs attention*" if count == 1 else f"*{count:,} leads need attention*"
    )
    name = prose(one_line(campaign_name or ""), NAME_CHARS)
    return f"{counted} in {name}" if name else counted


def _lead_block(campaign_id: str, lead: Lead, call: Call | None, may_act: bool) -> dict[str, Any]:
    """A lead's line: who, its status, its number and last call; the fixes when allowed."""
    block = _section(_lead_text(lead, call))
    if may_act and (menu := _menu(campaign_id, lead)):
        block["accessory"] = menu
    return block


def _lead_text(lead: Lead, call: Call | None) -> str:
    title = _title(lead)
    phone = one_line(format_phone(lead.phone_number) or "")
    details: list[str] = []
    # The number stays on the second line unless it already is the title.
    if phone and phone != title:
        details.append(prose(phone, PHONE_CHARS))
    if call is not None:
        last = f"last call: {prose(one_line(call_outcome(call)), OUTCOME_CHARS)}"
        details.append(f"{last} {date_token(call.start_time)}" if call.start_time else last)
    head = f"*{prose(title, NAME_CHARS)}* · {lead_status(lead.status).text}"
    return "\n".join([head, " · ".join(details)]) if details else head


def _title(lead: Lead) -> str:
    """The lead's name, else its number, external ID or lead ID: the first one known."""
    candidates = (lead_name(lead), format_phone(lead.phone_number), lead.external_id, lead.id)
    return next((text for c in candidates if (text := one_line(c or ""))), "Lead")


def _menu(campaign_id: str, lead: Lead) -> dict[str, Any] | None:
    """Fix number, and Call again where it helps; none when a value would not fit Slack."""
    if not lead.id:
        return None
    verbs = offered(lead.status)
    options = []
    for verb, label in _FIXES:
        if verb not in verbs:
            continue
        act = ActRef(
            verb=verb,
            campaign_id=campaign_id,
            lead_id=lead.id,
            seen_status=lead.status,
            origin="card",
        )
        value = act.value()
        # All or nothing, as on the card: a menu missing a fix would look like it does not apply.
        if len(value) > MAX_OPTION_VALUE:
            return None
        options.append({"text": plain(label, MAX_OPTION_TEXT), "value": value})
    if not options:
        return None
    # The lead card's menu action, so the existing listener confirms and applies it.
    return {"type": "overflow", "action_id": ActionId.LEAD_MENU, "options": options}


def _pager(ref: AttentionRef, pages: int) -> dict[str, Any] | None:
    """Newer and Older buttons, each carrying the page it opens; none past the last page."""
    steps = (("prev", "← Newer", ref.page - 1), ("next", "Older →", ref.page + 1))
    buttons = [
        {
            "type": "button",
            "action_id": f"{ActionId.ATTENTION_PAGE}.{step}",
            "text": plain(label),
            "value": ref.model_copy(update={"page": to}).model_dump_json(),
        }
        for step, label, to in steps
        if 0 <= to < pages
    ]
    if not buttons:
        return None
    return {"type": "actions", "block_id": f"pager-{ref.page}", "elements": buttons}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}
