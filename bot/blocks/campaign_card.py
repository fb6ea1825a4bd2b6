"""The campaign card: a Pearl's state, today's numbers and budget, with Pause or Resume."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.blocks.ids import ActionId, AttentionRef, CampaignPending, CampaignRef, ViewId
from bot.blocks.modal import modal
from bot.blocks.sparkline import fortnight_lines
from bot.blocks.text import (
    MAX_BUTTON_VALUE,
    MAX_FALLBACK_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    date_token,
    mrkdwn,
    one_line,
    plain,
    prose,
    safe,
)
from bot.blocks.values import format_amount, format_phone
from bot.nlpearl.models import Account, Pearl
from bot.nlpearl.statuses import (
    ACCOUNT_CAN_CALL,
    CAMPAIGN_RUNNING,
    account_status,
    activity_status,
)
from bot.reports import DayPoint

RUNNING = CAMPAIGN_RUNNING
PAUSED = 2
# Below this the account may run dry mid-campaign, so the card warns; above it, it stays quiet.
LOW_CREDIT = 10
# Outside text in a sentence: long enough for any real name or number, short enough to read.
NAME_CHARS = 150
PHONE_CHARS = 60
ID_CHARS = 60
BY_NAME_CHARS = 80
WHY_CHARS = 500
MAX_METADATA = 3000
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
NO_WEBHOOK = "None yet — connect it with `/lead subscribe`"

# What pausing and resuming do, for the question, the note and the outcome.
_VERBS = {True: ("resume", "resumed", "▶️"), False: ("pause", "paused", "⏸️")}
_EFFECTS = {
    True: "It starts calling its leads again within its calling hours.",
    False: (
        "It stops placing new calls until someone resumes it; calls already in progress finish."
    ),
}


# The card


def campaign_card(
    campaign: Pearl,
    *,
    campaign_id: str,
    account: Account | None,
    last_webhook: datetime | None,
    now: datetime,
    ref: CampaignRef,
    days: Sequence[DayPoint] = (),
) -> dict[str, Any]:
    """The card as `{"text", "blocks"}`: state, numbers, budget, credit, 14 days, buttons."""
    # `now` is taken for symmetry with the lead card; date tokens render relative to the viewer.
    del now
    title = _title(campaign, campaign_id)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"📣 {title}", MAX_HEADER_TEXT)},
    ]
    fields = _facts(campaign, account, last_webhook)
    blocks += [
        {"type": "section", "fields": fields[start : start + MAX_FIELDS]}
        for start in range(0, len(fields), MAX_FIELDS)
    ]
    if fortnight := fortnight_lines(days):
        blocks.append({"type": "section", "text": mrkdwn(f"*Last {len(days)} days*\n{fortnight}")})
    blocks.append(_footer(campaign, campaign_id, ref))
    if buttons := _buttons(campaign, campaign_id, ref):
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": _fallback(campaign, title), "blocks": blocks}


def _title(campaign: Pearl, campaign_id: str) -> str:
    """The campaign's name on one line, else its ID."""
    return one_line(campaign.name or "") or one_line(campaign_id) or "Campaign"


def _facts(
    campaign: Pearl, account: Account | None, last_webhook: datetime | None
) -> list[dict[str, Any]]:
    """One field per known fact; unknown numbers are left out rather than shown as zero."""
    facts: list[tuple[str, str | None]] = [
        ("State", activity_status(campaign.status).text),
        ("Calls today", _count(campaign.total_today_calls)),
        ("On a call now", _count(campaign.total_ongoing_calls)),
        ("Leads", _count(campaign.total_leads)),
        ("Completed", _count(campaign.total_leads_completed)),
        ("Successful", _successful(campaign)),
        ("Budget", _budget(campaign.budget_consumed, campaign.budget_total)),
        ("Credit balance", _credit(account)),
        ("Last webhook", date_token(last_webhook) if last_webhook else NO_WEBHOOK),
    ]
    return [mrkdwn(f"*{label}*\n{value}") for label, value in facts if value]


def _count(value: int | None) -> str | None:
    return None if value is None else f"{value:,}"


def _percent(part: float, whole: float) -> str | None:
    """`part` as a whole percentage of `whole`, or None when that means nothing."""
    if whole <= 0:
        return None
    ratio = part / whole * 100
    return f"{ratio:,.0f}%" if math.isfinite(ratio) else None


def _successful(campaign: Pearl) -> str | None:
    """Successful leads, with their share of the completed ones when any completed."""
    success = campaign.total_leads_success
    if success is None:
        return None
    completed = campaign.total_leads_completed
    rate = _percent(success, completed) if completed else None
    return f"{success:,} · {rate} of completed" if rate else f"{success:,}"


def _budget(consumed: float | None, total: float | None) -> str | None:
    """What the campaign has spent, of how much."""
    if consumed is None:
        return None
    if total is None:
        return f"{format_amount(consumed)} used · no limit"
    share = _percent(consumed, total)
    used = f"{format_amount(consumed)} of {format_amount(total)} used"
    return f"{used} ({share})" if share else used


def _credit(account: Account | None) -> str | None:
    """The account's credit, only when it is low or the account can no longer call."""
    if account is None:
        return None
    balance = account.credit_balance
    shown = None if balance is None else f"{balance:,.2f}"
    if account.status is not None and account.status not in ACCOUNT_CAN_CALL:
        state = account_status(account.status).text
        return f"{state} · {shown}" if shown else state
    if balance is not None and balance < LOW_CREDIT:
        return f"⚠️ {shown} (low)"
    return None


