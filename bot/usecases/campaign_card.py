"""Use case: a campaign's card, and pausing or resuming it from Slack, safely."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.blocks import messages, views
from bot.blocks.campaign_card import (
    campaign_card,
    campaign_changed_view,
    campaign_note,
    campaign_outcome,
    confirm_campaign_view,
)
from bot.blocks.ids import CampaignPending, CampaignRef
from bot.blocks.lead_actions import denied_view
from bot.blocks.text import one_line, prose, safe
from bot.nlpearl.errors import NLPearlError, NotFound, Unconfirmed
from bot.nlpearl.models import Account, Pearl
from bot.nlpearl.statuses import CAMPAIGN_PAUSED, CAMPAIGN_RUNNING, activity_status
from bot.parsing.slack_errors import SLACK_FAILURES, classify
from bot.reports import DayPoint
from bot.storage import actions as audit
from bot.storage.rows import ActionRecord
from bot.storage.subscriptions import list_subscriptions
from bot.usecases.acting import already_done, cant_check, settled, why_failed
from bot.usecases.digests import CHART_DAYS, fortnight
from bot.usecases.modals import problem_message
from bot.usecases.permissions import Actor
from bot.usecases.services import Services, Where

logger = logging.getLogger(__name__)

TITLE = "Campaign"
# Activity statuses Set Active moves a campaign between (reference §4.4).
RUNNING, PAUSED = CAMPAIGN_RUNNING, CAMPAIGN_PAUSED


@dataclass(frozen=True)
class CampaignAnswer:
    """The campaign's card, or the notice saying why there is none."""

    message: dict[str, Any]
    found: bool


async def campaign_message(services: Services, where: Where, ref: CampaignRef) -> dict[str, Any]:
    """The campaign's card as NLPearl has it now, or the notice saying why not."""
    return (await campaign_answer(services, where, ref)).message


async def campaign_answer(services: Services, where: Where, ref: CampaignRef) -> CampaignAnswer:
    """The campaign's card, saying whether it is one: a notice must not replace a card."""
    try:
        campaign = await services.nlpearl.get_campaign(ref.campaign_id, fresh=True)
    except NotFound:
        return CampaignAnswer(_not_found(ref.campaign_id), found=False)
    except NLPearlError as exc:
        return CampaignAnswer(problem_message(exc), found=False)
    return CampaignAnswer(await _card(services, where, ref, campaign), found=True)


def _not_found(campaign_id: str) -> dict[str, Any]:
    detail = (
        f"NLPearl has no campaign `{safe(campaign_id, 100)}`. Use the ID of the campaign's "
        "Pearl, or pick the campaign in the Look up a lead form."
    )
    return messages.notice("🔍", "No such campaign", detail)


async def _card(
    services: Services, where: Where, ref: CampaignRef, campaign: Pearl
) -> dict[str, Any]:
    account, last_webhook, days = await asyncio.gather(
        _account(services),
        _last_webhook(services, where, ref.campaign_id),
        _fortnight(services, ref.campaign_id),
    )
    return campaign_card(
        campaign,
        campaign_id=ref.campaign_id,
        account=account,
        last_webhook=last_webhook,
        now=services.now(),
        ref=ref,
        days=days,
    )


async def _fortnight(services: Services, campaign_id: str) -> tuple[DayPoint, ...]:
    """Calls and success rate for the 14 days up to yesterday; nothing if NLPearl won't say."""
    today = services.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        analytics = await services.nlpearl.get_analytics(
            campaign_id, start=today - timedelta(days=CHART_DAYS), end=today
        )
    except NLPearlError as exc:
        logger.info("No analytics for the campaign card: %s", exc)
        return ()
    return fortnight(analytics, today.date() - timedelta(days=1))


async def _account(services: Services) -> Account | None:
    """The account's credit and status; the card does without them if NLPearl won't say."""
    try:
        return await services.nlpearl.get_account()
    except NLPearlError as exc:
        logger.info("No account for the campaign card: %s", exc)
        return None


async def _last_webhook(services: Services, where: Where, campaign_id: str) -> datetime | None:
    """When NLPearl last pushed a webhook for the campaign to this workspace."""
    subscriptions = await list_subscriptions(services.engine, where.workspace)
    heard = [
        s.last_received_at
        for s in subscriptions
        if s.campaign_id == campaign_id and s.last_received_at is not None
    ]
    return max(heard, default=None)


def _record(
    services: Services,
    where: Where,
    actor: Actor,
    pending: CampaignPending,
    result: str,
    **more: Any,
) -> ActionRecord:
    return ActionRecord(
        workspace=where.workspace,
        user_id=actor.user_id,
        campaign_id=pending.campaign_id,
        lead_id="",
        action="resume" if pending.active else "pause",
        before_status=pending.seen_status,
        result=result,
        at=services.now(),
        **more,
    )


async def view_for_click(
    services: Services, where: Where, actor: Actor, pending: CampaignPending
) -> dict[str, Any]:
    """What Pause or Resume opens: a refusal, the confirmation, or "it already is"."""
    if not actor.may_act:
        return await _refuse(services, where, actor, pending)
    try:
        campaign = await services.nlpearl.get_campaign(pending.campaign_id, fresh=True)
    except NLPearlError as exc:
        return views.notice_modal(TITLE, problem_message(exc))
    name = campaign.name or pending.campaign_id
    if campaign.status != pending.seen_status:
        return campaign_changed_view(name, campaign.status)
    return confirm_campaign_view(pending, name)


