"""Ceiling servers for the ingest benchmark: the least a webhook endpoint can do on the app's stack.

`python -m bench.ceiling_app KIND` (or CEILING_KIND=KIND) serves `POST /nlpearl/webhooks/{token}`
and `GET /healthz` on 127.0.0.1:$PORT through uvicorn, configured as `lead-bot serve` configures
it (`bot/app/cli.py`: httptools and uvloop chosen automatically, INFO logging through the root
logger with `log_config=None`, so every request writes an access line as the app's do). KIND:

- `bare`: Starlette reads the body and answers `{"status": "stored"}`; no parsing, no database.
- `asyncpg`: `json.loads`, then one INSERT of the body through a raw asyncpg pool of 16.
- `aiosqlite`: the same INSERT through one raw aiosqlite connection to a WAL file (SQLite has
  one writer, so more connections would only queue in its busy handler).
- `sqlalchemy-asyncpg`, `sqlalchemy-aiosqlite`: the same INSERT through SQLAlchemy async
  (`create_async_engine`, `engine.begin()`, `insert(table).values(...)`), with the same number
  of connections as the raw driver.

CEILING_DATABASE_URL names the database: a `postgresql://` URL, or a SQLite file's path. At
start the server drops and makes its one scratch table (id, key unique, body), so every start
is fresh. A webhook whose key (lead, status, number of calls) is stored already is answered
`{"status": "duplicate"}`, which the load generator does not count as stored.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import aiosqlite
import asyncpg  # type: ignore[import-untyped]
import uvicorn
from sqlalchemy import Column, Integer, MetaData, Table, Text, event, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

KINDS = ("bare", "asyncpg", "aiosqlite", "sqlalchemy-asyncpg", "sqlalchemy-aiosqlite")
POSTGRES_POOL_SIZE = 16  # one connection per unit of the load generator's concurrency
SQLITE_POOL_SIZE = 1
TABLE_NAME = "ceiling_webhooks"
GRACEFUL_SHUTDOWN_SECONDS = 10  # as `lead-bot serve`
STORED = {"status": "stored"}
DUPLICATE = {"status": "duplicate"}
# The same pragmas as the app's SQLite engine (bot/storage/engine.py), so the two pay the same
# per commit: WAL, and NORMAL synchronous (no fsync per commit in WAL mode).
SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=30000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
)
POSTGRES_TABLE = (
    f"CREATE TABLE {TABLE_NAME} (id bigserial PRIMARY KEY, key text NOT NULL UNIQUE, "
    f"body text NOT NULL)"
)
SQLITE_TABLE = (
    f"CREATE TABLE {TABLE_NAME} (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, "
    f"body TEXT NOT NULL)"
)
DROP_TABLE = f"DROP TABLE IF EXISTS {TABLE_NAME}"

metadata = MetaData()
scratch = Table(
    TABLE_NAME,
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", Text, nullable=False, unique=True),
    Column("body", Text, nullable=False),
)


class Store(Protocol):
    """Where a ceiling server keeps webhooks: one INSERT each."""

    async def open(self) -> None:
        """Connect and make a fresh scratch table."""

    async def insert(self, key: str, body: str) -> bool:
        """Store one webhook; False if its key is stored already."""

    async def close(self) -> None:
        """Disconnect."""


class AsyncpgStore:
    """A raw asyncpg pool: each INSERT is one round trip in autocommit."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._pool: Any = None

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._url, min_size=POSTGRES_POOL_SIZE, max_size=POSTGRES_POOL_SIZE
        )
        await self._pool.execute(DROP_TABLE)
        await self._pool.execute(POSTGRES_TABLE)

    async def insert(self, key: str, body: str) -> bool:
        try:
            await self._pool.execute(
                f"INSERT INTO {TABLE_NAME} (key, body) VALUES ($1, $2)", key, body
            )
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def close(self) -> None:
        await self._pool.close()


