"""The real app in the test's own process: the same `create_app` as `lead-bot serve`, served by
uvicorn on a loopback port from a thread, so tests send it signed requests as Slack does.

It skips what a process costs (an interpreter, imports, a health poll) and keeps what the app
does: the lifespan, the Bolt app, the delivery loop, the stand-ins over HTTP. What needs a
process (signals, crashes, several processes, start-up lines) stays in `tests/e2e`.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import uvicorn

from bot.app.cli import GRACEFUL_SHUTDOWN_SECONDS
from bot.app.log_redaction import install, secrets_of
from bot.app.settings import Settings
from bot.app.web import create_app
from bot.storage.migrate import upgrade_to_latest
from tests.harness.log_scan import watch
from tests.harness.processes import SHUTDOWN_TIMEOUT, STARTUP_TIMEOUT, server_environment
from tests.migrated import migrated_sqlite
from tests.standins import NLPearlStandIn, SlackStandIn

APP_PREFIXES = (
    "SLACK_",
    "NLPEARL_",
    "MASK_",
    "DATABASE_URL",
    "PUBLIC_URL",
    "LOG_LEVEL",
    "DELIVERY_",
    "ALERT_",
    "SWEEP_",
    "SCHEDULE_",
)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class AppInProcess:
    """A running app: where it listens, what it logged, and how to stop it."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.log_path = log_path
        self._listener = _loopback_listener()
        port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.gave_up = False
        self._root_level = logging.getLogger().level
        self._log_handler = _log_to(log_path, settings)
        config = uvicorn.Config(
            create_app(settings, self._give_up),
            log_level=settings.log_level.lower(),
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            proxy_headers=True,
            forwarded_allow_ips="*",
            log_config=None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._listener]}, daemon=True
        )

    @property
    def events_url(self) -> str:
        """Where Slack sends every request."""
        return self.url + "/slack/events"

    @property
    def running(self) -> bool:
        """Whether the app still serves."""
        return self._thread.is_alive()

    def output(self) -> str:
        """What the app logged so far (other in-process apps of this worker may show too)."""
        return self.log_path.read_text(errors="replace")

    def start(self, timeout: float = STARTUP_TIMEOUT) -> AppInProcess:
        """Serve, and return once the lifespan has started; raise with the log if it did not."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.terminate()
                raise RuntimeError(f"the app did not start; its log:\n{self.output()}")
            time.sleep(0.01)
        return self

    def terminate(self, timeout: float = SHUTDOWN_TIMEOUT) -> int:
        """Stop as SIGTERM would (finish requests, drain listeners); 2 if the app gave up."""
        self._server.should_exit = True
        self._thread.join(timeout)
        logging.getLogger().removeHandler(self._log_handler)
        logging.getLogger().setLevel(self._root_level)
        self._log_handler.close()
        if self._thread.is_alive():
            raise RuntimeError(f"the app did not stop within {timeout}s; log:\n{self.output()}")
        return 2 if self.gave_up else 0

    def _give_up(self) -> None:
        self.gave_up = True
        self._server.should_exit = True


def settings_from(env: Mapping[str, str]) -> Settings:
    """The settings the app would read from this environment (and no `.env` file)."""
    values = {name.lower(): value for name, value in env.items() if name.startswith(APP_PREFIXES)}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def start_app(
    env_overrides: Mapping[str, str | None],
    *,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    workdir: Path,
) -> AppInProcess:
    """The app with the stand-ins' settings and these overrides (None removes a variable)."""
    env = server_environment(0, workdir, slack, nlpearl, env_overrides)
    settings = settings_from(env)
    sqlite_file = Path(settings.database_url.partition(":///")[2])
    if settings.database_url.startswith("sqlite") and not sqlite_file.exists():
        # What `serve` does on SQLite (migrate at start-up), from this process's migrated copy;
        # tests/e2e start the real process, which runs the migrations themselves.
        migrated_sqlite(sqlite_file)
    elif settings.database_url.startswith("sqlite"):
        upgrade_to_latest(settings.database_url)
    log_path = workdir / f"app-{time.monotonic_ns()}.log"
    watch(log_path, env)
    return AppInProcess(settings, log_path).start()


AppFactory = Callable[..., AppInProcess]


def _loopback_listener() -> socket.socket:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(2048)
    return listener


def _log_to(path: Path, settings: Settings) -> logging.Handler:
    """Log as `lead-bot serve` does (its level, its format, secrets redacted) into `path`."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    install([handler], secrets_of(settings))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler
