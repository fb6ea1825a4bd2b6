"""The delivery outbox: claim work atomically, keep each lead's events in order, record outcomes."""

# A *lane* is one lead of one campaign in one channel (a subscription and a lead key); only the
# oldest unfinished row of a lane can be claimed, so a lead's events reach Slack in the order
# NLPearl sent them. A claimed head takes the ready rows queued behind it in its lane along (a
# *batch*, one coalesced post), and its marker survives a crash so the post can be found again
# instead of repeated.

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.engine import read_only, upsert
from bot.storage.rows import Workspace
from bot.storage.tables import (
    OPEN_STATES,
    Moment,
    channel_pacing,
    deliveries,
    events,
    lead_threads,
    subscriptions,
)

MAX_BATCH_ITEMS = 50


@dataclass(frozen=True)
class Item:
    """One event in a batch."""

    delivery_id: int
    kind: str
    payload: dict[str, Any]
    received_at: datetime
    reply_ts: str | None


@dataclass(frozen=True)
class Batch:
    """Events of one lead for one channel, to post as one update."""

    marker: str
    resumed: bool
    team_id: str
    enterprise_id: str
    channel_id: str
    lead_key: str
    campaign_id: str
    subscription_id: int
    statuses: tuple[int, ...] | None
    attempts: int
    items: tuple[Item, ...]

    @property
    def workspace(self) -> Workspace:
        """The workspace whose channel the batch goes to."""
        return Workspace(self.team_id, enterprise_id=self.enterprise_id)

    @property
    def reply_ts(self) -> str | None:
        """The reply already posted for this batch before an interruption, if recorded."""
        return next((i.reply_ts for i in self.items if i.reply_ts), None)

    def without_reply(self) -> Batch:
        """The batch as if its reply had never been posted: the thread it went to is gone."""
        items = tuple(dataclasses.replace(item, reply_ts=None) for item in self.items)
        return dataclasses.replace(self, items=items, resumed=False)


@dataclass(frozen=True)
class Thread:
    """The parent message of a lead in a channel."""

    id: int
    parent_ts: str | None
    parent_marker: str | None
    snapshot: dict[str, Any]


async def claim_batches(
    engine: AsyncEngine,
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    post_interval: timedelta,
    limit: int = 8,
) -> list[Batch]:
    """Claim up to `limit` batches, at most one per channel, and pace those channels."""
    if engine.dialect.name == "sqlite":
        # Look without the write lock, which every webhook needs too; only a round that found
        # work takes it, and looks again.
        async with read_only(engine) as conn:
            if not await _ready_heads(conn, now, limit):
                return []
    async with engine.begin() as conn:
        heads = await _ready_heads(conn, now, limit)
        batches = []
        for head in heads:
            batch = await _claim_lane(conn, head, worker_id=worker_id, now=now, lease=lease)
            await _pace(conn, head, now + post_interval * 2)
            batches.append(batch)
    return batches


def _heads_query() -> Select[Any]:
    """The oldest claimable row of every subscribed channel that may be posted to now."""
    # The work grows with the number of channels, not with the backlog: each channel's open rows
    # are walked in order (ix_deliveries_open) only until the first one that may go. Every
    # delivery belongs to a subscription, so the subscribed channels are all there is to look at.
    d = deliveries.alias("d")
    e = deliveries.alias("e")
    channels = (
        select(subscriptions.c.enterprise_id, subscriptions.c.team_id, subscriptions.c.channel_id)
        .distinct()
        .subquery("channels")
    )
    paced = exists().where(
        channel_pacing.c.enterprise_id == channels.c.enterprise_id,
        channel_pacing.c.team_id == channels.c.team_id,
        channel_pacing.c.channel_id == channels.c.channel_id,
        channel_pacing.c.next_post_at > NOW,
    )
    # The head of its lane: the lowest open id of its lead in its channel. A scalar subquery,
    # run per candidate on the lane index; as NOT EXISTS, PostgreSQL without statistics made it
    # a join that read every open row.
    lane_head = (
        select(func.min(e.c.id))
        .where(
            e.c.subscription_id == d.c.subscription_id,
            e.c.lead_key == d.c.lead_key,
            _open(e),
        )
        .scalar_subquery()
    )
    head = (
        select(d.c.id)
        .where(
            d.c.enterprise_id == channels.c.enterprise_id,
            d.c.team_id == channels.c.team_id,
            d.c.channel_id == channels.c.channel_id,
            _open(d),
            _ready(d),
            d.c.id == lane_head,
        )
        .order_by(d.c.id)
        .limit(1)
        .correlate(channels)
    )
    return (
        select(head.scalar_subquery().label("id"))
        .select_from(channels)
        .where(~paced.correlate(channels))
    )


