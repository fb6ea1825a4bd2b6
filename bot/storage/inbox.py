"""Store a received webhook and its outbox rows in one transaction, once per event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.engine import read_only
from bot.storage.subscriptions import hash_token
from bot.storage.tables import deliveries, events, subscriptions, webhook_endpoints

# "Last webhook" is shown to people; to the minute is plenty.
LAST_RECEIVED_PRECISION = timedelta(seconds=10)


class Outcome(Enum):
    """What became of a webhook."""

    UNKNOWN_TOKEN = "unknown_token"
    DUPLICATE = "duplicate"
    STORED = "stored"


@dataclass(frozen=True)
class IncomingEvent:
    """A webhook, read: its kind, its keys and the raw body to keep."""

    kind: str
    dedupe_key: str
    lead_key: str
    lead_status: int | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class Stored:
    """The outcome, and how many channel posts were queued."""

    outcome: Outcome
    queued: int = 0


async def token_exists(engine: AsyncEngine, token: str) -> bool:
    """Whether a webhook token was issued (and not replaced)."""
    query = select(webhook_endpoints.c.id).where(
        webhook_endpoints.c.token_hash == hash_token(token)
    )
    async with engine.connect() as conn:
        return (await conn.execute(query)).first() is not None


def _insert(conn: AsyncConnection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


async def store_webhook(
    engine: AsyncEngine, token: str, event: IncomingEvent, now: datetime
) -> Stored:
    """Commit the event and a delivery per matching subscription, unless it was seen before.

    The reads come first, outside the write transaction, so that the transaction (which on
    SQLite holds the one write lock) is two inserts long; a redelivery racing its twin still
    collides on the unique dedupe key.
    """
    async with read_only(engine) as conn:
        endpoint = (
            await conn.execute(
                select(webhook_endpoints.c.id, webhook_endpoints.c.last_received_at).where(
                    webhook_endpoints.c.token_hash == hash_token(token)
                )
            )
        ).one_or_none()
        if endpoint is None:
            return Stored(Outcome.UNKNOWN_TOKEN)
        endpoint_id = int(endpoint.id)
        key = await _dedupe_key(conn, endpoint_id, event)
        rows = await _deliveries_for(conn, endpoint_id, event, now) if key else []
    if key is None:
        return Stored(Outcome.DUPLICATE)
    async with engine.begin() as conn:
        if _stale(endpoint.last_received_at, now):
            # Updating it for every webhook would serialise them all on this one row.
            await conn.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id == endpoint_id)
                .values(last_received_at=now)
            )
        inserted = await conn.execute(
            _insert(conn)(events)
            .values(
                endpoint_id=endpoint_id,
                kind=event.kind,
                dedupe_key=key,
                lead_key=event.lead_key,
                payload=event.payload,
                received_at=now,
            )
            .on_conflict_do_nothing(index_elements=["endpoint_id", "dedupe_key"])
            .returning(events.c.id)
        )
        event_id = inserted.scalar_one_or_none()
        if event_id is None:
            return Stored(Outcome.DUPLICATE)
        if rows:
            await conn.execute(deliveries.insert(), [{**row, "event_id": event_id} for row in rows])
    return Stored(Outcome.STORED, len(rows))


def _stale(last_received_at: datetime | None, now: datetime) -> bool:
    return last_received_at is None or now - last_received_at >= LAST_RECEIVED_PRECISION


async def _dedupe_key(conn: AsyncConnection, endpoint_id: int, event: IncomingEvent) -> str | None:
    """The key that makes a redelivery collide; None when it is plainly a redelivery.

    A lead's status can recur (retry, queue, call, retry again), so a lead event repeats
    only the lead's latest event; it is numbered by its place in the lead's history, and
    two copies arriving at once still collide on the unique key.
    """
    base = event.dedupe_key[:200]
    if event.kind != "lead":
        return base
    of_lead = (
        events.c.endpoint_id == endpoint_id,
        events.c.lead_key == event.lead_key,
        events.c.kind == "lead",
    )
    latest = (
        await conn.execute(
            select(events.c.dedupe_key).where(*of_lead).order_by(events.c.id.desc()).limit(1)
        )
    ).scalar_one_or_none()
    if latest is None:
        return f"{base}#0"
    latest_base, _, number = latest.rpartition("#")
    if latest_base == base:
        return None
    # Keys are numbered along the lead's history, so the latest one tells the next number.
    return f"{base}#{int(number) + 1 if number.isdigit() else 0}"


async def _deliveries_for(
    conn: AsyncConnection, endpoint_id: int, event: IncomingEvent, now: datetime
) -> list[dict[str, Any]]:
    subs = (
        await conn.execute(
            select(subscriptions).where(
                subscriptions.c.endpoint_id == endpoint_id, subscriptions.c.problem.is_(None)
            )
        )
    ).all()
    return [
        {
            "subscription_id": sub.id,
            "team_id": sub.team_id,
            "enterprise_id": sub.enterprise_id,
            "channel_id": sub.channel_id,
            "lead_key": event.lead_key,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for sub in subs
        if wanted(sub.statuses, event)
    ]


def wanted(statuses: list[int] | None, event: IncomingEvent) -> bool:
    """Whether a subscription's filter lets a lead's status change through.

    Call events always queue; whether a filtered channel shows them is decided at delivery,
    when it is known whether the lead has a thread there.
    """
    if not statuses or event.kind != "lead":
        return True
    return event.lead_status in statuses
