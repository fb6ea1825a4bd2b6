"""The audit log of actions on leads, claimed once per idempotency key, and who may act."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.engine import lock_key, upsert
from bot.storage.rows import ActionRecord, Grants, Workspace
from bot.storage.subscriptions import in_workspace
from bot.storage.tables import action_grants, lead_actions

PENDING = "pending"
USER = "user"
USERGROUP = "usergroup"
KEY_LENGTH = 120
ID_LENGTH = 100
SLACK_ID_LENGTH = 32
WORD_LENGTH = 16
HASH_PREFIX = "sha256:"
# A claim that finds the key taken reads its row; a release may delete that row in between,
# and then the key is free to claim again. Twice in a row would take a release per click.
CLAIM_ATTEMPTS = 3
_SURROGATE = re.compile("[\ud800-\udfff]")


async def claim(engine: AsyncEngine, key: str, record: ActionRecord) -> ActionRecord | None:
    """Claim `key` for `record` (stored as it is, normally "pending"); None if newly claimed.

    If the key is already claimed, nothing is stored and the record kept under it is returned,
    whatever its result. Keys are unique across workspaces: callers put the team in them.
    """
    stored_key = _bounded(key)
    for _ in range(CLAIM_ATTEMPTS):
        async with engine.begin() as conn:
            if await _insert_claim(conn, stored_key, record):
                return None
            # The conflicting claim has committed (the insert waited for it): this reads it.
            query = select(lead_actions).where(lead_actions.c.idempotency_key == stored_key)
            found = (await conn.execute(query)).mappings().one_or_none()
        if found is not None:
            return _record(found)
    raise RuntimeError(f"the action key {key!r} was claimed and released {CLAIM_ATTEMPTS} times")


async def _insert_claim(conn: AsyncConnection, key: str, record: ActionRecord) -> bool:
    """Insert the claim unless its key is taken; whether it was inserted."""
    statement = upsert(conn, lead_actions).values(idempotency_key=key, **_values(record))
    inserted = await conn.execute(
        statement.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(
            lead_actions.c.id
        )
    )
    return inserted.scalar_one_or_none() is not None


async def finish(
    engine: AsyncEngine,
    key: str,
    *,
    result: str,
    at: datetime,
    after_status: int | None = None,
    detail: str | None = None,
    changes: dict[str, Any] | None = None,
    lead_id: str | None = None,
) -> None:
    """Complete a pending claim with its result; a claim already finished stays as it was."""
    # `lead_id` names a lead only known once the action is done (one that was just added).
    values: dict[str, Any] = {
        "result": _text(result, WORD_LENGTH),
        "finished_at": at,
        "after_status": after_status,
        "detail": _maybe_text(detail),
    }
    if changes is not None:
        values["changes"] = changes
    if lead_id:
        values["lead_id"] = _text(lead_id, ID_LENGTH)
    async with engine.begin() as conn:
        await conn.execute(update(lead_actions).where(*_pending(key)).values(**values))


async def release(engine: AsyncEngine, key: str) -> None:
    """Give up a claim still pending (its action went stale), so the key can be claimed anew."""
    async with engine.begin() as conn:
        await conn.execute(delete(lead_actions).where(*_pending(key)))


def _pending(key: str) -> tuple[ColumnElement[bool], ...]:
    """The conditions that pick the claim under `key` while it is still pending."""
    return (lead_actions.c.idempotency_key == _bounded(key), lead_actions.c.result == PENDING)


async def record(engine: AsyncEngine, record: ActionRecord) -> None:
    """Log an action nothing needs to find again (a refusal): no key, any number of times."""
    async with engine.begin() as conn:
        await conn.execute(lead_actions.insert().values(**_values(record)))


async def latest(engine: AsyncEngine, ws: Workspace, limit: int = 10) -> list[ActionRecord]:
    """The workspace's newest actions, newest first; claims still pending are left out."""
    query = (
        select(lead_actions)
        .where(*in_workspace(lead_actions, ws), lead_actions.c.result != PENDING)
        .order_by(lead_actions.c.created_at.desc(), lead_actions.c.id.desc())
        .limit(limit)
    )
    async with engine.connect() as conn:
        found = (await conn.execute(query)).mappings().all()
    return [_record(row) for row in found]


