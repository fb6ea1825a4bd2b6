"""Forgetting a workspace: every row the app keeps for it goes, in every table; nothing else."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import RowMapping, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import actions, outbox
from bot.storage.accounts import save_account
from bot.storage.digests import set_digest
from bot.storage.forget import forget_workspace
from bot.storage.installations import installation_store, state_store
from bot.storage.jobs import claim_job
from bot.storage.memory import remember_lookup
from bot.storage.notices import NewNotice
from bot.storage.rows import ActionRecord, Grants, RecentLookup, Workspace
from bot.storage.sealing import Sealer, generate_key
from bot.storage.sweep import remember
from bot.storage.tables import metadata, webhook_endpoints
from bot.storage.watch import AlertState, set_alert_state
from tests.storage.support import (
    CAMPAIGN,
    LEAD_A,
    LEASE,
    NOW,
    POST_INTERVAL,
    lead_event,
    queue,
    rows,
    subscribed,
)

CLIENT_ID = "1111.2222"
SEALER = Sealer.from_setting(generate_key())

# Two workspaces of one Enterprise Grid org and the org itself (an org-wide install has no
# team), a workspace of another org with A's team ID, and one with no org, with A's team ID too.
A = Workspace("T1", enterprise_id="E1")
B = Workspace("T2", enterprise_id="E1")
ORG = Workspace("", enterprise_id="E1")
C = Workspace("T1", enterprise_id="E2")
D = Workspace("T1")
EVERYONE = (A, B, ORG, C, D)
# Tables that belong to no workspace: they must hold no workspace's data.
SHARED = {"jobs", "slack_oauth_states"}

# Per table: how many rows each workspace owns (None: the app's own, shared rows).
Census = dict[str, Counter[Workspace | None]]


async def populate(engine: AsyncEngine, ws: Workspace) -> None:
    """Something in every table the app keeps per workspace, through the storage functions."""
    token = await subscribed(engine, ws, channel="C1")
    assert token is not None
    await queue(engine, token, lead_event())
    lookup = RecentLookup(CAMPAIGN, "lead-1", "Dana W", NOW)
    await remember_lookup(engine, ws, "U1", lookup, campaign_name="Spring")
    await actions.record(
        engine, ActionRecord(ws, "U1", CAMPAIGN, "lead-1", "stop", 10, "denied", NOW)
    )
    await actions.set_grants(engine, ws, Grants(users=("U2",), usergroups=("S1",)), "U1", NOW)
    await set_digest(
        engine,
        ws,
        channel_id="C1",
        campaign_id=CAMPAIGN,
        at_time="09:00",
        time_zone="Europe/Paris",
        user_id="U1",
        next_due_at=NOW + timedelta(days=1),
        now=NOW,
    )
    alert = NewNotice(ws, "C1", CAMPAIGN, "alert", f"alert:{ws}:silent", NOW)
    silent = AlertState("silent", True, NOW, {"minutes": 150})
    assert await set_alert_state(
        engine, ws, CAMPAIGN, before=None, after=silent, notices=[alert], now=NOW
    )
    (endpoint,) = await rows(
        engine,
        webhook_endpoints,
        webhook_endpoints.c.team_id == ws.team_id,
        webhook_endpoints.c.enterprise_id == ws.enterprise_id,
    )
    await remember(engine, endpoint["id"], {"lead-1": 10, "lead-2": None}, NOW)
    await save_account(
        engine,
        SEALER,
        ws,
        account_id=f"acct-{ws}",
        secret="s3cret",
        account_name=None,
        connected_by="U1",
        now=NOW,
    )
    await installation_store(engine, CLIENT_ID).async_save(installation(ws))


def installation(ws: Workspace) -> Installation:
    """An install as slack_sdk keeps it: None, not "", for a missing org or team."""
    return Installation(
        app_id="A0001",
        enterprise_id=ws.enterprise_id or None,
        team_id=ws.team_id or None,
        bot_token=f"xoxb-{ws.enterprise_id}-{ws.team_id}",
        bot_id="B0001",
        bot_user_id="U0BOT",
        bot_scopes=["commands", "chat:write"],
        user_id="U1",
        user_token=f"xoxp-{ws.enterprise_id}-{ws.team_id}",
        is_enterprise_install=not ws.team_id,
        installed_at=NOW.timestamp(),
    )


async def populate_shared(engine: AsyncEngine) -> None:
    """The rows made for every workspace at once: posting's pacing and threads, and app rows."""
    batches = await outbox.claim_batches(
        engine, worker_id="w1", now=NOW, lease=LEASE, post_interval=POST_INTERVAL, limit=50
    )
    assert len(batches) == len(EVERYONE)
    for batch in batches:
        await outbox.start_thread(engine, batch, {"status": 10, "lead": LEAD_A}, NOW)
    await state_store(engine).async_issue()
    await claim_job(engine, "sweep", worker_id="w1", now=NOW, lease=LEASE, first_run_at=NOW - LEASE)


