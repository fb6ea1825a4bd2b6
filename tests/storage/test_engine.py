"""Database URLs as hosts give them, the engine answering, and migrations safe to repeat."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine, normalize_database_url, ping
from bot.storage.migrate import alembic_config, upgrade_to_latest
from bot.storage.subscriptions import list_subscriptions
from bot.storage.tables import metadata, subscriptions
from tests.storage.support import TEAM, subscribed

# ---- normalize_database_url: pure, so these run once rather than per backend ----


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_urls_get_the_asyncpg_driver(scheme: str) -> None:
    url, connect_args = normalize_database_url(f"{scheme}://user:secret@db.example.com:6543/leads")

    assert url.drivername == "postgresql+asyncpg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "user",
        "secret",
        "db.example.com",
        6543,
        "leads",
    )
    assert dict(url.query) == {}
    assert connect_args == {}


def test_sslmode_becomes_asyncpg_ssl_and_leaves_the_query() -> None:
    url, connect_args = normalize_database_url(
        "postgres://user:secret@db.example.com:5432/leads?sslmode=require&application_name=bot"
    )

    assert url.drivername == "postgresql+asyncpg"
    assert "sslmode" not in url.query
    assert dict(url.query) == {"application_name": "bot"}
    assert connect_args == {"ssl": "require"}


@pytest.mark.parametrize("mode", ["verify-ca", "verify-full"])
def test_verifying_sslmodes_pass_through(mode: str) -> None:
    url, connect_args = normalize_database_url(f"postgresql://u@h/db?sslmode={mode}")

    assert "sslmode" not in url.query
    assert connect_args == {"ssl": mode}


def test_sslmode_disable_is_passed_on_to_asyncpg() -> None:
    url, connect_args = normalize_database_url("postgres://u@h/db?sslmode=disable")

    assert "sslmode" not in url.query
    assert connect_args["ssl"] == "disable"


def test_sqlite_urls_get_the_aiosqlite_driver() -> None:
    url, _ = normalize_database_url("sqlite:///x.db")

    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == "x.db"


def test_surrounding_whitespace_is_ignored() -> None:
    url, _ = normalize_database_url("  postgres://u@h/db\n")

    assert url.drivername == "postgresql+asyncpg"
    assert url.database == "db"


@pytest.mark.parametrize(
    "raw", ["garbage", "", "   ", "mysql://u@h/db", "https://example.com/db", "mongodb://h/db"]
)
def test_anything_else_is_a_value_error(raw: str) -> None:
    with pytest.raises(ValueError, match="database"):
        normalize_database_url(raw)


# ---- the engine and migrations, on both backends ----


async def test_ping_answers(engine: AsyncEngine) -> None:
    await ping(engine)


async def test_ping_raises_when_nothing_answers() -> None:
    # Port 1 on loopback: refused at once, no server needed. (A SQLite file that cannot be
    # opened would do too, but aiosqlite then leaves a worker thread behind that warns later.)
    engine = create_engine("postgresql://postgres@127.0.0.1:1/nothing")
    try:
        with pytest.raises(ConnectionRefusedError):
            await ping(engine)
    finally:
        await engine.dispose()


async def test_migrations_create_every_table_and_reach_the_head(
    engine: AsyncEngine, database_url: str
) -> None:
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()

    assert set(metadata.tables) <= tables
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert version == [(head,)]


async def test_the_migrated_schema_matches_the_table_definitions(engine: AsyncEngine) -> None:
    def differences(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        diff = await conn.run_sync(differences)

    assert diff == []


async def test_migrating_twice_changes_nothing_and_keeps_data(
    engine: AsyncEngine, database_url: str
) -> None:
    await subscribed(engine, channel="C1")
    async with engine.connect() as conn:
        before = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()

    await asyncio.to_thread(upgrade_to_latest, database_url)
    await asyncio.to_thread(upgrade_to_latest, database_url)

    async with engine.connect() as conn:
        after = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        kept = (await conn.execute(select(subscriptions.c.channel_id))).scalars().all()
    assert after == before
    assert len(after) == 1
    assert kept == ["C1"]
    assert [s.channel_id for s in await list_subscriptions(engine, TEAM)] == ["C1"]
