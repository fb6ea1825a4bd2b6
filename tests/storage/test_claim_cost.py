"""A claim round's work grows with the channels, not with the backlog waiting in them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage import outbox
from bot.storage.inbox import Arrival, store_webhooks
from bot.storage.tables import deliveries
from tests.storage.support import (
    LEASE,
    NOW,
    PAST_PACING,
    by_channel,
    claim,
    ids,
    lead_event,
    rows,
    subscribe_channels,
)

BACKLOG_LEADS = 500
BACKLOG = 2000


def lead(n: int) -> str:
    return f"+1555{n:07d}"


async def queue_interleaved(engine: AsyncEngine, token: str, leads: int, total: int) -> None:
    """Queue `total` lead events round-robin over `leads` leads, in one transaction."""
    arrivals = [Arrival(token, lead_event(lead(n % leads)), NOW) for n in range(total)]
    await store_webhooks(engine, arrivals)


def is_head_query(statement: str) -> bool:
    """Whether a statement is the claim's head query (outbox.HEADS)."""
    return "FROM deliveries AS d" in statement and "AS channels" in statement


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_finds_each_channels_head_through_the_open_rows_index(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    await queue_interleaved(engine, token, leads=50, total=200)
    sent: list[tuple[str, Any]] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if is_head_query(statement):
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    assert len(await claim(engine, NOW)) == 2
    event.remove(engine.sync_engine, "before_cursor_execute", record)

    assert sent, "the claim sent no head query"
    statement, parameters = sent[-1]
    async with engine.connect() as conn:
        plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        steps = [str(row.detail) for row in plan.all()]
    assert any(s.startswith("SEARCH d USING INDEX ix_deliveries_open") for s in steps), steps
    # Neither the walk nor the look for an earlier open row of the lane reads the whole outbox.
    assert not [s for s in steps if s.startswith(("SCAN d", "SCAN e"))], steps


async def head_query_cost(engine: AsyncEngine, now: datetime) -> int:
    """The work the database does for the claim's head query: rows read, or SQLite VM steps."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            return await _rows_read_on_postgres(conn, now)
        return await _vm_steps_on_sqlite(conn, now)


async def _rows_read_on_postgres(conn: AsyncConnection, now: datetime) -> int:
    # No ANALYZE: a freshly migrated database's first burst has no statistics to go on.
    before = await _deliveries_read(conn)
    await conn.execute(outbox.HEADS, {"now": now})
    return await _deliveries_read(conn) - before


async def _deliveries_read(conn: AsyncConnection) -> int:
    # This transaction's counts (and any not yet flushed before it): only the difference counts.
    read = await conn.execute(
        text(
            "SELECT seq_tup_read + idx_tup_fetch FROM pg_stat_xact_user_tables "
            "WHERE relname = 'deliveries'"
        )
    )
    return int(read.scalar_one())


async def _vm_steps_on_sqlite(conn: AsyncConnection, now: datetime) -> int:
    sqlite = (await conn.get_raw_connection()).driver_connection
    assert sqlite is not None
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    await sqlite.set_progress_handler(step, 1)
    try:
        await conn.execute(outbox.HEADS, {"now": now})
    finally:
        await sqlite.set_progress_handler(None, 1)
    return steps


async def test_a_lane_in_flight_is_passed_over_however_long_the_backlog(
    engine: AsyncEngine,
) -> None:
    busy = await subscribe_channels(engine, "C-busy", campaign="camp-busy")
    quiet = await subscribe_channels(engine, "C-quiet", campaign="camp-quiet")
    await queue_interleaved(engine, busy, leads=4, total=8)
    (in_flight,) = await claim(engine, NOW)
    assert in_flight.lead_key == lead(0)
    await queue_interleaved(engine, quiet, leads=1, total=1)
    # Pacing has passed; the first batch's lease has not.
    later = NOW + PAST_PACING
    assert later < NOW + LEASE
    small = await head_query_cost(engine, later)

    await queue_interleaved(engine, busy, leads=BACKLOG_LEADS, total=BACKLOG)
    large = await head_query_cost(engine, later)
    batches = by_channel(await claim(engine, later))

    # A claim that read the backlog would read thousands of rows (or steps) more.
    assert large <= 2 * small, (small, large)
    assert set(batches) == {"C-busy", "C-quiet"}
    assert len(batches["C-quiet"].items) == 1
    # The busy channel's next lane: lead 1's rows, old and new, in order.
    assert batches["C-busy"].lead_key == lead(1)
    lane = [
        d["id"]
        for d in await rows(engine, deliveries)
        if (d["channel_id"], d["lead_key"]) == ("C-busy", lead(1))
    ]
    assert ids(batches["C-busy"]) == lane
    assert len(lane) == 2 + BACKLOG // BACKLOG_LEADS
    for d in await rows(engine, deliveries):
        if d["id"] in ids(in_flight):
            assert (d["state"], d["batch"]) == ("claimed", in_flight.marker)
