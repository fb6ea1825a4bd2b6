"""Alembic, driven from code: `lead-bot migrate` and start-up use the same path."""

from __future__ import annotations

import re
import socket
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.storage.engine import normalize_database_url

MIGRATIONS = Path(__file__).parent / "migrations"
# What a database that cannot be reached or used raises; anything else is a bug.
UNUSABLE = (OSError, SQLAlchemyError, sqlite3.Error)
MAX_REASON_CHARS = 120
# SQLAlchemy's asyncpg adapter prefixes the driver's message with its exception class.
_CLASS_PREFIX = re.compile(r"^<class '[\w.]+'>:\s*")


class DatabaseUnusable(Exception):
    """The database cannot be reached or used; the message is one sentence for a person."""


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for this database, with no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_latest(database_url: str) -> None:
    """Bring the schema up to date; safe to run any number of times."""
    # Raises DatabaseUnusable, saying why in one sentence, if the database cannot be used.
    try:
        _open_sqlite_file(database_url)
        command.upgrade(alembic_config(database_url), "head")
    except CommandError as exc:
        # Alembic's own errors: most often a schema migrated by a newer Lead Bot.
        raise DatabaseUnusable(
            f"the database in DATABASE_URL cannot be migrated ({failure_reason(exc)}): "
            "it may have been migrated by a newer version of Lead Bot; deploy that version."
        ) from exc
    except UNUSABLE as exc:
        raise DatabaseUnusable(unusable_sentence(database_url, exc)) from exc


def _open_sqlite_file(database_url: str) -> None:
    """Open a SQLite file once without threads, so a path that cannot work fails here."""
    # Through the async driver the same failure races its worker thread against the closing event
    # loop, which then prints a traceback of its own.
    url, _ = normalize_database_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        sqlite3.connect(url.database).close()


def unusable_sentence(database_url: str, exc: BaseException) -> str:
    """Which database failed (never its password) and why, in one sentence."""
    url, _ = normalize_database_url(database_url)
    reason = failure_reason(exc)
    if url.password:
        reason = reason.replace(str(url.password), "***")
    if url.get_backend_name() == "sqlite":
        return (
            f"the SQLite database in DATABASE_URL ({url.database}) cannot be used ({reason}): "
            "make sure its folder exists and is writable, or set DATABASE_URL to another path."
        )
    where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
    return (
        f"the database in DATABASE_URL ({where}) cannot be used ({reason}): "
        "check that it is running and that DATABASE_URL is right."
    )


def failure_reason(exc: BaseException) -> str:
    """Why a database could not be used, in a few words."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = _CLASS_PREFIX.sub("", str(cause).strip())
    if isinstance(cause, ConnectionRefusedError) or "Connect call failed" in text:
        return "connection refused"
    if isinstance(cause, socket.gaierror):
        return "host name not found"
    if isinstance(cause, TimeoutError):
        return "no answer in time"
    first_line = text.splitlines()[0] if text else type(cause).__name__
    return first_line[:MAX_REASON_CHARS]
