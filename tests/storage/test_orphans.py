"""What an uninstall left behind, and what outlived the retention period, on both databases.

orphaned_workspaces: a workspace with rows kept for it but no installed bot serving it (its own
team install, or an org-wide install of its org). forget_orphans forgets exactly those.
prune_kept: lead threads not touched, notices settled, OAuth states expired, before a moment.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.accounts import save_account
from bot.storage.forget import WORKSPACE_COLUMNS, orphaned_workspaces, prune_kept
from bot.storage.installations import installation_store, state_store
from bot.storage.memory import remember_lookup
from bot.storage.rows import RecentLookup, Workspace
from bot.storage.sealing import Sealer, generate_key
from bot.storage.tables import (
    lead_threads,
    metadata,
    notices,
    slack_bots,
    slack_oauth_states,
)
from bot.usecases import uninstalling
from bot.usecases.uninstalling import forget_orphans, forget_uninstalled
from tests.storage.support import CAMPAIGN, NOW, lead_event, queue, rows, subscribed

CLIENT_ID = "1111.2222"
SEALER = Sealer.from_setting(generate_key())
SLACK_TABLES = {"slack_bots", "slack_installations", "slack_oauth_states"}

A = Workspace("T1", enterprise_id="E1")
B = Workspace("T2", enterprise_id="E1")
ORG = Workspace("", enterprise_id="E1")
C = Workspace("T3", enterprise_id="E2")
PLAIN = Workspace("T1")  # A's team ID, outside any org
OTHER = Workspace("T9")


async def keep_data(engine: AsyncEngine, ws: Workspace, channel: str = "C1") -> None:
    """What a workspace that used the app keeps: a subscription with a webhook, memory, a key."""
    token = await subscribed(engine, ws, channel=channel)
    assert token is not None
    await queue(engine, token, lead_event())
    lookup = RecentLookup(CAMPAIGN, "lead-1", "Dana W", NOW)
    await remember_lookup(engine, ws, "U1", lookup, campaign_name="Spring")
    await save_account(
        engine,
        SEALER,
        ws,
        account_id=f"acct-{ws.team_id}",
        secret="s3cret",
        account_name=None,
        connected_by="U1",
        now=NOW,
    )


async def install(engine: AsyncEngine, ws: Workspace, *, bot_token: str | None = "xoxb-1") -> None:
    """Save an install as Bolt's OAuth flow does: org-wide when the workspace has no team."""
    await installation_store(engine, CLIENT_ID).async_save(
        Installation(
            app_id="A0001",
            enterprise_id=ws.enterprise_id or None,
            team_id=ws.team_id or None,
            bot_token=bot_token,
            bot_id="B0001" if bot_token else None,
            bot_user_id="U0BOT",
            bot_scopes=["commands", "chat:write"],
            user_id="U1",
            is_enterprise_install=not ws.team_id,
            installed_at=NOW.timestamp(),
        )
    )


async def holdings(engine: AsyncEngine) -> Counter[Workspace]:
    """How many rows each workspace has in the app's own tables (slack_sdk's aside)."""
    held: Counter[Workspace] = Counter()
    for table in metadata.sorted_tables:
        if WORKSPACE_COLUMNS.issubset(table.c.keys()) and table.name not in SLACK_TABLES:
            for row in await rows(engine, table):
                held[Workspace(row["team_id"], enterprise_id=row["enterprise_id"])] += 1
    return held


# orphaned_workspaces


async def test_an_empty_database_has_no_orphans(engine: AsyncEngine) -> None:
    assert await orphaned_workspaces(engine) == []


async def test_installs_alone_are_no_orphans(engine: AsyncEngine) -> None:
    await install(engine, PLAIN)
    await install(engine, ORG)

    assert await orphaned_workspaces(engine) == []


async def test_a_workspace_served_by_its_own_bot_is_not_orphaned(engine: AsyncEngine) -> None:
    await keep_data(engine, PLAIN)
    await keep_data(engine, A)
    await install(engine, PLAIN)
    await install(engine, A)

    assert await orphaned_workspaces(engine) == []


async def test_a_workspace_with_data_and_no_install_is_orphaned(engine: AsyncEngine) -> None:
    await keep_data(engine, PLAIN)

    assert await orphaned_workspaces(engine) == [PLAIN]


async def test_an_org_wide_bot_serves_every_workspace_of_its_org_only(
    engine: AsyncEngine,
) -> None:
    for ws in (A, B, C, PLAIN):
        await keep_data(engine, ws)
    await install(engine, ORG)

    # Ordered by org, then team: no org first.
    assert await orphaned_workspaces(engine) == [PLAIN, C]


