"""Alembic, driven from code: `lead-bot migrate` and start-up use the same path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for this database, with no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_latest(database_url: str) -> None:
    """Bring the schema up to date; safe to run any number of times."""
    command.upgrade(alembic_config(database_url), "head")