def _open(d: Any) -> ColumnElement[bool]:
    # Spelled with constants, as the partial indexes' own condition is (tables.OPEN_DELIVERY):
    # SQLite uses a partial index only when a query's terms match it as written.
    is_open: ColumnElement[bool] = d.c.state.in_(
        [literal_column(repr(state)) for state in OPEN_STATES]
    )
    return is_open


def _ready(d: Any) -> ColumnElement[bool]:
    return or_(
        and_(d.c.state == "pending", d.c.next_attempt_at <= NOW),
        # A claim whose lease ran out belongs to a worker that died.
        and_(d.c.state == "claimed", d.c.claimed_until < NOW),
    )


NOW = bindparam("now", type_=Moment())
# Built once: a claim round runs them many times a second under load.
HEADS = _heads_query()
# Looked at again under a lock: another worker may have claimed one since (it is then passed
# over, and its channel waits for the next round rather than get two batches at once).
CLAIMABLE = (
    select(deliveries)
    .where(
        deliveries.c.id.in_(bindparam("ids", expanding=True)),
        _open(deliveries),
        _ready(deliveries),
    )
    .with_for_update(skip_locked=True)
)


async def _ready_heads(conn: AsyncConnection, now: datetime, limit: int) -> list[Any]:
    """The oldest claimable row of up to `limit` channels that may be posted to now."""
    found = await conn.execute(HEADS, {"now": now})
    head_ids = sorted(row.id for row in found.all() if row.id is not None)
    if not head_ids:
        return []
    # Only the heads claimed are locked, however many channels there are.
    rows = (await conn.execute(CLAIMABLE, {"ids": head_ids[:limit], "now": now})).all()
    # Claims lock pacing rows in channel order, so overlapping claims cannot deadlock.
    return sorted(rows, key=lambda row: (row.enterprise_id, row.team_id, row.channel_id))


async def _claim_lane(
    conn: AsyncConnection, head: Any, *, worker_id: str, now: datetime, lease: timedelta
) -> Batch:
    if head.batch:
        # Resume the interrupted batch exactly as it was, so its post can be reconciled.
        lane = deliveries.c.batch == head.batch
    else:
        lane = and_(
            deliveries.c.subscription_id == head.subscription_id,
            deliveries.c.lead_key == head.lead_key,
            deliveries.c.state == "pending",
            deliveries.c.next_attempt_at <= now,
            deliveries.c.id >= head.id,
        )
    query = (
        select(deliveries.c.id, deliveries.c.reply_ts, deliveries.c.attempts, events)
        .join(events, events.c.id == deliveries.c.event_id)
        .where(lane)
        .order_by(deliveries.c.id)
        .limit(MAX_BATCH_ITEMS)
    )
    rows = (await conn.execute(query)).all()
    marker = head.batch or uuid.uuid4().hex
    ids = [row.id for row in rows]
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(ids))
        .values(
            state="claimed",
            claimed_by=worker_id,
            claimed_until=now + lease,
            batch=marker,
            attempts=deliveries.c.attempts + 1,
        )
    )
    sub = (
        await conn.execute(
            select(subscriptions.c.campaign_id, subscriptions.c.statuses).where(
                subscriptions.c.id == head.subscription_id
            )
        )
    ).one()
    return Batch(
        marker=marker,
        resumed=bool(head.batch),
        team_id=head.team_id,
        enterprise_id=head.enterprise_id,
        channel_id=head.channel_id,
        lead_key=head.lead_key,
        campaign_id=sub.campaign_id,
        subscription_id=head.subscription_id,
        statuses=tuple(sub.statuses) if sub.statuses else None,
        attempts=max(row.attempts for row in rows) + 1,
        items=tuple(
            Item(row.id, row.kind, row.payload, row.received_at, row.reply_ts) for row in rows
        ),
    )


