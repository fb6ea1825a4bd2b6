"""Use cases behind the modals: open at once, fill in when NLPearl answers, remember lookups."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import CallRef, CallsRef, CardRef
from bot.blocks.privacy import channel_audience
from bot.blocks.values import lead_name
from bot.nlpearl import BadCredentials, NLPearlError, NotFound
from bot.parsing.grammar import LeadKey
from bot.storage.memory import remember_lookup
from bot.storage.rows import RecentLookup, Workspace
from bot.usecases.cards import CardAnswer, lead_card_answer
from bot.usecases.lookup import fetch_calls
from bot.usecases.services import Services

logger = logging.getLogger(__name__)

# A view_submission must be answered within 3 seconds; past this we show a loading view.
ANSWER_IN_PLACE_SECONDS = 2.3


def problem_message(exc: NLPearlError) -> dict[str, Any]:
    """The notice for an NLPearl failure."""
    if isinstance(exc, NotFound):
        return messages.notice("🔍", "Not found", "NLPearl has no such record any more.")
    if isinstance(exc, BadCredentials):
        return messages.nlpearl_rejected_key()
    return messages.nlpearl_unavailable()


async def open_loading(
    client: AsyncWebClient, trigger_id: str, *, push: bool, title: str, what: str
) -> str:
    """Open (or push onto a modal) a loading view at once; returns its view id."""
    view = views.loading_modal(title, what)
    opened = await (
        client.views_push(trigger_id=trigger_id, view=view)
        if push
        else client.views_open(trigger_id=trigger_id, view=view)
    )
    return str(opened["view"]["id"])


async def card_in_modal(services: Services, ref: CardRef) -> CardAnswer:
    """The lead's card for a modal (full phone number: only the viewer sees it)."""
    return await lead_card_answer(
        services.nlpearl,
        ref,
        now=services.now(),
        mask_shared=services.settings.mask_shared_phone_numbers,
        surface="modal",
    )


def card_view(answer: CardAnswer) -> dict[str, Any]:
    """The modal showing an answer: the card with a channel picker, or the problem."""
    if answer.found:
        return views.card_modal(answer.message, answer.ref.model_dump_json(exclude_none=True))
    return views.notice_modal("Look up a lead", answer.message)


async def card_view_for(services: Services, ref: CardRef) -> dict[str, Any]:
    """The card modal for a lead (or the problem)."""
    return card_view(await card_in_modal(services, ref))


async def remember(
    services: Services,
    ws: Workspace,
    user_id: str | None,
    answer: CardAnswer,
    campaign_name: str | None,
) -> None:
    """Keep the campaign and the lead for the person's next lookup and Home tab."""
    if not user_id or not answer.found or answer.ref.kind != "id":
        return
    lookup = RecentLookup(answer.ref.campaign_id, answer.ref.key, answer.label(), services.now())
    try:
        await remember_lookup(services.engine, ws, user_id, lookup, campaign_name)
    except Exception:
        # Memory is a convenience; a lookup must not fail because of it.
        logger.exception("Could not remember a lookup")


async def submit_lookup(
    services: Services,
    client: AsyncWebClient,
    *,
    view_id: str,
    campaign_id: str,
    key: LeadKey,
    ack: AsyncAck,
    error_block: str,
) -> CardAnswer:
    """Look a lead up for a submitted form.

    Answers within Slack's window when it can: an error under `error_block`, or the card.
    When NLPearl is slower, acks with a loading view and fills it in afterwards.
    """
    ref = CardRef(campaign_id=campaign_id, kind=key.kind, key=key.value)
    lookup = asyncio.ensure_future(card_in_modal(services, ref))
    done, _ = await asyncio.wait({lookup}, timeout=ANSWER_IN_PLACE_SECONDS)
    if done:
        answer = lookup.result()
        if answer.problem:
            await ack(response_action="errors", errors={error_block: answer.problem})
        else:
            await ack(response_action="update", view=card_view(answer))
        return answer
    await ack(response_action="update", view=views.loading_modal())
    answer = await lookup
    await client.views_update(view_id=view_id, view=card_view(answer))
    return answer


async def fill(client: AsyncWebClient, view_id: str, view: Awaitable[dict[str, Any]]) -> None:
    """Replace a loading view with what it was waiting for, or with what went wrong."""
    try:
        content = await view
    except NLPearlError as exc:
        content = views.notice_modal("Lead Bot", problem_message(exc))
    await client.views_update(view_id=view_id, view=content)


async def transcript_view(services: Services, ref: CallRef) -> dict[str, Any]:
    """A page of a call's transcript."""
    call = await services.nlpearl.get_call(ref.call_id)
    return views.transcript_modal(call, ref.page)


async def calls_view(services: Services, ref: CallsRef) -> dict[str, Any]:
    """A page of a lead's calls, newest first."""
    lead = await services.nlpearl.get_lead(ref.campaign_id, ref.lead_id)
    newest_first = list(reversed(list(dict.fromkeys(lead.calls_id))))
    start = ref.page * views.CALLS_PER_PAGE
    page_ids = newest_first[start : start + views.CALLS_PER_PAGE]
    slots = await fetch_calls(services.nlpearl, page_ids, lead)
    # The button also sits on cards everyone in a channel sees: keep the number masked there.
    audience = channel_audience(services.settings.mask_shared_phone_numbers)
    label = lead_name(lead) or audience.phone(lead.phone_number) or lead.external_id or ref.lead_id
    return views.calls_modal(ref, slots, len(newest_first), lead_label=label)
