"""Modal submissions: the lookup form, the lead picker, and posting a card to a channel."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import ActionId, BlockId, CardRef, ViewId
from bot.blocks.text import safe
from bot.listeners.inflight import Track
from bot.listeners.shortcuts import workspace_of
from bot.parsing.grammar import OBJECT_ID, LeadKey, LeadKeyKind, parse_lead_key
from bot.parsing.slack_errors import REINSTALL, SLACK_FAILURES, Kind, classify
from bot.usecases.cards import lead_card_answer
from bot.usecases.modals import remember, submit_lookup
from bot.usecases.services import Services

logger = logging.getLogger(__name__)

MAX_KEY = 200
_KINDS: dict[str, LeadKeyKind] = {"id": "id", "phone": "phone", "external": "external"}


def _value(view: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    found: dict[str, Any] = (values.get(block) or {}).get(action) or {}
    return found


async def handle_lookup_submission(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
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
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    assert key is not None
    await _look_up(ack, body, view, client, services, campaign_id, key, BlockId.LEAD_KEY, option)


async def _look_up(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
    campaign_id: str,
    key: LeadKey,
    error_block: str,
    option: dict[str, Any] | None = None,
) -> None:
    answer = await submit_lookup(
        services,
        client,
        view_id=view["id"],
        campaign_id=campaign_id,
        key=key,
        ack=ack,
        error_block=error_block,
    )
    name = ((option or {}).get("text") or {}).get("text")
    campaign_name = answer.report.campaign_name if answer.report else name
    user_id = (body.get("user") or {}).get("id")
    await remember(services, workspace_of(body), user_id, answer, campaign_name)


async def handle_pick_submission(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
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
    key = LeadKey(_KINDS[kind], value)
    await _look_up(ack, body, view, client, services, campaign_id, key, BlockId.PICK_LEAD)


async def handle_card_submission(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
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
    try:
        ref = CardRef.model_validate_json(view.get("private_metadata") or "")
    except ValidationError:
        await ack(
            response_action="update", view=views.notice_modal("Lead", messages.nlpearl_bad_answer())
        )
        return
    await ack(response_action="update", view=views.loading_modal("Lead", "Posting the card…"))
    shared = ref.model_copy(update={"shared_by": (body.get("user") or {}).get("id")})
    answer = await lead_card_answer(
        services.nlpearl,
        shared,
        now=services.now(),
        mask_shared=services.settings.mask_shared_phone_numbers,
    )
    result = answer.message if not answer.found else await _post(client, channel, answer.message)
    await client.views_update(view_id=view["id"], view=views.notice_modal("Lead", result))


async def _post(client: AsyncWebClient, channel: str, card: dict[str, Any]) -> dict[str, Any]:
    try:
        await client.chat_postMessage(channel=channel, unfurl_links=False, **card)
    except SLACK_FAILURES as exc:
        failure = classify(exc)
        logger.info("Could not post a card to %s: %s", channel, failure.describe())
        if failure.kind in (Kind.CHANNEL_GONE, Kind.NOT_ALLOWED):
            detail = (
                f"I can't post in <#{channel}>. If it's a private channel, invite me with "
                "`/invite @Lead Bot` and try again."
            )
        elif failure.kind in (Kind.PASSING, Kind.RATE_LIMITED):
            detail = "Slack didn't answer. Try again in a minute."
        elif failure.kind is Kind.AUTH_REVOKED:
            detail = REINSTALL
        else:
            detail = f"Slack refused the post (`{safe(failure.error, 80)}`). Try again in a moment."
        return messages.notice("⚠️", "Couldn't post the card", detail)
    return messages.notice("✅", "Posted", f"The card is in <#{channel}>.")


def register(app: AsyncApp, track: Track) -> None:
    """Listen for modal submissions."""
    app.view(ViewId.LOOKUP.value)(track(handle_lookup_submission))
    app.view(ViewId.PICK.value)(track(handle_pick_submission))
    app.view(ViewId.CARD.value)(track(handle_card_submission))
