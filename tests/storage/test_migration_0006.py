"""Revision 0006: endpoints holding old "#n" lead keys are marked; open deliveries get an index."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine
from bot.storage.inbox import IncomingEvent, Outcome, store_webhook
from bot.storage.migrate import alembic_config, upgrade_to_latest
from bot.storage.subscriptions import hash_token
from bot.storage.tables import events, webhook_endpoints
from tests.storage.support import LEAD_A, NOW, TEAM, rows

# Each campaign's endpoint, and the (kind, dedupe key) of the events it holds before 0006.
HISTORIES = {
    "camp-old": [("lead", "lead:42:20:1#2"), ("lead", "lead:42:40:2")],
    "camp-new": [("lead", "lead:42:20:1"), ("call", "call:c1:end")],
    # Only lead keys were ever numbered; a "#" in a call's key is the call's own id.
    "camp-call": [("call", "call:c#1:end")],
    "camp-quiet": [],
}


def token_of(campaign: str) -> str:
    return f"token-of-{campaign}"


@pytest.fixture
async def upgraded(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A database built at 0005 with the endpoints of HISTORIES, then upgraded to the head."""
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "0005")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            for campaign, history in HISTORIES.items():
                # Only the columns 0005 has: legacy_dedupe is left out.
                created = await conn.execute(
                    webhook_endpoints.insert()
                    .values(
                        team_id=TEAM.team_id,
                        enterprise_id=TEAM.enterprise_id,
                        campaign_id=campaign,
                        token_hash=hash_token(token_of(campaign)),
                        token=token_of(campaign),
                        created_at=NOW,
                    )
                    .returning(webhook_endpoints.c.id)
                )
                endpoint_id = created.scalar_one()
                for kind, key in history:
                    await conn.execute(
                        events.insert().values(
                            endpoint_id=endpoint_id,
                            kind=kind,
                            dedupe_key=key,
                            lead_key=LEAD_A,
                            payload={"key": key},
                            received_at=NOW,
                        )
                    )
        await asyncio.to_thread(upgrade_to_latest, database_url)
        yield engine
    finally:
        await engine.dispose()


async def test_only_endpoints_with_old_numbered_lead_keys_are_marked(
    upgraded: AsyncEngine,
) -> None:
    marked = {e["campaign_id"]: e["legacy_dedupe"] for e in await rows(upgraded, webhook_endpoints)}

    assert marked == {"camp-old": 1, "camp-new": 0, "camp-call": 0, "camp-quiet": 0}


async def test_the_marked_endpoint_still_spots_a_redelivery_of_an_old_key(
    upgraded: AsyncEngine,
) -> None:
    redelivered = IncomingEvent("lead", "lead:42:20:1", LEAD_A, 20, {"status": 20})

    stored = await store_webhook(upgraded, token_of("camp-old"), redelivered, NOW)

    assert stored.outcome is Outcome.DUPLICATE
    assert len(await rows(upgraded, events)) == 5


async def test_open_deliveries_are_indexed_by_channel(upgraded: AsyncEngine) -> None:
    def indexes(conn: Connection) -> dict[str, Any]:
        return {str(index["name"]): index for index in inspect(conn).get_indexes("deliveries")}

    async with upgraded.connect() as conn:
        found = await conn.run_sync(indexes)

    index = found["ix_deliveries_open"]
    assert index["column_names"] == ["enterprise_id", "team_id", "channel_id", "id"]
    # Partial: only open rows are in it, so it stays as small as the backlog, whatever the history.
    where = str(index["dialect_options"][f"{upgraded.dialect.name}_where"])
    assert "pending" in where
    assert "claimed" in where
    assert "done" not in where
