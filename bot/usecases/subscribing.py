"""Use cases behind `/lead subscribe`, `unsubscribe` and `subscriptions` (feeds and digests)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages
from bot.blocks import subscriptions as replies
from bot.nlpearl.errors import NotFound
from bot.nlpearl.names import campaign_name
from bot.nlpearl.statuses import lead_status_by_name
from bot.parsing.slack_codes import INVITE, why_not_subscribable
from bot.parsing.slack_errors import SLACK_FAILURES, classify
from bot.storage.digests import digests_of
from bot.storage.subscriptions import list_subscriptions, subscribe, unsubscribe
from bot.usecases.services import Services, Where

logger = logging.getLogger(__name__)

CAMPAIGN_CHECK_SECONDS = 2.5


def parse_statuses(names: tuple[str, ...]) -> tuple[tuple[int, ...], list[str]]:
    """Status codes for the names given, and the names not understood."""
    codes: list[int] = []
    unknown: list[str] = []
    for name in names:
        code = lead_status_by_name(name)
        if code is None:
            unknown.append(name)
        elif code not in codes:
            codes.append(code)
    return tuple(codes), unknown


async def channel_problem(client: AsyncWebClient, channel_id: str) -> str | None:
    """Why the bot could not post in the channel, or None if it can."""
    if channel_id.startswith("D"):
        return "Direct messages can't be subscribed. Run this in a channel."
    try:
        info = (await client.conversations_info(channel=channel_id)).get("channel") or {}
    except SLACK_FAILURES as exc:
        failure = classify(exc)
        if problem := why_not_subscribable(failure.kind):
            return problem
        # Without the read scope, or with Slack having a moment, we cannot tell: the first
        # post will say.
        logger.warning("conversations.info failed for %s: %s", channel_id, failure.describe())
        return None
    if info.get("is_archived"):
        return "This channel is archived."
    if info.get("is_private") and not info.get("is_member"):
        return f"This is a private channel I'm not in. {INVITE}"
    return None


async def subscribe_here(
    services: Services,
    client: AsyncWebClient,
    where: Where,
    campaign_id: str,
    status_names: tuple[str, ...],
) -> dict[str, Any]:
    """Subscribe the channel; the reply carries the webhook URL when one must be pasted."""
    statuses, unknown = parse_statuses(status_names)
    if unknown:
        return replies.unknown_statuses(unknown)
    if not services.nlpearl.connected:
        # The campaign can't be checked, and its webhook would only post unnamed leads.
        return messages.nlpearl_not_connected()
    if problem := await channel_problem(client, where.channel_id):
        return replies.cannot_post_here(problem)
    try:
        name = await campaign_name(
            services.nlpearl, campaign_id, wait=CAMPAIGN_CHECK_SECONDS, unknown_raises=True
        )
    except NotFound:
        return replies.campaign_not_found(campaign_id)
    result = await subscribe(
        services.engine,
        where.workspace,
        channel_id=where.channel_id,
        campaign_id=campaign_id,
        statuses=statuses or None,
        user_id=where.user_id,
        now=services.now(),
    )
    # Shown, always the same, until NLPearl uses it; after that nobody needs to paste it.
    show = result.token if result.last_received_at is None else None
    base = services.public_url or where.public_url
    url = None
    if show:
        path = f"/nlpearl/webhooks/{show}"
        url = f"{base}{path}" if base else replies.webhook_url_needs_public_url(path)
    return replies.subscribed(
        campaign=replies.campaign_text(campaign_id, name),
        statuses=statuses or None,
        webhook_url=url,
        last_received_at=result.last_received_at,
        changed=result.already_subscribed,
        public_url_unset=services.public_url is None and base is not None,
    )


async def unsubscribe_here(services: Services, where: Where, campaign_id: str) -> dict[str, Any]:
    """End the channel's subscription to the campaign."""
    ended = await unsubscribe(
        services.engine, where.workspace, channel_id=where.channel_id, campaign_id=campaign_id
    )
    campaign = replies.campaign_text(campaign_id, None)
    return replies.unsubscribed(campaign) if ended else replies.not_subscribed(campaign)


async def list_here(services: Services, where: Where) -> dict[str, Any]:
    """The workspace's subscriptions and daily digests, this channel's first."""
    items = await list_subscriptions(services.engine, where.workspace)
    digests = await digests_of(services.engine, where.workspace)
    return replies.subscription_list(items, where.channel_id, digests)
