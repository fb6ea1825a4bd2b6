"""Use cases behind the modals: the lookup forms, the card, transcripts and call lists, and
posting a card to a channel. They take values and return Block Kit; listeners open and fill
the views."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import CallRef, CallsRef, CardRef
from bot.blocks.values import lead_name
from bot.nlpearl.errors import BadCredentials, NLPearlError, NotFound
from bot.parsing.finder import Found
from bot.parsing.slack_errors import SLACK_FAILURES, SlackFailure, classify
from bot.storage.memory import last_campaign
from bot.usecases.cards import CardAnswer, Post, card_answer, share_card, shared_audience
from bot.usecases.lookup import fetch_calls
from bot.usecases.services import Services, Where

logger = logging.getLogger(__name__)


def problem_message(exc: NLPearlError) -> dict[str, Any]:
    """The notice for an NLPearl failure."""
    if isinstance(exc, NotFound):
        return messages.notice("🔍", "Not found", "NLPearl has no such record any more.")
    if isinstance(exc, BadCredentials):
        return messages.nlpearl_key_problem(exc)
    return messages.nlpearl_unavailable()


def problem_view(exc: NLPearlError) -> dict[str, Any]:
    """The modal saying what went wrong with NLPearl."""
    return views.notice_modal("Lead Bot", problem_message(exc))


async def lookup_form(
    services: Services,
    where: Where,
    *,
    campaign: tuple[str, str | None] | None = None,
    key: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The lookup modal; without a campaign given, it offers the one this person chose last."""
    if campaign is None:
        last = await last_campaign(services.engine, where.workspace, where.user_id or "")
        campaign = (last.campaign_id, last.name) if last else None
    return views.lookup_modal(campaign=campaign, key=key, note=note)


async def message_form(services: Services, where: Where, found: Found) -> dict[str, Any]:
    """For a message naming several leads, a picker; else the form, with what it names."""
    if len(found.leads) > 1:
        return views.pick_modal(list(found.leads))
    partly = bool(found.campaigns or found.keys)
    return await lookup_form(
        services,
        where,
        campaign=(found.campaigns[0], None) if found.campaigns else None,
        key=found.keys[0].value if found.keys else None,
        note="I found part of a lead in that message; fill in the rest." if partly else None,
    )


async def card_in_modal(services: Services, ref: CardRef) -> CardAnswer:
    """The lead's card for a modal (full phone number: only the viewer sees it)."""
    return await card_answer(services, ref, surface="modal")


def card_view(answer: CardAnswer) -> dict[str, Any]:
    """The modal showing an answer: the card with a channel picker, or the problem."""
    if answer.found:
        return views.card_modal(answer.message, answer.ref.model_dump_json(exclude_none=True))
    return views.notice_modal("Look up a lead", answer.message)


async def card_view_for(services: Services, ref: CardRef) -> dict[str, Any]:
    """The card modal for a lead (or the problem)."""
    return card_view(await card_in_modal(services, ref))


async def transcript_view(services: Services, ref: CallRef) -> dict[str, Any]:
    """A page of a call's transcript, or what went wrong."""
    try:
        call = await services.nlpearl.get_call(ref.call_id)
    except NLPearlError as exc:
        return problem_view(exc)
    return views.transcript_modal(call, ref.page)


async def calls_view(services: Services, ref: CallsRef) -> dict[str, Any]:
    """A page of a lead's calls, newest first, or what went wrong."""
    try:
        return await _calls_page(services, ref)
    except NLPearlError as exc:
        return problem_view(exc)


async def _calls_page(services: Services, ref: CallsRef) -> dict[str, Any]:
    lead = await services.nlpearl.get_lead(ref.campaign_id, ref.lead_id)
    newest_first = list(reversed(list(dict.fromkeys(lead.calls_id))))
    start = ref.page * views.CALLS_PER_PAGE
    page_ids = newest_first[start : start + views.CALLS_PER_PAGE]
    slots = await fetch_calls(services.nlpearl, page_ids, lead)
    # The button also sits on cards everyone in a channel sees: keep the number masked there.
    audience = shared_audience(services)
    label = lead_name(lead) or audience.phone(lead.phone_number) or lead.external_id or ref.lead_id
    return views.calls_modal(ref, slots, len(newest_first), lead_label=label)


async def post_card(
    services: Services, client: AsyncWebClient, where: Where, ref: CardRef, channel: str
) -> dict[str, Any]:
    """Post the card to a chosen channel, saying who shared it; the notice says how that went."""
    post = _chat_post(client, channel)
    shared = await share_card(services, ref, where.user_id, post, channel=channel)
    return shared.why_not or messages.notice("✅", "Posted", f"The card is in <#{channel}>.")


def _chat_post(client: AsyncWebClient, channel: str) -> Post:
    """Posts to `channel` with chat.postMessage."""

    async def post(message: dict[str, Any]) -> SlackFailure | None:
        try:
            await client.chat_postMessage(channel=channel, unfurl_links=False, **message)
        except SLACK_FAILURES as exc:
            failure = classify(exc)
            logger.info("Could not post a card to %s: %s", channel, failure.describe())
            return failure
        return None

    return post
