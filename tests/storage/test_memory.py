"""Per-person memory: the last campaign chosen and the recent lookups, per workspace."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.memory import (
    RECENT_KEPT,
    last_campaign,
    recent,
    remember_campaign,
    remember_lookup,
)
from bot.storage.rows import LastCampaign, RecentLookup
from bot.storage.tables import recent_lookups, user_preferences
from tests.storage.support import GRID_TEAM, NOW, OTHER_TEAM, TEAM, rows


def _lookup(n: int, *, campaign: str = "camp-1", label: str | None = None) -> RecentLookup:
    return RecentLookup(campaign, f"lead-{n}", label or f"Lead {n}", NOW + timedelta(minutes=n))


async def test_the_last_campaign_is_remembered_and_replaced(engine: AsyncEngine) -> None:
    assert await last_campaign(engine, TEAM, "U1") is None

    await remember_campaign(engine, TEAM, "U1", LastCampaign("camp-1", "Spring"), NOW)
    assert await last_campaign(engine, TEAM, "U1") == LastCampaign("camp-1", "Spring")

    later = NOW + timedelta(hours=1)
    await remember_campaign(engine, TEAM, "U1", LastCampaign("camp-2", None), later)

    assert await last_campaign(engine, TEAM, "U1") == LastCampaign("camp-2", None)
    (row,) = await rows(engine, user_preferences)
    assert row["updated_at"] == later


async def test_the_last_campaign_is_per_person_and_workspace(engine: AsyncEngine) -> None:
    await remember_campaign(engine, TEAM, "U1", LastCampaign("camp-1", "Ours"), NOW)
    await remember_campaign(engine, OTHER_TEAM, "U1", LastCampaign("camp-9", "Theirs"), NOW)

    assert await last_campaign(engine, TEAM, "U1") == LastCampaign("camp-1", "Ours")
    assert await last_campaign(engine, OTHER_TEAM, "U1") == LastCampaign("camp-9", "Theirs")
    assert await last_campaign(engine, GRID_TEAM, "U1") is None
    assert await last_campaign(engine, TEAM, "U2") is None


async def test_recent_lookups_come_newest_first_and_refresh_in_place(
    engine: AsyncEngine,
) -> None:
    for n in (1, 2, 3):
        await remember_lookup(engine, TEAM, "U1", _lookup(n))

    assert [r.lead_id for r in await recent(engine, TEAM, "U1")] == ["lead-3", "lead-2", "lead-1"]
    first = await recent(engine, TEAM, "U1", limit=1)
    assert first == [_lookup(3)]

    # Looking lead 1 up again moves it to the top with its new label, without a second row.
    again = RecentLookup("camp-1", "lead-1", "Renamed", NOW + timedelta(hours=1))
    await remember_lookup(engine, TEAM, "U1", again)

    listed = await recent(engine, TEAM, "U1")
    assert [r.lead_id for r in listed] == ["lead-1", "lead-3", "lead-2"]
    assert listed[0] == again
    assert len(await rows(engine, recent_lookups)) == 3


async def test_only_the_newest_lookups_are_kept(engine: AsyncEngine) -> None:
    for n in range(RECENT_KEPT + 4):
        await remember_lookup(engine, TEAM, "U1", _lookup(n))
    await remember_lookup(engine, TEAM, "U2", _lookup(0))

    mine = [r for r in await rows(engine, recent_lookups) if r["user_id"] == "U1"]
    assert sorted(r["lead_id"] for r in mine) == sorted(
        f"lead-{n}" for n in range(4, RECENT_KEPT + 4)
    )
    # Trimming one person's list leaves everyone else's alone.
    assert [r.lead_id for r in await recent(engine, TEAM, "U2")] == ["lead-0"]
    assert len(await recent(engine, TEAM, "U1", limit=100)) == RECENT_KEPT


async def test_recent_lookups_are_per_workspace(engine: AsyncEngine) -> None:
    for n in range(RECENT_KEPT):
        await remember_lookup(engine, TEAM, "U1", _lookup(n))
    await remember_lookup(engine, GRID_TEAM, "U1", _lookup(100, campaign="camp-g"))
    await remember_lookup(engine, OTHER_TEAM, "U1", _lookup(200, campaign="camp-o"))

    assert [r.campaign_id for r in await recent(engine, GRID_TEAM, "U1")] == ["camp-g"]
    assert [r.campaign_id for r in await recent(engine, OTHER_TEAM, "U1")] == ["camp-o"]
    assert len(await recent(engine, TEAM, "U1", limit=100)) == RECENT_KEPT


async def test_a_long_label_is_cut_to_fit(engine: AsyncEngine) -> None:
    await remember_lookup(engine, TEAM, "U1", _lookup(1, label="x" * 500))

    (found,) = await recent(engine, TEAM, "U1")
    assert found.label == "x" * 200
    assert found.looked_up_at == NOW + timedelta(minutes=1)
