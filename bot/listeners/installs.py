"""Events of multi-workspace mode: the app left a workspace, so its data goes with it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.listeners.inflight import Track
from bot.listeners.request import workspace_of
from bot.storage.rows import Workspace
from bot.usecases.services import Services
from bot.usecases.uninstalling import forget_uninstalled


async def handle_app_uninstalled(
    request: AsyncBoltRequest, context: AsyncBoltContext, services: Services
) -> None:
    """Forget everything of the workspace (of the org, for an org-wide install)."""
    await forget_uninstalled(
        services.engine, workspace_of(request), whole_org=bool(context.is_enterprise_install)
    )


async def handle_tokens_revoked(
    event: dict[str, Any], request: AsyncBoltRequest, context: AsyncBoltContext, services: Services
) -> None:
    """A revoked bot token is an uninstall in all but name; user tokens Lead Bot never keeps."""
    tokens = event.get("tokens")
    if isinstance(tokens, dict) and tokens.get("bot"):
        await handle_app_uninstalled(request, context, services)


async def handle_team_access_revoked(
    event: dict[str, Any], context: AsyncBoltContext, services: Services
) -> None:
    """An org-wide install was taken away from some of the org's workspaces: forget those."""
    team_ids = event.get("team_ids")
    org = context.enterprise_id or ""
    if not org or not isinstance(team_ids, list):
        return
    for team_id in team_ids:
        if isinstance(team_id, str) and team_id:
            ws = Workspace(team_id=team_id, enterprise_id=org)
            await forget_uninstalled(services.engine, ws, whole_org=False)


def register(app: AsyncApp, track: Track) -> None:
    """Listen for the app leaving a workspace, or an org's workspaces."""
    app.event("app_uninstalled")(track(handle_app_uninstalled))
    app.event("tokens_revoked")(track(handle_tokens_revoked))
    app.event("team_access_revoked")(track(handle_team_access_revoked))