async def grants_of(engine: AsyncEngine, ws: Workspace) -> Grants:
    """The people and user groups granted the right to act in the workspace, each sorted."""
    query = select(action_grants.c.subject_kind, action_grants.c.subject_id).where(
        *in_workspace(action_grants, ws)
    )
    async with engine.connect() as conn:
        found = (await conn.execute(query)).all()
    return Grants(
        users=tuple(sorted(r.subject_id for r in found if r.subject_kind == USER)),
        usergroups=tuple(sorted(r.subject_id for r in found if r.subject_kind == USERGROUP)),
    )


async def set_grants(
    engine: AsyncEngine, ws: Workspace, grants: Grants, granted_by: str, now: datetime
) -> None:
    """Replace the workspace's grants with `grants`, all at once."""
    subjects = _subjects(grants)
    async with engine.begin() as conn:
        await _lock_grants(conn, ws)
        await conn.execute(delete(action_grants).where(*in_workspace(action_grants, ws)))
        if subjects:
            rows = [
                {
                    "enterprise_id": ws.enterprise_id,
                    "team_id": ws.team_id,
                    "subject_kind": kind,
                    "subject_id": subject_id,
                    "granted_by": _text(granted_by, SLACK_ID_LENGTH),
                    "granted_at": now,
                }
                for kind, subject_id in subjects
            ]
            await conn.execute(action_grants.insert(), rows)


def _subjects(grants: Grants) -> list[tuple[str, str]]:
    """The grants as (kind, ID) pairs, cut to fit and without repeats."""
    users = {(USER, _text(u, SLACK_ID_LENGTH)) for u in grants.users}
    groups = {(USERGROUP, _text(g, SLACK_ID_LENGTH)) for g in grants.usergroups}
    return sorted(users | groups)


async def _lock_grants(conn: AsyncConnection, ws: Workspace) -> None:
    """On PostgreSQL, wait for any other replacement of the workspace's grants to commit."""
    # Without it two replacements at once would each miss the other's new rows when deleting,
    # and one would fail on the primary key or both sets would be merged. SQLite's write lock,
    # taken when the transaction begins, already does this.
    if conn.dialect.name != "postgresql":
        return
    lock_id = lock_key(f"action_grants:{ws.enterprise_id}:{ws.team_id}")
    await conn.execute(select(func.pg_advisory_xact_lock(lock_id)))


def _values(record: ActionRecord) -> dict[str, Any]:
    """The columns of a new row for `record`, its text made storable and cut to fit."""
    return {
        "enterprise_id": _text(record.workspace.enterprise_id, SLACK_ID_LENGTH),
        "team_id": _text(record.workspace.team_id, SLACK_ID_LENGTH),
        "user_id": _text(record.user_id, SLACK_ID_LENGTH),
        "campaign_id": _text(record.campaign_id, ID_LENGTH),
        "lead_id": _text(record.lead_id, ID_LENGTH),
        "action": _text(record.action, WORD_LENGTH),
        "before_status": record.before_status,
        "after_status": record.after_status,
        "changes": record.changes,
        "result": _text(record.result, WORD_LENGTH),
        "detail": _maybe_text(record.detail),
        "created_at": record.at,
    }


def _record(row: RowMapping) -> ActionRecord:
    """A stored row as the value the callers take."""
    return ActionRecord(
        workspace=Workspace(row["team_id"], row["enterprise_id"]),
        user_id=row["user_id"],
        campaign_id=row["campaign_id"],
        lead_id=row["lead_id"],
        action=row["action"],
        before_status=row["before_status"],
        result=row["result"],
        at=row["created_at"],
        after_status=row["after_status"],
        changes=dict(row["changes"] or {}),
        detail=row["detail"],
    )


def _bounded(key: str) -> str:
    """The key as stored: itself if it fits, else a stable hash (a cut key could collide)."""
    key = _storable(key)
    if len(key) <= KEY_LENGTH:
        return key
    return HASH_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def _text(value: str, length: int) -> str:
    """Text any database takes, cut to a column of `length` characters."""
    return _storable(value)[:length]


def _maybe_text(value: str | None) -> str | None:
    """Free text any database takes (a Text column has room for it all), or None."""
    return None if value is None else _storable(value)


def _storable(value: str) -> str:
    """The text without NUL (PostgreSQL refuses it) and with lone surrogates replaced."""
    # The same rule as bot.parsing.storable.clean_text, which the storage edge may not import.
    value = value.replace("\x00", "")
    if _SURROGATE.search(value):
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value
