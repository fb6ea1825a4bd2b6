"""The pages after "Add to Slack": Bolt's OAuth callbacks with Lead Bot's own pages.

The callbacks are called with the arguments Bolt's AsyncOAuthFlow builds
(slack_bolt/oauth/async_oauth_flow.py, handle_callback), on settings as the app makes them.
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Installation

from bot.app.install_pages import install_callbacks
from bot.app.manifest import INSTALL_PATH, REDIRECT_PATH
from bot.storage.engine import create_engine
from bot.storage.installations import installation_store, state_store

CLIENT_ID = "1111.2222"
APP_ID = "A0LEADBOT"
COOKIE = "slack-app-oauth-state"
# Tags a browser starts on a line of their own.
BLOCK_TAGS = frozenset({"title", "h1", "p", "body"})


class Page(HTMLParser):
    """A page's links (href, text) and its visible text."""

    def __init__(self, body: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self._href: str | None = None
        self._in_style = False
        self.feed(body)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in BLOCK_TAGS:
            self.text.append(" ")
        if tag == "a":
            self._href = dict(attrs).get("href")
            self.links.append((self._href or "", ""))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            return
        if self._href is not None:
            href, text = self.links[-1]
            self.links[-1] = (href, text + data)
        self.text.append(data)

    @property
    def words(self) -> str:
        """The visible text, its white space as a browser collapses it."""
        return " ".join("".join(self.text).split())


@pytest.fixture
async def oauth_settings(tmp_path: Path) -> AsyncIterator[AsyncOAuthSettings]:
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


def callback_request(query: str) -> AsyncBoltRequest:
    """The browser coming back to the redirect URL, with its state cookie."""
    return AsyncBoltRequest(
        body="",
        query=query,
        headers={"cookie": f"{COOKIE}=state-123"},
    )


async def succeed(settings: AsyncOAuthSettings, installation: Installation) -> BoltResponse:
    callbacks = settings.callback_options
    assert isinstance(callbacks, AsyncCallbackOptions)
    args = AsyncSuccessArgs(
        request=callback_request("code=abc&state=state-123"),
        installation=installation,
        settings=settings,
        default=callbacks,
    )
    return await callbacks.success(args)


async def fail(settings: AsyncOAuthSettings, reason: str, status: int) -> BoltResponse:
    callbacks = settings.callback_options
    assert isinstance(callbacks, AsyncCallbackOptions)
    args = AsyncFailureArgs(
        request=callback_request(f"error={reason}&state=state-123"),
        reason=reason,
        suggested_status_code=status,
        settings=settings,
        default=callbacks,
    )
    return await callbacks.failure(args)


def installation(**fields: object) -> Installation:
    values: dict[str, object] = {
        "app_id": APP_ID,
        "team_id": "T0ACME",
        "team_name": "Acme",
        "bot_token": "xoxb-acme-secret",
        "bot_id": "B0BOT",
        "bot_user_id": "U0BOT",
        "user_id": "U0INSTALLER",
    }
    return Installation(**(values | fields))  # type: ignore[arg-type]


def assert_state_cookie_deleted(response: BoltResponse) -> None:
    [cookie] = response.headers["set-cookie"]
    name, _, rest = cookie.partition("=")
    assert name == COOKIE
    assert rest.startswith("deleted;")
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in cookie
    assert "HttpOnly" in cookie
    assert "Secure" in cookie


def assert_html_page(response: BoltResponse) -> Page:
    assert response.headers["content-type"] == ["text/html; charset=utf-8"]
    assert response.body.startswith("<!doctype html>")
    return Page(response.body)


# success


async def test_the_success_page_escapes_the_team_name(
    oauth_settings: AsyncOAuthSettings,
) -> None:
    response = await succeed(oauth_settings, installation(team_name="<script>x</script>"))

    assert response.status == 200
    page = assert_html_page(response)
    assert "<script>" not in response.body
    assert "&lt;script&gt;x&lt;/script&gt;" in response.body
    assert "script" not in page.tags
    assert "Lead Bot is installed in <script>x</script>." in page.words


async def test_the_success_page_links_to_the_apps_home_tab(
    oauth_settings: AsyncOAuthSettings,
) -> None:
    response = await succeed(oauth_settings, installation())

    page = assert_html_page(response)
    [(href, text)] = page.links
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc) == ("slack", "app")
    assert parse_qs(parts.query) == {"team": ["T0ACME"], "id": [APP_ID], "tab": ["home"]}
    assert href.endswith("&tab=home")
    assert text == "Open Lead Bot in Slack"
    # In the page source the ampersands are escaped, as HTML wants.
    assert f'href="slack://app?team=T0ACME&amp;id={APP_ID}&amp;tab=home"' in response.body


