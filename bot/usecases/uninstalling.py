"""Use case: a workspace (or a whole org) uninstalled the app, so everything of it is deleted."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.forget import forget_workspace
from bot.storage.rows import Workspace

logger = logging.getLogger(__name__)


async def forget_uninstalled(engine: AsyncEngine, ws: Workspace, *, whole_org: bool) -> int:
    """Delete the workspace's installation, key, subscriptions, tokens, memory and pending posts."""
    # An org-wide install is uninstalled for every workspace of the org at once.
    whole_enterprise = whole_org and bool(ws.enterprise_id)
    deleted = await forget_workspace(engine, ws, whole_enterprise=whole_enterprise)
    logger.info(
        "Uninstalled from %s: deleted %d rows",
        f"org {ws.enterprise_id}" if whole_enterprise else f"workspace {ws.team_id}",
        deleted,
    )
    return deleted