async def test_a_team_install_serves_its_own_workspace_not_its_org(engine: AsyncEngine) -> None:
    for ws in (A, B, PLAIN):
        await keep_data(engine, ws)
    await install(engine, A)

    # B is of A's org, PLAIN has A's team ID: neither is A's workspace.
    assert await orphaned_workspaces(engine) == [PLAIN, B]


async def test_a_bot_without_a_token_serves_nobody(engine: AsyncEngine) -> None:
    await keep_data(engine, PLAIN)
    await keep_data(engine, A)
    await install(engine, PLAIN, bot_token=None)
    await install(engine, ORG, bot_token=None)
    async with engine.connect() as conn:
        kept = (await conn.execute(select(func.count()).select_from(slack_bots))).scalar_one()
    assert kept == 2

    assert await orphaned_workspaces(engine) == [PLAIN, A]


@pytest.mark.parametrize("deleting", ["bot", "installation"])
async def test_a_workspace_whose_bot_was_deleted_is_orphaned(
    engine: AsyncEngine, deleting: str
) -> None:
    for ws in (PLAIN, A, B):
        await keep_data(engine, ws)
    await install(engine, PLAIN)
    await install(engine, ORG)
    assert await orphaned_workspaces(engine) == []
    store = installation_store(engine, CLIENT_ID)

    # As Bolt's token revocation listeners do: the bot goes, or the whole installation.
    if deleting == "bot":
        await store.async_delete_bot(enterprise_id=None, team_id=PLAIN.team_id)
    else:
        await store.async_delete_installation(enterprise_id=None, team_id=PLAIN.team_id)
        await store.async_delete_bot(enterprise_id=None, team_id=PLAIN.team_id)
    assert await orphaned_workspaces(engine) == [PLAIN]

    await store.async_delete_bot(enterprise_id=ORG.enterprise_id, team_id=None)
    assert await orphaned_workspaces(engine) == [PLAIN, A, B]


async def test_another_team_installing_does_not_serve_an_orphan(engine: AsyncEngine) -> None:
    await keep_data(engine, PLAIN)
    await install(engine, OTHER)

    assert await orphaned_workspaces(engine) == [PLAIN]


# forget_orphans


async def test_forgetting_orphans_deletes_exactly_theirs(engine: AsyncEngine) -> None:
    for ws in (A, B, C, PLAIN, OTHER):
        await keep_data(engine, ws)
    await install(engine, ORG)
    await install(engine, OTHER)
    before = await holdings(engine)
    assert set(before) == {A, B, C, PLAIN, OTHER}

    forgotten = await forget_orphans(engine)

    assert forgotten == 2
    assert await holdings(engine) == Counter({ws: before[ws] for ws in (A, B, OTHER)})
    assert await orphaned_workspaces(engine) == []
    # The installs that serve are left as they were.
    assert len(await rows(engine, slack_bots)) == 2
    assert await forget_orphans(engine) == 0


async def test_forgetting_orphans_with_none_deletes_nothing(engine: AsyncEngine) -> None:
    await keep_data(engine, A)
    await install(engine, A)
    before = await holdings(engine)

    assert await forget_orphans(engine) == 0
    assert await holdings(engine) == before


# forget_uninstalled: Slack sends the event once, so a failed forget is tried again


def failing_first(times: int, calls: list[Workspace]) -> Any:
    """forget_workspace, failing as a dropped connection would the first `times` calls."""
    real = uninstalling.forget_workspace

    async def forget(engine: AsyncEngine, ws: Workspace, **options: Any) -> int:
        calls.append(ws)
        if len(calls) <= times:
            raise OperationalError("DELETE ...", {}, ConnectionResetError("connection lost"))
        return await real(engine, ws, **options)

    return forget


