"""Shortcuts: "Look up a lead" from anywhere, and "Look up lead" on a message."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.ids import CardRef, ViewId
from bot.listeners.inflight import Track
from bot.listeners.request import private_reply, where_of
from bot.parsing.finder import find_leads, message_text
from bot.usecases.cards import show_card
from bot.usecases.modals import lookup_form, message_form
from bot.usecases.services import Services


async def handle_global_shortcut(
    ack: AsyncAck,
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Open the lookup modal at once."""
    await ack()
    form = await lookup_form(services, where_of(request))
    await client.views_open(trigger_id=body["trigger_id"], view=form)


async def handle_message_shortcut(
    ack: AsyncAck,
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    respond: AsyncRespond,
    services: Services,
) -> None:
    """One lead in the message: its card, privately. Several: a picker. None: the form."""
    await ack()
    found = find_leads(message_text(body.get("message") or {}))
    where = where_of(request)
    if len(found.leads) == 1:
        campaign_id, key = found.leads[0]
        ref = CardRef(campaign_id=campaign_id, kind=key.kind, key=key.value)
        await show_card(services, where, ref, private_reply(respond), named=False)
        return
    form = await message_form(services, where, found)
    await client.views_open(trigger_id=body["trigger_id"], view=form)


def register(app: AsyncApp, track: Track) -> None:
    """Listen for both shortcuts."""
    app.shortcut(ViewId.GLOBAL_SHORTCUT.value)(track(handle_global_shortcut))
    app.shortcut(ViewId.MESSAGE_SHORTCUT.value)(track(handle_message_shortcut))
