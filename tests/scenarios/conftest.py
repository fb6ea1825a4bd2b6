"""Scenario tests: the real app in process, driven by signed Slack requests and webhooks.

The fixtures keep the names the process-level tests use (`server`, `shared_server`,
`server_factory`), so a scenario reads the same whichever way the app runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.harness.in_process import AppFactory, AppInProcess, start_app
from tests.harness.log_scan import assert_no_leaks
from tests.standins import NLPearlStandIn, SlackStandIn


@pytest.fixture
def server_factory(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, tmp_path: Path
) -> Iterator[AppFactory]:
    """Starts apps with extra environment against this test's stand-ins; stops them after."""
    started: list[AppInProcess] = []

    def start(env_overrides: Mapping[str, str | None] | None = None) -> AppInProcess:
        app = start_app(env_overrides or {}, slack=slack, nlpearl=nlpearl, workdir=tmp_path)
        started.append(app)
        return app

    yield start
    for app in started:
        app.terminate()
    assert_no_leaks(app.log_path for app in started)


@pytest.fixture
def server(server_factory: AppFactory) -> AppInProcess:
    """The app, started, talking to the `slack` and `nlpearl` stand-ins."""
    return server_factory()


@pytest.fixture(scope="session")
def shared_server_factory(
    _shared_standins: tuple[SlackStandIn, NLPearlStandIn],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[AppFactory]:
    """One app per distinct environment for the run, talking to the shared stand-ins."""
    slack, nlpearl = _shared_standins
    workdir = tmp_path_factory.mktemp("shared-app")
    running: dict[frozenset[tuple[str, str | None]], AppInProcess] = {}

    def start(env_overrides: Mapping[str, str | None] | None = None) -> AppInProcess:
        key = frozenset((env_overrides or {}).items())
        if key not in running:
            running[key] = start_app(
                env_overrides or {}, slack=slack, nlpearl=nlpearl, workdir=workdir
            )
        return running[key]

    yield start
    for app in running.values():
        app.terminate()
    assert_no_leaks(app.log_path for app in running.values())


@pytest.fixture
def shared_server(
    shared_server_factory: AppFactory, shared_slack: SlackStandIn, shared_nlpearl: NLPearlStandIn
) -> AppInProcess:
    """The shared app with the default environment (it may have served earlier tests)."""
    return shared_server_factory()
