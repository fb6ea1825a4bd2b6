"""Scheduled notices (digests, alerts): queued once by key, claimed by one worker, posted once."""

# A notice is keyed by what it is (a digest's day, an alert's start or end), so queueing it twice
# is a no-op. Its marker rides in the post's metadata; `posting` is set just before the post, so
# an attempt after a crash looks for the post before making another.

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.engine import read_only, upsert
from bot.storage.rows import Workspace
from bot.storage.subscriptions import in_workspace
from bot.storage.tables import digests, notices

KEY_LENGTH = 200


@dataclass(frozen=True)
class NewNotice:
    """A notice to queue for one channel."""

    workspace: Workspace
    channel_id: str
    campaign_id: str
    kind: str
    key: str
    due_at: datetime
    body: dict[str, Any] | None = None
    digest_id: int | None = None


@dataclass(frozen=True)
class Notice:
    """A claimed notice."""

    id: int
    workspace: Workspace
    channel_id: str
    campaign_id: str
    kind: str
    key: str
    digest_id: int | None
    due_at: datetime
    body: dict[str, Any] | None
    file_id: str | None
    marker: str
    attempts: int
    posting: bool
    # When it was queued: a digest queued well after its time was missed while the app was down.
    created_at: datetime


def notice_key(*parts: object) -> str:
    """A key from its parts; a long one becomes a hash of itself, so it fits its column."""
    key = ":".join(str(part) for part in parts)
    if len(key) <= KEY_LENGTH:
        return key
    return "h:" + hashlib.sha256(key.encode()).hexdigest()


async def queue(conn: AsyncConnection, notice: NewNotice, now: datetime) -> bool:
    """Queue a notice in the caller's transaction, unless its key is queued already."""
    statement = upsert(conn, notices)
    inserted = await conn.execute(
        statement.values(
            team_id=notice.workspace.team_id,
            enterprise_id=notice.workspace.enterprise_id,
            channel_id=notice.channel_id,
            campaign_id=notice.campaign_id,
            kind=notice.kind,
            key=notice.key,
            digest_id=notice.digest_id,
            due_at=notice.due_at,
            body=notice.body,
            marker=uuid.uuid4().hex,
            state="pending",
            attempts=0,
            next_attempt_at=now,
            posting=0,
            created_at=now,
        )
        # A notice that failed for good (the channel was gone) is queued afresh when the same
        # key comes again: the digest was set up again in a channel that now works.
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "state": "pending",
                "digest_id": statement.excluded.digest_id,
                "due_at": statement.excluded.due_at,
                "body": statement.excluded.body,
                "file_id": None,
                "marker": statement.excluded.marker,
                "attempts": 0,
                "posting": 0,
                "next_attempt_at": now,
                "ts": None,
                "created_at": now,
                "finished_at": None,
            },
            where=notices.c.state == "failed",
        )
        .returning(notices.c.id)
    )
    return inserted.scalar_one_or_none() is not None


async def queue_digest(
    engine: AsyncEngine,
    notice: NewNotice,
    *,
    digest_id: int,
    was_due: datetime,
    next_due_at: datetime,
    now: datetime,
) -> bool:
    """Move a digest's schedule on and queue its notice; False if another process did it first."""
    async with engine.begin() as conn:
        # Moving the schedule is the claim: of processes racing here, one matches `was_due`.
        moved = await conn.execute(
            update(digests)
            .where(digests.c.id == digest_id, digests.c.next_due_at == was_due)
            .values(next_due_at=next_due_at)
        )
        if moved.rowcount != 1:
            return False
        # The key may be queued already (a digest re-timed on the day it was sent).
        return await queue(conn, notice, now)


async def claim_notices(
    engine: AsyncEngine, *, worker_id: str, now: datetime, lease: timedelta, limit: int = 4
) -> list[Notice]:
    """Claim up to `limit` ready notices, oldest first; each goes to one worker only."""
    ready = or_(
        and_(notices.c.state == "pending", notices.c.next_attempt_at <= now),
        # A claim whose lease ran out belongs to a worker that died.
        and_(notices.c.state == "claimed", notices.c.claimed_until < now),
    )
    async with read_only(engine) as conn:
        candidates = (
            await conn.execute(
                select(notices.c.id).where(ready).order_by(notices.c.id).limit(limit * 2)
            )
        ).scalars()
        ids = list(candidates)
    claimed: list[Notice] = []
    for notice_id in ids:
        if len(claimed) >= limit:
            break
        notice = await _claim_one(engine, notice_id, ready, worker_id, now, lease)
        if notice is not None:
            claimed.append(notice)
    return claimed


