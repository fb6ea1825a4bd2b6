"""Store received webhooks and their outbox rows: a group to a transaction, each event once."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import Insert, Select, and_, bindparam, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.engine import upsert_in
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


@dataclass(frozen=True)
class Arrival:
    """A webhook to store: the token of the URL it came to, the event, and when it came."""

    token: str
    event: IncomingEvent
    received_at: datetime


@dataclass
class _Endpoint:
    id: int
    last_received_at: datetime | None
    legacy_dedupe: bool
    subscriptions: list[Any] = field(default_factory=list)


async def store_webhook(
    engine: AsyncEngine, token: str, event: IncomingEvent, now: datetime
) -> Stored:
    """Commit the event and a delivery per matching subscription, unless it was seen before."""
    (stored,) = await store_webhooks(engine, [Arrival(token, event, now)])
    return stored


async def store_webhooks(engine: AsyncEngine, arrivals: Sequence[Arrival]) -> list[Stored]:
    """Store many webhooks in one transaction, each answered as if it had come alone.

    They are taken in order: a redelivery of an event earlier in the same group is a duplicate,
    and a call's start after its end in the group is stale. All or nothing: if the transaction
    fails, none is stored.
    """
    async with engine.connect() as conn:
        return await store_webhooks_on(conn, arrivals)


async def store_webhooks_on(conn: AsyncConnection, arrivals: Sequence[Arrival]) -> list[Stored]:
    """`store_webhooks` on a connection the caller holds (and may use again)."""
    try:
        return await _store_group(conn, arrivals)
    except IntegrityError:
        # An uninstall deleted an endpoint after the group read it (PostgreSQL's foreign key
        # check waited for that delete): read the endpoints again, and its webhooks are
        # unknown. Nothing of the failed attempt was kept.
        return await _store_group(conn, arrivals)


async def _store_group(conn: AsyncConnection, arrivals: Sequence[Arrival]) -> list[Stored]:
    """One transaction for the group."""
    # One transaction for many webhooks is what makes a burst cheap: each statement below runs
    # once for the group, not once per webhook, and on SQLite the write lock is taken once.
    async with conn.begin():
        hashes = [hash_token(a.token) for a in arrivals]
        endpoints = await _endpoints(conn, set(hashes))
        known = [(a, endpoints.get(h)) for a, h in zip(arrivals, hashes, strict=True)]
        await _one_at_a_time(conn, [(ep.id, a.event.serial) for a, ep in known if ep])
        seen = await _seen(conn, [(ep, a.event) for a, ep in known if ep])
        outcomes: list[Stored | None] = []
        accepted: list[tuple[Arrival, _Endpoint]] = []
        for arrival, endpoint in known:
            outcome = _screen(arrival.event, endpoint, seen)
            outcomes.append(outcome)
            if outcome is None and endpoint is not None:
                seen.add((endpoint.id, arrival.event.dedupe_key))
                accepted.append((arrival, endpoint))
        await _note_received(conn, known)
        event_ids = await _insert_events(conn, accepted)
        queued = await _insert_deliveries(conn, accepted, event_ids)
    answers = iter(queued)
    return [outcome or next(answers) for outcome in outcomes]


def _endpoints_query() -> Select[Any]:
    e, s = webhook_endpoints, subscriptions
    return (
        select(
            e.c.id,
            e.c.token_hash,
            e.c.last_received_at,
            e.c.legacy_dedupe,
            s.c.id.label("subscription_id"),
            s.c.team_id,
            s.c.enterprise_id,
            s.c.channel_id,
            s.c.statuses,
        )
        .select_from(e.outerjoin(s, and_(s.c.endpoint_id == e.c.id, s.c.problem.is_(None))))
        .where(e.c.token_hash.in_(bindparam("token_hashes", expanding=True)))
        .order_by(s.c.id)
    )


def _insert_events_statement(dialect: str) -> Insert:
    return (
        upsert_in(dialect, events)
        .on_conflict_do_nothing(index_elements=["endpoint_id", "dedupe_key"])
        .returning(events.c.id, events.c.endpoint_id, events.c.dedupe_key)
    )


# Built once: building a statement and its cache key costs about as much as running it.
ENDPOINTS = _endpoints_query()
STORED_KEYS = select(events.c.dedupe_key).where(
    events.c.endpoint_id == bindparam("endpoint_id"),
    events.c.dedupe_key.in_(bindparam("keys", expanding=True)),
)
OLD_KEYS = select(events.c.dedupe_key).where(
    events.c.endpoint_id == bindparam("endpoint_id"),
    events.c.lead_key.in_(bindparam("leads", expanding=True)),
    events.c.dedupe_key.contains("#", autoescape=True),
)
INSERT_EVENTS = {dialect: _insert_events_statement(dialect) for dialect in ("postgresql", "sqlite")}
INSERT_DELIVERIES = deliveries.insert()


async def _endpoints(conn: AsyncConnection, token_hashes: set[str]) -> dict[str, _Endpoint]:
    """The endpoints of these token hashes, each with its working subscriptions."""
    found: dict[str, _Endpoint] = {}
    rows = await conn.execute(ENDPOINTS, {"token_hashes": sorted(token_hashes)})
    for row in rows.all():
        endpoint = found.setdefault(
            row.token_hash,
            _Endpoint(int(row.id), row.last_received_at, bool(row.legacy_dedupe)),
        )
        if row.subscription_id is not None:
            endpoint.subscriptions.append(row)
    return found


def _screen(
    event: IncomingEvent, endpoint: _Endpoint | None, seen: set[tuple[int, str]]
) -> Stored | None:
    """Why the event is not stored, or None to store it."""
    if endpoint is None:
        return Stored(Outcome.UNKNOWN_TOKEN)
    if (endpoint.id, event.dedupe_key) in seen:
        return Stored(Outcome.DUPLICATE)
    if any((endpoint.id, key) in seen for key in event.stale_after):
        return Stored(Outcome.STALE)
    return None


async def _seen(
    conn: AsyncConnection, arrivals: list[tuple[_Endpoint, IncomingEvent]]
) -> set[tuple[int, str]]:
    """Which dedupe keys that the screening needs to know about are stored already."""
    # Plain redeliveries need no look: the unique key turns them away at the INSERT. A look is
    # needed where the answer depends on more than the key (a call's start is stale once its
    # end is stored) and for endpoints with old `#n` keys. One look per endpoint, so each is a
    # search of an index (a look across endpoints made SQLite scan every event).
    keys: dict[int, set[str]] = {}
    old_style: dict[int, list[IncomingEvent]] = {}
    for endpoint, event in arrivals:
        if event.stale_after:
            keys.setdefault(endpoint.id, set()).update((event.dedupe_key, *event.stale_after))
        if endpoint.legacy_dedupe and event.kind == "lead":
            old_style.setdefault(endpoint.id, []).append(event)
    seen: set[tuple[int, str]] = set()
    for endpoint_id, wanted in sorted(keys.items()):
        found = await conn.execute(
            STORED_KEYS, {"endpoint_id": endpoint_id, "keys": sorted(wanted)}
        )
        seen.update((endpoint_id, key) for (key,) in found)
    for endpoint_id, lead_events in sorted(old_style.items()):
        seen.update(await _legacy_seen(conn, endpoint_id, lead_events))
    return seen


async def _legacy_seen(
    conn: AsyncConnection, endpoint_id: int, lead_events: list[IncomingEvent]
) -> set[tuple[int, str]]:
    """The events whose key an old `#n` key stored for the same lead carries."""
    # Lead events stored by early versions carry a `#n` suffix (their place in the lead's
    # history); they are the same event.
    leads = sorted({event.lead_key for event in lead_events})
    found = await conn.execute(OLD_KEYS, {"endpoint_id": endpoint_id, "leads": leads})
    stored = [str(key) for (key,) in found]
    return {
        (endpoint_id, event.dedupe_key)
        for event in lead_events
        if any(key.startswith(event.dedupe_key + "#") for key in stored)
    }


async def _note_received(
    conn: AsyncConnection, known: list[tuple[Arrival, _Endpoint | None]]
) -> None:
    """Move "last webhook" on for endpoints NLPearl just called, at most every few seconds."""
    latest: dict[int, tuple[_Endpoint, datetime]] = {}
    for arrival, endpoint in known:
        if endpoint is not None and arrival.event.from_nlpearl:
            _, before = latest.get(endpoint.id, (endpoint, arrival.received_at))
            latest[endpoint.id] = (endpoint, max(before, arrival.received_at))
    for endpoint, received_at in sorted(latest.values(), key=lambda item: item[0].id):
        # Updating it for every webhook would serialise them all on this one row.
        if _outdated(endpoint.last_received_at, received_at):
            await conn.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id == endpoint.id)
                .values(last_received_at=received_at)
            )


async def _insert_events(
    conn: AsyncConnection, accepted: list[tuple[Arrival, _Endpoint]]
) -> dict[tuple[int, str], int]:
    """Insert the events; the ids of those stored, by endpoint and key (a race loses quietly)."""
    if not accepted:
        return {}
    rows = [
        {
            "endpoint_id": endpoint.id,
            "kind": arrival.event.kind,
            "dedupe_key": arrival.event.dedupe_key,
            "lead_key": arrival.event.lead_key,
            "payload": arrival.event.payload,
            "received_at": arrival.received_at,
            "lead_status": _column_int(arrival.event.lead_status),
            "swept": int(not arrival.event.from_nlpearl),
        }
        for arrival, endpoint in accepted
    ]
    inserted = await conn.execute(INSERT_EVENTS[conn.dialect.name], rows)
    return {(int(r.endpoint_id), r.dedupe_key): int(r.id) for r in inserted}


async def _insert_deliveries(
    conn: AsyncConnection,
    accepted: list[tuple[Arrival, _Endpoint]],
    event_ids: dict[tuple[int, str], int],
) -> list[Stored]:
    """Queue a delivery per event stored and wanting subscription, in the order they came."""
    answers: list[Stored] = []
    rows: list[dict[str, Any]] = []
    for arrival, endpoint in accepted:
        event_id = event_ids.get((endpoint.id, arrival.event.dedupe_key))
        if event_id is None:
            # Its twin, sent to another process at the same moment, was committed first.
            answers.append(Stored(Outcome.DUPLICATE))
            continue
        wanted_here = _deliveries_for(endpoint, arrival, event_id)
        rows += wanted_here
        answers.append(Stored(Outcome.STORED, len(wanted_here)))
    if rows:
        await conn.execute(INSERT_DELIVERIES, rows)
    return answers


def _column_int(value: int | None) -> int | None:
    """The value if an INTEGER column holds it; a hostile status is kept in the payload only."""
    return value if value is not None and -(2**31) <= value < 2**31 else None


def _outdated(last_received_at: datetime | None, now: datetime) -> bool:
    return last_received_at is None or now - last_received_at >= LAST_RECEIVED_PRECISION


async def _one_at_a_time(conn: AsyncConnection, serials: list[tuple[int, str | None]]) -> None:
    """Hold a lock on each serial until the transaction ends (SQLite's write lock already does)."""
    # A call's start and end sent to two processes at once must not both pass the stale check.
    keys = sorted({_lock_key(endpoint_id, serial) for endpoint_id, serial in serials if serial})
    if not keys or conn.dialect.name != "postgresql":
        return
    # In one order, so two groups sharing serials cannot deadlock.
    await conn.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(key)) FROM "
            "(SELECT unnest(CAST(:keys AS bigint[])) AS key ORDER BY 1) AS serials"
        ),
        {"keys": keys},
    )


def _lock_key(endpoint_id: int, serial: str) -> int:
    digest = hashlib.sha256(f"{endpoint_id}:{serial}".encode()).digest()
    return int.from_bytes(digest[:8], signed=True)


def _deliveries_for(endpoint: _Endpoint, arrival: Arrival, event_id: int) -> list[dict[str, Any]]:
    event, now = arrival.event, arrival.received_at
    return [
        {
            "event_id": event_id,
            "subscription_id": sub.subscription_id,
            "team_id": sub.team_id,
            "enterprise_id": sub.enterprise_id,
            "channel_id": sub.channel_id,
            "lead_key": event.lead_key,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for sub in endpoint.subscriptions
        if wanted(sub.statuses, event)
    ]


def wanted(statuses: list[int] | None, event: IncomingEvent) -> bool:
    """Whether a subscription's filter lets a lead's status change through."""
    # Call events always queue; whether a filtered channel shows them is decided at delivery, when
    # it is known whether the lead has a thread there.
    if not statuses or event.kind != "lead":
        return True
    return event.lead_status in statuses
