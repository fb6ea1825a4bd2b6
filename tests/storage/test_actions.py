"""The audit log of actions on leads: claimed once per key, finished, listed; and the grants."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import actions
from bot.storage.engine import create_engine
from bot.storage.migrate import alembic_config, upgrade_to_latest
from bot.storage.rows import ActionRecord, Grants, Workspace
from bot.storage.tables import action_grants, lead_actions, metadata
from tests.storage.support import CAMPAIGN, GRID_TEAM, NOW, OTHER_TEAM, TEAM, rows

LATER = NOW + timedelta(seconds=2)
RACERS = 10
HOSTILE = ["\x00", "\ud800", "\udfff x \ud83d", "'; DROP TABLE lead_actions; --", "é" * 500, ""]
HOSTILE_IDS = ["nul", "lone-surrogate", "reversed-pair", "sql", "long", "empty"]


def _action(
    n: int = 1,
    *,
    ws: Workspace = TEAM,
    result: str = "pending",
    user: str = "U0001",
    action: str = "stop",
) -> ActionRecord:
    """Action `n` on lead `n`, taken `n` seconds after NOW."""
    return ActionRecord(
        workspace=ws,
        user_id=user,
        campaign_id=CAMPAIGN,
        lead_id=f"lead-{n}",
        action=action,
        before_status=10,
        result=result,
        at=NOW + timedelta(seconds=n),
    )


def _leads(found: list[ActionRecord]) -> list[str]:
    """The leads of the actions listed, in order."""
    return [r.lead_id for r in found]


# Claiming


async def test_a_new_key_is_claimed_and_stays_pending_out_of_the_list(
    engine: AsyncEngine,
) -> None:
    assert await actions.claim(engine, "T0001:k1", _action()) is None

    (row,) = await rows(engine, lead_actions)
    assert (row["idempotency_key"], row["result"], row["finished_at"]) == (
        "T0001:k1",
        "pending",
        None,
    )
    assert row["changes"] == {}
    assert await actions.latest(engine, TEAM) == []


async def test_claiming_a_key_again_returns_the_first_claim_and_stores_nothing(
    engine: AsyncEngine,
) -> None:
    first = _action(user="U0001")
    await actions.claim(engine, "k1", first)

    again = await actions.claim(engine, "k1", _action(2, user="U0002", action="won"))

    assert again == first
    assert len(await rows(engine, lead_actions)) == 1


async def test_a_finished_claim_is_returned_with_its_result(engine: AsyncEngine) -> None:
    await actions.claim(engine, "k1", _action())
    await actions.finish(engine, "k1", result="applied", at=LATER, after_status=100)

    again = await actions.claim(engine, "k1", _action())

    assert again is not None
    assert (again.result, again.after_status) == ("applied", 100)


async def test_of_many_claims_at_once_exactly_one_wins(engine: AsyncEngine) -> None:
    claims = [_action(user=f"U{n:04d}") for n in range(RACERS)]

    answers = await asyncio.gather(*(actions.claim(engine, "k1", c) for c in claims))

    winners = [c for c, answer in zip(claims, answers, strict=True) if answer is None]
    assert len(winners) == 1
    # Every other claimant is shown the winner's claim.
    assert [a for a in answers if a is not None] == winners * (RACERS - 1)
    (row,) = await rows(engine, lead_actions)
    assert row["user_id"] == winners[0].user_id


async def test_many_claims_at_once_on_separate_engines_one_wins(
    engine: AsyncEngine, database_url: str
) -> None:
    # Separate connection pools, as separate dynos would have.
    others = [create_engine(database_url) for _ in range(2)]
    engines = [engine, *others]
    claims = [_action(user=f"U{n:04d}") for n in range(RACERS)]
    try:
        answers = await asyncio.gather(
            *(actions.claim(engines[n % 3], "k1", c) for n, c in enumerate(claims))
        )
    finally:
        for other in others:
            await other.dispose()

    (winner,) = [c for c, answer in zip(claims, answers, strict=True) if answer is None]
    assert [a for a in answers if a is not None] == [winner] * (RACERS - 1)


# Finishing, releasing, refusing


async def test_a_finished_action_is_listed_as_it_ended(engine: AsyncEngine) -> None:
    await actions.claim(engine, "k1", _action(action="edit"))
    changes = {"status": 100, "externalId": "crm-1"}

    await actions.finish(
        engine, "k1", result="applied", at=LATER, after_status=100, detail="ok", changes=changes
    )

    (listed,) = await actions.latest(engine, TEAM)
    assert listed == dataclasses.replace(
        _action(action="edit"), result="applied", after_status=100, detail="ok", changes=changes
    )
    (row,) = await rows(engine, lead_actions)
    assert row["finished_at"] == LATER


async def test_finishing_keeps_the_claims_changes_unless_given(engine: AsyncEngine) -> None:
    claimed = dataclasses.replace(_action(), changes={"status": 100})
    await actions.claim(engine, "k1", claimed)

    await actions.finish(engine, "k1", result="failed", at=LATER, detail="NLPearl said 500")

    (listed,) = await actions.latest(engine, TEAM)
    assert (listed.changes, listed.detail, listed.after_status) == (
        {"status": 100},
        "NLPearl said 500",
        None,
    )


async def test_a_finished_claim_is_not_finished_again(engine: AsyncEngine) -> None:
    await actions.claim(engine, "k1", _action())
    await actions.finish(engine, "k1", result="applied", at=LATER, after_status=100)

    await actions.finish(engine, "k1", result="failed", at=LATER, detail="late")

    (listed,) = await actions.latest(engine, TEAM)
    assert (listed.result, listed.after_status, listed.detail) == ("applied", 100, None)


async def test_finishing_or_releasing_an_unknown_key_does_nothing(engine: AsyncEngine) -> None:
    await actions.finish(engine, "nothing", result="applied", at=LATER)
    await actions.release(engine, "nothing")

    assert await rows(engine, lead_actions) == []


async def test_a_released_claim_can_be_claimed_anew(engine: AsyncEngine) -> None:
    await actions.claim(engine, "k1", _action(user="U0001"))

    await actions.release(engine, "k1")

    assert await rows(engine, lead_actions) == []
    assert await actions.claim(engine, "k1", _action(user="U0002")) is None
    (row,) = await rows(engine, lead_actions)
    assert row["user_id"] == "U0002"


async def test_releasing_leaves_a_finished_claim_alone(engine: AsyncEngine) -> None:
    await actions.claim(engine, "k1", _action())
    await actions.finish(engine, "k1", result="stale", at=LATER)

    await actions.release(engine, "k1")

    again = await actions.claim(engine, "k1", _action())
    assert again is not None
    assert again.result == "stale"


async def test_releasing_one_key_leaves_the_others(engine: AsyncEngine) -> None:
    await actions.claim(engine, "k1", _action(1))
    await actions.claim(engine, "k2", _action(2))

    await actions.release(engine, "k1")

    assert [r["idempotency_key"] for r in await rows(engine, lead_actions)] == ["k2"]


async def test_refusals_are_kept_without_a_key_any_number_of_times(engine: AsyncEngine) -> None:
    refused = dataclasses.replace(_action(), result="denied", detail="not allowed")

    await actions.record(engine, refused)
    await actions.record(engine, refused)

    assert await actions.latest(engine, TEAM) == [refused, refused]
    assert [r["idempotency_key"] for r in await rows(engine, lead_actions)] == [None, None]


# Listing


async def test_the_latest_come_newest_first_by_time_not_insertion(engine: AsyncEngine) -> None:
    for n in (3, 1, 2):
        await actions.record(engine, _action(n, result="denied"))

    assert _leads(await actions.latest(engine, TEAM)) == ["lead-3", "lead-2", "lead-1"]
    assert _leads(await actions.latest(engine, TEAM, limit=2)) == ["lead-3", "lead-2"]


async def test_the_latest_are_ten_by_default(engine: AsyncEngine) -> None:
    for n in range(12):
        await actions.record(engine, _action(n, result="denied"))

    listed = await actions.latest(engine, TEAM)

    assert _leads(listed) == [f"lead-{n}" for n in range(11, 1, -1)]


async def test_the_latest_leave_pending_claims_out(engine: AsyncEngine) -> None:
    await actions.claim(engine, "k1", _action(1))
    await actions.claim(engine, "k2", _action(2))
    await actions.finish(engine, "k1", result="applied", at=LATER)

    assert _leads(await actions.latest(engine, TEAM)) == ["lead-1"]


async def test_each_workspace_sees_only_its_own_actions(engine: AsyncEngine) -> None:
    await actions.record(engine, _action(1, ws=TEAM, result="denied"))
    await actions.record(engine, _action(2, ws=OTHER_TEAM, result="denied"))
    await actions.record(engine, _action(3, ws=GRID_TEAM, result="denied"))

    assert _leads(await actions.latest(engine, TEAM)) == ["lead-1"]
    assert _leads(await actions.latest(engine, OTHER_TEAM)) == ["lead-2"]
    # The same team ID under an Enterprise Grid org is a workspace of its own.
    (grid,) = await actions.latest(engine, GRID_TEAM)
    assert (grid.lead_id, grid.workspace) == ("lead-3", GRID_TEAM)
    assert await actions.latest(engine, Workspace("T0003")) == []


# Text that does not fit or is not storable as it is


async def test_long_ids_are_cut_to_fit(engine: AsyncEngine) -> None:
    long = dataclasses.replace(
        _action(), campaign_id="c" * 150, lead_id="é" * 150, user_id="U" * 50, result="denied"
    )

    await actions.record(engine, long)

    (listed,) = await actions.latest(engine, TEAM)
    assert (listed.campaign_id, listed.lead_id, listed.user_id) == ("c" * 100, "é" * 100, "U" * 32)


async def test_long_keys_stay_distinct_and_are_found_again(engine: AsyncEngine) -> None:
    # The same first 120 characters: cutting would make them one key.
    first, second = "k" * 120 + "1", "k" * 120 + "2"

    assert await actions.claim(engine, first, _action(1)) is None
    assert await actions.claim(engine, second, _action(2)) is None
    again = await actions.claim(engine, first, _action(3))
    await actions.finish(engine, second, result="applied", at=LATER)

    assert again == _action(1)
    assert _leads(await actions.latest(engine, TEAM)) == ["lead-2"]
    assert all(len(r["idempotency_key"]) <= 120 for r in await rows(engine, lead_actions))


@pytest.mark.parametrize("hostile", HOSTILE, ids=HOSTILE_IDS)
async def test_hostile_text_is_stored_on_every_database(engine: AsyncEngine, hostile: str) -> None:
    await _store_everywhere(engine, hostile, hostile)

    listed = await actions.latest(engine, TEAM)
    assert sorted(r.result for r in listed) == ["applied", "denied"]
    for found in listed:
        assert "\x00" not in found.lead_id + (found.detail or "")
        assert len(found.lead_id) <= 100
        assert found.detail is not None
        assert found.detail.startswith(found.lead_id)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.text(max_size=300), text=st.text(max_size=300))
@example(key="\ud800", text="\x00")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_any_text_is_stored_on_sqlite(engine: AsyncEngine, key: str, text: str) -> None:
    await _store_everywhere(engine, key, text)


async def _store_everywhere(engine: AsyncEngine, key: str, text: str) -> None:
    """Put `text` in every text field of a claim, its finish, a refusal and a grant."""
    record = ActionRecord(
        workspace=TEAM,
        user_id=text,
        campaign_id=text,
        lead_id=text,
        action=text,
        before_status=None,
        result="pending",
        at=NOW,
        detail=text,
    )
    await actions.claim(engine, key, record)
    await actions.claim(engine, key, record)
    await actions.finish(engine, key, result="applied", at=LATER, detail=text)
    await actions.release(engine, key)
    await actions.record(engine, dataclasses.replace(record, result="denied"))
    await actions.set_grants(engine, TEAM, Grants((text,), (text,)), text, NOW)
    await actions.grants_of(engine, TEAM)


# Grants


async def test_a_workspace_starts_with_no_grants(engine: AsyncEngine) -> None:
    assert await actions.grants_of(engine, TEAM) == Grants()


async def test_grants_come_back_sorted_and_once_each(engine: AsyncEngine) -> None:
    grants = Grants(users=("U3", "U1", "U2", "U1"), usergroups=("S2", "S1"))

    await actions.set_grants(engine, TEAM, grants, "UADMIN", NOW)

    assert await actions.grants_of(engine, TEAM) == Grants(("U1", "U2", "U3"), ("S1", "S2"))
    stored = await rows(engine, action_grants)
    assert {(r["granted_by"], r["granted_at"]) for r in stored} == {("UADMIN", NOW)}


async def test_setting_grants_replaces_them_all(engine: AsyncEngine) -> None:
    await actions.set_grants(engine, TEAM, Grants(("U1", "U2"), ("S1",)), "UADMIN", NOW)

    await actions.set_grants(engine, TEAM, Grants(("U2", "U3"), ()), "UOWNER", LATER)

    assert await actions.grants_of(engine, TEAM) == Grants(("U2", "U3"), ())
    assert {r["granted_by"] for r in await rows(engine, action_grants)} == {"UOWNER"}
    await actions.set_grants(engine, TEAM, Grants(), "UOWNER", LATER)
    assert await actions.grants_of(engine, TEAM) == Grants()
    assert await rows(engine, action_grants) == []


async def test_the_same_id_may_be_granted_as_a_user_and_as_a_group(engine: AsyncEngine) -> None:
    await actions.set_grants(engine, TEAM, Grants(("X1",), ("X1",)), "UADMIN", NOW)

    assert await actions.grants_of(engine, TEAM) == Grants(("X1",), ("X1",))


async def test_grants_are_per_workspace(engine: AsyncEngine) -> None:
    await actions.set_grants(engine, TEAM, Grants(("U1",), ()), "UADMIN", NOW)
    await actions.set_grants(engine, GRID_TEAM, Grants(("U2",), ()), "UADMIN", NOW)
    await actions.set_grants(engine, OTHER_TEAM, Grants((), ("S9",)), "UADMIN", NOW)

    # Replacing one workspace's grants leaves the others'.
    await actions.set_grants(engine, TEAM, Grants(("U5",), ()), "UADMIN", LATER)

    assert await actions.grants_of(engine, TEAM) == Grants(("U5",), ())
    assert await actions.grants_of(engine, GRID_TEAM) == Grants(("U2",), ())
    assert await actions.grants_of(engine, OTHER_TEAM) == Grants((), ("S9",))


async def test_grants_set_at_once_end_as_one_of_them_whole(engine: AsyncEngine) -> None:
    # Overlapping sets: merged or half-replaced grants would show as a mix.
    sets = [Grants((f"U{n}", "U99"), (f"S{n}",)) for n in range(RACERS)]

    await asyncio.gather(*(actions.set_grants(engine, TEAM, g, "UADMIN", NOW) for g in sets))

    assert await actions.grants_of(engine, TEAM) in sets


# The migration


async def test_the_migration_goes_down_and_up_again(database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(upgrade_to_latest, database_url)

    await asyncio.to_thread(command.downgrade, config, "0003")
    assert not {"lead_actions", "action_grants"} & await _tables(database_url)

    await asyncio.to_thread(upgrade_to_latest, database_url)
    assert {"lead_actions", "action_grants"} <= await _tables(database_url)
    assert await _differences(database_url) == []


async def _tables(database_url: str) -> set[str]:
    """The tables the database has."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _differences(database_url: str) -> list[object]:
    """How the database's schema differs from the table definitions."""

    def compare(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()