def _footer(campaign: Pearl, campaign_id: str, ref: CampaignRef) -> dict[str, Any]:
    parts = [f"Campaign `{safe(campaign_id, ID_CHARS)}`"]
    # The Pearl's own caller number, not a lead's: shown in full, formatted for people.
    if phone := one_line(format_phone(campaign.phone_number) or ""):
        parts.append(f"📞 {prose(phone, PHONE_CHARS)}")
    if ref.shared_by and _USER_ID.match(ref.shared_by):
        parts.append(f"Shared by <@{ref.shared_by}>")
    return {"type": "context", "elements": [mrkdwn(" · ".join(parts))]}


def _buttons(campaign: Pearl, campaign_id: str, ref: CampaignRef) -> list[dict[str, Any]]:
    """Refresh, the leads needing attention, Share (on a private card), Pause or Resume."""
    card = CampaignRef(campaign_id=campaign_id, shared_by=ref.shared_by)
    value = card.model_dump_json(exclude_none=True)
    buttons = _button(ActionId.CAMPAIGN_REFRESH, "🔄 Refresh", value)
    # The list opens privately for whoever clicks, so it carries no sharer.
    attention = AttentionRef(campaign_id=campaign_id).model_dump_json()
    buttons += _button(ActionId.CAMPAIGN_ATTENTION, "⚠️ Leads needing attention", attention)
    if not ref.shared_by:
        share = _button(ActionId.CAMPAIGN_SHARE, "📣 Share in channel", value)
        buttons += [{**button, "style": "primary"} for button in share]
    # The state the card saw travels with the button, so a stale click asks nothing of NLPearl.
    seen = card.model_copy(update={"seen_status": campaign.status})
    seen_value = seen.model_dump_json(exclude_none=True)
    if campaign.status == RUNNING:
        buttons += _button(ActionId.CAMPAIGN_PAUSE, "⏸️ Pause", seen_value)
    elif campaign.status == PAUSED:
        buttons += _button(ActionId.CAMPAIGN_RESUME, "▶️ Resume", seen_value)
    return buttons


def _button(action_id: str, text: str, value: str) -> list[dict[str, Any]]:
    """A button carrying `value`, or none when the value is over Slack's limit."""
    if len(value) > MAX_BUTTON_VALUE:
        return []
    return [{"type": "button", "action_id": action_id, "text": plain(text), "value": value}]


def _fallback(campaign: Pearl, title: str) -> str:
    state = activity_status(campaign.status).text
    calls = campaign.total_today_calls
    today = f" · {calls:,} calls today" if calls is not None else ""
    return prose(f"{title}: {state}{today}", MAX_FALLBACK_TEXT)


# Pausing and resuming


def confirm_campaign_view(pending: CampaignPending, name: str) -> dict[str, Any]:
    """The modal asking to confirm pausing or resuming, and what follows."""
    verb = _VERBS[pending.active][0]
    question = f"{verb.capitalize()} {_name(name)}? {_EFFECTS[pending.active]}"
    metadata = pending.model_dump_json(exclude_none=True)
    if len(metadata) > MAX_METADATA:
        raise ValueError(f"the pending change is {len(metadata)} characters, over {MAX_METADATA}")
    blocks = [_section(question), _context(f"Campaign `{safe(pending.campaign_id, ID_CHARS)}`")]
    return modal(
        ViewId.CONFIRM_CAMPAIGN,
        "Confirm",
        blocks,
        submit=f"{verb.capitalize()} campaign",
        close="Cancel",
        private_metadata=metadata,
    )


def campaign_changed_view(name: str, now_status: int | None) -> dict[str, Any]:
    """The campaign already is where the click wanted it: say so, change nothing."""
    state = activity_status(now_status).text
    # Names are shown as written, so only our own words start the sentence with a capital.
    who = _name(name, "This campaign")
    return modal(
        ViewId.CONFIRM_CAMPAIGN,
        "Nothing to change",
        [_section(f"{who} is already {state}; nothing was changed.")],
    )


def campaign_note(active: bool, name: str, by_name: str, at: datetime) -> dict[str, Any]:
    """A channel message: who paused or resumed the campaign, and when."""
    _, done, emoji = _VERBS[active]
    # A display name, shown as text: "@tess" reads like a mention but notifies no one.
    who = prose(one_line(by_name), BY_NAME_CHARS)
    by = f"by @{who}" if who else "by someone"
    text = f"{emoji} {_name(name)} {done} · {by}"
    return {"text": text, "blocks": [_context(f"{text} · {date_token(at, '{time}')}")]}


def campaign_outcome(active: bool, name: str, *, ok: bool, why: str | None) -> dict[str, Any]:
    """How pausing or resuming went: done, or why not and that nothing changed."""
    verb, done, emoji = _VERBS[active]
    if ok:
        return _message(f"{emoji} {done.capitalize()} {_name(name)}.")
    # The reason is outside text (NLPearl's words among it); our sentence ends it.
    reason = prose(one_line(why or ""), WHY_CHARS).rstrip(" .")
    failed = f"⚠️ Couldn't {verb} {_name(name)}"
    return _message(
        f"{failed}: {reason}. Nothing was changed." if reason else f"{failed}. Nothing was changed."
    )


def _name(name: str, otherwise: str = "this campaign") -> str:
    """The campaign's name as escaped mrkdwn, or a stand-in when there is none."""
    return prose(one_line(name), NAME_CHARS) or otherwise


def _message(text: str) -> dict[str, Any]:
    return {"text": text, "blocks": [_section(text)]}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}
