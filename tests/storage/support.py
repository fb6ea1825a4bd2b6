"""Shared values and helpers for the storage tests: a fixed clock, workspaces, events, rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, RowMapping, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import outbox
from bot.storage.inbox import IncomingEvent, Outcome, store_webhook
from bot.storage.rows import Workspace
from bot.storage.subscriptions import subscribe
from bot.storage.tables import deliveries

# A lane: one lead of one campaign in one channel, i.e. a subscription and a lead key.
Lane = tuple[int, str]

NOW = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)
LEASE = timedelta(minutes=5)
POST_INTERVAL = timedelta(seconds=1)
# Long enough that any pacing a claim set has passed.
PAST_PACING = POST_INTERVAL * 10

TEAM = Workspace("T0001")
OTHER_TEAM = Workspace("T0002")
# Same team ID under an Enterprise Grid org: a different workspace all the same.
GRID_TEAM = Workspace("T0001", enterprise_id="E0001")

CAMPAIGN = "camp-1"
LEAD_A = "+15550000001"
LEAD_B = "+15550000002"


_counter = iter(range(1, 10**9))


def lead_event(
    lead_key: str = LEAD_A, status: int = 10, *, key: str | None = None
) -> IncomingEvent:
    """A Lead webhook: the lead's status changed (a new dedupe key each time unless given)."""
    n = next(_counter)
    return IncomingEvent(
        kind="lead",
        dedupe_key=key or f"lead:{lead_key}:{status}:{n}",
        lead_key=lead_key,
        lead_status=status,
        payload={"id": f"lead-{lead_key}", "phoneNumber": lead_key, "status": status, "n": n},
    )


def call_event(lead_key: str = LEAD_A, *, key: str | None = None) -> IncomingEvent:
    """A Call webhook for the lead (calls carry no lead status)."""
    n = next(_counter)
    return IncomingEvent(
        kind="call",
        dedupe_key=key or f"call:{n}:end",
        lead_key=lead_key,
        lead_status=None,
        payload={"id": f"call-{n}", "to": lead_key, "status": 4, "n": n},
    )


async def subscribed(
    engine: AsyncEngine,
    ws: Workspace = TEAM,
    *,
    channel: str = "C1",
    campaign: str = CAMPAIGN,
    statuses: tuple[int, ...] | None = None,
    now: datetime = NOW,
) -> str | None:
    """Subscribe a channel; returns the campaign's webhook token."""
    result = await subscribe(
        engine,
        ws,
        channel_id=channel,
        campaign_id=campaign,
        statuses=statuses,
        user_id="U0001",
        now=now,
    )
    return result.token


async def subscribe_channels(
    engine: AsyncEngine,
    *channels: str,
    ws: Workspace = TEAM,
    campaign: str = CAMPAIGN,
    statuses: tuple[int, ...] | None = None,
    now: datetime = NOW,
) -> str:
    """Subscribe channels to a campaign; returns its webhook token (the same for every channel)."""
    token = None
    for channel in channels:
        issued = await subscribed(
            engine, ws, channel=channel, campaign=campaign, statuses=statuses, now=now
        )
        token = issued or token
    assert token is not None, "no token was issued"
    return token


async def queue(
    engine: AsyncEngine, token: str, event: IncomingEvent, now: datetime = NOW, queued: int = 1
) -> None:
    """Store a webhook and check it queued the expected number of posts."""
    stored = await store_webhook(engine, token, event, now)
    assert stored.outcome is Outcome.STORED
    assert stored.queued == queued


async def rows(engine: AsyncEngine, table: Table, *where: ColumnElement[bool]) -> list[RowMapping]:
    """A table's rows (optionally filtered), in id order where there is an id."""
    query = select(table).where(*where)
    if "id" in table.c:
        query = query.order_by(table.c.id)
    async with engine.connect() as conn:
        return list((await conn.execute(query)).mappings().all())


async def delivery(engine: AsyncEngine, delivery_id: int) -> RowMapping:
    """One outbox row."""
    (row,) = await rows(engine, deliveries, deliveries.c.id == delivery_id)
    return row


async def claim(
    engine: AsyncEngine,
    now: datetime,
    *,
    worker: str = "worker-1",
    lease: timedelta = LEASE,
    limit: int = 8,
) -> list[outbox.Batch]:
    """One claim round, checking the lane invariants the outbox promises afterwards."""
    batches = await outbox.claim_batches(
        engine,
        worker_id=worker,
        now=now,
        lease=lease,
        post_interval=POST_INTERVAL,
        limit=limit,
    )
    channels = [(b.enterprise_id, b.team_id, b.channel_id) for b in batches]
    assert len(set(channels)) == len(channels), f"two batches for one channel: {channels}"
    # A batch is one lane's: every item is of its subscription (channel and campaign) and lead.
    by_id = {r["id"]: r for r in await rows(engine, deliveries)}
    for b in batches:
        for item in b.items:
            row = by_id[item.delivery_id]
            assert (row["subscription_id"], row["lead_key"]) == lane_of(b), (b.marker, dict(row))
            assert (row["team_id"], row["enterprise_id"], row["channel_id"]) == (
                b.team_id,
                b.enterprise_id,
                b.channel_id,
            )
    await assert_lanes_in_order(engine, now)
    return batches


def ids(batch: outbox.Batch) -> list[int]:
    """The delivery IDs of a batch, in its order."""
    return [item.delivery_id for item in batch.items]


async def assert_lanes_in_order(engine: AsyncEngine, now: datetime) -> None:
    """In every lane, at most one batch is live and nothing older than it is still waiting."""
    lanes: dict[Lane, list[RowMapping]] = defaultdict(list)
    for row in await rows(engine, deliveries):
        if row["state"] in outbox.OPEN_STATES:
            lanes[(row["subscription_id"], row["lead_key"])].append(row)
    for lane, open_rows in lanes.items():
        live = [r for r in open_rows if r["state"] == "claimed" and r["claimed_until"] >= now]
        markers = {r["batch"] for r in live}
        assert len(markers) <= 1, f"lane {lane} has several live batches: {markers}"
        if live:
            # The live batch is the head of its lane: no open row of the lane precedes it.
            first = min(r["id"] for r in live)
            assert open_rows[0]["id"] == first, f"lane {lane}: an older row waits behind a batch"


def lane_of(batch: outbox.Batch) -> Lane:
    """The lane of a batch: its subscription (workspace, channel, campaign) and lead."""
    return (batch.subscription_id, batch.lead_key)


def by_channel(batches: Sequence[outbox.Batch]) -> dict[str, outbox.Batch]:
    """Batches of one workspace keyed by channel."""
    return {b.channel_id: b for b in batches}
