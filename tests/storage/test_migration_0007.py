"""Revision 0007: slack_sdk's OAuth tables as slack_sdk defines them, and NLPearl accounts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine
from bot.storage.installations import installation_store, state_store
from bot.storage.migrate import alembic_config

SLACK_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}
NEW_TABLES = {*SLACK_TABLES, "nlpearl_accounts"}
CLIENT_ID = "1111.2222"
# Seconds only: slack_sdk keeps a token's expiry as a whole Unix time.
EXPIRES = datetime(2025, 3, 14, 21, 26, 53, tzinfo=UTC)
INSTALLED = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)


@pytest.fixture
async def at_0006(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A database migrated up to 0006, and an engine on it."""
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "0006")
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def at_0007(at_0006: AsyncEngine, database_url: str) -> AsyncEngine:
    """The same database, upgraded to 0007."""
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "0007")
    return at_0006


def only_slack_tables(name: str | None, kind: str, _parents: object) -> bool:
    """Compare slack_sdk's tables only (and everything in them)."""
    return kind != "table" or name in SLACK_TABLES


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))


async def delivery_indexes(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        found = await conn.run_sync(lambda c: inspect(c).get_indexes("deliveries"))
    return {str(index["name"]) for index in found}


async def test_upgrade_creates_the_tables(at_0006: AsyncEngine, database_url: str) -> None:
    assert not NEW_TABLES & await tables(at_0006)

    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "0007")

    assert await tables(at_0006) >= NEW_TABLES
    assert "ix_deliveries_event" in await delivery_indexes(at_0006)
    async with at_0006.connect() as conn:
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    assert version == [("0007",)]


async def test_the_slack_tables_are_exactly_slack_sdks(at_0007: AsyncEngine) -> None:
    # Compared with the tables slack_sdk itself builds, not with our copy of them.
    theirs = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(theirs, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(theirs, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, "slack_oauth_states")

    def differences(conn: Connection) -> list[object]:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parents: (
                    kind != "table" or name in SLACK_TABLES
                ),
            },
        )
        return list(compare_metadata(context, theirs))

    async with at_0007.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_slack_sdk_saves_and_finds_an_install(at_0007: AsyncEngine) -> None:
    store = installation_store(at_0007, CLIENT_ID)
    await store.async_save(
        Installation(
            app_id="A0001",
            team_id="T0001",
            team_name="Acme",
            bot_token="xoxb-acme",
            bot_id="B0001",
            bot_user_id="U0BOT",
            bot_scopes=["commands", "chat:write"],
            bot_refresh_token="xoxe-refresh",
            bot_token_expires_at=EXPIRES,
            user_id="U0001",
            installed_at=INSTALLED,
        )
    )

    bot = await store.async_find_bot(enterprise_id=None, team_id="T0001")
    installation = await store.async_find_installation(enterprise_id=None, team_id="T0001")

    assert bot is not None
    assert (bot.bot_token, bot.bot_refresh_token) == ("xoxb-acme", "xoxe-refresh")
    assert bot.bot_token_expires_at == int(EXPIRES.timestamp())
    assert bot.installed_at == INSTALLED.timestamp()
    assert installation is not None
    assert (installation.user_id, installation.team_name) == ("U0001", "Acme")
    assert installation.bot_token_expires_at == int(EXPIRES.timestamp())
    assert await store.async_find_bot(enterprise_id=None, team_id="T0002") is None


async def test_slack_sdk_finds_an_org_wide_install(at_0007: AsyncEngine) -> None:
    store = installation_store(at_0007, CLIENT_ID)
    await store.async_save(
        Installation(
            app_id="A0001",
            enterprise_id="E0001",
            team_id=None,
            bot_token="xoxb-org",
            user_id="U0001",
            is_enterprise_install=True,
            installed_at=INSTALLED,
        )
    )

    bot = await store.async_find_bot(
        enterprise_id="E0001", team_id="T0009", is_enterprise_install=True
    )

    assert bot is not None
    assert (bot.bot_token, bot.is_enterprise_install) == ("xoxb-org", True)


async def test_an_oauth_state_is_consumed_once(at_0007: AsyncEngine) -> None:
    states = state_store(at_0007)
    state = await states.async_issue()

    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False
    assert await states.async_consume("never-issued") is False


async def test_an_expired_oauth_state_is_refused(at_0007: AsyncEngine) -> None:
    states = state_store(at_0007, expiration_seconds=-int(timedelta(minutes=1).total_seconds()))
    state = await states.async_issue()

    assert await states.async_consume(state) is False


async def test_downgrade_to_0006_removes_them(at_0007: AsyncEngine, database_url: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0006")

    assert not NEW_TABLES & await tables(at_0007)
    assert "ix_deliveries_event" not in await delivery_indexes(at_0007)

    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "0007")
    assert await tables(at_0007) >= NEW_TABLES
