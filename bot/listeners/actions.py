"""Buttons on the lead card: Refresh, Share in channel, and the recording link."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import ActionId, CardRef
from bot.listeners.dig_in import in_modal
from bot.listeners.inflight import Track
from bot.usecases.cards import lead_card_answer
from bot.usecases.modals import card_in_modal, card_view
from bot.usecases.services import Services

logger = logging.getLogger(__name__)

BAD_BUTTON = messages.notice(
    "⚠️", "That button didn't work", "Look the lead up again with `/lead CAMPAIGN_ID LEAD_ID`."
)


def _card_ref(action: dict[str, Any]) -> CardRef | None:
    try:
        return CardRef.model_validate_json(action.get("value") or "")
    except ValidationError:
        logger.warning("Ignoring a card button with an unreadable value")
        return None


async def handle_refresh(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond | None,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Fetch the lead again and replace the card in place, in a message or a modal."""
    await ack()
    ref = _card_ref(action)
    if in_modal(body):
        view = body["view"]
        answer = await card_in_modal(services, ref) if ref else None
        content = card_view(answer) if answer else views.notice_modal("Lead", BAD_BUTTON)
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=content)
        return
    if respond is None:
        return
    if ref is None:
        await respond(**BAD_BUTTON, replace_original=False)
        return
    answer = await lead_card_answer(
        services.nlpearl,
        ref,
        now=services.now(),
        mask_shared=services.settings.mask_shared_phone_numbers,
    )
    if answer.found:
        await respond(**answer.message, replace_original=True)
    else:
        await respond(**answer.message, response_type="ephemeral", replace_original=False)


async def handle_share(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    services: Services,
) -> None:
    """Post the card for the whole channel, saying who shared it, then drop the private copy."""
    await ack()
    ref = _card_ref(action)
    if ref is None:
        await respond(**BAD_BUTTON, replace_original=False)
        return
    shared = ref.model_copy(update={"shared_by": body.get("user", {}).get("id")})
    answer = await lead_card_answer(
        services.nlpearl,
        shared,
        now=services.now(),
        mask_shared=services.settings.mask_shared_phone_numbers,
    )
    if not answer.found:
        await respond(**answer.message, response_type="ephemeral", replace_original=False)
        return
    posted = await respond(**answer.message, response_type="in_channel", replace_original=False)
    if posted.status_code == 200:
        await respond(delete_original=True)
    else:
        logger.warning("Slack refused the shared card: HTTP %s %s", posted.status_code, posted.body)
        detail = "Slack didn't accept the shared card. Try again, or share it from a channel."
        await respond(**messages.notice("⚠️", "Couldn't share", detail), replace_original=False)


async def handle_open_recording(ack: AsyncAck) -> None:
    """The recording button is a link; Slack still reports the click, which needs an ack."""
    await ack()


def register(app: AsyncApp, track: Track) -> None:
    """Listen for the card's buttons."""
    app.action(ActionId.REFRESH_CARD.value)(track(handle_refresh))
    app.action(ActionId.SHARE_CARD.value)(track(handle_share))
    app.action(re.compile(rf"^{re.escape(ActionId.OPEN_RECORDING.value)}\.\d+$"))(
        track(handle_open_recording)
    )
