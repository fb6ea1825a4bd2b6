"""The success page after "Add to Slack" for Enterprise Grid installs.

An org-wide install has no one workspace to open Lead Bot in, so the page links no slack://
URL (slack://app?team= with no team opens nothing useful); a Grid workspace's own install
links to its workspace. Called as Bolt's AsyncOAuthFlow calls the callbacks (see
tests/test_install_pages.py, whose helpers these reuse).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Installation

from bot.app.install_pages import install_callbacks
from bot.app.manifest import INSTALL_PATH, REDIRECT_PATH
from bot.storage.engine import create_engine
from bot.storage.installations import installation_store, state_store
from tests.test_install_pages import (
    APP_ID,
    CLIENT_ID,
    assert_html_page,
    assert_state_cookie_deleted,
    installation,
    succeed,
)


@pytest.fixture
async def settings(tmp_path: Path) -> AsyncIterator[AsyncOAuthSettings]:
    """OAuth settings as bot/app/slack_app.py makes them, with Lead Bot's callbacks."""
    engine = create_engine(f"sqlite:///{tmp_path / 'install.db'}")
    try:
        yield AsyncOAuthSettings(
            client_id=CLIENT_ID,
            client_secret="client-secret-0123456789",
            scopes=["commands", "chat:write"],
            user_scopes=[],
            redirect_uri=f"https://lead.example.com{REDIRECT_PATH}",
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            callback_options=install_callbacks(),
            installation_store=installation_store(engine, CLIENT_ID),
            installation_store_bot_only=True,
            state_store=state_store(engine),
        )
    finally:
        await engine.dispose()


def org_wide(**fields: object) -> Installation:
    values: dict[str, object] = {
        "team_id": None,
        "team_name": None,
        "enterprise_id": "E0GRID",
        "enterprise_name": "Grid Co",
        "is_enterprise_install": True,
    }
    return installation(**(values | fields))


@pytest.mark.parametrize("team_id", [None, ""], ids=["none", "empty"])
async def test_an_org_wide_install_links_no_workspace(
    settings: AsyncOAuthSettings, team_id: str | None
) -> None:
    response = await succeed(settings, org_wide(team_id=team_id))

    assert response.status == 200
    page = assert_html_page(response)
    assert page.links == []
    assert "slack://" not in response.body
    assert "team=" not in response.body
    words = page.words
    assert "Lead Bot is installed in Grid Co." in words
    # Each workspace of the org still learns where to go next.
    assert "Home" in words
    assert "Connect NLPearl" in words
    assert_state_cookie_deleted(response)


async def test_an_org_wide_install_names_the_org_not_a_team(
    settings: AsyncOAuthSettings,
) -> None:
    # Even if Slack named a team, an org-wide install is the org's.
    response = await succeed(
        settings,
        org_wide(team_name="Some Workspace"),
    )

    words = assert_html_page(response).words
    assert "Lead Bot is installed in Grid Co." in words
    assert "Some Workspace" not in words


async def test_an_org_wide_install_without_an_org_name_says_your_workspace(
    settings: AsyncOAuthSettings,
) -> None:
    response = await succeed(settings, org_wide(enterprise_name=None))

    page = assert_html_page(response)
    assert "Lead Bot is installed in your workspace." in page.words
    assert page.links == []


async def test_a_grid_workspaces_own_install_links_to_its_workspace(
    settings: AsyncOAuthSettings,
) -> None:
    grid_workspace = installation(
        team_id="T0GRID1",
        team_name="Grid Sales",
        enterprise_id="E0GRID",
        enterprise_name="Grid Co",
        is_enterprise_install=False,
    )

    response = await succeed(settings, grid_workspace)

    page = assert_html_page(response)
    assert "Lead Bot is installed in Grid Sales." in page.words
    [(href, text)] = page.links
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc) == ("slack", "app")
    assert parse_qs(parts.query) == {"team": ["T0GRID1"], "id": [APP_ID], "tab": ["home"]}
    assert text == "Open Lead Bot in Slack"
