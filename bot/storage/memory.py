"""What Lead Bot remembers for each person: the last campaign chosen and recent lookups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.engine import upsert
from bot.storage.rows import LastCampaign, RecentLookup, Workspace
from bot.storage.subscriptions import in_workspace
from bot.storage.tables import recent_lookups, user_preferences

RECENT_KEPT = 10


async def remember_campaign(
    engine: AsyncEngine, ws: Workspace, user_id: str, campaign: LastCampaign, now: datetime
) -> None:
    """Note the campaign a person chose, to offer it first next time."""
    async with engine.begin() as conn:
        await _remember_campaign(conn, ws, user_id, campaign, now)


async def _remember_campaign(
    conn: AsyncConnection, ws: Workspace, user_id: str, campaign: LastCampaign, now: datetime
) -> None:
    statement = upsert(conn, user_preferences).values(
        enterprise_id=ws.enterprise_id,
        team_id=ws.team_id,
        user_id=user_id,
        last_campaign_id=campaign.campaign_id,
        last_campaign_name=campaign.name,
        updated_at=now,
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["enterprise_id", "team_id", "user_id"],
            set_={
                "last_campaign_id": statement.excluded.last_campaign_id,
                "last_campaign_name": statement.excluded.last_campaign_name,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


async def last_campaign(engine: AsyncEngine, ws: Workspace, user_id: str) -> LastCampaign | None:
    """The campaign a person chose last, if any."""
    query = select(user_preferences).where(
        *in_workspace(user_preferences, ws), user_preferences.c.user_id == user_id
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).one_or_none()
    if row is None or not row.last_campaign_id:
        return None
    return LastCampaign(row.last_campaign_id, row.last_campaign_name)


async def remember_lookup(
    engine: AsyncEngine,
    ws: Workspace,
    user_id: str,
    lookup: RecentLookup,
    campaign_name: str | None = None,
) -> None:
    """Add (or refresh) a lookup in the person's recent list, keeping the newest few."""
    # Its campaign becomes the person's last campaign, in the same transaction.
    async with engine.begin() as conn:
        last = LastCampaign(lookup.campaign_id, campaign_name)
        await _remember_campaign(conn, ws, user_id, last, lookup.looked_up_at)
        statement = upsert(conn, recent_lookups).values(
            enterprise_id=ws.enterprise_id,
            team_id=ws.team_id,
            user_id=user_id,
            campaign_id=lookup.campaign_id,
            lead_id=lookup.lead_id,
            label=lookup.label[:200],
            looked_up_at=lookup.looked_up_at,
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["enterprise_id", "team_id", "user_id", "campaign_id", "lead_id"],
                set_={
                    "label": statement.excluded.label,
                    "looked_up_at": statement.excluded.looked_up_at,
                },
            )
        )
        mine = (*in_workspace(recent_lookups, ws), recent_lookups.c.user_id == user_id)
        keep = (
            select(recent_lookups.c.id)
            .where(*mine)
            .order_by(recent_lookups.c.looked_up_at.desc(), recent_lookups.c.id.desc())
            .limit(RECENT_KEPT)
        )
        await conn.execute(delete(recent_lookups).where(*mine, recent_lookups.c.id.not_in(keep)))


async def recent(
    engine: AsyncEngine, ws: Workspace, user_id: str, limit: int = 5
) -> list[RecentLookup]:
    """A person's most recent lookups, newest first."""
    query = (
        select(recent_lookups)
        .where(*in_workspace(recent_lookups, ws), recent_lookups.c.user_id == user_id)
        .order_by(recent_lookups.c.looked_up_at.desc(), recent_lookups.c.id.desc())
        .limit(limit)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [RecentLookup(r.campaign_id, r.lead_id, r.label, r.looked_up_at) for r in rows]