@pytest.fixture
async def everyone(engine: AsyncEngine) -> Census:
    """A database holding rows of every workspace in EVERYONE, in every table: its census."""
    for ws in EVERYONE:
        await populate(engine, ws)
    await populate_shared(engine)
    return await census(engine)


async def census(engine: AsyncEngine) -> Census:
    """Who owns each row of each table: its own workspace columns say, or its parent's do."""
    referenced = {
        (key.column.table.name, key.column.name)
        for table in metadata.tables.values()
        for key in table.foreign_keys
    }
    owners: dict[tuple[str, str], dict[Any, Workspace | None]] = defaultdict(dict)
    counted: Census = {}
    # Parents come first, so a row's parent already has its owner.
    for table in metadata.sorted_tables:
        found = [(row, _owner(table, row, owners)) for row in await rows(engine, table)]
        counted[table.name] = Counter(owner for _, owner in found)
        for row, owner in found:
            for column in table.c:
                if (table.name, column.name) in referenced:
                    owners[(table.name, column.name)][row[column.name]] = owner
    return counted


def _owner(
    table: Table, row: RowMapping, owners: dict[tuple[str, str], dict[Any, Workspace | None]]
) -> Workspace | None:
    if {"enterprise_id", "team_id"}.issubset(table.c.keys()):
        # slack_sdk's tables say None where ours say "".
        return Workspace(row["team_id"] or "", enterprise_id=row["enterprise_id"] or "")
    key = next(iter(table.foreign_keys), None)
    if key is None:
        return None
    return owners[(key.column.table.name, key.column.name)][row[key.parent.name]]


def without(before: Census, *gone: Workspace) -> Census:
    """The census once the rows of `gone` are deleted."""
    return {
        table: Counter({owner: n for owner, n in counts.items() if owner not in gone})
        for table, counts in before.items()
    }


def owned_by(before: Census, *gone: Workspace) -> int:
    """How many rows in all `gone` own."""
    return sum(counts[ws] for counts in before.values() for ws in gone)


async def test_every_table_holds_rows_of_every_workspace_or_of_none(everyone: Census) -> None:
    # A table added to the app's tables fails here until `populate` fills it: then the tests
    # below check that forgetting a workspace empties it of that workspace's rows.
    assert set(everyone) == set(metadata.tables)
    for table, counts in everyone.items():
        if table in SHARED:
            assert set(counts) == {None}, table
        else:
            assert set(counts) == set(EVERYONE), (table, counts)


@pytest.mark.parametrize("gone", [A, ORG, C, D], ids=["grid-team", "org", "other-org", "no-org"])
async def test_forgetting_a_workspace_deletes_its_rows_and_only_those(
    engine: AsyncEngine, everyone: Census, gone: Workspace
) -> None:
    deleted = await forget_workspace(engine, gone)

    assert await census(engine) == without(everyone, gone)
    assert deleted == owned_by(everyone, gone)


async def test_forgetting_twice_deletes_nothing_more(engine: AsyncEngine, everyone: Census) -> None:
    await forget_workspace(engine, A)

    assert await forget_workspace(engine, A) == 0
    assert await census(engine) == without(everyone, A)


async def test_forgetting_a_whole_org_deletes_its_workspaces_and_itself(
    engine: AsyncEngine, everyone: Census
) -> None:
    deleted = await forget_workspace(engine, B, whole_enterprise=True)

    assert await census(engine) == without(everyone, A, B, ORG)
    assert deleted == owned_by(everyone, A, B, ORG)


async def test_a_workspace_outside_any_org_has_no_org_to_forget(
    engine: AsyncEngine, everyone: Census
) -> None:
    with pytest.raises(ValueError, match="org"):
        await forget_workspace(engine, D, whole_enterprise=True)

    assert await census(engine) == everyone


async def test_a_workspace_that_kept_nothing_is_forgotten_at_no_cost(engine: AsyncEngine) -> None:
    assert await forget_workspace(engine, A) == 0
