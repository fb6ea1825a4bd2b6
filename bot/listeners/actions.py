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
from bot.listeners.request import in_modal, private_reply, read_ref, where_of
from bot.parsing.slack_errors import Kind, SlackFailure
from bot.usecases.cards import Post, card_answer, share_card
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
    if in_modal(request):
        view = body["view"]
        content = (
            await card_view_for(services, ref) if ref else views.notice_modal("Lead", BAD_BUTTON)
        )
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=content)
    elif respond is not None:
        await _refresh_message(respond, services, ref)


async def _refresh_message(respond: AsyncRespond, services: Services, ref: CardRef | None) -> None:
    """Replace the card in its message; a problem goes to the clicker only."""
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
    shared = await share_card(services, ref, where_of(request).user_id, _in_channel(respond))
    if shared.why_not:
        await private_reply(respond)(shared.why_not)
    else:
        await respond(delete_original=True)


def _in_channel(respond: AsyncRespond) -> Post:
    """Posts for everyone in the channel the button is in, through its response_url."""

    async def post(message: dict[str, Any]) -> SlackFailure | None:
        posted = await respond(**message, response_type="in_channel", replace_original=False)
        if posted.status_code == 200:
            return None
        logger.warning("Slack refused the shared card: HTTP %s %s", posted.status_code, posted.body)
        return SlackFailure(Kind.UNKNOWN, f"http_{posted.status_code}", posted.status_code)

    return post


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
