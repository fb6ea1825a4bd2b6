"""A throwaway PostgreSQL database for tests: required in CI, skipped with a reason elsewhere."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import pytest

SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(SERVER_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create_database(template: str | None = None) -> tuple[str, str]:
    """A new database (empty, or a copy of `template`): its name and URL.

    Fails in CI and skips elsewhere, saying why, when PostgreSQL cannot be reached.
    """
    name = f"leadbot_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"{copy}'))
    except (OSError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL is not reachable at {SERVER_URL} ({exc})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests")
        pytest.skip(reason)
    return name, f"{SERVER_URL.rsplit('/', 1)[0]}/{name}"


def drop_database(name: str) -> None:
    """Drop a database made by `create_database`, even with connections still open."""
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def temporary_database(template: str | None = None) -> Iterator[str]:
    """Create a database (empty, or a copy of `template`), yield its URL, drop it afterwards."""
    name, url = create_database(template)
    try:
        yield url
    finally:
        drop_database(name)
