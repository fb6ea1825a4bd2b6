"""Fixtures that run the real server process: for what needs a process (signals, crashes,
several processes, the command line, its logs)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.harness.log_scan import assert_no_leaks
from tests.harness.processes import STARTUP_TIMEOUT, ServerFactory, ServerProcess, start_server
from tests.standins import NLPearlStandIn, SlackStandIn


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


@pytest.fixture
def shared_server(
    shared_server_factory: ServerFactory,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
) -> ServerProcess:
    """The shared app with the default environment (it may have served earlier tests)."""
    return shared_server_factory()
