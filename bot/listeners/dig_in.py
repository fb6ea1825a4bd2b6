"""Digging into a lead: transcripts and call lists in modals, and the Home tab's buttons."""

from __future__ import annotations

import logging
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.ids import ActionId, CallRef, CallsRef, CardRef
from bot.inflight import Track
from bot.listeners.shortcuts import lookup_form
from bot.modals import calls_view, card_in_modal, card_view, fill, open_loading, transcript_view
from bot.services import Services

logger = logging.getLogger(__name__)

_Ref = TypeVar("_Ref", bound=BaseModel)
UNREADABLE = views.notice_modal(
    "Lead Bot",
    messages.notice("⚠️", "That button didn't work", "Open the lead's card again and retry."),
)


def _ref(model: type[_Ref], action: dict[str, Any]) -> _Ref | None:
    try:
        return model.model_validate_json(action.get("value") or "")
    except ValidationError:
        logger.warning("Ignoring a button with an unreadable value")
        return None


def _in_modal(body: dict[str, Any]) -> bool:
    return (body.get("container") or {}).get("type") == "view"


async def handle_transcript(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Open a call's transcript, privately: a modal (pushed when asked from a modal)."""
    await ack()
    view_id = await open_loading(
        client, body["trigger_id"], push=_in_modal(body), title="Transcript", what="Loading…"
    )
    ref = _ref(CallRef, action)
    if ref is None:
        await client.views_update(view_id=view_id, view=UNREADABLE)
        return
    await fill(client, view_id, transcript_view(services, ref))


async def handle_all_calls(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Open the list of every call of the lead, newest first."""
    await ack()
    view_id = await open_loading(
        client, body["trigger_id"], push=_in_modal(body), title="All calls", what="Loading calls…"
    )
    ref = _ref(CallsRef, action)
    if ref is None:
        await client.views_update(view_id=view_id, view=UNREADABLE)
        return
    await fill(client, view_id, calls_view(services, ref))


async def handle_transcript_page(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Turn a page of a transcript."""
    await ack()
    ref = _ref(CallRef, action)
    view_id = body["view"]["id"]
    if ref is None:
        await client.views_update(view_id=view_id, view=UNREADABLE)
        return
    await fill(client, view_id, transcript_view(services, ref))


async def handle_calls_page(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Turn a page of the call list."""
    await ack()
    ref = _ref(CallsRef, action)
    view_id = body["view"]["id"]
    if ref is None:
        await client.views_update(view_id=view_id, view=UNREADABLE)
        return
    await fill(client, view_id, calls_view(services, ref))


async def handle_home_lookup(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, services: Services
) -> None:
    """The Home tab's "Look up a lead"."""
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=await lookup_form(services, body))


async def handle_home_help(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    """The Home tab's "Help"."""
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=views.help_modal())


async def handle_home_recent(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Reopen a recent lookup's card in a modal."""
    await ack()
    view_id = await open_loading(
        client, body["trigger_id"], push=False, title="Lead", what="Looking up the lead…"
    )
    ref = _ref(CardRef, action)
    if ref is None:
        await client.views_update(view_id=view_id, view=UNREADABLE)
        return
    answer = await card_in_modal(services, ref)
    await client.views_update(view_id=view_id, view=card_view(answer))


def _numbered(action_id: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(action_id)}\.\w+$")


def register(app: AsyncApp, track: Track) -> None:
    """Listen for the buttons that open and page modals."""
    app.action(_numbered(ActionId.TRANSCRIPT))(track(handle_transcript))
    app.action(ActionId.ALL_CALLS.value)(track(handle_all_calls))
    app.action(_numbered(ActionId.TRANSCRIPT_PAGE))(track(handle_transcript_page))
    app.action(_numbered(ActionId.CALLS_PAGE))(track(handle_calls_page))
    app.action(ActionId.HOME_LOOKUP.value)(track(handle_home_lookup))
    app.action(ActionId.HOME_HELP.value)(track(handle_home_help))
    app.action(_numbered(ActionId.HOME_RECENT))(track(handle_home_recent))
