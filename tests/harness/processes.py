"""The real server process: started with the stand-ins' settings, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.harness.log_scan import watch
from tests.harness.slack_requests import SIGNING_SECRET
from tests.standins import NLPearlStandIn, SlackStandIn

CLEARED_PREFIXES = ("SLACK_", "NLPEARL_", "MASK_", "ALERT_", "SWEEP_", "SCHEDULE_", "CLOCK_")
CLEARED_VARIABLES = (
    "DATABASE_URL",
    "PUBLIC_URL",
    "PORT",
    "LOG_LEVEL",
    "ENCRYPTION_KEY",
    "EVENT_RETENTION_DAYS",
)
# A ceiling, not a measure: under coverage and six workers a start can take many seconds.
STARTUP_TIMEOUT = 60.0
SHUTDOWN_TIMEOUT = 30.0


@dataclass
class LoggedProcess:
    """A running `python -m bot` process and the file its stdout and stderr go to."""

    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def running(self) -> bool:
        """Whether the process has not exited."""
        return self.process.poll() is None

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = SHUTDOWN_TIMEOUT) -> int:
        """Sends SIGTERM, waits up to `timeout` seconds, then kills; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@dataclass
class ServerProcess(LoggedProcess):
    """A running `python -m bot serve` process, where it listens and where its output goes."""

    url: str

    @property
    def events_url(self) -> str:
        """Where Slack sends every request."""
        return self.url + "/slack/events"


ServerFactory = Callable[..., ServerProcess]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(
    port: int,
    workdir: Path,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    overrides: Mapping[str, str | None],
) -> dict[str, str]:
    """The process environment: ours without app settings, the stand-ins' settings, overrides.

    An override of None removes the variable.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(CLEARED_PREFIXES) and name not in CLEARED_VARIABLES
    }
    env |= {
        "PORT": str(port),
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": slack.valid_token,
        "SLACK_API_URL": slack.api_url,
        "NLPEARL_API_KEY": nlpearl.api_key,
        "NLPEARL_API_URL": nlpearl.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'e2e.db'}",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def start_server(
    env_overrides: Mapping[str, str | None],
    *,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    workdir: Path,
    wait_healthy: bool = True,
    timeout: float = STARTUP_TIMEOUT,
    command_prefix: Sequence[str] = (),
) -> ServerProcess:
    """Starts `python -m bot serve` in `workdir` and, unless told not to, waits for /healthz.

    `command_prefix` runs it under another program (the profiler: `py-spy record … --`).
    """
    port = free_port()
    log_path = workdir / f"server-{port}.log"
    env = server_environment(port, workdir, slack, nlpearl, env_overrides)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [*command_prefix, sys.executable, "-m", "bot", "serve"],
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    # Scanned for the secrets it was given when its owner stops it, or at the end of the run.
    watch(log_path, env)
    server = ServerProcess(process, log_path, url=f"http://127.0.0.1:{port}")
    if wait_healthy:
        _wait_until_healthy(server, timeout)
    return server


def _wait_until_healthy(server: ServerProcess, timeout: float) -> None:
    """Polls GET /healthz until 200; on exit or timeout, stops the process and raises."""
    deadline = time.monotonic() + timeout
    last_seen = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            last_seen = f"process exited with code {server.process.returncode}"
            break
        try:
            response = httpx.get(server.url + "/healthz", timeout=1)
        except httpx.TransportError as error:
            last_seen = repr(error)
        else:
            if response.status_code == 200:
                return
            last_seen = f"HTTP {response.status_code}: {response.text}"
        time.sleep(0.1)
    server.terminate()
    raise RuntimeError(
        f"server did not become healthy within {timeout}s ({last_seen}); output:\n{server.output()}"
    )