async def _pace(conn: AsyncConnection, head: Any, until: datetime) -> None:
    await _set_pacing(conn, head.enterprise_id, head.team_id, head.channel_id, until)


async def _set_pacing(
    conn: AsyncConnection, enterprise_id: str, team_id: str, channel_id: str, until: datetime
) -> None:
    statement = upsert(conn, channel_pacing).values(
        enterprise_id=enterprise_id, team_id=team_id, channel_id=channel_id, next_post_at=until
    )
    # Never bring a channel's next post forward: a 429's wait may be shorter than pacing.
    later = case(
        (
            channel_pacing.c.next_post_at > statement.excluded.next_post_at,
            channel_pacing.c.next_post_at,
        ),
        else_=statement.excluded.next_post_at,
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["enterprise_id", "team_id", "channel_id"],
            set_={"next_post_at": later},
        )
    )


async def hold_channel(engine: AsyncEngine, batch: Batch, until: datetime) -> None:
    """Keep every worker off a channel until `until` (Slack said 429 with Retry-After)."""
    async with engine.begin() as conn:
        await _set_pacing(conn, batch.enterprise_id, batch.team_id, batch.channel_id, until)


async def record_reply(engine: AsyncEngine, batch: Batch, ts: str) -> None:
    """Remember the posted reply before anything else, so a crash cannot post it twice."""
    async with engine.begin() as conn:
        await conn.execute(
            update(deliveries).where(deliveries.c.batch == batch.marker).values(reply_ts=ts)
        )


async def finish(
    engine: AsyncEngine,
    batch: Batch,
    now: datetime,
    state: str = "done",
    thread: tuple[int, dict[str, Any]] | None = None,
    note: str | None = None,
) -> None:
    """Close the batch's rows as done (or skipped), and store what the parent now shows."""
    # `note` records a problem the batch got past (Slack refused its blocks), as `last_error`.
    values: dict[str, Any] = {"state": state, "finished_at": now, "claimed_until": None}
    if note is not None:
        values["last_error"] = note[:2000]
    async with engine.begin() as conn:
        if thread is not None:
            thread_id, snapshot = thread
            await conn.execute(
                update(lead_threads)
                .where(lead_threads.c.id == thread_id)
                .values(snapshot=snapshot, updated_at=now)
            )
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.batch == batch.marker, deliveries.c.state == "claimed")
            .values(**values)
        )


async def retry_later(
    engine: AsyncEngine, batch: Batch, *, at: datetime, error: str, keep_marker: bool
) -> None:
    """Put the batch back for another attempt at `at`."""
    # `keep_marker` when the post may have reached Slack: the retry then looks for it first.
    values: dict[str, Any] = {
        "state": "pending",
        "next_attempt_at": at,
        "claimed_until": None,
        "last_error": error[:2000],
    }
    if not keep_marker:
        # Rows whose reply is already posted keep their marker, or it would be posted again.
        values["batch"] = case((deliveries.c.reply_ts.is_(None), None), else_=deliveries.c.batch)
    async with engine.begin() as conn:
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.batch == batch.marker, deliveries.c.state == "claimed")
            .values(**values)
        )


