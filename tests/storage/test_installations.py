"""Who has installed the app: one entry per workspace or org, as its latest install left it."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.installations import installation_store, installed_workspaces
from bot.storage.rows import Installed, Workspace
from tests.storage.support import NOW

CLIENT_ID = "1111.2222"


async def install(
    engine: AsyncEngine,
    ws: Workspace,
    at: datetime,
    *,
    team_name: str | None = "Acme",
    bot_token: str | None = "xoxb-1",
    client_id: str = CLIENT_ID,
) -> None:
    org_wide = not ws.team_id
    await installation_store(engine, client_id).async_save(
        Installation(
            app_id="A0001",
            enterprise_id=ws.enterprise_id or None,
            enterprise_name="Grid Co" if ws.enterprise_id else None,
            team_id=ws.team_id or None,
            team_name=None if org_wide else team_name,
            bot_token=bot_token,
            bot_id="B0001" if bot_token else None,
            user_id="U0001",
            user_token="xoxp-1",
            is_enterprise_install=org_wide,
            installed_at=at,
        )
    )


async def test_each_workspace_once_as_last_installed_oldest_first(engine: AsyncEngine) -> None:
    team, grid_team, org = Workspace("T1"), Workspace("T2", "E1"), Workspace("", "E1")
    await install(engine, team, NOW, team_name="Old name")
    await install(engine, org, NOW + timedelta(hours=1))
    await install(engine, grid_team, NOW + timedelta(hours=2), team_name="Grid team")
    await install(engine, team, NOW + timedelta(hours=3), team_name="New name", bot_token="xoxb-2")

    assert await installed_workspaces(engine, CLIENT_ID) == [
        Installed(org, None, "Grid Co", True, NOW + timedelta(hours=1)),
        Installed(grid_team, "Grid team", "Grid Co", False, NOW + timedelta(hours=2)),
        Installed(team, "New name", None, False, NOW + timedelta(hours=3)),
    ]


async def test_installs_without_a_bot_token_do_not_count(engine: AsyncEngine) -> None:
    await install(engine, Workspace("T1"), NOW)
    await install(engine, Workspace("T2"), NOW, bot_token=None)
    # A later install without a bot token leaves the earlier one the latest with a token.
    await install(engine, Workspace("T1"), NOW + timedelta(hours=1), bot_token=None)

    found = await installed_workspaces(engine, CLIENT_ID)

    assert [(i.workspace, i.installed_at) for i in found] == [(Workspace("T1"), NOW)]


async def test_another_apps_installs_do_not_count(engine: AsyncEngine) -> None:
    await install(engine, Workspace("T1"), NOW, client_id="9999.0000")

    assert await installed_workspaces(engine, CLIENT_ID) == []


async def test_times_come_back_in_utc(engine: AsyncEngine) -> None:
    await install(engine, Workspace("T1"), NOW)

    (found,) = await installed_workspaces(engine, CLIENT_ID)

    assert found.installed_at == NOW
    assert found.installed_at.utcoffset() == timedelta(0)
