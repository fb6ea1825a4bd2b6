"""`lead-bot demo`: the real app, an NLPearl sandbox and a Slack console, on loopback only."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import signal
import socket
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.app.listening import listen
from bot.app.settings import ConfigError, Settings, configure_logging, reveal
from bot.app.web import create_app
from bot.demo.console import AppLink, Console, ConsoleError, console_app
from bot.demo.sandbox import Sandbox
from bot.demo.workspace import Workspace
from bot.storage.migrate import upgrade_to_latest

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
LOOPBACK_NAMES = "127.0.0.1,localhost"
DEFAULT_PORT = 3000
FEED_CHANNEL = ("C0DEMOFEED", "campaign-feed")
SALES_CHANNEL = ("C0DEMOSALES", "sales")
# Half Slack's second between posts to a channel: the console sets no rate limit, and the
# feed keeps up with a campaign sped up 20 times.
DEMO_POST_INTERVAL_SECONDS = 0.5

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class DemoSettings(Settings):
    """The app's settings for a demo: only what the demo passes, never the environment's."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # A real deployment's .env (its tokens, its database) must never reach the demo.
        return (init_settings,)


def demo_port() -> int:
    """PORT if it is set (one sentence if it is not a port), else 3000."""
    raw = os.environ.get("PORT", "").strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError("PORT is not valid: set it to a port number between 1 and 65535.")
    return int(raw)


def demo_settings(port: int, database: Path, sandbox: Sandbox) -> DemoSettings:
    """The app as Slack and NLPearl would see it, with the console and sandbox in their place."""
    base = f"http://{LOOPBACK}:{port}"
    return DemoSettings(
        slack_signing_secret=secrets.token_hex(16),
        slack_bot_token=f"xoxb-demo-{secrets.token_hex(12)}",
        slack_api_url=f"{base}/demo/slack/api/",
        nlpearl_api_key=sandbox.api_key,
        nlpearl_api_url=sandbox.api.url,
        database_url=f"sqlite+aiosqlite:///{database}",
        public_url=base,
        port=port,
        log_level="WARNING",
        slack_post_interval_seconds=DEMO_POST_INTERVAL_SECONDS,
    )


def run_demo() -> int:
    """Serve the demo until Ctrl-C (or the terminal closes); every trace of it goes then."""
    port = demo_port()
    # Loopback traffic must never go through a proxy the environment names.
    os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), LOOPBACK_NAMES]))
    listener = listen(port, LOOPBACK)
    workdir = Path(tempfile.mkdtemp(prefix="lead-bot-demo-"))
    sandbox = Sandbox()
    demo: Demo | None = None
    try:
        sandbox.start()
        settings = demo_settings(port, workdir / "demo.db", sandbox)
        configure_logging(settings)
        upgrade_to_latest(settings.database_url)
        demo = Demo(settings, sandbox)
        # Closing the terminal ends the demo as Ctrl-C does, so its folder goes too.
        signal.signal(signal.SIGHUP, lambda _signum, _frame: demo.stop())
        asyncio.run(demo.serve(listener, announce=_print_url))
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a demo ends
    finally:
        sandbox.stop()
        listener.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if demo is not None and demo.failed else 0


def _print_url(url: str) -> None:
    print(
        f"Lead Bot demo (a local stand-in for Slack and NLPearl): open {url}\n"
        "Ctrl-C stops it; nothing is kept.",
        flush=True,
    )


class Demo:
    """The app with the console in front of it and the sandbox's campaign running."""

    def __init__(self, settings: Settings, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.failed = False
        self.workspace = Workspace()
        self.workspace.add_channel(*SALES_CHANNEL)
        self.workspace.add_channel(*FEED_CHANNEL)
        link = AppLink(
            base_url=f"http://{LOOPBACK}:{settings.port}",
            signing_secret=reveal(settings.slack_signing_secret),
            bot_token=reveal(settings.slack_bot_token),
        )
        self.console = Console(self.workspace, link, sandbox)
        config = uvicorn.Config(
            with_console(create_app(settings), console_app(self.console)),
            log_level="warning",
            log_config=None,
            timeout_graceful_shutdown=2,
        )
        self.server = _QuietlyStopping(config)

    @property
    def url(self) -> str:
        """The console's page."""
        return f"{self.console.app.base_url}/demo"

    async def serve(self, listener: socket.socket, announce: Callable[[str], None]) -> None:
        """Serve until stopped (Ctrl-C, or `stop()`); `announce` gets the URL once it works."""
        stopping = asyncio.Event()
        campaign = asyncio.create_task(self.sandbox.run(stopping))
        campaign.add_done_callback(self._campaign_ended)
        ready = asyncio.create_task(self._when_serving(announce))
        try:
            await self.server.serve(sockets=[listener])
        finally:
            stopping.set()
            ready.cancel()
            await asyncio.gather(campaign, ready, return_exceptions=True)
            await self.console.aclose()

    def _campaign_ended(self, task: asyncio.Task[None]) -> None:
        """The sandbox stops only when told to; a crash is logged and ends the demo."""
        if task.cancelled() or task.exception() is None:
            return
        logger.error("The NLPearl sandbox stopped", exc_info=task.exception())
        self.failed = True
        self.stop()

    def stop(self) -> None:
        """Ask the server to stop, from any thread."""
        self.server.should_exit = True

    async def _when_serving(self, announce: Callable[[str], None]) -> None:
        """Subscribe the feed channel as a person would, then say where to look."""
        # uvicorn offers no event for "started": look until it says so.
        while not self.server.started:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        feed_id, feed_name = FEED_CHANNEL
        campaign = self.sandbox.campaign_id
        announce(self.url)
        try:
            await self.console.command(feed_id, f"/lead subscribe {campaign}")
        except ConsoleError as exc:
            logger.warning("Could not subscribe #%s: %s", feed_name, exc)
            self.workspace.notice(
                f"#{feed_name} could not be subscribed: {exc} To follow the campaign there, "
                f"type /lead subscribe {campaign} in it."
            )
        self.workspace.notice(
            f"Welcome to the Lead Bot demo. #{feed_name} follows the sandbox's campaign live. "
            f"In #{SALES_CHANNEL[1]}, try: /lead {campaign} {self.sandbox.example_lead_id()}"
        )


class _QuietlyStopping(uvicorn.Server):
    """uvicorn's server, keeping the feed's last warnings out of a visitor's terminal.

    Once Ctrl-C stops the console, posts still in flight find no Slack to post to: expected
    here, and the database they would be retried from is deleted a moment later.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        logging.getLogger("bot.feed").setLevel(logging.ERROR)
        super().handle_exit(sig, frame)


def with_console(app: ASGIApp, console: ASGIApp) -> ASGIApp:
    """The app, with `/demo…` answered by the console instead."""

    async def dispatch(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == "/demo" or path.startswith("/demo/")):
            await console(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch
