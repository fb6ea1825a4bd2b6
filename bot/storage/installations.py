"""Slack's OAuth installs: slack_sdk's stores on the app's database, and who has installed."""

# slack_sdk keys an install by (enterprise_id, team_id) with NULL for what is missing: a plain
# workspace has no enterprise, and an org-wide install (Enterprise Grid) has no team. Installed
# spells both as "", as Workspace does everywhere else.

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from logging import Logger
from typing import Any

from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import desc, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import lock_key, read_only
from bot.storage.rows import Installed, Workspace
from bot.storage.tables import slack_bots

STATE_SECONDS = 600


def installation_store(engine: AsyncEngine, client_id: str) -> AsyncSQLAlchemyInstallationStore:
    """slack_sdk's installation store, on the app's database (tables made by migration 0007)."""
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine)


def state_store(
    engine: AsyncEngine, expiration_seconds: int = STATE_SECONDS
) -> AsyncSQLAlchemyOAuthStateStore:
    """slack_sdk's store of OAuth states, each valid for `expiration_seconds`."""
    return _StatesUsedOnce(expiration_seconds=expiration_seconds, engine=engine)


class SignedStates(AsyncOAuthStateStore):
    """OAuth states signed with SLACK_STATE_SECRET: a forged one is refused unread."""

    def __init__(self, states: AsyncOAuthStateStore, secret: str) -> None:
        self._states = states
        self._key = secret.encode()

    @property
    def logger(self) -> Logger:
        return self._states.logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state, kept until it is used once or expires, with its signature."""
        state = await self._states.async_issue(*args, **kwargs)
        return f"{state}.{self._signature(state)}"

    async def async_consume(self, state: str) -> bool:
        """Whether the state is one this app issued and nobody has used yet; it is used up."""
        issued, _, signature = state.rpartition(".")
        # Compared as bytes: the state comes from a browser, and may be any text at all.
        given = signature.encode("utf-8", "surrogatepass")
        if not issued or not hmac.compare_digest(given, self._signature(issued).encode()):
            return False
        return await self._states.async_consume(issued)

    def _signature(self, state: str) -> str:
        data = state.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()


class _StatesUsedOnce(AsyncSQLAlchemyOAuthStateStore):
    """slack_sdk's state store, where a state is used up by exactly one of simultaneous uses."""

    async def async_consume(self, state: str) -> bool:
        # slack_sdk reads, then deletes, and says yes either way: two redirects at once could
        # both pass. One DELETE that must find the row cannot.
        now = normalize_datetime_for_db(datetime.now(tz=UTC))
        c = self.oauth_states.c
        try:
            async with self.engine.begin() as conn:
                used = await conn.execute(
                    self.oauth_states.delete().where(c.state == state, c.expire_at > now)
                )
        except Exception as exc:
            self.logger.warning("Could not use an OAuth state: %s", type(exc).__name__)
            return False
        return bool(used.rowcount == 1)


@contextlib.asynccontextmanager
async def refreshing(engine: AsyncEngine, bot: Bot) -> AsyncIterator[None]:
    """While held, no other process refreshes this installation's bot token (PostgreSQL)."""
    # Slack spends a refresh token once: two processes refreshing together, one would fail.
    # The one that waited reads the bot again and finds it fresh. SQLite serves one process.
    if engine.dialect.name != "postgresql":
        yield
        return
    installation = f"slack_bot:{bot.enterprise_id}:{bot.team_id}:{bot.is_enterprise_install}"
    async with engine.connect() as conn, conn.begin():
        await conn.execute(select(func.pg_advisory_xact_lock(lock_key(installation))))
        yield


async def installed_workspaces(engine: AsyncEngine, client_id: str) -> list[Installed]:
    """Every workspace (or org) with a bot token, as its latest install left it, oldest first."""
    # The latest bot with a token is the one slack_sdk's find_bot answers with.
    latest = (
        select(
            slack_bots,
            func.row_number()
            .over(
                partition_by=(slack_bots.c.enterprise_id, slack_bots.c.team_id),
                order_by=(desc(slack_bots.c.installed_at), desc(slack_bots.c.id)),
            )
            .label("newness"),
        )
        .where(slack_bots.c.client_id == client_id, slack_bots.c.bot_token.is_not(None))
        .subquery()
    )
    query = (
        select(latest)
        .where(latest.c.newness == 1)
        .order_by(
            latest.c.installed_at,
            func.coalesce(latest.c.enterprise_id, ""),
            func.coalesce(latest.c.team_id, ""),
        )
    )
    async with read_only(engine) as conn:
        rows = (await conn.execute(query)).all()
    return [
        Installed(
            workspace=Workspace(row.team_id or "", enterprise_id=row.enterprise_id or ""),
            team_name=row.team_name,
            enterprise_name=row.enterprise_name,
            is_enterprise_install=bool(row.is_enterprise_install),
            installed_at=_utc(row.installed_at),
        )
        for row in rows
    ]


def _utc(naive: datetime) -> datetime:
    # slack_sdk stores naive UTC.
    return naive.replace(tzinfo=UTC) if naive.tzinfo is None else naive.astimezone(UTC)
