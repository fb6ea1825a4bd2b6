"""Multi-workspace mode: an admin connects, replaces or disconnects NLPearl from the Home tab."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.connection import connect_modal, connected_modal, not_admin_modal
from bot.blocks.ids import ActionId, BlockId, ViewId
from bot.listeners.inflight import Track
from bot.listeners.request import open_loading, where_of
from bot.storage.rows import Workspace
from bot.usecases.connecting import Connected, connect, connected_account, disconnect
from bot.usecases.home import home_for
from bot.usecases.permissions import admin_of
from bot.usecases.services import Services

ADMIN_CHECK_SECONDS = 0.9
SLACK_TOO_SLOW = "Slack didn't confirm in time that you're an admin; nothing was saved. Try again."


async def handle_open_connect(
    ack: AsyncAck,
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Open the form at once, then fill it in for an admin (or say it is an admin's to do)."""
    await ack()
    if services.connections is None:
        return
    view_id = await open_loading(body, request, client, "Connect NLPearl", "Loading…")
    where = where_of(request)
    if not await admin_of(client, where.workspace, where.user_id):
        await client.views_update(view_id=view_id, view=not_admin_modal())
        return
    current = await connected_account(services.connections, where.workspace)
    await client.views_update(view_id=view_id, view=connect_modal(replacing=current is not None))


def _typed(view: dict[str, Any], block_id: str, action_id: str) -> str:
    values = (view.get("state") or {}).get("values") or {}
    value = ((values.get(block_id) or {}).get(action_id) or {}).get("value")
    return value if isinstance(value, str) else ""


async def handle_connect_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Check the pasted key with NLPearl before answering, so a mistake shows under its input."""
    # Slack waits 3 seconds for the answer: who is asking, then NLPearl, each within its share.
    where = where_of(request)
    user_id = where.user_id or ""
    try:
        is_admin = await asyncio.wait_for(
            admin_of(client, where.workspace, user_id), ADMIN_CHECK_SECONDS
        )
    except TimeoutError:
        await ack(response_action="errors", errors={BlockId.NLPEARL_SECRET: SLACK_TOO_SLOW})
        return
    if services.connections is None or not is_admin:
        await ack(response_action="update", view=not_admin_modal())
        return
    outcome = await connect(
        services.connections,
        where.workspace,
        user_id=user_id,
        account_id=_typed(view, BlockId.NLPEARL_ACCOUNT_ID, ActionId.NLPEARL_ACCOUNT_ID),
        secret=_typed(view, BlockId.NLPEARL_SECRET, ActionId.NLPEARL_SECRET),
        now=services.now(),
    )
    if not isinstance(outcome, Connected):
        await ack(response_action="errors", errors=outcome.errors)
        return
    await ack(response_action="update", view=connected_modal(outcome.account_id, outcome.account))
    await _redraw_home(client, where.workspace, user_id, request)


async def handle_disconnect(
    ack: AsyncAck,
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Forget the workspace's key (the button asked to confirm), then redraw the admin's Home."""
    await ack()
    if services.connections is None:
        return
    where = where_of(request)
    user_id = where.user_id or ""
    if not await admin_of(client, where.workspace, user_id):
        await client.views_open(trigger_id=body["trigger_id"], view=not_admin_modal())
        return
    await disconnect(services.connections, where.workspace)
    await _redraw_home(client, where.workspace, user_id, request)


async def _redraw_home(
    client: AsyncWebClient, ws: Workspace, user_id: str, request: AsyncBoltRequest
) -> None:
    """Publish the person's Home again, with the services the new key gives the workspace."""
    services: Services = await request.context["services_for"](ws)
    await client.views_publish(user_id=user_id, view=await home_for(services, ws, user_id, client))


def register(app: AsyncApp, track: Track) -> None:
    """Listen for Home's NLPearl buttons and the form they open."""
    app.action(ActionId.HOME_CONNECT_NLPEARL.value)(track(handle_open_connect))
    app.action(ActionId.HOME_DISCONNECT_NLPEARL.value)(track(handle_disconnect))
    app.view(ViewId.CONNECT_NLPEARL.value)(track(handle_connect_submission))
