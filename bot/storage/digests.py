"""Daily digest subscriptions: one per channel and campaign, each with its next moment due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import read_only, upsert
from bot.storage.rows import DigestInfo, Workspace
from bot.storage.subscriptions import in_workspace
from bot.storage.tables import digests


async def set_digest(
    engine: AsyncEngine,
    ws: Workspace,
    *,
    channel_id: str,
    campaign_id: str,
    at_time: str,
    time_zone: str,
    user_id: str | None,
    next_due_at: datetime,
    now: datetime,
) -> tuple[DigestInfo, bool]:
    """Start (or re-time) the channel's digest of the campaign; and whether it is new."""
    async with engine.begin() as conn:
        existed = (
            await conn.execute(select(digests.c.id).where(*_of(ws, channel_id, campaign_id)))
        ).first() is not None
        statement = upsert(conn, digests).values(
            team_id=ws.team_id,
            enterprise_id=ws.enterprise_id,
            channel_id=channel_id,
            campaign_id=campaign_id,
            at_time=at_time,
            time_zone=time_zone,
            created_by=user_id,
            created_at=now,
            next_due_at=next_due_at,
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["enterprise_id", "team_id", "channel_id", "campaign_id"],
                set_={
                    "at_time": at_time,
                    "time_zone": time_zone,
                    "next_due_at": next_due_at,
                    "problem": None,
                },
            )
        )
        row = (await conn.execute(select(digests).where(*_of(ws, channel_id, campaign_id)))).one()
    return _info(row), not existed


async def stop_digest(
    engine: AsyncEngine, ws: Workspace, *, channel_id: str, campaign_id: str
) -> bool:
    """End the channel's digest of the campaign; whether there was one."""
    async with engine.begin() as conn:
        result = await conn.execute(delete(digests).where(*_of(ws, channel_id, campaign_id)))
    return bool(result.rowcount)


async def digests_of(
    engine: AsyncEngine, ws: Workspace, *, channel_id: str | None = None
) -> list[DigestInfo]:
    """The workspace's digests (or one channel's), by channel and campaign."""
    query = select(digests).where(*in_workspace(digests, ws))
    if channel_id is not None:
        query = query.where(digests.c.channel_id == channel_id)
    query = query.order_by(digests.c.channel_id, digests.c.campaign_id)
    async with engine.connect() as conn:
        return [_info(row) for row in (await conn.execute(query)).all()]


async def digest_by_id(engine: AsyncEngine, digest_id: int) -> DigestInfo | None:
    """One digest, if it still exists."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(digests).where(digests.c.id == digest_id))).one_or_none()
    return _info(row) if row is not None else None


async def due_digests(engine: AsyncEngine, now: datetime, limit: int = 100) -> list[DigestInfo]:
    """Digests whose next moment has come, oldest first."""
    query = (
        select(digests)
        .where(digests.c.next_due_at <= now, digests.c.problem.is_(None))
        .order_by(digests.c.next_due_at, digests.c.id)
        .limit(limit)
    )
    async with read_only(engine) as conn:
        return [_info(row) for row in (await conn.execute(query)).all()]


async def stop_digest_for_good(engine: AsyncEngine, digest_id: int, problem: str) -> None:
    """Slack refused the digest's channel for good: queue no more of it."""
    async with engine.begin() as conn:
        await conn.execute(
            update(digests).where(digests.c.id == digest_id).values(problem=problem[:200])
        )


def _of(ws: Workspace, channel_id: str, campaign_id: str) -> tuple[Any, ...]:
    return (
        *in_workspace(digests, ws),
        digests.c.channel_id == channel_id,
        digests.c.campaign_id == campaign_id,
    )


def _info(row: Any) -> DigestInfo:
    return DigestInfo(
        id=int(row.id),
        workspace=Workspace(row.team_id, row.enterprise_id),
        channel_id=row.channel_id,
        campaign_id=row.campaign_id,
        at_time=row.at_time,
        time_zone=row.time_zone,
        next_due_at=row.next_due_at,
        created_by=row.created_by,
        problem=row.problem,
    )
