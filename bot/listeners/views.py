"""Modal submissions: the lookup form, the lead picker, and posting a card to a channel."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import ActionId, BlockId, CardRef, ViewId
from bot.listeners.inflight import Track
from bot.listeners.request import read_ref, where_of
from bot.parsing.grammar import OBJECT_ID, LeadKeyKind, parse_lead_key
from bot.usecases.modals import post_card, submit_lookup
from bot.usecases.services import Services

MAX_KEY = 200
_KINDS: dict[str, LeadKeyKind] = {"id": "id", "phone": "phone", "external": "external"}


def _value(view: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    found: dict[str, Any] = (values.get(block) or {}).get(action) or {}
    return found


async def handle_lookup_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Check the form in place, then show the card (or why not) in the modal."""
    option = _value(view, BlockId.CAMPAIGN, ActionId.CAMPAIGN).get("selected_option") or {}
    campaign_id = (option.get("value") or "").strip()
    text = (_value(view, BlockId.LEAD_KEY, ActionId.LEAD_KEY).get("value") or "").strip()
    key = parse_lead_key(text) if len(text) <= MAX_KEY else None
    errors: dict[str, str] = {}
    if not campaign_id:
        errors[BlockId.CAMPAIGN] = "Choose a campaign."
    if key is None:
        errors[BlockId.LEAD_KEY] = (
            "Give a lead ID (24 hex digits), a phone number like +14155550137, or an external ID."
        )
    if errors or key is None:
        await ack(response_action="errors", errors=errors)
        return
    ref = CardRef(campaign_id=campaign_id, kind=key.kind, key=key.value)
    await submit_lookup(
        services,
        client,
        where_of(request),
        view_id=view["id"],
        ref=ref,
        ack=ack,
        error_block=BlockId.LEAD_KEY,
    )


async def handle_pick_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """The lead chosen among several found in a message."""
    chosen = _value(view, BlockId.PICK_LEAD, ActionId.PICK_LEAD).get("selected_option") or {}
    leads = (view.get("private_metadata") or "").split("|")
    try:
        campaign_id, kind, value = leads[int(chosen.get("value", ""))].split(":", 2)
    except (ValueError, IndexError):
        campaign_id, kind, value = "", "", ""
    if kind not in _KINDS or not value or not OBJECT_ID.match(campaign_id):
        await ack(response_action="errors", errors={BlockId.PICK_LEAD: "Choose a lead."})
        return
    ref = CardRef(campaign_id=campaign_id, kind=_KINDS[kind], key=value)
    await submit_lookup(
        services,
        client,
        where_of(request),
        view_id=view["id"],
        ref=ref,
        ack=ack,
        error_block=BlockId.PICK_LEAD,
    )


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
