"""Replies to `/lead subscribe`, `unsubscribe` and `subscriptions`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.blocks.messages import notice
from bot.blocks.text import date_token, mrkdwn, prose, safe
from bot.nlpearl.statuses import LEAD_STATUSES, lead_status
from bot.parsing.slack_codes import why_stopped
from bot.storage.rows import SubscriptionInfo

MAX_LISTED = 20  # per group, so a list stays under 50 blocks
PUBLIC_URL_UNSET = (
    "ℹ️ `PUBLIC_URL` is not set, so this address is the one Slack used to reach the app: "
    "if it is not the app's public address, set `PUBLIC_URL` to that address "
    "(such as https://lead-bot.example.com) and restart the app."
)


def filter_text(statuses: tuple[int, ...] | None) -> str:
    """`every status change`, or the chosen statuses with their emoji."""
    if not statuses:
        return "every status change"
    return ", ".join(lead_status(code).text for code in statuses)


def campaign_text(campaign_id: str, name: str | None) -> str:
    """*Name* (`id`), or just `id`."""
    if name:
        return f"*{prose(name, 150)}* (`{safe(campaign_id, 100)}`)"
    return f"`{safe(campaign_id, 100)}`"


def subscribed(
    *,
    campaign: str,
    statuses: tuple[int, ...] | None,
    webhook_url: str | None,
    last_received_at: datetime | None,
    changed: bool,
    public_url_unset: bool = False,
) -> dict[str, Any]:
    """What a channel gets after subscribing: the webhook URL and how to paste it, if needed."""
    title = "Subscription updated" if changed else "This channel is subscribed"
    lines = [f"{campaign}: posting {filter_text(statuses)} here, one thread per lead."]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": mrkdwn(f"✅ *{title}*\n" + "\n".join(lines))}
    ]
    if webhook_url:
        steps = "\n".join(
            [
                "1. Open the campaign's Pearl on platform.nlpearl.ai → *Settings* → *Activity*.",
                "2. Paste the URL below into both *Lead Webhook* and *Call Webhook*, "
                "and choose webhook version *V2*.",
                "3. Save. Updates appear here as soon as leads change status.",
            ]
        )
        blocks += [
            {"type": "section", "text": mrkdwn(f"*Connect NLPearl*\n{steps}")},
            {"type": "section", "text": mrkdwn(f"```{safe(webhook_url, 2800)}```")},
            {
                "type": "context",
                "elements": [
                    mrkdwn(
                        "🔒 Treat this URL like a password: anyone with it can post updates. "
                        "It never changes: subscribing again shows this same URL until NLPearl "
                        "first uses it."
                    )
                ],
            },
        ]
        if public_url_unset:
            blocks.append({"type": "context", "elements": [mrkdwn(PUBLIC_URL_UNSET)]})
    elif last_received_at:
        since = date_token(last_received_at)
        connected = f"NLPearl is already sending this campaign's webhooks (last {since})."
        blocks.append({"type": "context", "elements": [mrkdwn(connected)]})
    return {"text": f"{title}: {filter_text(statuses)}", "blocks": blocks}


def webhook_url_needs_public_url(path: str) -> str:
    """What to say when we cannot tell the app's public address (Socket Mode without PUBLIC_URL)."""
    return (
        f"https://YOUR-APP-HOST{path} — set `PUBLIC_URL` to the app's public address "
        "to see the full URL"
    )


def unsubscribed(campaign: str) -> dict[str, Any]:
    """The channel no longer gets the campaign's updates."""
    return notice("👋", "Unsubscribed", f"This channel no longer gets updates for {campaign}.")


def not_subscribed(campaign: str) -> dict[str, Any]:
    """There was nothing to unsubscribe from."""
    return notice("🤷", "Not subscribed", f"This channel wasn't subscribed to {campaign}.")


def cannot_post_here(reason: str) -> dict[str, Any]:
    """The bot could not post in the channel, and how to fix it."""
    return notice("🔒", "I can't post in this conversation", reason)


def campaign_not_found(campaign_id: str) -> dict[str, Any]:
    """NLPearl does not know the campaign."""
    detail = (
        f"NLPearl has no campaign `{safe(campaign_id, 100)}`. "
        "Use the Pearl's ID from the NLPearl platform."
    )
    return notice("🔍", "Campaign not found", detail)


def unknown_statuses(names: list[str]) -> dict[str, Any]:
    """The filter named statuses we do not know."""
    known = ", ".join(f"`{label.replace(' ', '').lower()}`" for label, _ in LEAD_STATUSES.values())
    bad = ", ".join(f"`{safe(name, 40)}`" for name in names)
    return notice("🤔", "Unknown status", f"I don't know {bad}. Use any of: {known}.")


def subscription_list(items: list[SubscriptionInfo], channel_id: str) -> dict[str, Any]:
    """This channel's subscriptions first, then the rest of the workspace's."""
    if not items:
        detail = "Nothing yet. Subscribe this channel with `/lead subscribe CAMPAIGN_ID`."
        return notice("📭", "No subscriptions", detail)
    here = [i for i in items if i.channel_id == channel_id]
    elsewhere = [i for i in items if i.channel_id != channel_id]
    blocks: list[dict[str, Any]] = []
    if here:
        blocks.append({"type": "section", "text": mrkdwn("*📣 This channel*")})
        blocks += [_item(i, show_channel=False) for i in here[:MAX_LISTED]]
    if elsewhere:
        blocks.append({"type": "section", "text": mrkdwn("*🏢 Elsewhere in this workspace*")})
        blocks += [_item(i, show_channel=True) for i in elsewhere[:MAX_LISTED]]
    hidden = len(items) - min(len(here), MAX_LISTED) - min(len(elsewhere), MAX_LISTED)
    if hidden > 0:
        blocks.append({"type": "context", "elements": [mrkdwn(f"+ {hidden} more")]})
    return {"text": f"{len(items)} subscriptions", "blocks": blocks}


def _item(info: SubscriptionInfo, *, show_channel: bool) -> dict[str, Any]:
    where = f"<#{info.channel_id}> · " if show_channel and _is_channel_id(info.channel_id) else ""
    heard = (
        f"last webhook {date_token(info.last_received_at)}"
        if info.last_received_at
        else "no webhook received yet"
    )
    line = f"{where}`{safe(info.campaign_id, 100)}` · {filter_text(info.statuses)} · {heard}"
    if info.problem:
        when = f" since {date_token(info.problem_at)}" if info.problem_at else ""
        line += (
            f"\n⚠️ Delivery stopped{when}: {why_stopped(info.problem)} "
            f"_(Slack: `{safe(info.problem, 80)}`)_"
        )
    return {"type": "section", "text": mrkdwn(line)}


def _is_channel_id(value: str) -> bool:
    return value[:1] in {"C", "G", "D"} and value.isalnum()
