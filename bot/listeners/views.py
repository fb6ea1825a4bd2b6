"""Modal submissions: the lookup form, the lead picker, and posting a card to a channel."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import ActionId, BlockId, CardRef, ViewId
from bot.listeners.inflight import Track
from bot.listeners.request import read_ref, where_of
from bot.parsing.grammar import OBJECT_ID, LeadKeyKind, parse_lead_key
from bot.usecases.cards import remember
from bot.usecases.modals import card_in_modal, card_view, post_card
from bot.usecases.services import Services

# A view_submission must be answered within 3 seconds; past this we show a loading view.
ANSWER_IN_PLACE_SECONDS = 2.3
MAX_KEY = 200
_KINDS: dict[str, LeadKeyKind] = {"id": "id", "phone": "phone", "external": "external"}
BAD_KEY = "Give a lead ID (24 hex digits), a phone number like +14155550137, or an external ID."


def _value(view: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    found: dict[str, Any] = (values.get(block) or {}).get(action) or {}
    return found


def _typed_ref(view: dict[str, Any]) -> tuple[CardRef | None, dict[str, str]]:
    """The lead the lookup form names, or the errors to show under its fields."""
    option = _value(view, BlockId.CAMPAIGN, ActionId.CAMPAIGN).get("selected_option") or {}
    campaign_id = (option.get("value") or "").strip()
    text = (_value(view, BlockId.LEAD_KEY, ActionId.LEAD_KEY).get("value") or "").strip()
    key = parse_lead_key(text) if len(text) <= MAX_KEY else None
    errors: dict[str, str] = {}
    if not campaign_id:
        errors[BlockId.CAMPAIGN] = "Choose a campaign."
    if key is None:
        errors[BlockId.LEAD_KEY] = BAD_KEY
    if errors or key is None:
        return None, errors
    return CardRef(campaign_id=campaign_id, kind=key.kind, key=key.value), {}


def _picked_ref(view: dict[str, Any]) -> CardRef | None:
    """The lead chosen in the picker, from those its metadata lists; None if none is."""
    chosen = _value(view, BlockId.PICK_LEAD, ActionId.PICK_LEAD).get("selected_option") or {}
    leads = (view.get("private_metadata") or "").split("|")
    try:
        campaign_id, kind, value = leads[int(chosen.get("value", ""))].split(":", 2)
    except (ValueError, IndexError):
        return None
    if kind not in _KINDS or not value or not OBJECT_ID.match(campaign_id):
        return None
    return CardRef(campaign_id=campaign_id, kind=_KINDS[kind], key=value)


async def _show_lookup(
    ack: AsyncAck,
    client: AsyncWebClient,
    request: AsyncBoltRequest,
    services: Services,
    view_id: str,
    ref: CardRef,
    error_block: str,
) -> None:
    """Answer a submitted lookup in place, then remember it for the person."""
    # Within Slack's window when NLPearl is quick: an error under `error_block`, or the card.
    # When it is slower, ack a loading view and fill it in afterwards.
    lookup = asyncio.ensure_future(card_in_modal(services, ref))
    done, _ = await asyncio.wait({lookup}, timeout=ANSWER_IN_PLACE_SECONDS)
    if not done:
        await ack(response_action="update", view=views.loading_modal())
        answer = await lookup
        await client.views_update(view_id=view_id, view=card_view(answer))
    elif (answer := lookup.result()).problem:
        await ack(response_action="errors", errors={error_block: answer.problem})
    else:
        await ack(response_action="update", view=card_view(answer))
    await remember(services, where_of(request), answer)


async def handle_lookup_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Check the form in place, then show the card (or why not) in the modal."""
    ref, errors = _typed_ref(view)
    if ref is None:
        await ack(response_action="errors", errors=errors)
        return
    await _show_lookup(ack, client, request, services, view["id"], ref, BlockId.LEAD_KEY)


async def handle_pick_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """The lead chosen among several found in a message."""
    ref = _picked_ref(view)
    if ref is None:
        await ack(response_action="errors", errors={BlockId.PICK_LEAD: "Choose a lead."})
        return
    await _show_lookup(ack, client, request, services, view["id"], ref, BlockId.PICK_LEAD)


async def handle_card_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Post the card, masked, to the chosen channel, saying who shared it."""
    channel = _value(view, BlockId.POST_CHANNEL, ActionId.POST_CHANNEL).get("selected_conversation")
    if not channel:
        await ack(
            response_action="errors",
            errors={BlockId.POST_CHANNEL: "Choose a channel to post the card to, or press Close."},
        )
        return
    ref = read_ref(CardRef, view.get("private_metadata"))
    if ref is None:
        await ack(
            response_action="update", view=views.notice_modal("Lead", messages.nlpearl_bad_answer())
        )
        return
    await ack(response_action="update", view=views.loading_modal("Lead", "Posting the card…"))
    notice = await post_card(services, client, where_of(request), ref, channel)
    await client.views_update(view_id=view["id"], view=views.notice_modal("Lead", notice))


def register(app: AsyncApp, track: Track) -> None:
    """Listen for modal submissions."""
    app.view(ViewId.LOOKUP.value)(track(handle_lookup_submission))
    app.view(ViewId.PICK.value)(track(handle_pick_submission))
    app.view(ViewId.CARD.value)(track(handle_card_submission))
