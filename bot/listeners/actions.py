"""Buttons on the lead card: Refresh, Share in channel, and the recording link."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import ActionId, CardRef
from bot.listeners.inflight import Track
from bot.listeners.request import read_ref, where_of
from bot.usecases.cards import card_answer, shared_card
from bot.usecases.modals import card_view_for
from bot.usecases.services import Services

logger = logging.getLogger(__name__)

BAD_BUTTON = messages.notice(
    "⚠️", "That button didn't work", "Look the lead up again with `/lead CAMPAIGN_ID LEAD_ID`."
)


async def handle_refresh(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    request: AsyncBoltRequest,
    respond: AsyncRespond | None,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Fetch the lead again and replace the card in place, in a message or a modal."""
    await ack()
    ref = read_ref(CardRef, action.get("value"))
    if where_of(request).in_modal:
        view = body["view"]
        content = (
            await card_view_for(services, ref) if ref else views.notice_modal("Lead", BAD_BUTTON)
        )
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=content)
        return
    if respond is None:
        return
    if ref is None:
        await respond(**BAD_BUTTON, replace_original=False)
        return
    answer = await card_answer(services, ref)
    if answer.found:
        await respond(**answer.message, replace_original=True)
    else:
        await respond(**answer.message, response_type="ephemeral", replace_original=False)


async def handle_share(
    ack: AsyncAck,
    action: dict[str, Any],
    request: AsyncBoltRequest,
    respond: AsyncRespond,
    services: Services,
) -> None:
    """Post the card for the whole channel, saying who shared it, then drop the private copy."""
    await ack()
    ref = read_ref(CardRef, action.get("value"))
    if ref is None:
        await respond(**BAD_BUTTON, replace_original=False)
        return
    answer = await shared_card(services, ref, where_of(request).user_id)
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
