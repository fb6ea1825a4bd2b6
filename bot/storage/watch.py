"""Watching a campaign: its channels, its alert states, and what the feed itself received."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import read_only, upsert
from bot.storage.notices import NewNotice, queue
from bot.storage.rows import Workspace
from bot.storage.subscriptions import in_workspace
from bot.storage.tables import (
    alert_states,
    digests,
    events,
    lead_actions,
    subscriptions,
    webhook_endpoints,
)


@dataclass(frozen=True)
class Watched:
    """A campaign of a workspace that some channel follows, and those channels."""

    workspace: Workspace
    campaign_id: str
    channels: tuple[str, ...]
    # The campaign's webhook URL, when a channel subscribed to its feed.
    endpoint_id: int | None
    endpoint_created_at: datetime | None
    last_webhook_at: datetime | None


@dataclass(frozen=True)
class AlertState:
    """One alert condition of a campaign as last checked."""

    kind: str
    active: bool
    since: datetime
    detail: dict[str, Any]
    checked_at: datetime | None = None


@dataclass(frozen=True)
class FeedCounts:
    """What the feed itself received for a campaign in a span of time."""

    # Distinct leads per new status, from Lead webhooks.
    leads_by_status: dict[int, int]
    # Calls that ended (Call webhooks), and all webhooks.
    calls_ended: int
    webhooks: int


async def watched_campaigns(engine: AsyncEngine) -> list[Watched]:
    """Every campaign a channel follows by its feed or a digest, with its channels."""
    feeds = (
        select(
            subscriptions.c.team_id,
            subscriptions.c.enterprise_id,
            subscriptions.c.campaign_id,
            subscriptions.c.channel_id,
        )
        .where(subscriptions.c.problem.is_(None))
        .union(
            select(
                digests.c.team_id,
                digests.c.enterprise_id,
                digests.c.campaign_id,
                digests.c.channel_id,
            ).where(digests.c.problem.is_(None))
        )
    )
    # Endpoints that still feed a channel: their URL is what the webhook alerts are about.
    feeding = select(webhook_endpoints).where(
        select(subscriptions.c.id)
        .where(
            subscriptions.c.endpoint_id == webhook_endpoints.c.id,
            subscriptions.c.problem.is_(None),
        )
        .exists()
    )
    async with read_only(engine) as conn:
        rows = (await conn.execute(feeds)).all()
        endpoints = {
            (e.team_id, e.enterprise_id, e.campaign_id): e
            for e in (await conn.execute(feeding)).all()
        }
    channels: dict[tuple[str, str, str], list[str]] = {}
    for row in rows:
        channels.setdefault((row.team_id, row.enterprise_id, row.campaign_id), []).append(
            row.channel_id
        )
    watched = []
    for (team_id, enterprise_id, campaign_id), in_channels in sorted(channels.items()):
        endpoint = endpoints.get((team_id, enterprise_id, campaign_id))
        watched.append(
            Watched(
                workspace=Workspace(team_id, enterprise_id),
                campaign_id=campaign_id,
                channels=tuple(sorted(set(in_channels))),
                endpoint_id=endpoint.id if endpoint else None,
                endpoint_created_at=endpoint.created_at if endpoint else None,
                last_webhook_at=endpoint.last_received_at if endpoint else None,
            )
        )
    return watched


async def alert_states_of(engine: AsyncEngine, ws: Workspace, campaign_id: str) -> list[AlertState]:
    """The campaign's alert conditions as last checked."""
    query = select(alert_states).where(
        *in_workspace(alert_states, ws),
        alert_states.c.campaign_id == campaign_id,
    )
    async with read_only(engine) as conn:
        rows = (await conn.execute(query)).all()
    return [
        AlertState(r.kind, bool(r.active), r.since, dict(r.detail or {}), r.checked_at)
        for r in rows
    ]


async def set_alert_state(
    engine: AsyncEngine,
    ws: Workspace,
    campaign_id: str,
    *,
    before: AlertState | None,
    after: AlertState,
    notices: list[NewNotice],
    now: datetime,
) -> bool:
    """Record the condition's new state and queue its notices, both or neither.

    False when the state is no longer `before` (another process moved it): nothing is queued.
    """
    key = {
        "team_id": ws.team_id,
        "enterprise_id": ws.enterprise_id,
        "campaign_id": campaign_id,
        "kind": after.kind,
    }
    values = {
        "active": int(after.active),
        "since": after.since,
        "detail": after.detail,
        "checked_at": now,
    }
    async with engine.begin() as conn:
        if before is None:
            inserted = await conn.execute(
                upsert(conn, alert_states).values(**key, **values).on_conflict_do_nothing()
            )
            if inserted.rowcount != 1:
                return False
        else:
            moved = await conn.execute(
                update(alert_states)
                .where(
                    *(alert_states.c[name] == value for name, value in key.items()),
                    alert_states.c.active == int(before.active),
                    alert_states.c.since == before.since,
                )
                .values(**values)
            )
            if moved.rowcount != 1:
                return False
        for notice in notices:
            await queue(conn, notice, now)
    return True


async def feed_counts(
    engine: AsyncEngine, endpoint_id: int, start: datetime, end: datetime
) -> FeedCounts:
    """What the feed received for the campaign from `start` up to `end`, counted in the database."""
    span = (
        events.c.endpoint_id == endpoint_id,
        events.c.swept == 0,
        events.c.received_at >= start,
        events.c.received_at < end,
    )
    by_status = (
        select(events.c.lead_status, func.count(distinct(events.c.lead_key)))
        .where(*span, events.c.kind == "lead", events.c.lead_status.is_not(None))
        .group_by(events.c.lead_status)
    )
    ended = select(func.count()).where(
        *span, events.c.kind == "call", events.c.dedupe_key.endswith(":end")
    )
    total = select(func.count()).where(*span)
    async with read_only(engine) as conn:
        statuses = {int(s): int(n) for s, n in (await conn.execute(by_status)).all()}
        calls_ended = int((await conn.execute(ended)).scalar_one())
        webhooks = int((await conn.execute(total)).scalar_one())
    return FeedCounts(statuses, calls_ended, webhooks)


async def paused_from_slack_since(
    engine: AsyncEngine, ws: Workspace, campaign_id: str, since: datetime
) -> bool:
    """Whether someone paused the campaign from Slack since `since`."""
    query = select(lead_actions.c.id).where(
        *in_workspace(lead_actions, ws),
        lead_actions.c.campaign_id == campaign_id,
        lead_actions.c.action == "pause",
        lead_actions.c.result.in_(("applied", "pending", "unconfirmed")),
        lead_actions.c.created_at >= since,
    )
    async with read_only(engine) as conn:
        return (await conn.execute(query.limit(1))).first() is not None


async def feed_endpoint(engine: AsyncEngine, ws: Workspace, campaign_id: str) -> int | None:
    """The campaign's webhook endpoint in the workspace, if a channel ever subscribed to it."""
    query = select(webhook_endpoints.c.id).where(
        *in_workspace(webhook_endpoints, ws),
        webhook_endpoints.c.campaign_id == campaign_id,
    )
    async with read_only(engine) as conn:
        found = (await conn.execute(query)).scalar_one_or_none()
    return int(found) if found is not None else None
