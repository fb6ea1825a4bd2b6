"""Database fixtures for any test: `database_url` and `engine`, on SQLite and on PostgreSQL.

Registered for the whole suite by tests/conftest.py; a test module may narrow `database_url`
(one backend, another spelling) and keep `engine`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine
from tests.migrated import migrated_sqlite, postgres_template
from tests.postgres import temporary_database

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the parametrized backend (override with indirect parametrize).

    Empty, unless the test also asks for `engine`: then at the latest schema already, copied
    from a template the migrations built once for this process.
    """
    migrated = "engine" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "storage.db"
        if migrated:
            migrated_sqlite(path)
        yield f"sqlite:///{path}"
    elif request.param == "postgres":
        with temporary_database(postgres_template() if migrated else None) as url:
            yield url
    else:
        raise ValueError(f"unknown backend {request.param!r}")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database at the latest schema (see `database_url`); disposed after."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()
