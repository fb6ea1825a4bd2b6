"""Shared fixtures: a clean environment so no stray SLACK_*/NLPEARL_* variable changes a test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.demo.nlpearl_api import load_sample
from tests.harness.log_scan import assert_no_leaks
from tests.harness.slack_requests import SIGNING_SECRET, assert_no_stack_traces
from tests.standins import NLPearlStandIn, SlackStandIn

# `database_url` and `engine`, on both backends, wherever a test asks for them.
pytest_plugins = ("tests.databases",)

APP_VARIABLES = (
    "SLACK_",
    "NLPEARL_",
    "DATABASE_URL",
    "PUBLIC_URL",
    "PORT",
    "LOG_LEVEL",
    "MASK_",
    "ENCRYPTION_KEY",
    "EVENT_RETENTION_DAYS",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks tests that run the server as a process `e2e`; puts `slow` tests first.

    A test that runs for minutes, started last, would leave the other workers idle at the
    end: started first, it runs while they share out the rest.
    """
    for item in items:
        names = getattr(item, "fixturenames", ())
        runs_server = "server_factory" in names or "shared_server_factory" in names
        if runs_server and item.path.parent.name == "e2e":
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Drop the app's variables and run in an empty folder, so no `.env` is read."""
    for name in list(os.environ):
        if name.startswith(APP_VARIABLES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database (dropped after the test)."""
    from tests.postgres import temporary_database

    with temporary_database() as url:
        yield url


# The stand-ins for Slack and NLPearl, fresh per test or one set for the run (reset before
# each test that uses them), for the scenario tests and the process-level end-to-end tests.


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


@pytest.fixture(scope="session")
def _shared_standins() -> Iterator[tuple[SlackStandIn, NLPearlStandIn]]:
    """Slack and NLPearl stand-ins shared by the tests that ask for `shared_*` fixtures."""
    with SlackStandIn() as slack, NLPearlStandIn() as nlpearl:
        load_sample(nlpearl)
        yield slack, nlpearl


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
def no_stack_traces(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the test, fails if any post to a response URL shows a stack trace."""
    names = ("slack", "shared_slack")
    standins = [request.getfixturevalue(n) for n in names if n in request.fixturenames]
    yield
    for standin in standins:
        assert_no_stack_traces(standin.responses())
