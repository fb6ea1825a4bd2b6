"""Alerts: a campaign's condition starting or ending, in plain words, posted to its channels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.blocks.ids import ActionId, AttentionRef
from bot.blocks.text import (
    MAX_BUTTON_VALUE,
    MAX_FALLBACK_TEXT,
    date_token,
    mrkdwn,
    one_line,
    plain,
    prose,
    safe,
    truncate,
)
from bot.reports import Alert, AlertKind

NAME_CHARS = 150
ID_CHARS = 60
# A figure past this is no figure NLPearl could mean: treated as not given.
MAX_FIGURE = 1e12
ATTENTION_BUTTON = "⚠️ Leads needing attention"
WEBHOOK_HINT = (
    "In NLPearl, open the campaign's Pearl → *Settings* → *Activity*: *Lead Webhook* and "
    "*Call Webhook* should hold the URL that `/lead subscribe {campaign}` shows in this channel."
)


def alert_message(alert: Alert) -> dict[str, Any]:
    """The alert as `{"text", "blocks"}`: what happened, what to do, and when."""
    sentence, hint = _WORDS[alert.kind, alert.started](alert)
    text = f"{sentence} {hint}" if hint else sentence
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": mrkdwn(text)},
        {"type": "context", "elements": [mrkdwn(_when(alert))]},
    ]
    # Failing calls are mostly numbers to fix, and the list is where they get fixed.
    if alert.kind is AlertKind.ERRORS and alert.started:
        value = AttentionRef(campaign_id=alert.campaign_id).model_dump_json()
        if len(value) <= MAX_BUTTON_VALUE:
            button = {
                "type": "button",
                "action_id": ActionId.CAMPAIGN_ATTENTION,
                "text": plain(ATTENTION_BUTTON),
                "value": value,
            }
            blocks.append({"type": "actions", "elements": [button]})
    return {"text": truncate(sentence, MAX_FALLBACK_TEXT), "blocks": blocks}


def campaign_words(name: str | None, campaign_id: str) -> str:
    """*Name* in bold, or campaign `ID` when it has none; the account's campaigns for ""."""
    if not campaign_id and not name:
        return "this workspace's campaigns"
    if shown := prose(one_line(name or ""), NAME_CHARS):
        return f"*{shown}*"
    return f"campaign `{safe(one_line(campaign_id), ID_CHARS) or '?'}`"


