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
from bot.blocks.text import safe
from bot.blocks.values import lead_name
from bot.nlpearl import BadCredentials, NLPearlError, NotFound
from bot.parsing.finder import Found
from bot.parsing.grammar import OBJECT_ID
from bot.parsing.slack_codes import REINSTALL
from bot.parsing.slack_errors import SLACK_FAILURES, Kind, SlackFailure, classify
from bot.storage.memory import last_campaign
from bot.usecases.cards import CardAnswer, card_answer, remember, shared_audience, shared_card
from bot.usecases.lookup import fetch_calls
from bot.usecases.services import Services, Where

logger = logging.getLogger(__name__)

# A view_submission must be answered within 3 seconds; past this we show a loading view.
ANSWER_IN_PLACE_SECONDS = 2.3
OUTBOUND = 2


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


async def campaign_options(services: Services, typed: str, *, wait: float) -> list[dict[str, Any]]:
    """Outbound campaigns whose name or ID contains what was typed; a typed ID always shows."""
    typed = typed.strip()
    wanted = typed.lower()
    options = [
        views.campaign_option(c.id, c.name)
        for c in await services.campaigns.campaigns(wait=wait)
        if c.id
        and c.type in (None, OUTBOUND)
        and (wanted in (c.name or "").lower() or wanted in c.id.lower())
    ][: views.MAX_OPTIONS]
    if OBJECT_ID.match(typed) and not any(o["value"] == wanted for o in options):
        options.insert(0, views.campaign_option(wanted, "Use this ID"))
    return options[: views.MAX_OPTIONS]


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


async def submit_lookup(
    services: Services,
    client: AsyncWebClient,
    where: Where,
    *,
    view_id: str,
    ref: CardRef,
    ack: AsyncAck,
    error_block: str,
) -> None:
    """Look a lead up for a submitted form, then remember it for the person."""
    # Answers within Slack's window when it can: an error under `error_block`, or the card. When
    # NLPearl is slower, acks with a loading view and fills it in afterwards.
    lookup = asyncio.ensure_future(card_in_modal(services, ref))
    done, _ = await asyncio.wait({lookup}, timeout=ANSWER_IN_PLACE_SECONDS)
    if done:
        answer = lookup.result()
        if answer.problem:
            await ack(response_action="errors", errors={error_block: answer.problem})
        else:
            await ack(response_action="update", view=card_view(answer))
    else:
        await ack(response_action="update", view=views.loading_modal())
        answer = await lookup
        await client.views_update(view_id=view_id, view=card_view(answer))
    await remember(services, where, answer)


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
    audience = shared_audience(services)
    label = lead_name(lead) or audience.phone(lead.phone_number) or lead.external_id or ref.lead_id
    return views.calls_modal(ref, slots, len(newest_first), lead_label=label)


async def post_card(
    services: Services, client: AsyncWebClient, where: Where, ref: CardRef, channel: str
) -> dict[str, Any]:
    """Post the card to a channel, saying who shared it; the notice says how that went."""
    answer = await shared_card(services, ref, where.user_id)
    if not answer.found:
        return answer.message
    try:
        await client.chat_postMessage(channel=channel, unfurl_links=False, **answer.message)
    except SLACK_FAILURES as exc:
        failure = classify(exc)
        logger.info("Could not post a card to %s: %s", channel, failure.describe())
        return messages.notice("⚠️", "Couldn't post the card", _why_not_posted(failure, channel))
    return messages.notice("✅", "Posted", f"The card is in <#{channel}>.")


def _why_not_posted(failure: SlackFailure, channel: str) -> str:
    if failure.kind in (Kind.CHANNEL_GONE, Kind.NOT_ALLOWED):
        return (
            f"I can't post in <#{channel}>. If it's a private channel, invite me with "
            "`/invite @Lead Bot` and try again."
        )
    if failure.kind in (Kind.PASSING, Kind.RATE_LIMITED):
        return "Slack didn't answer. Try again in a minute."
    if failure.kind is Kind.AUTH_REVOKED:
        return REINSTALL
    return f"Slack refused the post (`{safe(failure.error, 80)}`). Try again in a moment."
