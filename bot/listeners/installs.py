"""Events: the app was uninstalled, or its bot token revoked; the workspace's data goes with it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.listeners.inflight import Track
from bot.storage.rows import Workspace
from bot.usecases.services import Services
from bot.usecases.uninstalling import forget_uninstalled


def _workspace(context: AsyncBoltContext) -> Workspace:
    return Workspace(team_id=context.team_id or "", enterprise_id=context.enterprise_id or "")


async def handle_app_uninstalled(context: AsyncBoltContext, services: Services) -> None:
    """Forget everything of the workspace (of the org, for an org-wide install)."""
    await forget_uninstalled(
        services.engine, _workspace(context), whole_org=bool(context.is_enterprise_install)
    )


async def handle_tokens_revoked(
    event: dict[str, Any], context: AsyncBoltContext, services: Services
) -> None:
    """A revoked bot token is an uninstall in all but name; user tokens Lead Bot never keeps."""
    tokens = event.get("tokens")
    if isinstance(tokens, dict) and tokens.get("bot"):
        await handle_app_uninstalled(context, services)


def register(app: AsyncApp, track: Track) -> None:
    """Listen for the app leaving a workspace."""
    app.event("app_uninstalled")(track(handle_app_uninstalled))
    app.event("tokens_revoked")(track(handle_tokens_revoked))