async def stop_subscription(
    engine: AsyncEngine, batch: Batch, *, problem: str, now: datetime
) -> None:
    """Slack refused the channel for good: record why, and stop its deliveries."""
    async with engine.begin() as conn:
        await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id == batch.subscription_id)
            .values(problem=problem[:200], problem_at=now)
        )
        await conn.execute(
            update(deliveries)
            .where(
                deliveries.c.subscription_id == batch.subscription_id,
                deliveries.c.state.in_(OPEN_STATES),
            )
            .values(state="failed", finished_at=now, claimed_until=None, last_error=problem)
        )


async def fail_batch(engine: AsyncEngine, batch: Batch, *, error: str, now: datetime) -> None:
    """Give up on this batch alone (Slack refused its content), keeping the error."""
    async with engine.begin() as conn:
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.batch == batch.marker)
            .values(state="failed", finished_at=now, claimed_until=None, last_error=error[:2000])
        )


def _thread_of(batch: Batch) -> tuple[Any, ...]:
    return (
        lead_threads.c.team_id == batch.team_id,
        lead_threads.c.enterprise_id == batch.enterprise_id,
        lead_threads.c.channel_id == batch.channel_id,
        lead_threads.c.campaign_id == batch.campaign_id,
        lead_threads.c.lead_key == batch.lead_key,
    )


async def load_thread(engine: AsyncEngine, batch: Batch) -> Thread | None:
    """The lead's parent message in the batch's channel, if one was started."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(lead_threads).where(*_thread_of(batch)))).one_or_none()
    if row is None:
        return None
    return Thread(row.id, row.parent_ts, row.parent_batch, dict(row.snapshot))


async def start_thread(
    engine: AsyncEngine, batch: Batch, snapshot: dict[str, Any], now: datetime
) -> int:
    """Note that a parent is about to be posted for this batch, before posting it."""
    # `snapshot` is what the channel knew before the batch; it advances only when the batch
    # finishes. Returns the thread's id.
    async with engine.begin() as conn:
        existing = (
            await conn.execute(select(lead_threads.c.id).where(*_thread_of(batch)))
        ).scalar_one_or_none()
        if existing is None:
            created = await conn.execute(
                lead_threads.insert()
                .values(
                    team_id=batch.team_id,
                    enterprise_id=batch.enterprise_id,
                    channel_id=batch.channel_id,
                    campaign_id=batch.campaign_id,
                    lead_key=batch.lead_key,
                    parent_batch=batch.marker,
                    snapshot=snapshot,
                    updated_at=now,
                )
                .returning(lead_threads.c.id)
            )
            existing = created.scalar_one()
        else:
            await conn.execute(
                update(lead_threads)
                .where(lead_threads.c.id == existing)
                .values(parent_batch=batch.marker, snapshot=snapshot, updated_at=now)
            )
    return int(existing)


async def set_parent(engine: AsyncEngine, thread_id: int, parent_ts: str, now: datetime) -> None:
    """Record the posted parent's ts at once, so it is never posted twice."""
    async with engine.begin() as conn:
        await conn.execute(
            update(lead_threads)
            .where(lead_threads.c.id == thread_id)
            .values(parent_ts=parent_ts, updated_at=now)
        )


async def forget_parent(
    engine: AsyncEngine, batch: Batch, thread_id: int, parent_ts: str, now: datetime
) -> None:
    """The lead's parent message is gone from Slack: the next post starts a new one."""
    # The batch's reply went to the lost thread, if anywhere; it is posted again under the new
    # parent. Only the parent named is forgotten, never one another attempt put in its place.
    async with engine.begin() as conn:
        await conn.execute(
            update(lead_threads)
            .where(lead_threads.c.id == thread_id, lead_threads.c.parent_ts == parent_ts)
            .values(parent_ts=None, parent_batch=None, updated_at=now)
        )
        await conn.execute(
            update(deliveries).where(deliveries.c.batch == batch.marker).values(reply_ts=None)
        )
