"""Who may act on leads: the Home tab's button for admins, and the form it opens."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import ActionId, BlockId, ViewId
from bot.listeners.inflight import Track
from bot.listeners.request import open_loading, where_of
from bot.usecases.grants import grant_form, grants_summary, save_grants
from bot.usecases.home import home_for
from bot.usecases.permissions import admin_of
from bot.usecases.services import Services

ADMINS_ONLY = messages.notice(
    "🔐",
    "Only admins can choose",
    "Workspace admins and owners choose who may act on leads. Ask one of them.",
)


async def handle_open_grants(
    ack: AsyncAck,
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Open the form at once, then fill it in for an admin (or say it is theirs to change)."""
    await ack()
    view_id = await open_loading(body, request, client, "Who may act", "Loading…")
    where = where_of(request)
    view = (
        await grant_form(services, client, where.workspace)
        if await admin_of(client, where.workspace, where.user_id)
        else views.notice_modal("Who may act", ADMINS_ONLY)
    )
    await client.views_update(view_id=view_id, view=view)


def _chosen(view: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The people and user groups the form names."""
    values = (view.get("state") or {}).get("values") or {}
    people = (values.get(BlockId.GRANT_USERS) or {}).get("users") or {}
    groups = (values.get(BlockId.GRANT_USERGROUPS) or {}).get(ActionId.GRANT_USERGROUPS) or {}
    users = [u for u in people.get("selected_users") or [] if isinstance(u, str)]
    options = groups.get("selected_options") or []
    return users, [str(o.get("value")) for o in options if isinstance(o, dict) and o.get("value")]


async def handle_grants_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Save who may act (admins only, checked again here), then redraw the admin's Home tab."""
    # Asking Slack who this is may take longer than the ack may wait.
    await ack(response_action="update", view=views.loading_modal("Who may act", "Saving…"))
    where = where_of(request)
    user_id = where.user_id or ""
    if not await admin_of(client, where.workspace, user_id):
        await client.views_update(
            view_id=view["id"], view=views.notice_modal("Who may act", ADMINS_ONLY)
        )
        return
    users, groups = _chosen(view)
    saved = await save_grants(services, where.workspace, user_id, users, groups)
    done = messages.notice("✅", "Saved", grants_summary(saved))
    await client.views_update(view_id=view["id"], view=views.notice_modal("Who may act", done))
    home = await home_for(services, where.workspace, user_id, client)
    await client.views_publish(user_id=user_id, view=home)


def register(app: AsyncApp, track: Track) -> None:
    """Listen for the Home tab's "Change" button and the form it opens."""
    app.action(ActionId.HOME_WHO_MAY_ACT.value)(track(handle_open_grants))
    app.view(ViewId.WHO_MAY_ACT.value)(track(handle_grants_submission))
