"""Per-person memory: the last campaign chosen and the recent lookups, per workspace."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

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
from tests.storage.support import CAMPAIGN, GRID_TEAM, NOW, OTHER_TEAM, TEAM, rows

OTHER_CAMPAIGN = "camp-2"


def _lookup(
    n: int, at: datetime | None = None, *, campaign: str = CAMPAIGN, label: str | None = None
) -> RecentLookup:
    """Lead `n` looked up at `at` (by default `n` minutes after NOW)."""
    when = NOW + timedelta(minutes=n) if at is None else at
    return RecentLookup(campaign, f"lead-{n}", label or f"Lead {n}", when)


def _leads(found: list[RecentLookup]) -> list[int]:
    """The numbers of the leads listed, in order."""
    return [int(r.lead_id.removeprefix("lead-")) for r in found]


# The last campaign


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

    # The same team ID under an Enterprise Grid org keeps its own, beside the plain team's.
    await remember_campaign(engine, GRID_TEAM, "U1", LastCampaign("camp-g", "Grid"), NOW)
    assert await last_campaign(engine, GRID_TEAM, "U1") == LastCampaign("camp-g", "Grid")
    assert await last_campaign(engine, TEAM, "U1") == LastCampaign("camp-1", "Ours")


# Recent lookups


async def test_no_lookups_are_listed_before_the_first(engine: AsyncEngine) -> None:
    assert await recent(engine, TEAM, "U1") == []


async def test_recent_lookups_come_newest_first_and_refresh_in_place(
    engine: AsyncEngine,
) -> None:
    for n in (1, 2, 3):
        await remember_lookup(engine, TEAM, "U1", _lookup(n))

    assert [r.lead_id for r in await recent(engine, TEAM, "U1")] == ["lead-3", "lead-2", "lead-1"]
    first = await recent(engine, TEAM, "U1", limit=1)
    assert first == [_lookup(3)]

    # Looking lead 1 up again moves it to the top with its new label, without a second row.
    again = RecentLookup(CAMPAIGN, "lead-1", "Renamed", NOW + timedelta(hours=1))
    await remember_lookup(engine, TEAM, "U1", again)

    listed = await recent(engine, TEAM, "U1")
    assert [r.lead_id for r in listed] == ["lead-1", "lead-3", "lead-2"]
    assert listed[0] == again
    assert len(await rows(engine, recent_lookups)) == 3


async def test_recent_lookups_are_ordered_by_time_not_by_insertion(engine: AsyncEngine) -> None:
    await remember_lookup(engine, TEAM, "U1", _lookup(1, NOW + timedelta(hours=1)))
    await remember_lookup(engine, TEAM, "U1", _lookup(2, NOW))

    assert _leads(await recent(engine, TEAM, "U1")) == [1, 2]


async def test_the_same_lead_id_in_two_campaigns_is_two_lookups(engine: AsyncEngine) -> None:
    await remember_lookup(engine, TEAM, "U1", _lookup(1, NOW))
    other = _lookup(1, NOW + timedelta(seconds=1), campaign=OTHER_CAMPAIGN)
    await remember_lookup(engine, TEAM, "U1", other)

    found = await recent(engine, TEAM, "U1")
    assert [r.campaign_id for r in found] == [OTHER_CAMPAIGN, CAMPAIGN]


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
    newest = list(reversed(range(4, RECENT_KEPT + 4)))
    assert _leads(await recent(engine, TEAM, "U1", limit=100)) == newest
    # By default, the five newest.
    assert _leads(await recent(engine, TEAM, "U1")) == newest[:5]


async def test_an_old_lookup_remembered_late_is_the_one_dropped(engine: AsyncEngine) -> None:
    for n in range(RECENT_KEPT):
        await remember_lookup(engine, TEAM, "U1", _lookup(n))
    await remember_lookup(engine, TEAM, "U1", _lookup(99, NOW - timedelta(days=1)))

    everything = await recent(engine, TEAM, "U1", limit=100)
    assert 99 not in _leads(everything)
    assert len(everything) == RECENT_KEPT


async def test_refreshing_a_lookup_does_not_drop_another(engine: AsyncEngine) -> None:
    for n in range(RECENT_KEPT):
        await remember_lookup(engine, TEAM, "U1", _lookup(n))
    await remember_lookup(engine, TEAM, "U1", _lookup(0, NOW + timedelta(hours=1)))

    everything = await recent(engine, TEAM, "U1", limit=100)
    assert sorted(_leads(everything)) == list(range(RECENT_KEPT))
    assert _leads(everything)[0] == 0


async def test_recent_lookups_are_per_workspace(engine: AsyncEngine) -> None:
    for n in range(RECENT_KEPT):
        await remember_lookup(engine, TEAM, "U1", _lookup(n))
    await remember_lookup(engine, GRID_TEAM, "U1", _lookup(100, campaign="camp-g"))
    await remember_lookup(engine, OTHER_TEAM, "U1", _lookup(200, campaign="camp-o"))

    assert [r.campaign_id for r in await recent(engine, GRID_TEAM, "U1")] == ["camp-g"]
    assert [r.campaign_id for r in await recent(engine, OTHER_TEAM, "U1")] == ["camp-o"]
    assert len(await recent(engine, TEAM, "U1", limit=100)) == RECENT_KEPT


async def test_trimming_one_list_spares_other_people_and_workspaces(engine: AsyncEngine) -> None:
    await remember_lookup(engine, TEAM, "U2", _lookup(500, NOW))
    await remember_lookup(engine, OTHER_TEAM, "U1", _lookup(600, NOW))
    await remember_lookup(engine, GRID_TEAM, "U1", _lookup(700, NOW))
    for n in range(RECENT_KEPT + 3):
        await remember_lookup(engine, TEAM, "U1", _lookup(n))

    assert _leads(await recent(engine, TEAM, "U2")) == [500]
    assert _leads(await recent(engine, OTHER_TEAM, "U1")) == [600]
    assert _leads(await recent(engine, GRID_TEAM, "U1")) == [700]
    mine = await recent(engine, TEAM, "U1", limit=100)
    assert len(mine) == RECENT_KEPT
    assert not {500, 600, 700} & set(_leads(mine))


async def test_a_long_label_is_cut_to_fit(engine: AsyncEngine) -> None:
    # Cut by characters, not bytes: each "é" is two bytes in UTF-8.
    await remember_lookup(engine, TEAM, "U1", _lookup(1, label="é" * 500))

    (found,) = await recent(engine, TEAM, "U1")
    assert found.label == "é" * 200
    assert found.looked_up_at == NOW + timedelta(minutes=1)


async def test_moments_come_back_as_aware_utc(engine: AsyncEngine) -> None:
    local = NOW.astimezone(timezone(timedelta(hours=-8)))
    await remember_lookup(engine, TEAM, "U1", _lookup(1, local))

    (found,) = await recent(engine, TEAM, "U1")
    assert found.looked_up_at == NOW
    assert found.looked_up_at.utcoffset() == timedelta(0)
