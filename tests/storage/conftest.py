"""Storage fixtures: every test runs on SQLite (a file) and on PostgreSQL (a fresh database)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine
from bot.storage.migrate import upgrade_to_latest

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of the parametrized backend (override with indirect parametrize)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'storage.db'}"
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    raise ValueError(f"unknown backend {request.param!r}")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to the latest schema; disposed after the test."""
    # Alembic runs its own event loop, so it must not run on this one.
    await asyncio.to_thread(upgrade_to_latest, database_url)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()
