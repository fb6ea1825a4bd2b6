"""Digging into a lead: transcripts and call lists in modals, and the Home tab's buttons."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import ActionId, CallRef, CallsRef, CardRef
from bot.listeners.inflight import Track
from bot.listeners.request import Ref, open_loading, read_ref, where_of
from bot.usecases.modals import calls_view, card_view_for, lookup_form, transcript_view
from bot.usecases.services import Services

UNREADABLE = views.notice_modal(
    "Lead Bot",
    messages.notice("⚠️", "That button didn't work", "Open the lead's card again and retry."),
)


async def _show(
    client: AsyncWebClient,
    view_id: str,
    ref: Ref | None,
    view_of: Callable[[Ref], Awaitable[dict[str, Any]]],
) -> None:
    """Fill a view with what a button's ref names, or say the button didn't work."""
    content = await view_of(ref) if ref is not None else UNREADABLE
    await client.views_update(view_id=view_id, view=content)


async def handle_transcript(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Open a call's transcript, privately: a modal (pushed when asked from a modal)."""
    await ack()
    view_id = await open_loading(body, request, client, "Transcript", "Loading…")
    ref = read_ref(CallRef, action.get("value"))
    await _show(client, view_id, ref, partial(transcript_view, services))


async def handle_all_calls(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Open the list of every call of the lead, newest first."""
    await ack()
    view_id = await open_loading(body, request, client, "All calls", "Loading calls…")
    ref = read_ref(CallsRef, action.get("value"))
    await _show(client, view_id, ref, partial(calls_view, services))


async def handle_transcript_page(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Turn a page of a transcript."""
    await ack()
    ref = read_ref(CallRef, action.get("value"))
    await _show(client, body["view"]["id"], ref, partial(transcript_view, services))


async def handle_calls_page(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Turn a page of the call list."""
    await ack()
    ref = read_ref(CallsRef, action.get("value"))
    await _show(client, body["view"]["id"], ref, partial(calls_view, services))


async def handle_home_lookup(
    ack: AsyncAck,
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """The Home tab's "Look up a lead"."""
    await ack()
    form = await lookup_form(services, where_of(request))
    await client.views_open(trigger_id=body["trigger_id"], view=form)


async def handle_home_help(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    """The Home tab's "Help"."""
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=views.help_modal())


async def handle_home_recent(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Reopen a recent lookup's card in a modal."""
    await ack()
    view_id = await open_loading(body, request, client, "Lead", "Looking up the lead…")
    ref = read_ref(CardRef, action.get("value"))
    await _show(client, view_id, ref, partial(card_view_for, services))


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
