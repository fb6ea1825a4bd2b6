"""Use case: a workspace (or a whole org) uninstalled the app, so everything of it is deleted."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.forget import forget_workspace, orphaned_workspaces
from bot.storage.rows import Workspace

logger = logging.getLogger(__name__)

# Slack sends the event once: a deadlock or a dropped connection is tried again at once.
ATTEMPTS = 3
RETRY_SECONDS = 0.5


async def forget_uninstalled(engine: AsyncEngine, ws: Workspace, *, whole_org: bool) -> int:
    """Delete the workspace's installation, key, subscriptions, tokens, memory and pending posts."""
    # An org-wide install is uninstalled for every workspace of the org at once.
    whole_enterprise = whole_org and bool(ws.enterprise_id)
    where = f"org {ws.enterprise_id}" if whole_enterprise else f"workspace {ws.team_id}"
    attempt = 1
    while True:
        try:
            deleted = await forget_workspace(engine, ws, whole_enterprise=whole_enterprise)
        except DBAPIError as exc:
            if attempt == ATTEMPTS:
                # What is left is found by the check for orphans within minutes.
                logger.error("Could not forget %s after uninstalling: %s", where, exc)
                raise
            await asyncio.sleep(RETRY_SECONDS * attempt)
            attempt += 1
            continue
        logger.info("Uninstalled from %s: deleted %d rows", where, deleted)
        return deleted


async def forget_orphans(engine: AsyncEngine) -> int:
    """Forget workspaces whose rows outlived their installation; how many."""
    orphans = await orphaned_workspaces(engine)
    for ws in orphans:
        deleted = await forget_workspace(engine, ws)
        logger.info("Deleted %d rows left of uninstalled workspace %s", deleted, ws.team_id)
    return len(orphans)
