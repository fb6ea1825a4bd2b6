"""What Lead Bot remembers per person, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine
from bot.storage.memory import (
    RECENT_KEPT,
    last_campaign,
    recent,
    remember_campaign,
    remember_lookup,
)
from bot.storage.migrate import upgrade_to_latest
from bot.storage.rows import LastCampaign, RecentLookup, Workspace
from bot.storage.tables import recent_lookups, user_preferences

NOW = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)
TEAM = Workspace("T0001")
OTHER_TEAM = Workspace("T0002")
GRID_TEAM = Workspace("T0001", enterprise_id="E0001")
USER = "U0001"
OTHER_USER = "U0002"
CAMPAIGN = "664e9a77f0e1d2c3b4a59687"
OTHER_CAMPAIGN = "664e9a77f0e1d2c3b4a59688"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'memory.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    # Alembic runs its own event loop, so it must not run on this one.
    await asyncio.to_thread(upgrade_to_latest, database_url)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def lookup(
    lead: int, at: datetime = NOW, *, label: str | None = None, campaign: str = CAMPAIGN
) -> RecentLookup:
    return RecentLookup(campaign, f"{lead:024x}", label or f"Lead {lead}", at)


def leads(found: list[RecentLookup]) -> list[str]:
    return [f"{int(r.lead_id, 16)}" for r in found]


async def count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


# the last campaign


async def test_no_campaign_remembered_yet(engine: AsyncEngine) -> None:
    assert await last_campaign(engine, TEAM, USER) is None


async def test_remember_and_recall_a_campaign(engine: AsyncEngine) -> None:
    await remember_campaign(engine, TEAM, USER, LastCampaign(CAMPAIGN, "Spring"), NOW)
    assert await last_campaign(engine, TEAM, USER) == LastCampaign(CAMPAIGN, "Spring")


async def test_the_latest_campaign_replaces_the_last(engine: AsyncEngine) -> None:
    await remember_campaign(engine, TEAM, USER, LastCampaign(CAMPAIGN, "Spring"), NOW)
    later = NOW + timedelta(minutes=1)
    await remember_campaign(engine, TEAM, USER, LastCampaign(OTHER_CAMPAIGN, None), later)
    assert await last_campaign(engine, TEAM, USER) == LastCampaign(OTHER_CAMPAIGN, None)
    assert await count(engine, user_preferences) == 1
    async with engine.connect() as conn:
        (updated,) = (await conn.execute(select(user_preferences.c.updated_at))).scalars()
    assert updated == later


async def test_campaigns_are_per_person_and_per_workspace(engine: AsyncEngine) -> None:
    await remember_campaign(engine, TEAM, USER, LastCampaign(CAMPAIGN, "Spring"), NOW)
    await remember_campaign(engine, OTHER_TEAM, USER, LastCampaign(OTHER_CAMPAIGN, "B"), NOW)
    await remember_campaign(engine, GRID_TEAM, USER, LastCampaign("grid-campaign", "G"), NOW)
    assert await last_campaign(engine, TEAM, USER) == LastCampaign(CAMPAIGN, "Spring")
    assert await last_campaign(engine, OTHER_TEAM, USER) == LastCampaign(OTHER_CAMPAIGN, "B")
    assert await last_campaign(engine, GRID_TEAM, USER) == LastCampaign("grid-campaign", "G")
    assert await last_campaign(engine, TEAM, OTHER_USER) is None


# recent lookups


async def test_no_lookups_yet(engine: AsyncEngine) -> None:
    assert await recent(engine, TEAM, USER) == []


async def test_recent_lookups_newest_first(engine: AsyncEngine) -> None:
    for n in range(3):
        await remember_lookup(engine, TEAM, USER, lookup(n, NOW + timedelta(minutes=n)))
    found = await recent(engine, TEAM, USER)
    assert leads(found) == ["2", "1", "0"]
    assert found[0] == RecentLookup(CAMPAIGN, f"{2:024x}", "Lead 2", NOW + timedelta(minutes=2))


async def test_order_is_by_time_not_by_insertion(engine: AsyncEngine) -> None:
    await remember_lookup(engine, TEAM, USER, lookup(1, NOW + timedelta(hours=1)))
    await remember_lookup(engine, TEAM, USER, lookup(2, NOW))
    assert leads(await recent(engine, TEAM, USER)) == ["1", "2"]


async def test_looking_up_a_lead_again_keeps_one_row_and_moves_it_first(
    engine: AsyncEngine,
) -> None:
    for n in range(3):
        await remember_lookup(engine, TEAM, USER, lookup(n, NOW + timedelta(minutes=n)))
    later = NOW + timedelta(hours=1)
    await remember_lookup(engine, TEAM, USER, lookup(0, later, label="Maria Gonzalez"))
    found = await recent(engine, TEAM, USER)
    assert leads(found) == ["0", "2", "1"]
    assert found[0].label == "Maria Gonzalez"
    assert found[0].looked_up_at == later
    assert await count(engine, recent_lookups) == 3


async def test_the_same_lead_id_in_two_campaigns_is_two_lookups(engine: AsyncEngine) -> None:
    await remember_lookup(engine, TEAM, USER, lookup(1))
    await remember_lookup(
        engine, TEAM, USER, lookup(1, NOW + timedelta(seconds=1), campaign=OTHER_CAMPAIGN)
    )
    found = await recent(engine, TEAM, USER)
    assert [r.campaign_id for r in found] == [OTHER_CAMPAIGN, CAMPAIGN]


async def test_only_the_newest_are_kept(engine: AsyncEngine) -> None:
    for n in range(RECENT_KEPT + 5):
        await remember_lookup(engine, TEAM, USER, lookup(n, NOW + timedelta(minutes=n)))
    assert await count(engine, recent_lookups) == RECENT_KEPT
    everything = await recent(engine, TEAM, USER, limit=100)
    newest = [str(n) for n in reversed(range(5, RECENT_KEPT + 5))]
    assert leads(everything) == newest
    assert leads(await recent(engine, TEAM, USER)) == newest[:5]


async def test_an_old_lookup_remembered_late_is_the_one_dropped(engine: AsyncEngine) -> None:
    for n in range(RECENT_KEPT):
        await remember_lookup(engine, TEAM, USER, lookup(n, NOW + timedelta(minutes=n)))
    await remember_lookup(engine, TEAM, USER, lookup(99, NOW - timedelta(days=1)))
    everything = await recent(engine, TEAM, USER, limit=100)
    assert "99" not in leads(everything)
    assert len(everything) == RECENT_KEPT


async def test_refreshing_a_lookup_does_not_drop_another(engine: AsyncEngine) -> None:
    for n in range(RECENT_KEPT):
        await remember_lookup(engine, TEAM, USER, lookup(n, NOW + timedelta(minutes=n)))
    await remember_lookup(engine, TEAM, USER, lookup(0, NOW + timedelta(hours=1)))
    everything = await recent(engine, TEAM, USER, limit=100)
    assert sorted(leads(everything), key=int) == [str(n) for n in range(RECENT_KEPT)]
    assert leads(everything)[0] == "0"


async def test_trimming_is_per_person_and_per_workspace(engine: AsyncEngine) -> None:
    await remember_lookup(engine, TEAM, OTHER_USER, lookup(500))
    await remember_lookup(engine, OTHER_TEAM, USER, lookup(600))
    await remember_lookup(engine, GRID_TEAM, USER, lookup(700))
    for n in range(RECENT_KEPT + 3):
        await remember_lookup(engine, TEAM, USER, lookup(n, NOW + timedelta(minutes=n)))
    assert leads(await recent(engine, TEAM, OTHER_USER)) == ["500"]
    assert leads(await recent(engine, OTHER_TEAM, USER)) == ["600"]
    assert leads(await recent(engine, GRID_TEAM, USER)) == ["700"]
    mine = await recent(engine, TEAM, USER, limit=100)
    assert len(mine) == RECENT_KEPT
    assert not {"500", "600", "700"} & set(leads(mine))


async def test_a_long_label_is_cut_to_fit(engine: AsyncEngine) -> None:
    await remember_lookup(engine, TEAM, USER, lookup(1, label="é" * 500))
    (found,) = await recent(engine, TEAM, USER)
    assert found.label == "é" * 200


async def test_moments_come_back_as_aware_utc(engine: AsyncEngine) -> None:
    local = NOW.astimezone(timezone(timedelta(hours=-8)))
    await remember_lookup(engine, TEAM, USER, lookup(1, local))
    (found,) = await recent(engine, TEAM, USER)
    assert found.looked_up_at == NOW
    assert found.looked_up_at.utcoffset() == timedelta(0)