def duration_words(span: timedelta) -> str:
    """`under a minute`, `5 min`, `2 h 10 min`, `3 d 4 h`."""
    minutes = int(max(span, timedelta(0)).total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _when(alert: Alert) -> str:
    """Where and when: the campaign's ID, and the moment (for an end, since when)."""
    where = (
        f"Campaign `{safe(one_line(alert.campaign_id), ID_CHARS) or '?'}`"
        if alert.campaign_id
        else "NLPearl account"
    )
    if alert.started:
        return f"{where} · {date_token(alert.at)}"
    return f"{where} · from {date_token(alert.since)} to {date_token(alert.at)}"


def _lasted(alert: Alert) -> str:
    try:
        return duration_words(alert.at - alert.since)
    except (TypeError, OverflowError):
        # A naive and an aware moment can't be subtracted; the context line still shows both.
        return "a while"


def _figure(alert: Alert, name: str) -> float | None:
    """A figure by name, or None when it is missing or not a usable number."""
    value = alert.figures.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    # Compared rather than converted: NaN fails the test, and a huge int never meets float().
    return float(value) if abs(value) < MAX_FIGURE else None


def _percent(value: float) -> str:
    """`35%`, `2.5%`: a decimal only where a whole number would hide a small share."""
    if abs(value) < 10 and not float(value).is_integer():
        return f"{value:.1f}%"
    return f"{value:,.0f}%"


def _count(value: float) -> str:
    return f"{max(0, round(value)):,}"


# Each kind's words, start and end: the sentence (also the fallback text) and a hint.


def _no_credit_start(alert: Alert) -> tuple[str, str]:
    credit = _figure(alert, "credit")
    shown = f" (credit {credit:,.2f})" if credit is not None else ""
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    return (
        f"🔴 Out of credit: NLPearl can't place calls for {who}{shown}.",
        "Top up the account in NLPearl.",
    )


def _no_credit_end(alert: Alert) -> tuple[str, str]:
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    return f"✅ Credit is back for {who} after {_lasted(alert)}.", ""


def _suspended_start(alert: Alert) -> tuple[str, str]:
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    return (
        f"⛔ Account suspended: NLPearl can't place calls for {who} while it is suspended.",
        "Check the account's billing and status in NLPearl, or ask NLPearl's support why.",
    )


def _suspended_end(alert: Alert) -> tuple[str, str]:
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    return (
        f"✅ The account is no longer suspended: calls can go out for {who} again, "
        f"after {_lasted(alert)}.",
        "",
    )


def _stopped_start(alert: Alert) -> tuple[str, str]:
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    campaign = safe(one_line(alert.campaign_id), ID_CHARS) or "CAMPAIGN_ID"
    return (
        f"⏹️ {who} stopped running, and nobody paused it from Slack.",
        "If it should be calling, check it in NLPearl, or resume it from its card: "
        f"`/lead campaign {campaign}`.",
    )


def _stopped_end(alert: Alert) -> tuple[str, str]:
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    return f"✅ {who} is running again, after {_lasted(alert)} stopped.", ""


def _budget_start(alert: Alert) -> tuple[str, str]:
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    share = _figure(alert, "budget_share")
    threshold = _figure(alert, "threshold_share")
    if share is not None:
        used = f"{who} has used {_percent(share)} of its budget"
        used += f" (alert at {_percent(threshold)})" if threshold is not None else ""
    elif threshold is not None:
        used = f"{who} has used more than {_percent(threshold)} of its budget"
    else:
        used = f"{who} has used most of its budget"
    return (
        f"🟠 Budget nearly spent: {used}.",
        "NLPearl stops placing calls when it runs out; raise the budget in NLPearl if the "
        "campaign should keep calling.",
    )


def _budget_end(alert: Alert) -> tuple[str, str]:
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    share = _figure(alert, "budget_share")
    threshold = _figure(alert, "threshold_share")
    now = f" ({_percent(share)} used)" if share is not None else ""
    if threshold is not None:
        return f"✅ {who} is back under {_percent(threshold)} of its budget{now}.", ""
    return f"✅ The budget of {who} is no longer nearly spent{now}.", ""


def _silent_start(alert: Alert) -> tuple[str, str]:
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    minutes = _figure(alert, "silent_minutes")
    silent = duration_words(timedelta(minutes=minutes)) if minutes is not None else _lasted(alert)
    calls = _figure(alert, "calls")
    shows = f" while NLPearl shows {_count(calls)} calls today" if calls is not None else ""
    campaign = safe(one_line(alert.campaign_id), ID_CHARS) or "CAMPAIGN_ID"
    return (
        f"🔕 No webhook for {who} for {silent}{shows}. Is the webhook still connected?",
        WEBHOOK_HINT.format(campaign=campaign),
    )


def _silent_end(alert: Alert) -> tuple[str, str]:
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    return f"✅ Webhooks for {who} are arriving again; the alert was up {_lasted(alert)}.", ""


def _error_share(alert: Alert) -> float | None:
    """The failed calls' share, given or worked out from the counts."""
    share = _figure(alert, "error_share")
    if share is not None:
        return share
    errors, calls = _figure(alert, "errors"), _figure(alert, "calls")
    if errors is None or not calls or calls <= 0:
        return None
    return errors / calls * 100


def _error_words(alert: Alert) -> str:
    """`35% of the last hour's 120 calls (threshold 20%)`, with what is known of it."""
    share = _error_share(alert)
    calls = _figure(alert, "calls")
    threshold = _figure(alert, "threshold_share")
    of = f"the last hour's {_count(calls)} calls" if calls is not None else "the last hour's calls"
    words = f"{_percent(share)} of {of}" if share is not None else f"too many of {of}"
    return words + (f" (threshold {_percent(threshold)})" if threshold is not None else "")


def _errors_start(alert: Alert) -> tuple[str, str]:
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    return (
        f"⚠️ Calls failing for {who}: errors and wrong numbers were {_error_words(alert)}.",
        "Check the leads needing attention for numbers to fix, and the campaign's settings "
        "in NLPearl.",
    )


def _errors_end(alert: Alert) -> tuple[str, str]:
    who = campaign_words(alert.campaign_name, alert.campaign_id)
    return (
        f"✅ Calls are going through again for {who}: errors and wrong numbers were "
        f"{_error_words(alert)}.",
        "",
    )


_WORDS: dict[tuple[AlertKind, bool], Callable[[Alert], tuple[str, str]]] = {
    (AlertKind.NO_CREDIT, True): _no_credit_start,
    (AlertKind.NO_CREDIT, False): _no_credit_end,
    (AlertKind.SUSPENDED, True): _suspended_start,
    (AlertKind.SUSPENDED, False): _suspended_end,
    (AlertKind.STOPPED, True): _stopped_start,
    (AlertKind.STOPPED, False): _stopped_end,
    (AlertKind.BUDGET, True): _budget_start,
    (AlertKind.BUDGET, False): _budget_end,
    (AlertKind.SILENT_WEBHOOK, True): _silent_start,
    (AlertKind.SILENT_WEBHOOK, False): _silent_end,
    (AlertKind.ERRORS, True): _errors_start,
    (AlertKind.ERRORS, False): _errors_end,
}
