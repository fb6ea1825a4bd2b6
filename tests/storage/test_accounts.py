"""Each workspace's NLPearl account: kept per workspace, its secret sealed, resealed on rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.accounts import (
    account_of,
    connected_workspaces,
    forget_account,
    reseal_all,
    save_account,
)
from bot.storage.rows import StoredAccount, Workspace
from bot.storage.sealing import SealBroken, Sealer, generate_key
from bot.storage.tables import nlpearl_accounts
from tests.storage.support import GRID_TEAM, NOW, OTHER_TEAM, TEAM

OLD_KEY = generate_key()
NEW_KEY = generate_key()
SEALER = Sealer.from_setting(OLD_KEY)
SECRET = "Xy7sEcReT-9q-very-secret"


async def connect(
    engine: AsyncEngine,
    ws: Workspace = TEAM,
    *,
    account_id: str = "65f0c0ffee1234567890abcd",
    secret: str = SECRET,
    name: str | None = "Acme Calls",
    sealer: Sealer = SEALER,
) -> None:
    await save_account(
        engine,
        sealer,
        ws,
        account_id=account_id,
        secret=secret,
        account_name=name,
        connected_by="U0001",
        now=NOW,
    )


async def stored_secrets(engine: AsyncEngine) -> dict[Workspace, str]:
    """The secret column as stored, by workspace."""
    query = select(
        nlpearl_accounts.c.enterprise_id, nlpearl_accounts.c.team_id, nlpearl_accounts.c.secret
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {Workspace(r.team_id, enterprise_id=r.enterprise_id): r.secret for r in rows}


async def test_a_saved_account_reads_back_with_its_secret(engine: AsyncEngine) -> None:
    await connect(engine)

    assert await account_of(engine, SEALER, TEAM) == StoredAccount(
        workspace=TEAM,
        account_id="65f0c0ffee1234567890abcd",
        secret=SECRET,
        account_name="Acme Calls",
        connected_by="U0001",
        connected_at=NOW,
    )


async def test_a_workspace_without_an_account_has_none(engine: AsyncEngine) -> None:
    assert await account_of(engine, SEALER, TEAM) is None


async def test_saving_again_replaces_the_account(engine: AsyncEngine) -> None:
    await connect(engine)
    later = NOW + timedelta(days=1)

    await save_account(
        engine,
        SEALER,
        TEAM,
        account_id="other-account",
        secret="another-secret",
        account_name=None,
        connected_by="U0002",
        now=later,
    )

    account = await account_of(engine, SEALER, TEAM)
    assert account == StoredAccount(TEAM, "other-account", "another-secret", None, "U0002", later)
    assert await connected_workspaces(engine) == [TEAM]


async def test_accounts_are_kept_per_workspace(engine: AsyncEngine) -> None:
    # GRID_TEAM has TEAM's team ID, under an enterprise: a workspace of its own.
    await connect(engine, TEAM, account_id="acct-team", secret="secret-team")
    await connect(engine, GRID_TEAM, account_id="acct-grid", secret="secret-grid")

    team = await account_of(engine, SEALER, TEAM)
    grid = await account_of(engine, SEALER, GRID_TEAM)

    assert team is not None
    assert (team.account_id, team.secret) == ("acct-team", "secret-team")
    assert grid is not None
    assert (grid.account_id, grid.secret) == ("acct-grid", "secret-grid")
    assert await account_of(engine, SEALER, OTHER_TEAM) is None


async def test_the_stored_column_never_holds_the_secret(engine: AsyncEngine) -> None:
    await connect(engine)

    (stored,) = (await stored_secrets(engine)).values()

    assert SECRET not in stored
    assert SEALER.unseal(stored) == SECRET


def test_the_secret_stays_out_of_the_values_repr() -> None:
    account = StoredAccount(TEAM, "acct", SECRET, "Acme", "U0001", NOW)

    assert SECRET not in repr(account)
    assert "acct" in repr(account)


async def test_forgetting_an_account_leaves_the_others(engine: AsyncEngine) -> None:
    await connect(engine, TEAM)
    await connect(engine, GRID_TEAM)

    assert await forget_account(engine, TEAM) is True
    assert await forget_account(engine, TEAM) is False

    assert await account_of(engine, SEALER, TEAM) is None
    assert await account_of(engine, SEALER, GRID_TEAM) is not None
    assert await connected_workspaces(engine) == [GRID_TEAM]


async def test_connected_workspaces_lists_each_once_in_order(engine: AsyncEngine) -> None:
    for ws in (OTHER_TEAM, GRID_TEAM, TEAM):
        await connect(engine, ws)
    await connect(engine, TEAM, account_id="again")

    assert await connected_workspaces(engine) == [TEAM, OTHER_TEAM, GRID_TEAM]


async def test_a_secret_no_key_opens_is_broken(engine: AsyncEngine) -> None:
    await connect(engine)

    with pytest.raises(SealBroken):
        await account_of(engine, Sealer.from_setting(NEW_KEY), TEAM)


async def test_reseal_all_moves_every_secret_to_the_first_key(engine: AsyncEngine) -> None:
    await connect(engine, TEAM, secret="secret-team")
    await connect(engine, GRID_TEAM, secret="secret-grid")
    before = await stored_secrets(engine)

    count = await reseal_all(engine, Sealer.from_setting(f"{NEW_KEY}, {OLD_KEY}"))

    assert count == 2
    after = await stored_secrets(engine)
    assert all(after[ws] != before[ws] for ws in before)
    only_new = Sealer.from_setting(NEW_KEY)
    team = await account_of(engine, only_new, TEAM)
    grid = await account_of(engine, only_new, GRID_TEAM)
    assert team is not None
    assert team.secret == "secret-team"
    assert grid is not None
    assert grid.secret == "secret-grid"
    with pytest.raises(SealBroken):
        await account_of(engine, SEALER, TEAM)


async def test_reseal_all_with_nothing_stored_does_nothing(engine: AsyncEngine) -> None:
    assert await reseal_all(engine, SEALER) == 0


async def test_one_secret_no_key_opens_stops_the_reseal_with_nothing_changed(
    engine: AsyncEngine,
) -> None:
    stray = Sealer.from_setting(generate_key())
    await connect(engine, TEAM)
    await connect(engine, OTHER_TEAM, sealer=stray)
    await connect(engine, GRID_TEAM)
    before = await stored_secrets(engine)

    with pytest.raises(SealBroken):
        await reseal_all(engine, Sealer.from_setting(f"{NEW_KEY},{OLD_KEY}"))

    assert await stored_secrets(engine) == before
