"""Channel subscriptions and the webhook endpoint (capability token) of each campaign."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import datetime

from sqlalchemy import ColumnElement, Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.rows import TOKEN_PREFIX, Subscribed, SubscriptionInfo, Workspace
from bot.storage.tables import deliveries, subscriptions, webhook_endpoints

TOKEN_BYTES = 24  # 192 bits
# Racing subscribes can each lose twice at most: once on the endpoint, once on the subscription.
RACE_ATTEMPTS = 3


def hash_token(token: str) -> str:
    """The stored form of a webhook token."""
    return hashlib.sha256(token.encode()).hexdigest()


def in_workspace(table: Table, ws: Workspace) -> tuple[ColumnElement[bool], ...]:
    """The conditions that keep a query to one workspace's rows."""
    return (table.c.team_id == ws.team_id, table.c.enterprise_id == ws.enterprise_id)


async def subscribe(
    engine: AsyncEngine,
    ws: Workspace,
    *,
    channel_id: str,
    campaign_id: str,
    statuses: tuple[int, ...] | None,
    user_id: str | None,
    now: datetime,
) -> Subscribed:
    """Subscribe a channel (or change its filter, or clear a delivery problem)."""
    # The campaign's token is made once and never replaced: a URL once shown stays valid.
    for _ in range(RACE_ATTEMPTS - 1):
        # A concurrent subscribe of the same campaign or channel committed its row first; now
        # that it is there, doing it again joins it (and shows its URL) instead of failing.
        with contextlib.suppress(IntegrityError):
            return await _subscribe(engine, ws, channel_id, campaign_id, statuses, user_id, now)
    return await _subscribe(engine, ws, channel_id, campaign_id, statuses, user_id, now)


async def _subscribe(
    engine: AsyncEngine,
    ws: Workspace,
    channel_id: str,
    campaign_id: str,
    statuses: tuple[int, ...] | None,
    user_id: str | None,
    now: datetime,
) -> Subscribed:
    async with engine.begin() as conn:
        existing = await _subscription_id(conn, ws, channel_id, campaign_id)
        endpoint_id, token, received = await _endpoint(conn, ws, campaign_id, now)
        values = {
            "statuses": list(statuses) if statuses else None,
            "problem": None,
            "problem_at": None,
        }
        if existing is None:
            await conn.execute(
                subscriptions.insert().values(
                    team_id=ws.team_id,
                    enterprise_id=ws.enterprise_id,
                    channel_id=channel_id,
                    campaign_id=campaign_id,
                    endpoint_id=endpoint_id,
                    created_by=user_id,
                    created_at=now,
                    **values,
                )
            )
        else:
            await conn.execute(
                update(subscriptions).where(subscriptions.c.id == existing).values(**values)
            )
    return Subscribed(token, existing is not None, received)


async def _subscription_id(
    conn: AsyncConnection, ws: Workspace, channel_id: str, campaign_id: str
) -> int | None:
    """The id of the channel's subscription to the campaign, if it has one."""
    found = await conn.execute(
        select(subscriptions.c.id).where(
            *in_workspace(subscriptions, ws),
            subscriptions.c.channel_id == channel_id,
            subscriptions.c.campaign_id == campaign_id,
        )
    )
    sub_id = found.scalar_one_or_none()
    return int(sub_id) if sub_id is not None else None


async def _endpoint(
    conn: AsyncConnection, ws: Workspace, campaign_id: str, now: datetime
) -> tuple[int, str | None, datetime | None]:
    """The campaign's endpoint, its token and when NLPearl last used it; made on first use."""
    row = (
        await conn.execute(
            select(
                webhook_endpoints.c.id,
                webhook_endpoints.c.token,
                webhook_endpoints.c.last_received_at,
            ).where(
                *in_workspace(webhook_endpoints, ws), webhook_endpoints.c.campaign_id == campaign_id
            )
        )
    ).one_or_none()
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    if row is not None and (row.token is not None or row.last_received_at is not None):
        return int(row.id), row.token, row.last_received_at
    if row is not None:
        # Made before tokens were kept, and never used: its URL cannot be shown again, and a
        # campaign without a URL anyone has would be a dead end. Replace it, this once.
        replaced = await conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == row.id, webhook_endpoints.c.token.is_(None))
            .values(token_hash=hash_token(token), token=token)
        )
        if replaced.rowcount == 0:
            # A concurrent subscribe replaced it first: show the one it stored.
            stored = select(webhook_endpoints.c.token).where(webhook_endpoints.c.id == row.id)
            token = (await conn.execute(stored)).scalar_one()
        return int(row.id), token, None
    created = await conn.execute(
        webhook_endpoints.insert()
        .values(
            team_id=ws.team_id,
            enterprise_id=ws.enterprise_id,
            campaign_id=campaign_id,
            token_hash=hash_token(token),
            token=token,
            created_at=now,
        )
        .returning(webhook_endpoints.c.id)
    )
    return int(created.scalar_one()), token, None


async def unsubscribe(
    engine: AsyncEngine, ws: Workspace, *, channel_id: str, campaign_id: str
) -> bool:
    """End a channel's subscription; False if there was none."""
    async with engine.begin() as conn:
        sub_id = await _subscription_id(conn, ws, channel_id, campaign_id)
        if sub_id is None:
            return False
        # Its outbox rows go with it: nothing more is posted to the channel.
        await conn.execute(delete(deliveries).where(deliveries.c.subscription_id == sub_id))
        await conn.execute(delete(subscriptions).where(subscriptions.c.id == sub_id))
    return True


async def list_subscriptions(engine: AsyncEngine, ws: Workspace) -> list[SubscriptionInfo]:
    """Every subscription of the workspace, by channel then campaign."""
    query = (
        select(
            subscriptions.c.channel_id,
            subscriptions.c.campaign_id,
            subscriptions.c.statuses,
            subscriptions.c.problem,
            subscriptions.c.problem_at,
            webhook_endpoints.c.last_received_at,
        )
        .join(webhook_endpoints, webhook_endpoints.c.id == subscriptions.c.endpoint_id)
        .where(*in_workspace(subscriptions, ws))
        .order_by(subscriptions.c.channel_id, subscriptions.c.campaign_id)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        SubscriptionInfo(
            channel_id=r.channel_id,
            campaign_id=r.campaign_id,
            statuses=tuple(r.statuses) if r.statuses else None,
            last_received_at=r.last_received_at,
            problem=r.problem,
            problem_at=r.problem_at,
        )
        for r in rows
    ]