async def test_the_success_page_says_what_to_do_next(oauth_settings: AsyncOAuthSettings) -> None:
    response = await succeed(oauth_settings, installation())

    words = assert_html_page(response).words
    assert "Lead Bot is installed in Acme." in words
    assert "Connect NLPearl" in words
    assert "Home" in words
    assert "platform.nlpearl.ai → Settings → API" in words
    assert "xoxb-acme-secret" not in response.body


async def test_the_success_page_deletes_the_state_cookie(
    oauth_settings: AsyncOAuthSettings,
) -> None:
    response = await succeed(oauth_settings, installation())

    assert_state_cookie_deleted(response)


async def test_an_org_wide_install_names_the_org(oauth_settings: AsyncOAuthSettings) -> None:
    org = installation(
        team_id=None,
        team_name=None,
        enterprise_id="E0GRID",
        enterprise_name="Grid & Co",
        is_enterprise_install=True,
    )

    response = await succeed(oauth_settings, org)

    assert "Lead Bot is installed in Grid & Co." in assert_html_page(response).words
    assert "Grid &amp; Co" in response.body


async def test_an_install_without_names_says_your_workspace(
    oauth_settings: AsyncOAuthSettings,
) -> None:
    response = await succeed(oauth_settings, installation(team_name=None))

    assert "Lead Bot is installed in your workspace." in assert_html_page(response).words


async def test_a_hostile_app_id_cannot_break_out_of_the_link(
    oauth_settings: AsyncOAuthSettings,
) -> None:
    response = await succeed(
        oauth_settings, installation(app_id='A1"><script>x</script>', team_id="T1&x=<b>")
    )

    page = assert_html_page(response)
    assert "script" not in page.tags
    assert "b" not in page.tags
    [(href, _)] = page.links
    query = parse_qs(urlsplit(href).query)
    assert query["team"] == ["T1&x=<b>"]
    assert query["id"] == ['A1"><script>x</script>']
    assert query["tab"] == ["home"]


# failure


@pytest.mark.parametrize(
    ("reason", "status", "sentence"),
    [
        ("access_denied", 200, "The install was cancelled, so nothing was installed."),
        ("invalid_state", 401, "This install link has expired or was already used."),
    ],
)
async def test_the_failure_page_says_what_happened_and_links_back(
    oauth_settings: AsyncOAuthSettings, reason: str, status: int, sentence: str
) -> None:
    response = await fail(oauth_settings, reason, status)

    assert response.status == status
    page = assert_html_page(response)
    assert sentence in page.words
    assert "Lead Bot was not installed" in page.words
    assert page.links == [("/slack/install", "Start the install again")]
    assert reason not in page.words
    assert_state_cookie_deleted(response)


@pytest.mark.parametrize(
    ("reason", "status", "sentence"),
    [
        ("invalid_browser", 400, "from the Add to Slack page"),
        ("missing_code", 401, "Slack's answer was incomplete."),
        ("storage_error", 500, "could not save the install"),
        ("invalid_code", 401, "Slack did not complete the install."),
    ],
)
async def test_each_reason_bolt_gives_reads_as_a_sentence(
    oauth_settings: AsyncOAuthSettings, reason: str, status: int, sentence: str
) -> None:
    response = await fail(oauth_settings, reason, status)

    assert response.status == status
    page = assert_html_page(response)
    assert sentence in page.words
    assert page.links[0][0] == "/slack/install"


async def test_an_unknown_reason_is_not_echoed_into_the_page(
    oauth_settings: AsyncOAuthSettings, caplog: pytest.LogCaptureFixture
) -> None:
    reason = "<img src=x onerror=alert(1)>"

    with caplog.at_level(logging.WARNING, logger="bot.app.install_pages"):
        response = await fail(oauth_settings, reason, 200)

    page = assert_html_page(response)
    assert "img" not in page.tags
    assert reason not in response.body
    assert html.escape(reason) not in response.body
    assert "Slack did not complete the install." in page.words
    assert any("did not finish" in r.getMessage() for r in caplog.records)


async def test_the_failure_page_links_to_the_install_path_the_app_serves(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        settings = AsyncOAuthSettings(
            client_id=CLIENT_ID,
            client_secret="client-secret-0123456789",
            install_path="/bots/lead/slack/install",
            callback_options=install_callbacks(),
            installation_store=installation_store(engine, CLIENT_ID),
            state_store=state_store(engine),
        )
        response = await fail(settings, "access_denied", 200)
    finally:
        await engine.dispose()

    assert Page(response.body).links == [("/bots/lead/slack/install", "Start the install again")]
