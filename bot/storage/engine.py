"""The async SQLAlchemy engine, from any URL a Heroku-like host or a person may give."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

# libpq's sslmode values that asyncpg's `ssl` accepts as they are.
READ_ONLY = "lead_bot_read_only"
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


def normalize_database_url(raw: str) -> tuple[URL, dict[str, Any]]:
    """The async driver URL and its connect arguments; accepts `postgres://` and plain `sqlite:`."""
    try:
        url = make_url(raw.strip())
    except ArgumentError as exc:
        raise ValueError("not a database URL") from exc
    backend = url.get_backend_name()
    if backend in {"postgres", "postgresql"}:
        query = dict(url.query)
        sslmode = query.pop("sslmode", None)
        url = url.set(drivername="postgresql+asyncpg", query=query)
        # asyncpg takes `ssl`, not libpq's `sslmode`.
        connect_args: dict[str, Any] = {}
        if isinstance(sslmode, str) and sslmode in _SSL_MODES:
            connect_args["ssl"] = sslmode
        return url, connect_args
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite"), {"timeout": 30}
    raise ValueError(f"unsupported database {backend!r}")


def create_engine(raw_url: str) -> AsyncEngine:
    """An engine for SQLite (one dyno) or PostgreSQL (many dynos)."""
    url, connect_args = normalize_database_url(raw_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args=connect_args)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    # At most ten connections a process: hosts' small plans allow twenty in all, and a web
    # process needs few (webhooks share one; see feed/ingest.py).
    return create_async_engine(
        url, connect_args=connect_args, pool_pre_ping=True, pool_size=5, max_overflow=5
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, begin transactions (see _begin_immediate).
    dbapi_connection.isolation_level = None
    # WAL lets the web process read while a worker writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode, NORMAL survives a process crash (kill -9); only power loss can drop the
    # newest commits, and it spares an fsync per webhook.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # Take the write lock up front: a read that later writes could otherwise fail with
    # "database is locked" instead of waiting its turn. Pure reads need no lock in WAL mode.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextlib.asynccontextmanager
async def read_only(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads only: on SQLite it does not take the write lock."""
    async with engine.connect() as conn:
        yield await conn.execution_options(**{READ_ONLY: True})


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def upsert(conn: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` that takes ON CONFLICT clauses, in the connection's dialect."""
    return upsert_in(conn.dialect.name, table)


def upsert_in(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """`upsert` for a dialect named ahead of any connection (a statement built once)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def lock_key(name: str) -> int:
    """A PostgreSQL advisory lock's key for a name: the same in every process."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
