"""Digest subscriptions: one per channel and campaign, re-timed in place, due in order."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.digests import (
    digest_by_id,
    digests_of,
    due_digests,
    set_digest,
    stop_digest,
    stop_digest_for_good,
)
from bot.storage.rows import DigestInfo, Workspace
from bot.storage.tables import digests
from tests.storage.support import CAMPAIGN, GRID_TEAM, NOW, OTHER_TEAM, TEAM, rows

OTHER_CAMPAIGN = "camp-2"
DUE = NOW + timedelta(hours=2)
TICK = timedelta(microseconds=1)


async def _set(
    engine: AsyncEngine,
    ws: Workspace = TEAM,
    *,
    channel: str = "C1",
    campaign: str = CAMPAIGN,
    at_time: str = "09:00",
    zone: str = "Europe/Paris",
    user: str | None = "U0001",
    due: datetime = DUE,
    now: datetime = NOW,
) -> tuple[DigestInfo, bool]:
    """Start or re-time a digest."""
    return await set_digest(
        engine,
        ws,
        channel_id=channel,
        campaign_id=campaign,
        at_time=at_time,
        time_zone=zone,
        user_id=user,
        next_due_at=due,
        now=now,
    )


def _where(infos: list[DigestInfo]) -> list[tuple[str, str]]:
    """The channel and campaign of each digest."""
    return [(d.channel_id, d.campaign_id) for d in infos]


async def test_a_new_digest_is_stored_and_said_to_be_new(engine: AsyncEngine) -> None:
    info, new = await _set(engine, GRID_TEAM)

    assert new is True
    assert info == DigestInfo(
        id=info.id,
        workspace=GRID_TEAM,
        channel_id="C1",
        campaign_id=CAMPAIGN,
        at_time="09:00",
        time_zone="Europe/Paris",
        next_due_at=DUE,
        created_by="U0001",
        problem=None,
    )
    (row,) = await rows(engine, digests)
    assert (row["team_id"], row["enterprise_id"], row["created_at"]) == ("T0001", "E0001", NOW)


async def test_setting_it_again_re_times_the_same_digest(engine: AsyncEngine) -> None:
    first, _ = await _set(engine)
    later = NOW + timedelta(days=3)

    again, new = await _set(
        engine, at_time="17:30", zone="America/New_York", user="U0002", due=later, now=later
    )

    assert new is False
    assert (again.id, again.at_time, again.time_zone, again.next_due_at) == (
        first.id,
        "17:30",
        "America/New_York",
        later,
    )
    # Who started it, and when, stay as they were.
    assert again.created_by == "U0001"
    (row,) = await rows(engine, digests)
    assert row["created_at"] == NOW


async def test_setting_it_again_lifts_a_problem(engine: AsyncEngine) -> None:
    info, _ = await _set(engine)
    await stop_digest_for_good(engine, info.id, "channel_not_found")

    again, new = await _set(engine)

    assert (again.id, again.problem, new) == (info.id, None, False)
    assert _where(await due_digests(engine, DUE)) == [("C1", CAMPAIGN)]


async def test_a_digest_is_one_per_channel_campaign_and_workspace(engine: AsyncEngine) -> None:
    base, _ = await _set(engine)

    others = [
        await _set(engine, channel="C2"),
        await _set(engine, campaign=OTHER_CAMPAIGN),
        await _set(engine, GRID_TEAM),
        await _set(engine, OTHER_TEAM),
    ]

    assert all(new for _, new in others)
    assert len({base.id, *(info.id for info, _ in others)}) == 5


async def test_stopping_a_digest_removes_it_once(engine: AsyncEngine) -> None:
    info, _ = await _set(engine)
    await _set(engine, channel="C2")

    assert await stop_digest(engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN)
    assert not await stop_digest(engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN)

    assert await digest_by_id(engine, info.id) is None
    assert _where(await digests_of(engine, TEAM)) == [("C2", CAMPAIGN)]
    # And a new one afterwards is new.
    assert (await _set(engine))[1] is True


async def test_stopping_keeps_to_its_workspace_channel_and_campaign(engine: AsyncEngine) -> None:
    await _set(engine)
    await _set(engine, GRID_TEAM)

    assert not await stop_digest(engine, OTHER_TEAM, channel_id="C1", campaign_id=CAMPAIGN)
    assert not await stop_digest(engine, TEAM, channel_id="C2", campaign_id=CAMPAIGN)
    assert not await stop_digest(engine, TEAM, channel_id="C1", campaign_id=OTHER_CAMPAIGN)
    assert await stop_digest(engine, GRID_TEAM, channel_id="C1", campaign_id=CAMPAIGN)

    assert _where(await digests_of(engine, TEAM)) == [("C1", CAMPAIGN)]
    assert await digests_of(engine, GRID_TEAM) == []


async def test_a_workspaces_digests_are_listed_by_channel_then_campaign(
    engine: AsyncEngine,
) -> None:
    for channel, campaign in [("C2", CAMPAIGN), ("C1", OTHER_CAMPAIGN), ("C1", CAMPAIGN)]:
        await _set(engine, channel=channel, campaign=campaign)
    await _set(engine, GRID_TEAM, channel="C0")
    await _set(engine, OTHER_TEAM, channel="C1")

    assert _where(await digests_of(engine, TEAM)) == [
        ("C1", CAMPAIGN),
        ("C1", OTHER_CAMPAIGN),
        ("C2", CAMPAIGN),
    ]
    assert _where(await digests_of(engine, TEAM, channel_id="C1")) == [
        ("C1", CAMPAIGN),
        ("C1", OTHER_CAMPAIGN),
    ]
    assert await digests_of(engine, TEAM, channel_id="C9") == []
    assert _where(await digests_of(engine, GRID_TEAM)) == [("C0", CAMPAIGN)]
    assert await digests_of(engine, Workspace("T0003")) == []


async def test_due_digests_are_those_whose_time_has_come_oldest_first(
    engine: AsyncEngine,
) -> None:
    await _set(engine, channel="C-later", due=NOW + TICK)
    await _set(engine, channel="C-now", due=NOW)
    await _set(engine, OTHER_TEAM, channel="C-oldest", due=NOW - timedelta(days=2))
    await _set(engine, channel="C-tie", due=NOW)

    due = await due_digests(engine, NOW)

    assert [d.channel_id for d in due] == ["C-oldest", "C-now", "C-tie"]
    assert [d.channel_id for d in await due_digests(engine, NOW, limit=2)] == [
        "C-oldest",
        "C-now",
    ]
    assert await due_digests(engine, NOW - timedelta(days=3)) == []


async def test_a_digest_stopped_for_good_is_never_due(engine: AsyncEngine) -> None:
    info, _ = await _set(engine, due=NOW)
    await _set(engine, channel="C2", due=NOW)

    await stop_digest_for_good(engine, info.id, "is_archived " + "x" * 300)

    assert [d.channel_id for d in await due_digests(engine, NOW + timedelta(days=9))] == ["C2"]
    stopped = await digest_by_id(engine, info.id)
    assert stopped is not None
    assert stopped.problem == ("is_archived " + "x" * 300)[:200]
    # It is still listed, so people see why it stopped.
    assert [d.problem is not None for d in await digests_of(engine, TEAM)] == [True, False]


async def test_a_digest_is_found_by_its_id_while_it_exists(engine: AsyncEngine) -> None:
    info, _ = await _set(engine, GRID_TEAM, user=None)

    assert await digest_by_id(engine, info.id) == info
    assert info.created_by is None
    assert await digest_by_id(engine, info.id + 1) is None
