"""A lead's threads in subscribed channels, for replies about what people did to the lead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.rows import Workspace
from bot.storage.subscriptions import in_workspace
from bot.storage.tables import lead_threads, subscriptions


@dataclass(frozen=True)
class LeadThread:
    """A lead's parent message in a channel still subscribed to its campaign."""

    id: int
    channel_id: str
    parent_ts: str
    snapshot: dict[str, Any]


async def threads_of_lead(
    engine: AsyncEngine, ws: Workspace, campaign_id: str, lead_keys: list[str]
) -> list[LeadThread]:
    """The lead's posted parent messages, in channels whose subscription still delivers."""
    # The feed keys a lead by its phone number, else its NLPearl ID (parsing.webhooks.lead_key):
    # the caller passes every key the lead may have been filed under.
    live = select(subscriptions.c.channel_id).where(
        *in_workspace(subscriptions, ws),
        subscriptions.c.campaign_id == campaign_id,
        subscriptions.c.problem.is_(None),
    )
    query = (
        select(lead_threads)
        .where(
            *in_workspace(lead_threads, ws),
            lead_threads.c.campaign_id == campaign_id,
            lead_threads.c.lead_key.in_(lead_keys),
            lead_threads.c.parent_ts.is_not(None),
            lead_threads.c.channel_id.in_(live),
        )
        .order_by(lead_threads.c.id)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [LeadThread(r.id, r.channel_id, r.parent_ts, dict(r.snapshot or {})) for r in rows]


async def thread_at(
    engine: AsyncEngine, ws: Workspace, channel_id: str, parent_ts: str
) -> LeadThread | None:
    """The lead thread whose parent is this message, whatever its subscription's state."""
    query = select(lead_threads).where(
        *in_workspace(lead_threads, ws),
        lead_threads.c.channel_id == channel_id,
        lead_threads.c.parent_ts == parent_ts,
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return (
        LeadThread(row.id, row.channel_id, row.parent_ts, dict(row.snapshot or {})) if row else None
    )


async def set_snapshot_fields(
    engine: AsyncEngine, thread_id: int, fields: dict[str, Any], now: datetime
) -> dict[str, Any] | None:
    """Record what a person changed (status, phone…) in a thread's snapshot; the snapshot now."""
    async with engine.begin() as conn:
        found = await conn.execute(
            select(lead_threads.c.snapshot).where(lead_threads.c.id == thread_id)
        )
        snapshot = found.scalar_one_or_none()
        if snapshot is None:
            return None
        changed = {**snapshot, **fields, "updated_at": now.isoformat()}
        await conn.execute(
            update(lead_threads)
            .where(lead_threads.c.id == thread_id)
            .values(snapshot=changed, updated_at=now)
        )
    return changed