class AiosqliteStore:
    """One raw aiosqlite connection in autocommit: each INSERT is its own transaction."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self._db = await aiosqlite.connect(self._path, isolation_level=None)
        for pragma in SQLITE_PRAGMAS:
            await self._db.execute(pragma)
        await self._db.execute(DROP_TABLE)
        await self._db.execute(SQLITE_TABLE)

    async def insert(self, key: str, body: str) -> bool:
        assert self._db is not None
        try:
            await self._db.execute(
                f"INSERT INTO {TABLE_NAME} (key, body) VALUES (?, ?)", (key, body)
            )
        except sqlite3.IntegrityError:
            return False
        return True

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()


class SqlalchemyStore:
    """SQLAlchemy's async engine: each INSERT in `engine.begin()`, as the app writes."""

    def __init__(self, url: str, pool_size: int) -> None:
        self._url = url
        self._pool_size = pool_size
        self._engine: AsyncEngine | None = None

    async def open(self) -> None:
        self._engine = create_async_engine(self._url, pool_size=self._pool_size, max_overflow=0)
        if self._engine.dialect.name == "sqlite":
            event.listen(self._engine.sync_engine, "connect", _sqlite_pragmas)
        async with self._engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.run_sync(metadata.create_all)

    async def insert(self, key: str, body: str) -> bool:
        assert self._engine is not None
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(scratch).values(key=key, body=body))
        except IntegrityError:
            return False
        return True

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def make_store(kind: str, database: str) -> Store:
    """The store for a ceiling kind (not `bare`), on `database` (a URL or a SQLite path)."""
    stores: dict[str, Callable[[], Store]] = {
        "asyncpg": lambda: AsyncpgStore(database),
        "aiosqlite": lambda: AiosqliteStore(database),
        "sqlalchemy-asyncpg": lambda: SqlalchemyStore(
            database.replace("postgresql://", "postgresql+asyncpg://", 1), POSTGRES_POOL_SIZE
        ),
        "sqlalchemy-aiosqlite": lambda: SqlalchemyStore(
            f"sqlite+aiosqlite:///{database}", SQLITE_POOL_SIZE
        ),
    }
    return stores[kind]()


def dedupe_key(event: dict[str, Any]) -> str:
    """What makes a Lead Webhook the same event, as the app sees it: lead, status, calls."""
    calls = event.get("callsId")
    return f"{event.get('id')}:{event.get('status')}:{len(calls) if isinstance(calls, list) else 0}"


async def healthz(request: Request) -> Response:
    """Up once the lifespan (and its scratch table) is ready."""
    return JSONResponse({"status": "ok"})


def bare_app() -> Starlette:
    """Reads the body and says it stored it: the stack's own cost per webhook."""

    async def webhook(request: Request) -> Response:
        await request.body()
        return JSONResponse(STORED)

    return _starlette(webhook, None)


def store_app(store: Store) -> Starlette:
    """Parses the body and INSERTs it: the stack's cost plus one write through the driver."""

    async def webhook(request: Request) -> Response:
        body = await request.body()
        try:
            parsed = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "not JSON"}, status_code=400)
        if not isinstance(parsed, dict):
            return JSONResponse({"error": "not a JSON object"}, status_code=400)
        stored = await store.insert(dedupe_key(parsed), body.decode())
        return JSONResponse(STORED if stored else DUPLICATE)

    return _starlette(webhook, store)


def _starlette(webhook: Callable[[Request], Any], store: Store | None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if store is not None:
            await store.open()
        try:
            yield
        finally:
            if store is not None:
                await store.close()

    return Starlette(
        routes=[
            Route("/nlpearl/webhooks/{token}", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main(argv: list[str]) -> int:
    """Serve one ceiling kind on loopback with the app's uvicorn options."""
    kind = argv[0] if argv else os.environ.get("CEILING_KIND", "bare")
    if kind not in KINDS:
        print(f"unknown ceiling {kind!r}; choose from {', '.join(KINDS)}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if kind == "bare":
        app = bare_app()
    else:
        app = store_app(make_store(kind, os.environ["CEILING_DATABASE_URL"]))
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        proxy_headers=True,
        forwarded_allow_ips="*",
        log_config=None,
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