async def _claim_one(
    engine: AsyncEngine,
    notice_id: int,
    ready: Any,
    worker_id: str,
    now: datetime,
    lease: timedelta,
) -> Notice | None:
    async with engine.begin() as conn:
        taken = await conn.execute(
            update(notices)
            .where(notices.c.id == notice_id, ready)
            .values(
                state="claimed",
                claimed_by=worker_id,
                claimed_until=now + lease,
                attempts=notices.c.attempts + 1,
            )
        )
        if taken.rowcount != 1:
            return None
        row = (await conn.execute(select(notices).where(notices.c.id == notice_id))).one()
    return Notice(
        id=int(row.id),
        workspace=Workspace(row.team_id, row.enterprise_id),
        channel_id=row.channel_id,
        campaign_id=row.campaign_id,
        kind=row.kind,
        key=row.key,
        digest_id=row.digest_id,
        due_at=row.due_at,
        body=row.body,
        file_id=row.file_id,
        marker=row.marker,
        attempts=int(row.attempts),
        posting=bool(row.posting),
        created_at=row.created_at,
    )


async def keep_file(engine: AsyncEngine, notice: Notice, file_id: str) -> None:
    """Remember the uploaded chart at once, so a crash before the post does not upload it again."""
    await _set(engine, notice, file_id=file_id[:32])


async def keep_body(engine: AsyncEngine, notice: Notice, body: dict[str, Any]) -> None:
    """Remember the built message, so every attempt posts the same words."""
    await _set(engine, notice, body=body)


async def about_to_post(
    engine: AsyncEngine, notice: Notice, *, now: datetime, lease: timedelta
) -> bool:
    """Mark the post in flight and hold the claim a lease longer; False if the claim was lost.

    From now on a retry looks for the post before making another.
    """
    return await _set(engine, notice, posting=1, claimed_until=now + lease)


async def posted(engine: AsyncEngine, notice: Notice, ts: str, now: datetime) -> None:
    """The notice is in Slack, at `ts`."""
    await _set(engine, notice, state="done", ts=ts, finished_at=now, claimed_until=None)


async def retry_later(
    engine: AsyncEngine, notice: Notice, *, at: datetime, error: str, posting: bool | None = None
) -> None:
    """Put the notice back for another attempt at `at`."""
    values: dict[str, Any] = {
        "state": "pending",
        "next_attempt_at": at,
        "claimed_until": None,
        "last_error": error[:2000],
    }
    if posting is not None:
        values["posting"] = int(posting)
    await _set(engine, notice, **values)


async def give_up(engine: AsyncEngine, notice: Notice, *, error: str, now: datetime) -> None:
    """Never post this notice: Slack refused it for good, or it is too old to matter."""
    await _set(
        engine,
        notice,
        state="failed",
        finished_at=now,
        claimed_until=None,
        last_error=error[:2000],
    )


async def _set(engine: AsyncEngine, notice: Notice, **values: Any) -> bool:
    """Change the notice while this claim holds; whether it did."""
    # Each claim counts an attempt, so a worker whose lease ran out cannot settle a notice
    # another worker has taken over since.
    async with engine.begin() as conn:
        changed = await conn.execute(
            update(notices)
            .where(notices.c.id == notice.id, notices.c.attempts == notice.attempts)
            .values(**values)
        )
    return bool(changed.rowcount)


@dataclass(frozen=True)
class NoticeRow:
    """A notice as it stands, for checks and tests."""

    key: str
    kind: str
    channel_id: str
    state: str
    ts: str | None
    file_id: str | None
    attempts: int
    last_error: str | None


async def notices_of(engine: AsyncEngine, ws: Workspace) -> list[NoticeRow]:
    """The workspace's notices, oldest first."""
    query = select(notices).where(*in_workspace(notices, ws)).order_by(notices.c.id)
    async with read_only(engine) as conn:
        rows = (await conn.execute(query)).all()
    return [
        NoticeRow(r.key, r.kind, r.channel_id, r.state, r.ts, r.file_id, r.attempts, r.last_error)
        for r in rows
    ]
