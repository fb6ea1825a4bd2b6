"""Forgetting: everything kept for a workspace that leaves, and events too old to keep."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import Column, ColumnElement, Select, Table, and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.rows import Workspace
from bot.storage.tables import (
    OPEN_STATES,
    deliveries,
    events,
    lead_threads,
    metadata,
    notices,
    slack_bots,
    slack_oauth_states,
    subscriptions,
    webhook_endpoints,
)

# A table with both columns holds rows of one workspace each.
WORKSPACE_COLUMNS = frozenset({"enterprise_id", "team_id"})
# slack_sdk's: an installation is what serves a workspace, not a row kept for it.
_SLACK_TABLES = frozenset({"slack_bots", "slack_installations", "slack_oauth_states"})
PRUNE_BATCH = 1000


async def forget_workspace(
    engine: AsyncEngine, ws: Workspace, *, whole_enterprise: bool = False
) -> int:
    """Delete all the app keeps for the workspace, or for its whole org; how many rows."""
    # Every table is covered, today's and any added later: a table with workspace columns, and
    # any table whose rows hang on those by a foreign key (events on their endpoint...).
    if whole_enterprise and not ws.enterprise_id:
        raise ValueError("only a workspace of an Enterprise Grid org has a whole org to forget")
    wanted = {"enterprise_id": ws.enterprise_id}
    if not whole_enterprise:
        wanted["team_id"] = ws.team_id
    doomed = _doomed(wanted)
    deleted = 0
    async with engine.begin() as conn:
        await _hold_parents(conn, doomed)
        # Children before their parents, so that no foreign key ever points at a deleted row.
        for table in reversed(metadata.sorted_tables):
            if table in doomed:
                result = await conn.execute(delete(table).where(doomed[table]))
                deleted += result.rowcount
    return deleted


async def _hold_parents(conn: AsyncConnection, doomed: Mapping[Table, ColumnElement[bool]]) -> None:
    """Lock the workspace's endpoints and subscriptions before deleting their children."""
    # A webhook or a sweep storing an event for the workspace right now holds a key share of
    # these rows until it commits; deleting under it would meet its rows at the foreign key
    # check. The lock waits for it, and makes the next one wait for the delete. (SQLite has
    # one writer at a time already.)
    if conn.dialect.name != "postgresql":
        return
    for table in (webhook_endpoints, subscriptions):
        await conn.execute(select(table.c.id).where(doomed[table]).with_for_update())


def _doomed(wanted: Mapping[str, str]) -> dict[Table, ColumnElement[bool]]:
    """Which rows of each table go: the workspace's own, and those that refer to any that go."""
    doomed: dict[Table, ColumnElement[bool]] = {}
    # Parents come first, so each table sees what goes of the tables it refers to.
    for table in metadata.sorted_tables:
        reasons = []
        if WORKSPACE_COLUMNS.issubset(table.c.keys()):
            reasons.append(and_(*(_is(table.c[name], value) for name, value in wanted.items())))
        for key in table.foreign_keys:
            parent = doomed.get(key.column.table)
            if parent is not None:
                reasons.append(key.parent.in_(select(key.column).where(parent)))
        if reasons:
            doomed[table] = or_(*reasons)
    return doomed


def _is(column: Column[str], value: str) -> ColumnElement[bool]:
    if value == "" and column.nullable:
        # slack_sdk's tables say NULL where ours say "": no enterprise, or (org-wide) no team.
        return or_(column.is_(None), column == "")
    return column == value


async def prune_events(engine: AsyncEngine, *, before: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete events received before `before`, and their deliveries; how many events."""
    # An event with a delivery still to post stays, whatever its age. Each batch is its own
    # short transaction, so webhooks and the feed wait at most one batch for the lock.
    pruned = 0
    while True:
        async with engine.begin() as conn:
            ids = list((await conn.execute(_prunable(before, batch))).scalars())
            if not ids:
                return pruned
            await conn.execute(
                delete(deliveries).where(
                    deliveries.c.event_id.in_(ids), deliveries.c.state.not_in(OPEN_STATES)
                )
            )
            # A delivery left is one that was open after all: its event stays.
            gone = await conn.execute(
                delete(events).where(
                    events.c.id.in_(ids),
                    ~exists().where(deliveries.c.event_id == events.c.id),
                )
            )
            pruned += gone.rowcount
        if len(ids) < batch:
            return pruned


def _prunable(before: datetime, batch: int) -> Select[tuple[int]]:
    """The oldest `batch` events received before `before` with no delivery still open."""
    still_open = exists().where(
        deliveries.c.event_id == events.c.id, deliveries.c.state.in_(OPEN_STATES)
    )
    return (
        select(events.c.id)
        .where(events.c.received_at < before, ~still_open)
        .order_by(events.c.id)
        .limit(batch)
    )


async def prune_kept(engine: AsyncEngine, *, before: datetime, now: datetime) -> int:
    """Delete what outlived the retention period besides webhooks; how many rows."""
    # A lead's thread not touched since `before` (its next event starts a new one), notices
    # done or given up since, and OAuth states that expired unused.
    finished = notices.c.state.in_(("done", "failed"))
    statements = [
        delete(lead_threads).where(lead_threads.c.updated_at < before),
        delete(notices).where(finished, notices.c.created_at < before),
        # slack_sdk keeps these moments as naive UTC.
        delete(slack_oauth_states).where(
            slack_oauth_states.c.expire_at < now.astimezone(UTC).replace(tzinfo=None)
        ),
    ]
    pruned = 0
    async with engine.begin() as conn:
        for statement in statements:
            pruned += (await conn.execute(statement)).rowcount
    return pruned


async def orphaned_workspaces(engine: AsyncEngine) -> list[Workspace]:
    """Workspaces with rows kept for them but no installed bot to serve them (multi-workspace)."""
    # What an uninstall left behind: a forget that failed, or work in flight that wrote after.
    held: set[Workspace] = set()
    async with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if WORKSPACE_COLUMNS.issubset(table.c.keys()) and table.name not in _SLACK_TABLES:
                query = select(table.c.enterprise_id, table.c.team_id).distinct()
                held |= {Workspace(t or "", e or "") for e, t in await conn.execute(query)}
        bots = select(
            slack_bots.c.enterprise_id, slack_bots.c.team_id, slack_bots.c.is_enterprise_install
        ).where(slack_bots.c.bot_token.is_not(None))
        installed = (await conn.execute(bots)).all()
    teams = {Workspace(t or "", e or "") for e, t, org in installed if not org}
    orgs = {e for e, _, org in installed if org and e}
    served = {ws for ws in held if ws in teams or (ws.enterprise_id and ws.enterprise_id in orgs)}
    return sorted(held - served, key=lambda ws: (ws.enterprise_id, ws.team_id))
