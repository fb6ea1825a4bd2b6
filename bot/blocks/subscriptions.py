"""Replies to `/lead subscribe`, `unsubscribe`, `digest` and `subscriptions`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.blocks.messages import notice
from bot.blocks.text import MAX_FALLBACK_TEXT, date_token, mrkdwn, one_line, prose, safe, truncate
from bot.nlpearl.statuses import LEAD_STATUSES, lead_status
from bot.parsing.slack_codes import why_stopped
from bot.storage.rows import DigestInfo, SubscriptionInfo

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


def subscription_list(
    items: list[SubscriptionInfo], channel_id: str, digests: Sequence[DigestInfo] = ()
) -> dict[str, Any]:
    """This channel's subscriptions and digests first, then the rest of the workspace's."""
    if not items and not digests:
        detail = (
            "Nothing yet. Subscribe this channel with `/lead subscribe CAMPAIGN_ID`, "
            "or get a daily digest here with `/lead digest CAMPAIGN_ID`."
        )
        return notice("📭", "No subscriptions", detail)
    here = [_item(i, show_channel=False) for i in items if i.channel_id == channel_id]
    here += [_digest_item(d, show_channel=False) for d in digests if d.channel_id == channel_id]
    elsewhere = [_item(i, show_channel=True) for i in items if i.channel_id != channel_id]
    elsewhere += [_digest_item(d, show_channel=True) for d in digests if d.channel_id != channel_id]
    blocks: list[dict[str, Any]] = []
    if here:
        blocks.append({"type": "section", "text": mrkdwn("*📣 This channel*")})
        blocks += here[:MAX_LISTED]
    if elsewhere:
        blocks.append({"type": "section", "text": mrkdwn("*🏢 Elsewhere in this workspace*")})
        blocks += elsewhere[:MAX_LISTED]
    hidden = len(here) + len(elsewhere) - min(len(here), MAX_LISTED)
    hidden -= min(len(elsewhere), MAX_LISTED)
    if hidden > 0:
        blocks.append({"type": "context", "elements": [mrkdwn(f"+ {hidden} more")]})
    text = f"{len(items)} subscriptions"
    if digests:
        text += f", {len(digests)} daily {'digest' if len(digests) == 1 else 'digests'}"
    return {"text": text, "blocks": blocks}


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


# Daily digests

# Outside text in a sentence: long enough for any real name, short enough to read.
NAME_CHARS = 150
BY_NAME_CHARS = 80


def digest_campaign(campaign_id: str, name: str | None) -> str:
    """*Name*, or `id` when there is no name to show."""
    shown = prose(one_line(name or ""), NAME_CHARS)
    return f"*{shown}*" if shown else f"`{safe(campaign_id, 100)}`"


def digest_time(at_time: str, zone: str) -> str:
    """The wall-clock time and its zone, `09:00 (Europe/Paris)`: a time every day, not a moment."""
    return f"{safe(at_time, 5)} ({safe(zone, 64)})"


def personal_time(at_time: str, zone: str, slack_zone: str | None) -> str:
    """The time as its subscriber reads it, saying why the zone is UTC when it is not theirs."""
    if slack_zone is None:
        return f"{safe(at_time, 5)} (UTC — Slack didn't tell us your time zone)"
    if slack_zone != zone:
        return (
            f"{safe(at_time, 5)} (UTC — Lead Bot doesn't know your Slack time zone, "
            f"`{safe(slack_zone, 64)}`)"
        )
    return digest_time(at_time, zone)


def digest_line(
    info: DigestInfo, *, show_channel: bool, names: Mapping[str, str] | None = None
) -> str:
    """One digest: where, which campaign, its time and zone, and the next one (or why none)."""
    where = f"<#{info.channel_id}> · " if show_channel and _is_channel_id(info.channel_id) else ""
    campaign = digest_campaign(info.campaign_id, (names or {}).get(info.campaign_id))
    line = f"📬 {where}{campaign} · daily at {digest_time(info.at_time, info.time_zone)}"
    if not info.problem:
        return f"{line} · next {date_token(info.next_due_at)}"
    return (
        f"{line}\n⚠️ Digest stopped: {_for_digest(why_stopped(info.problem), info.campaign_id)} "
        f"_(Slack: `{safe(info.problem, 80)}`)_"
    )


def _digest_item(info: DigestInfo, *, show_channel: bool) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(digest_line(info, show_channel=show_channel))}


def _for_digest(sentence: str, campaign_id: str) -> str:
    """A sentence written for feeds ("run `/lead subscribe` again"), with a digest's command."""
    return sentence.replace("`/lead subscribe`", f"`/lead digest {safe(campaign_id, 100)}`")


def cannot_digest_here(reason: str, campaign_id: str) -> dict[str, Any]:
    """The bot could not post a digest in the channel, and how to fix it."""
    return cannot_post_here(_for_digest(reason, campaign_id))


def campaign_not_checked(campaign_id: str) -> dict[str, Any]:
    """NLPearl did not answer, so whether the campaign exists is unknown: nothing was stored."""
    detail = (
        f"NLPearl isn't answering right now, so I couldn't check campaign "
        f"`{safe(campaign_id, 100)}`. Nothing was set up; try again in a minute."
    )
    return notice("⏳", "Couldn't check the campaign", detail)


def digest_set(
    *,
    campaign: str,
    channel_id: str,
    when: str,
    next_at: datetime,
    before: str | None,
    changed: bool,
) -> dict[str, Any]:
    """The reply to `/lead digest`: set up, moved (from `before`), or already so."""
    place = f"<#{channel_id}>" if _is_channel_id(channel_id) else "this channel"
    due = date_token(next_at)
    if before is None:
        sentence = f"📬 Daily digest of {campaign} in {place} at {when}. The first one comes {due}."
    elif changed:
        sentence = (
            f"📬 Moved the daily digest of {campaign} in {place} from {before} to {when}. "
            f"The next one comes {due}."
        )
    else:
        sentence = (
            f"📬 The daily digest of {campaign} in {place} is already at {when}. "
            f"The next one comes {due}."
        )
    return _sentence(sentence)


def digest_stopped(campaign: str, channel_id: str) -> dict[str, Any]:
    """The channel's digest of the campaign is no more."""
    place = f"<#{channel_id}>" if _is_channel_id(channel_id) else "this channel"
    return _sentence(f"📭 Stopped the daily digest of {campaign} in {place}.")


def no_digest(campaign: str) -> dict[str, Any]:
    """There was no digest to stop."""
    return _sentence(f"🤷 This channel has no digest of {campaign}.")


def digest_note(
    campaign: str, by_name: str | None, *, when: str | None = None, moved: bool = False
) -> dict[str, Any]:
    """What the channel sees: who set the digest up or moved it (to `when`), or stopped it."""
    # A display name, shown as text: "@tess" reads like a mention but notifies no one.
    who = prose(one_line(by_name or ""), BY_NAME_CHARS)
    by = f"by @{who}" if who else "by someone"
    if when is None:
        text = f"📭 Daily digest of {campaign} stopped · {by}"
    elif moved:
        text = f"📬 Daily digest of {campaign} moved to {when} · {by}"
    else:
        text = f"📬 Daily digest of {campaign} set up here, every day at {when} · {by}"
    return {"text": truncate(text, MAX_FALLBACK_TEXT), "blocks": [_context(text)]}


def _sentence(text: str) -> dict[str, Any]:
    return {
        "text": truncate(text, MAX_FALLBACK_TEXT),
        "blocks": [{"type": "section", "text": mrkdwn(truncate(text, 3000))}],
    }


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(truncate(text, 3000))]}
