"""What the sweep for missed webhooks reads and keeps: campaigns to sweep and each lead's status."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import read_only, upsert
from bot.storage.rows import Workspace
from bot.storage.tables import events, subscriptions, swept_leads, webhook_endpoints

# Keeps each IN (...) list well under every driver's limit on bound parameters.
CHUNK = 500
# The width of swept_leads.lead_id.
LEAD_ID_LENGTH = 100

_Item = TypeVar("_Item")


@dataclass(frozen=True)
class SweepTarget:
    """A campaign's webhook endpoint that some channel still follows, and its plain token."""

    endpoint_id: int
    workspace: Workspace
    campaign_id: str
    # None for endpoints made before tokens were kept (revision 0003): nothing can be stored.
    token: str | None
    # When the oldest of those subscriptions was made: what the app knew before is history.
    following_since: datetime


@dataclass(frozen=True)
class KnownStatus:
    """The last status the app knows for a lead, when it learnt it, and whether the sweep did."""

    status: int | None
    at: datetime
    swept: bool


async def sweep_targets(engine: AsyncEngine) -> list[SweepTarget]:
    """Every endpoint with at least one subscription that still delivers, in id order."""
    live = (
        select(
            subscriptions.c.endpoint_id,
            func.min(subscriptions.c.created_at).label("since"),
        )
        .where(subscriptions.c.problem.is_(None))
        .group_by(subscriptions.c.endpoint_id)
        .subquery()
    )
    query = (
        select(
            webhook_endpoints.c.id,
            webhook_endpoints.c.enterprise_id,
            webhook_endpoints.c.team_id,
            webhook_endpoints.c.campaign_id,
            webhook_endpoints.c.token,
            live.c.since,
        )
        .join(live, live.c.endpoint_id == webhook_endpoints.c.id)
        .order_by(webhook_endpoints.c.id)
    )
    async with read_only(engine) as conn:
        found = (await conn.execute(query)).all()
    return [
        SweepTarget(
            endpoint_id=int(row.id),
            workspace=Workspace(row.team_id, enterprise_id=row.enterprise_id),
            campaign_id=row.campaign_id,
            token=row.token,
            following_since=row.since,
        )
        for row in found
    ]


async def known_statuses(
    engine: AsyncEngine, endpoint_id: int, keys_by_lead: Mapping[str, Sequence[str]]
) -> dict[str, KnownStatus]:
    """Each lead's last known status: its latest Lead event or the sweep's sighting, if newer."""
    # Leads come with every key their events may be filed under (lead_keys_of); a lead the app
    # never heard of is left out.
    if not keys_by_lead:
        return {}
    keys = sorted({key for lead_keys in keys_by_lead.values() for key in lead_keys})
    lead_ids = sorted(keys_by_lead)
    async with read_only(engine) as conn:
        latest: dict[str, Any] = {}
        for chunk in _chunks(keys):
            newest = (
                select(func.max(events.c.id).label("id"))
                .where(
                    events.c.endpoint_id == endpoint_id,
                    events.c.kind == "lead",
                    events.c.lead_key.in_(chunk),
                )
                .group_by(events.c.lead_key)
                .subquery()
            )
            query = select(
                events.c.id,
                events.c.lead_key,
                events.c.lead_status,
                events.c.received_at,
                events.c.payload,
            ).join(newest, events.c.id == newest.c.id)
            latest.update((row.lead_key, row) for row in (await conn.execute(query)).all())
        swept: dict[str, Any] = {}
        for chunk in _chunks(lead_ids):
            query = select(
                swept_leads.c.lead_id, swept_leads.c.status, swept_leads.c.seen_at
            ).where(swept_leads.c.endpoint_id == endpoint_id, swept_leads.c.lead_id.in_(chunk))
            swept.update((row.lead_id, row) for row in (await conn.execute(query)).all())
    known: dict[str, KnownStatus] = {}
    for lead_id, lead_keys in keys_by_lead.items():
        # A phone number may be filed under another lead of the campaign too: its events are not
        # this lead's.
        own = [
            latest[key]
            for key in lead_keys
            if key in latest and _payload_lead_id(latest[key].payload) in (None, lead_id)
        ]
        event = max(own, key=lambda row: row.id, default=None)
        seen = swept.get(lead_id)
        if seen is not None and (event is None or seen.seen_at >= event.received_at):
            known[lead_id] = KnownStatus(seen.status, seen.seen_at, swept=True)
        elif event is not None:
            known[lead_id] = KnownStatus(event.lead_status, event.received_at, swept=False)
    return known


async def remember(
    engine: AsyncEngine, endpoint_id: int, statuses: Mapping[str, int | None], now: datetime
) -> None:
    """Keep the status the sweep saw for each lead, unless a newer sighting is already kept."""
    rows = [
        {
            "endpoint_id": endpoint_id,
            "lead_id": lead_id,
            "status": _column_int(status),
            "seen_at": now,
        }
        for lead_id, status in sorted(statuses.items())
        if len(lead_id) <= LEAD_ID_LENGTH
    ]
    if not rows:
        return
    async with engine.begin() as conn:
        for chunk in _chunks(rows):
            insert = upsert(conn, swept_leads).values(chunk)
            # Two sweeps may overlap; the later sighting wins whichever commits last.
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["endpoint_id", "lead_id"],
                    set_={"status": insert.excluded.status, "seen_at": insert.excluded.seen_at},
                    where=swept_leads.c.seen_at <= insert.excluded.seen_at,
                )
            )


def _payload_lead_id(payload: Any) -> str | None:
    """The lead ID a stored Lead webhook names (its `id`, in any casing), if any."""
    if not isinstance(payload, dict):
        return None
    value = next((v for k, v in payload.items() if str(k).lower() == "id"), None)
    if value is None or isinstance(value, dict | list):
        return None
    return str(value).strip() or None


def _column_int(value: int | None) -> int | None:
    """The value if an INTEGER column holds it."""
    return value if value is not None and -(2**31) <= value < 2**31 else None


def _chunks(items: Sequence[_Item]) -> Iterator[Sequence[_Item]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