async def test_a_forget_that_fails_twice_is_done_the_third_time(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await keep_data(engine, PLAIN)
    await keep_data(engine, OTHER)
    before = await holdings(engine)
    calls: list[Workspace] = []
    monkeypatch.setattr(uninstalling, "RETRY_SECONDS", 0.0)
    monkeypatch.setattr(uninstalling, "forget_workspace", failing_first(2, calls))

    deleted = await forget_uninstalled(engine, PLAIN, whole_org=False)

    assert calls == [PLAIN, PLAIN, PLAIN]
    # Its rows, and its webhook's event (which hangs on its endpoint, no workspace columns).
    assert deleted == before[PLAIN] + 1
    assert await holdings(engine) == Counter({OTHER: before[OTHER]})


async def test_a_forget_that_keeps_failing_gives_up_after_three_tries(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await keep_data(engine, PLAIN)
    before = await holdings(engine)
    calls: list[Workspace] = []
    monkeypatch.setattr(uninstalling, "RETRY_SECONDS", 0.0)
    monkeypatch.setattr(uninstalling, "forget_workspace", failing_first(3, calls))

    with pytest.raises(OperationalError):
        await forget_uninstalled(engine, PLAIN, whole_org=False)

    assert len(calls) == 3
    # Left for the orphans job to find.
    assert await holdings(engine) == before
    assert await orphaned_workspaces(engine) == [PLAIN]


# prune_kept

BEFORE = NOW - timedelta(days=30)
FEED_TABLES = ("webhook_endpoints", "subscriptions", "events", "deliveries")


async def add_thread(engine: AsyncEngine, lead: str, updated_at: datetime) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(lead_threads).values(
                team_id="T1",
                channel_id="C1",
                campaign_id=CAMPAIGN,
                lead_key=lead,
                parent_ts="1700000000.000100",
                snapshot={"status": 10},
                updated_at=updated_at,
            )
        )


async def add_notice(engine: AsyncEngine, key: str, state: str, created_at: datetime) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(notices).values(
                team_id="T1",
                channel_id="C1",
                campaign_id=CAMPAIGN,
                kind="digest",
                key=key,
                due_at=created_at,
                marker=f"m-{key}",
                state=state,
                next_attempt_at=created_at,
                created_at=created_at,
            )
        )


async def test_prune_kept_deletes_threads_not_touched_since(engine: AsyncEngine) -> None:
    await add_thread(engine, "+15550000001", BEFORE - timedelta(days=10))
    await add_thread(engine, "+15550000002", BEFORE - timedelta(microseconds=1))
    await add_thread(engine, "+15550000003", BEFORE)
    await add_thread(engine, "+15550000004", NOW)

    pruned = await prune_kept(engine, before=BEFORE, now=NOW)

    assert pruned == 2
    left = [row["lead_key"] for row in await rows(engine, lead_threads)]
    assert left == ["+15550000003", "+15550000004"]


async def test_prune_kept_deletes_only_settled_old_notices(engine: AsyncEngine) -> None:
    old, new = BEFORE - timedelta(days=1), BEFORE + timedelta(days=1)
    for state in ("done", "failed", "pending", "claimed"):
        await add_notice(engine, f"old-{state}", state, old)
        await add_notice(engine, f"new-{state}", state, new)
    await add_notice(engine, "edge-done", "done", BEFORE)

    pruned = await prune_kept(engine, before=BEFORE, now=NOW)

    assert pruned == 2
    left = {row["key"] for row in await rows(engine, notices)}
    assert left == {
        "old-pending",
        "old-claimed",
        "new-done",
        "new-failed",
        "new-pending",
        "new-claimed",
        "edge-done",
    }


async def test_prune_kept_deletes_expired_oauth_states(engine: AsyncEngine) -> None:
    short = state_store(engine, expiration_seconds=60)
    long = state_store(engine, expiration_seconds=3600)
    expiring = await short.async_issue()
    lasting = await long.async_issue()
    # Two minutes from now, said in another time zone: the first state has expired by then.
    later = (datetime.now(UTC) + timedelta(minutes=2)).astimezone(timezone(timedelta(hours=-5)))

    pruned = await prune_kept(engine, before=BEFORE, now=later)

    assert pruned == 1
    assert [row["state"] for row in await rows(engine, slack_oauth_states)] == [lasting]
    assert await long.async_consume(lasting) is True
    assert await short.async_consume(expiring) is False


async def test_prune_kept_keeps_states_still_valid(engine: AsyncEngine) -> None:
    states = state_store(engine, expiration_seconds=600)
    issued = await states.async_issue()
    # An hour behind UTC but at the same moment: nothing has expired.
    now = datetime.now(UTC).astimezone(timezone(timedelta(hours=1)))

    assert await prune_kept(engine, before=BEFORE, now=now) == 0
    assert await states.async_consume(issued) is True


async def test_prune_kept_counts_every_kind_and_leaves_the_feed(engine: AsyncEngine) -> None:
    token = await subscribed(engine, PLAIN)
    assert token is not None
    await queue(engine, token, lead_event())
    await add_thread(engine, "+15550000001", BEFORE - timedelta(days=1))
    await add_notice(engine, "old-done", "done", BEFORE - timedelta(days=1))
    await state_store(engine, expiration_seconds=1).async_issue()
    feed = {table: len(await rows(engine, metadata.tables[table])) for table in FEED_TABLES}

    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await prune_kept(engine, before=BEFORE, now=later) == 3

    assert {table: len(await rows(engine, metadata.tables[table])) for table in FEED_TABLES} == (
        feed
    )
    for table in (lead_threads, notices, slack_oauth_states):
        assert await rows(engine, table) == []
