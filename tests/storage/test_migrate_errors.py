"""`upgrade_to_latest` says in one sentence why a database cannot be migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.storage.migrate import DatabaseUnusable, upgrade_to_latest


def test_a_schema_from_a_newer_version_says_so(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        db.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")

    with pytest.raises(DatabaseUnusable) as raised:
        upgrade_to_latest(f"sqlite:///{path}")

    sentence = str(raised.value)
    assert "newer version of Lead Bot" in sentence
    assert "9999_from_the_future" in sentence
    assert "\n" not in sentence


def test_a_missing_folder_names_the_path_and_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "no-such-folder" / "lead-bot.db"

    with pytest.raises(DatabaseUnusable) as raised:
        upgrade_to_latest(f"sqlite:///{path}")

    assert str(path) in str(raised.value)
    assert "writable" in str(raised.value)
