"""Databases already at the latest schema, copied from one migrated template per test process.

Running every migration for each test cost about two seconds on PostgreSQL and one on SQLite;
a copy costs a fraction of that. The migrations themselves are still run and checked by the
tests that are about them (tests/storage/test_engine.py, test_migrate_errors.py,
test_stable_webhook_urls.py) and by every process the end-to-end tests start.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from bot.storage.migrate import upgrade_to_latest
from tests.postgres import create_database, drop_database


@cache
def _sqlite_template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="leadbot-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "migrated.db"
    upgrade_to_latest(f"sqlite:///{path}")
    return path


def migrated_sqlite(path: Path) -> None:
    """Put a database at the latest schema at `path` (a SQLite file that does not exist yet)."""
    shutil.copyfile(_sqlite_template(), path)


@cache
def postgres_template() -> str:
    """The name of this process's migrated PostgreSQL template database."""
    name, url = create_database()
    atexit.register(drop_database, name)
    upgrade_to_latest(url)
    return name
