"""Every webhook body gets the same answer on SQLite and PostgreSQL, as the receiver gives it.

The table of bodies is tests/notify/hostile.py; the same table goes through the real server
in tests/e2e/test_webhook_hostile.py. Here the receiver runs in process against each backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feed.receive import receive_webhook
from bot.parsing.webhooks import DEDUPE_KEY_LENGTH, LEAD_KEY_LENGTH
from bot.storage.engine import create_engine
from bot.storage.faults import refused_data
from bot.storage.tables import deliveries, events
from tests.feed.hostile import Hostile, assert_storable, hostile_params
from tests.harness.processes import free_port
from tests.storage.support import NOW, rows, subscribe_channels


def answer_of(body: dict[str, Any]) -> str:
    """What an answer says: its status, or its error."""
    return str(body.get("status") or body.get("error"))


@pytest.mark.parametrize("case", hostile_params())
async def test_every_body_gets_the_same_answer_on_every_database(
    engine: AsyncEngine, case: Hostile
) -> None:
    token = await subscribe_channels(engine, "C1")

    receipt = await receive_webhook(engine, token, case.body, NOW)

    assert receipt.status_code == case.status_code, receipt.body
    assert case.answer in answer_of(receipt.body), receipt.body
    if case.status_code != 200:
        assert set(receipt.body) == {"error"}
        assert await rows(engine, events) == []
        return
    (row,) = await rows(engine, events)
    assert_storable(row["payload"])
    if case.kept is not None:
        assert case.kept(row["payload"]), row["payload"]
    assert len(row["dedupe_key"]) <= DEDUPE_KEY_LENGTH
    assert len(row["lead_key"]) <= LEAD_KEY_LENGTH
    assert [d["lead_key"] for d in await rows(engine, deliveries)] == [row["lead_key"]]
    # NLPearl sending it again is recognised, and the answer says so.
    again = await receive_webhook(engine, token, case.body, NOW)
    assert (again.status_code, again.body) == (200, {"status": "duplicate"})
    assert len(await rows(engine, events)) == 1


@pytest.mark.parametrize("case", hostile_params())
async def test_an_unknown_token_is_404_whatever_the_body(
    engine: AsyncEngine, case: Hostile
) -> None:
    await subscribe_channels(engine, "C1")

    receipt = await receive_webhook(engine, "A" * 32, case.body, NOW)

    assert (receipt.status_code, receipt.body) == (404, {"error": "unknown webhook URL"})
    assert await rows(engine, events) == []


def _sqlite_threads() -> int:
    return sum("_connection_worker_thread" in t.name for t in threading.enumerate())


@contextlib.asynccontextmanager
async def unreachable(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine for a database of the backend that cannot be reached."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'lead-bot.db'}"
    else:
        url = f"postgresql://postgres@127.0.0.1:{free_port()}/leadbot"
    threads = _sqlite_threads()
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()
        # aiosqlite stops the worker thread of a connection that failed without waiting for
        # it: let the thread finish while this event loop still runs (bounded).
        for _ in range(500):
            if _sqlite_threads() <= threads:
                break
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("case", hostile_params()[:3] + hostile_params()[-2:])
async def test_a_database_that_cannot_be_reached_is_503(
    backend: str, case: Hostile, tmp_path: Path
) -> None:
    async with unreachable(backend, tmp_path) as engine:
        receipt = await receive_webhook(engine, "A" * 32, case.body, NOW)

    assert receipt.status_code == 503
    assert receipt.body == {
        "error": "the database cannot be reached right now; please send the webhook again"
    }


async def _error_from(engine: AsyncEngine, sql: str, value: str) -> BaseException:
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql), {"value": value})
    except (SQLAlchemyError, OSError, ValueError) as exc:
        return exc
    raise AssertionError(f"the database took {value!r}")


async def test_data_the_database_refuses_is_told_apart_from_a_database_that_is_down(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # Real errors from the real drivers: a lone surrogate no driver can send; a row that
    # breaks a constraint (as one does when a subscription goes mid-webhook: sending again
    # works); and a database that is not there.
    insert = "INSERT INTO events (endpoint_id, kind, dedupe_key, lead_key, payload, received_at)"
    refused = await _error_from(engine, "SELECT :value", "\ud800")
    broken = await _error_from(
        engine, f"{insert} VALUES (1, 'lead', :value, NULL, '{{}}', NULL)", "k"
    )
    backend = engine.dialect.name.replace("postgresql", "postgres")
    async with unreachable(backend, tmp_path) as down:
        down_error = await _error_from(down, "SELECT :value", "x")

    assert refused_data(refused), refused
    assert not refused_data(broken), broken
    assert not refused_data(down_error), down_error