async def _refuse(
    services: Services, where: Where, actor: Actor, pending: CampaignPending
) -> dict[str, Any]:
    detail = "Slack could not say who this is" if actor.unknown else "no right to act"
    await audit.record(
        services.engine, _record(services, where, actor, pending, "denied", detail=detail)
    )
    if actor.unknown:
        return views.notice_modal(TITLE, cant_check("changed"))
    return denied_view("campaigns")


async def confirm(
    services: Services,
    client: AsyncWebClient,
    where: Where,
    actor: Actor,
    pending: CampaignPending,
    key: str,
) -> dict[str, Any]:
    """Pause or resume once, then redraw the card and tell the subscribed channels."""
    if not actor.may_act:
        return await _refuse(services, where, actor, pending)
    claim = _record(services, where, actor, pending, "pending")
    earlier = await audit.claim(services.engine, key, claim)
    if earlier is not None:
        return views.notice_modal(TITLE, already_done(earlier, "change"))
    async with settled(services, key):
        return await _confirmed(services, client, where, actor, pending, key)


async def _confirmed(
    services: Services,
    client: AsyncWebClient,
    where: Where,
    actor: Actor,
    pending: CampaignPending,
    key: str,
) -> dict[str, Any]:
    try:
        campaign = await services.nlpearl.get_campaign(pending.campaign_id, fresh=True)
    except NLPearlError as exc:
        await audit.release(services.engine, key)
        return views.notice_modal(TITLE, problem_message(exc))
    name = campaign.name or pending.campaign_id
    if campaign.status != pending.seen_status:
        await audit.release(services.engine, key)
        stale = _record(services, where, actor, pending, "stale", detail="state changed")
        await audit.record(services.engine, stale)
        return campaign_changed_view(name, campaign.status)
    try:
        status = await services.nlpearl.set_active(pending.campaign_id, pending.active)
    except NLPearlError as exc:
        return await _not_set(services, key, pending, name, exc)
    wanted = RUNNING if pending.active else PAUSED
    if status is not None and status != wanted:
        # NLPearl answered, but with another state (a campaign it won't run): say so, as it is.
        detail = f"NLPearl left it {activity_status(status).text}"
        await audit.finish(
            services.engine,
            key,
            result="failed",
            at=services.now(),
            after_status=status,
            detail=detail,
        )
        await _redraw(services, where, pending)
        return views.notice_modal(
            TITLE, campaign_outcome(pending.active, name, ok=False, why=detail)
        )
    await audit.finish(
        services.engine, key, result="applied", at=services.now(), after_status=status
    )
    results = await asyncio.gather(
        _redraw(services, where, pending),
        _tell_channels(services, client, where, actor, pending, name),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            logger.warning("After pausing or resuming, Slack could not be updated: %r", result)
    return views.notice_modal(TITLE, campaign_outcome(pending.active, name, ok=True, why=None))


async def _not_set(
    services: Services, key: str, pending: CampaignPending, name: str, exc: NLPearlError
) -> dict[str, Any]:
    """NLPearl refused or failed; an unconfirmed change is never called "nothing changed"."""
    why = "NLPearl has no such campaign" if isinstance(exc, NotFound) else why_failed(exc)
    result = "unconfirmed" if isinstance(exc, Unconfirmed) else "failed"
    await audit.finish(services.engine, key, result=result, at=services.now(), detail=why)
    if isinstance(exc, Unconfirmed):
        verb = "resumed" if pending.active else "paused"
        detail = (
            f"NLPearl didn't answer in time, so {prose(one_line(name), 150)} may or may not "
            f"have been {verb}. Refresh the card to see before trying again."
        )
        return views.notice_modal(TITLE, messages.notice("⏳", "NLPearl didn't confirm", detail))
    return views.notice_modal(TITLE, campaign_outcome(pending.active, name, ok=False, why=why))


async def _redraw(services: Services, where: Where, pending: CampaignPending) -> None:
    """The clicked card, as NLPearl has the campaign now."""
    if not pending.response_url:
        return
    ref = CampaignRef(campaign_id=pending.campaign_id, shared_by=pending.shared_by)
    answer = await campaign_answer(services, where, ref)
    if not answer.found:
        # A notice in its place would leave a channel with no card and no Refresh.
        return
    sent = await AsyncWebhookClient(pending.response_url).send_dict(
        {**answer.message, "replace_original": True}
    )
    if sent.status_code != 200:
        logger.warning("Slack refused the redrawn campaign card: HTTP %s", sent.status_code)


async def _tell_channels(
    services: Services,
    client: AsyncWebClient,
    where: Where,
    actor: Actor,
    pending: CampaignPending,
    name: str,
) -> None:
    """Each channel subscribed to the campaign hears who paused or resumed it."""
    note = campaign_note(pending.active, name, actor.name, services.now())
    subscriptions = await list_subscriptions(services.engine, where.workspace)
    channels = {
        s.channel_id
        for s in subscriptions
        if s.campaign_id == pending.campaign_id and not s.problem
    }
    for channel in sorted(channels):
        try:
            await client.chat_postMessage(channel=channel, unfurl_links=False, **note)
        except SLACK_FAILURES as exc:
            logger.info("No campaign note in %s: %s", channel, classify(exc).describe())
