"""Each workspace's NLPearl account: its ID, and its secret sealed at rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import read_only, upsert
from bot.storage.rows import StoredAccount, Workspace
from bot.storage.sealing import Sealer
from bot.storage.subscriptions import in_workspace
from bot.storage.tables import nlpearl_accounts

# The width of account_name: a longer display name is cut rather than refused.
NAME_LENGTH = 200


async def save_account(
    engine: AsyncEngine,
    sealer: Sealer,
    ws: Workspace,
    *,
    account_id: str,
    secret: str,
    account_name: str | None,
    connected_by: str | None,
    now: datetime,
) -> None:
    """Connect the workspace to an NLPearl account, replacing any it had."""
    values = {
        "account_id": account_id,
        "secret": sealer.seal(secret),
        "account_name": account_name[:NAME_LENGTH] if account_name is not None else None,
        "connected_by": connected_by,
        "connected_at": now,
    }
    async with engine.begin() as conn:
        statement = upsert(conn, nlpearl_accounts).values(
            enterprise_id=ws.enterprise_id, team_id=ws.team_id, **values
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["enterprise_id", "team_id"],
                set_={name: statement.excluded[name] for name in values},
            )
        )


async def account_of(engine: AsyncEngine, sealer: Sealer, ws: Workspace) -> StoredAccount | None:
    """The workspace's account, its secret opened; SealBroken if no key in use opens it."""
    query = select(nlpearl_accounts).where(*in_workspace(nlpearl_accounts, ws))
    async with read_only(engine) as conn:
        row = (await conn.execute(query)).one_or_none()
    if row is None:
        return None
    return StoredAccount(
        workspace=ws,
        account_id=row.account_id,
        secret=sealer.unseal(row.secret),
        account_name=row.account_name,
        connected_by=row.connected_by,
        connected_at=row.connected_at,
    )


async def forget_account(engine: AsyncEngine, ws: Workspace) -> bool:
    """Disconnect the workspace from its account; False if it had none."""
    async with engine.begin() as conn:
        deleted = await conn.execute(
            delete(nlpearl_accounts).where(*in_workspace(nlpearl_accounts, ws))
        )
    return deleted.rowcount > 0


async def connected_workspaces(engine: AsyncEngine) -> list[Workspace]:
    """Every workspace with an account, by enterprise then team."""
    query = select(nlpearl_accounts.c.enterprise_id, nlpearl_accounts.c.team_id).order_by(
        nlpearl_accounts.c.enterprise_id, nlpearl_accounts.c.team_id
    )
    async with read_only(engine) as conn:
        rows = (await conn.execute(query)).all()
    return [Workspace(row.team_id, enterprise_id=row.enterprise_id) for row in rows]


async def reseal_all(engine: AsyncEngine, sealer: Sealer) -> int:
    """Seal every stored secret again under the first key; how many. All or none."""
    # Every secret is resealed before any is written: one that no key opens raises SealBroken
    # with nothing changed. The rows stay locked meanwhile, so no account saved concurrently
    # is overwritten with its old secret.
    query = select(
        nlpearl_accounts.c.enterprise_id, nlpearl_accounts.c.team_id, nlpearl_accounts.c.secret
    ).with_for_update()
    async with engine.begin() as conn:
        rows = (await conn.execute(query)).all()
        resealed = [(row.enterprise_id, row.team_id, sealer.reseal(row.secret)) for row in rows]
        for enterprise_id, team_id, secret in resealed:
            await conn.execute(
                update(nlpearl_accounts)
                .where(
                    nlpearl_accounts.c.enterprise_id == enterprise_id,
                    nlpearl_accounts.c.team_id == team_id,
                )
                .values(secret=secret)
            )
    return len(resealed)
