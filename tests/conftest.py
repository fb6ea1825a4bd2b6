"""Shared fixtures: a clean environment so no stray SLACK_*/NLPEARL_* variable changes a test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

APP_VARIABLES = ("SLACK_", "NLPEARL_", "DATABASE_URL", "PUBLIC_URL", "PORT", "LOG_LEVEL", "MASK_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Drop the app's variables and run in an empty folder, so no `.env` is read."""
    for name in list(os.environ):
        if name.startswith(APP_VARIABLES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database (dropped after the test)."""
    from tests.postgres import temporary_database

    with temporary_database() as url:
        yield url
