"""The App Home tab: set-up, who may act (admins), lookups, campaigns, subscriptions, digests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.blocks.connection import Connection, connection_blocks
from bot.blocks.ids import ActionId, CampaignRef, CardRef
from bot.blocks.lead_actions import recent_actions_blocks, who_may_act_blocks
from bot.blocks.subscriptions import digest_line, filter_text
from bot.blocks.text import MAX_BUTTON_VALUE, date_token, mrkdwn, one_line, plain, prose, safe
from bot.parsing.slack_codes import why_stopped
from bot.storage.rows import ActionRecord, DigestInfo, Grants, RecentLookup, SubscriptionInfo

SUBSCRIPTIONS_SHOWN = 30
RECENT_SHOWN = 5
# With the sections above them, these keep the fullest Home under Slack's 100 blocks.
CAMPAIGNS_SHOWN = 5
DIGESTS_SHOWN = 15


@dataclass(frozen=True)
class Setup:
    """Whether each part of Lead Bot works, with a sentence when it does not."""

    nlpearl_problem: str | None
    database_problem: str | None


@dataclass(frozen=True)
class HomeCampaign:
    """A campaign the person used lately, with its name when known, one click from its card."""

    campaign_id: str
    name: str | None


@dataclass(frozen=True)
class AdminHome:
    """What only workspace admins and owners see: who may act, and what was done lately."""

    grants: Grants
    # User group ID → handle, for the groups in `grants`.
    group_names: dict[str, str]
    actions: list[ActionRecord]
    # Whether the actions' details hide phone numbers, as in a channel.
    mask: bool


def home_view(
    setup: Setup,
    subscriptions: list[SubscriptionInfo],
    recent: list[RecentLookup],
    admin: AdminHome | None = None,
    *,
    campaigns: Sequence[HomeCampaign] = (),
    digests: Sequence[DigestInfo] = (),
    names: Mapping[str, str] | None = None,
    connection: Connection | None = None,
) -> dict[str, Any]:
    """The Home tab for one person; `admin` adds the admins' sections after the set-up.

    `connection`, in multi-workspace mode, shows the workspace's NLPearl account.
    """
    # `names` maps campaign IDs to the names NLPearl gave them, for the digests' lines.
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain("📇 Lead Bot")},
        {
            "type": "section",
            "text": mrkdwn(
                "Look up any NLPearl lead, see its calls and answers, and follow campaigns "
                "in channels."
            ),
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": ActionId.HOME_LOOKUP,
                    "text": plain("🔎 Look up a lead"),
                    "style": "primary",
                },
                {"type": "button", "action_id": ActionId.HOME_HELP, "text": plain("❓ Help")},
            ],
        },
        {"type": "divider"},
        _setup_section(setup, connection),
        *(connection_blocks(connection) if connection is not None else []),
        *_admin_blocks(admin),
        {"type": "divider"},
        *_recent_blocks(recent),
        {"type": "divider"},
        *_campaign_blocks(campaigns),
        {"type": "divider"},
        *_subscription_blocks(subscriptions),
        {"type": "divider"},
        *_digest_blocks(digests, names or {}),
    ]
    return {"type": "home", "blocks": blocks}


def _admin_blocks(admin: AdminHome | None) -> list[dict[str, Any]]:
    if admin is None:
        return []
    return [
        {"type": "divider"},
        *who_may_act_blocks(admin.grants, admin.group_names),
        {"type": "divider"},
        *recent_actions_blocks(admin.actions, admin.mask),
    ]


def _setup_section(setup: Setup, connection: Connection | None) -> dict[str, Any]:
    nlpearl = (
        "✅ NLPearl key accepted"
        if setup.nlpearl_problem is None
        else f"⚠️ NLPearl: {safe(setup.nlpearl_problem, 300)}"
    )
    if connection is not None and connection.account_id is None:
        # Nothing is wrong yet: the section below says how to connect.
        nlpearl = "🔌 NLPearl: not connected yet (see below)"
    lines = [
        nlpearl,
        "✅ Database healthy"
        if setup.database_problem is None
        else f"⚠️ Database: {safe(setup.database_problem, 300)}",
    ]
    return {"type": "section", "text": mrkdwn("*Set-up*\n" + "\n".join(lines))}


def _recent_blocks(recent: list[RecentLookup]) -> list[dict[str, Any]]:
    heading: dict[str, Any] = {"type": "section", "text": mrkdwn("*🕘 Your recent lookups*")}
    if not recent:
        return [heading, _context("Leads you look up appear here; one click reopens the card.")]
    blocks = [heading]
    for lookup in recent[:RECENT_SHOWN]:
        ref = CardRef(campaign_id=lookup.campaign_id, kind="id", key=lookup.lead_id)
        value = ref.model_dump_json(exclude_none=True)
        line = f"*{prose(lookup.label, 150)}* · {date_token(lookup.looked_up_at)}"
        section: dict[str, Any] = {"type": "section", "text": mrkdwn(line)}
        if len(value) <= 2000:
            section["accessory"] = {
                "type": "button",
                "action_id": f"{ActionId.HOME_RECENT}.{len(blocks)}",
                "text": plain("Open"),
                "value": value,
            }
        blocks.append(section)
    return blocks


def _campaign_blocks(campaigns: Sequence[HomeCampaign]) -> list[dict[str, Any]]:
    heading: dict[str, Any] = {"type": "section", "text": mrkdwn("*🗂️ Your campaigns*")}
    if not campaigns:
        return [
            heading,
            _context(
                "Campaigns you look up or follow in a channel appear here; "
                "one click opens the campaign's card."
            ),
        ]
    blocks = [heading]
    for campaign in campaigns[:CAMPAIGNS_SHOWN]:
        name = prose(one_line(campaign.name or ""), 150)
        ident = f"`{safe(campaign.campaign_id, 100)}`"
        section: dict[str, Any] = {
            "type": "section",
            "text": mrkdwn(f"*{name}* · {ident}" if name else ident),
        }
        value = CampaignRef(campaign_id=campaign.campaign_id).model_dump_json(exclude_none=True)
        if len(value) <= MAX_BUTTON_VALUE:
            section["accessory"] = {
                "type": "button",
                "action_id": f"{ActionId.HOME_CAMPAIGN}.{len(blocks)}",
                "text": plain("Show campaign"),
                "value": value,
            }
        blocks.append(section)
    return blocks


def _digest_blocks(digests: Sequence[DigestInfo], names: Mapping[str, str]) -> list[dict[str, Any]]:
    heading: dict[str, Any] = {"type": "section", "text": mrkdwn("*📬 Daily digests*")}
    if not digests:
        return [heading, _context("None yet. In a channel, type `/lead digest CAMPAIGN_ID`.")]
    blocks = [heading]
    for info in digests[:DIGESTS_SHOWN]:
        line = digest_line(info, show_channel=True, names=names)
        blocks.append({"type": "section", "text": mrkdwn(line)})
    if len(digests) > DIGESTS_SHOWN:
        blocks.append(_context(f"+ {len(digests) - DIGESTS_SHOWN} more"))
    return blocks


def _subscription_blocks(subscriptions: list[SubscriptionInfo]) -> list[dict[str, Any]]:
    heading: dict[str, Any] = {"type": "section", "text": mrkdwn("*📣 Channel subscriptions*")}
    if not subscriptions:
        return [heading, _context("None yet. In a channel, type `/lead subscribe CAMPAIGN_ID`.")]
    blocks = [heading]
    for info in subscriptions[:SUBSCRIPTIONS_SHOWN]:
        heard = (
            f"last webhook {date_token(info.last_received_at)}"
            if info.last_received_at
            else "no webhook yet"
        )
        line = (
            f"<#{info.channel_id}> · `{safe(info.campaign_id, 100)}` · "
            f"{filter_text(info.statuses)} · {heard}"
            if info.channel_id.isalnum()
            else f"`{safe(info.campaign_id, 100)}` · {filter_text(info.statuses)} · {heard}"
        )
        if info.problem:
            line += (
                f"\n⚠️ Delivery stopped: {why_stopped(info.problem)} "
                f"_(Slack: `{safe(info.problem, 80)}`)_"
            )
        blocks.append({"type": "section", "text": mrkdwn(line)})
    if len(subscriptions) > SUBSCRIPTIONS_SHOWN:
        blocks.append(_context(f"+ {len(subscriptions) - SUBSCRIPTIONS_SHOWN} more"))
    return blocks


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}
