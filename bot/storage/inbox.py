"""Store a received webhook and its outbox rows in one transaction, once per event."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.engine import read_only, upsert
from bot.storage.subscriptions import hash_token
from bot.storage.tables import deliveries, events, subscriptions, webhook_endpoints

# "Last webhook" is shown to people; to the minute is plenty.
LAST_RECEIVED_PRECISION = timedelta(seconds=10)


class Outcome(Enum):
    """What became of a webhook."""

    UNKNOWN_TOKEN = "unknown_token"
    DUPLICATE = "duplicate"
    STALE = "stale"
    STORED = "stored"


@dataclass(frozen=True)
class IncomingEvent:
    """A webhook, read: its kind, its keys and the raw body to keep."""

    kind: str
    dedupe_key: str
    lead_key: str
    lead_status: int | None
    payload: dict[str, Any]
    # Dedupe keys of events that, once stored, make this one stale (a call's end, for its start).
    stale_after: tuple[str, ...] = ()
    # Events sharing it are stored one at a time, so a stale check cannot miss a twin in flight.
    serial: str | None = None
    # False for what the sweep found: it must not say NLPearl called the webhook URL.
    from_nlpearl: bool = True


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


async def store_webhook(
    engine: AsyncEngine, token: str, event: IncomingEvent, now: datetime
) -> Stored:
    """Commit the event and a delivery per matching subscription, unless it was seen before."""
    # An event is seen before when its dedupe key was ever stored: a late redelivery of something
    # the lead already had is not posted again. The reads come first, outside the write transaction,
    # so that the transaction (which on SQLite holds the one write lock) is two inserts long; a
    # redelivery racing its twin still collides on the unique dedupe key.
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
        if await _seen(conn, endpoint_id, event):
            return Stored(Outcome.DUPLICATE)
        rows = await _deliveries_for(conn, endpoint_id, event, now)
    async with engine.begin() as conn:
        await _one_at_a_time(conn, endpoint_id, event.serial)
        if event.stale_after and await _stored(conn, endpoint_id, event.stale_after):
            return Stored(Outcome.STALE)
        if event.from_nlpearl and _outdated(endpoint.last_received_at, now):
            # Updating it for every webhook would serialise them all on this one row.
            await conn.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id == endpoint_id)
                .values(last_received_at=now)
            )
        inserted = await conn.execute(
            upsert(conn, events)
            .values(
                endpoint_id=endpoint_id,
                kind=event.kind,
                dedupe_key=event.dedupe_key,
                lead_key=event.lead_key,
                payload=event.payload,
                received_at=now,
                lead_status=_column_int(event.lead_status),
                swept=int(not event.from_nlpearl),
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


def _column_int(value: int | None) -> int | None:
    """The value if an INTEGER column holds it; a hostile status is kept in the payload only."""
    return value if value is not None and -(2**31) <= value < 2**31 else None


def _outdated(last_received_at: datetime | None, now: datetime) -> bool:
    return last_received_at is None or now - last_received_at >= LAST_RECEIVED_PRECISION


async def _seen(conn: AsyncConnection, endpoint_id: int, event: IncomingEvent) -> bool:
    """Whether the event's dedupe key was ever stored for this endpoint."""
    # Lead events stored by earlier versions carry a `#n` suffix (their place in the lead's
    # history); they are the same event.
    of_endpoint = events.c.endpoint_id == endpoint_id
    # Each test its own EXISTS, so each uses its index (a plain OR makes SQLite scan every
    # event of the endpoint, and the scan grows with the table).
    seen: ColumnElement[bool] = exists().where(of_endpoint, events.c.dedupe_key == event.dedupe_key)
    if event.kind == "lead":
        legacy = exists().where(
            of_endpoint,
            events.c.lead_key == event.lead_key,
            events.c.dedupe_key.startswith(event.dedupe_key + "#", autoescape=True),
        )
        seen = or_(seen, legacy)
    return bool((await conn.execute(select(seen))).scalar())


async def _stored(conn: AsyncConnection, endpoint_id: int, keys: tuple[str, ...]) -> bool:
    query = select(events.c.id).where(
        events.c.endpoint_id == endpoint_id, events.c.dedupe_key.in_(keys)
    )
    return (await conn.execute(query.limit(1))).first() is not None


async def _one_at_a_time(conn: AsyncConnection, endpoint_id: int, serial: str | None) -> None:
    """Hold a lock on `serial` until the transaction ends (SQLite's write lock already does)."""
    if serial is None or conn.dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"{endpoint_id}:{serial}".encode()).digest()
    await conn.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], signed=True))))


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
    """Whether a subscription's filter lets a lead's status change through."""
    # Call events always queue; whether a filtered channel shows them is decided at delivery, when
    # it is known whether the lead has a thread there.
    if not statuses or event.kind != "lead":
        return True
    return event.lead_status in statuses
