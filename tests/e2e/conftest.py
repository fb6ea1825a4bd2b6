"""Fixtures that run the real server process against local Slack and NLPearl stand-ins."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.log_scan import assert_no_leaks, watch
from tests.e2e.slack_requests import SIGNING_SECRET, assert_no_stack_traces
from tests.standins import NLPearlStandIn, SlackStandIn
from tests.standins.nlpearl import load_sample

CLEARED_PREFIXES = ("SLACK_", "NLPEARL_", "MASK_")
CLEARED_VARIABLES = ("DATABASE_URL", "PUBLIC_URL", "PORT", "LOG_LEVEL")
STARTUP_TIMEOUT = 20.0
SHUTDOWN_TIMEOUT = 30.0


@dataclass
class ServerProcess:
    """A running `python -m bot serve` process and where its output goes."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def events_url(self) -> str:
        """Where Slack sends every request."""
        return self.url + "/slack/events"

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
) -> ServerProcess:
    """Starts `python -m bot serve` in `workdir` and, unless told not to, waits for /healthz."""
    port = free_port()
    log_path = workdir / f"server-{port}.log"
    env = server_environment(port, workdir, slack, nlpearl, env_overrides)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    # Scanned for the secrets it was given when its owner stops it, or at the end of the run.
    watch(log_path, env)
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log_path)
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test that runs the server process as `e2e`; puts `slow` tests first.

    A test that runs for minutes, started last, would leave the other workers idle at the
    end: started first, it runs while they share out the rest.
    """
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "server_factory" in names or "shared_server_factory" in names:
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def signing_secret() -> str:
    """The signing secret the server verifies requests with."""
    return SIGNING_SECRET


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    """A running Slack Web API and response_url stand-in."""
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def nlpearl() -> Iterator[NLPearlStandIn]:
    """A running NLPearl API stand-in with the sample pearl, leads and calls."""
    with NLPearlStandIn() as standin:
        load_sample(standin)
        yield standin


@pytest.fixture
def server_factory(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, tmp_path: Path
) -> Iterator[ServerFactory]:
    """Starts server processes with extra environment; stops them all at teardown."""
    started: list[ServerProcess] = []

    def start(
        env_overrides: Mapping[str, str | None] | None = None,
        *,
        wait_healthy: bool = True,
        timeout: float = STARTUP_TIMEOUT,
    ) -> ServerProcess:
        server = start_server(
            env_overrides or {},
            slack=slack,
            nlpearl=nlpearl,
            workdir=tmp_path,
            wait_healthy=wait_healthy,
            timeout=timeout,
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.terminate()
    assert_no_leaks(server.log_path for server in started)


@pytest.fixture
def server(server_factory: ServerFactory) -> ServerProcess:
    """The app, healthy, talking to the `slack` and `nlpearl` stand-ins."""
    return server_factory()


# One set of stand-ins and servers for the whole run, the stand-ins reset before each test
# that uses them: a server takes a couple of seconds to start, and most tests only need one
# that is already running. Tests that need a pristine process use `server` instead.


@pytest.fixture(scope="session")
def _shared_standins() -> Iterator[tuple[SlackStandIn, NLPearlStandIn]]:
    """Slack and NLPearl stand-ins shared by the tests that ask for `shared_*` fixtures."""
    with SlackStandIn() as slack, NLPearlStandIn() as nlpearl:
        load_sample(nlpearl)
        yield slack, nlpearl


@pytest.fixture(scope="session")
def shared_server_factory(
    _shared_standins: tuple[SlackStandIn, NLPearlStandIn],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerFactory]:
    """Starts one server per distinct environment for the run, talking to the shared stand-ins.

    Asking again with the same overrides returns the running server; one that has exited
    is an error (with its output), never silently restarted.
    """
    slack, nlpearl = _shared_standins
    workdir = tmp_path_factory.mktemp("shared-server")
    running: dict[frozenset[tuple[str, str | None]], ServerProcess] = {}

    def start(env_overrides: Mapping[str, str | None] | None = None) -> ServerProcess:
        key = frozenset((env_overrides or {}).items())
        server = running.get(key)
        if server is None:
            server = start_server(
                env_overrides or {}, slack=slack, nlpearl=nlpearl, workdir=workdir
            )
            running[key] = server
        elif server.process.poll() is not None:
            raise RuntimeError(
                f"the shared server exited with code {server.process.returncode}; "
                f"output:\n{server.output()}"
            )
        return server

    yield start
    for server in running.values():
        server.terminate()
    assert_no_leaks(server.log_path for server in running.values())


@pytest.fixture(scope="session", autouse=True)
def _no_secret_in_any_log() -> Iterator[None]:
    """At the end of the run, scan the logs no fixture scanned (servers tests started)."""
    yield
    assert_no_leaks()


@pytest.fixture
def shared_slack(_shared_standins: tuple[SlackStandIn, NLPearlStandIn]) -> SlackStandIn:
    """The shared Slack stand-in, with nothing recorded or programmed."""
    slack = _shared_standins[0]
    slack.reset()
    return slack


@pytest.fixture
def shared_nlpearl(_shared_standins: tuple[SlackStandIn, NLPearlStandIn]) -> NLPearlStandIn:
    """The shared NLPearl stand-in with the sample data, nothing recorded or programmed."""
    nlpearl = _shared_standins[1]
    nlpearl.reset()
    return nlpearl


@pytest.fixture
def shared_server(
    shared_server_factory: ServerFactory,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
) -> ServerProcess:
    """The shared app with the default environment (it may have served earlier tests)."""
    return shared_server_factory()


@pytest.fixture
def no_stack_traces(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the test, fails if any post to a response URL shows a stack trace."""
    names = ("slack", "shared_slack")
    standins = [request.getfixturevalue(n) for n in names if n in request.fixturenames]
    yield
    for standin in standins:
        assert_no_stack_traces(standin.responses())
