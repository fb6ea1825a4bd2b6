"""The feed's processes under faults: a database out of reach, a proxy's page instead of Slack.

Real `lead-bot serve` and `lead-bot worker` processes; what matters here crosses the process
boundary: how much they log, whether a traceback shows, whether SIGTERM still stops them.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.harness.feed import (
    Event,
    WorkerProcess,
    add_campaign,
    bot_environment,
    campaign_id,
    log_records,
    make_leads,
    start_worker,
    subscribe,
)
from tests.harness.processes import ServerFactory, ServerProcess
from tests.standins import NLPearlStandIn, SlackStandIn
from tests.standins.slack import JSON_CONTENT_TYPE

# Nothing listens on port 1: every connection is refused at once.
NO_DATABASE = "postgresql://postgres@127.0.0.1:1/none"
DOWN_SECONDS = 5.0
# Back-off from 0.5 s doubling: about five steps in five seconds, not thousands of lines.
MAX_LINES_WHILE_DOWN = 15
PROXY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def lines_after_start(process: ServerProcess | WorkerProcess) -> list[str]:
    """The process's output from its delivery loop's start on."""
    lines = process.output().splitlines()
    start = next(i for i, line in enumerate(lines) if "Delivery loop" in line)
    return lines[start:]


def wait_for_output(process: ServerProcess | WorkerProcess, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in process.output():
        assert process.process.poll() is None, f"the process exited:\n{process.output()}"
        assert time.monotonic() < deadline, f"no {text!r} within {timeout}s:\n{process.output()}"
        time.sleep(0.1)


def assert_quiet_back_off(process: ServerProcess | WorkerProcess) -> None:
    """A handful of one-line warnings, one a back-off step, no traceback."""
    output = process.output()
    lines = lines_after_start(process)
    steps = [line for line in lines if "the database cannot be reached" in line]
    assert 2 <= len(steps) <= MAX_LINES_WHILE_DOWN, "\n".join(lines[:40])
    assert len(lines) <= MAX_LINES_WHILE_DOWN + 2, "\n".join(lines[:40])
    assert "Traceback" not in output
    assert "(ConnectionRefusedError: [Errno 111] " in steps[0]
    assert "next try in" in steps[-1]
    # The URL's user and database stay out of the log; the host and port are what to check.
    assert "postgres@" not in output


def test_a_worker_without_its_database_backs_off_quietly_and_stops_on_sigterm(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, tmp_path: Path
) -> None:
    env = bot_environment({"DATABASE_URL": NO_DATABASE}, slack, nlpearl, tmp_path)
    worker = start_worker(env, tmp_path)
    try:
        wait_for_output(worker, "the database cannot be reached", timeout=10)
        time.sleep(DOWN_SECONDS)

        assert_quiet_back_off(worker)
    finally:
        code = worker.terminate(timeout=15)

    assert code == 0, worker.output()
    assert worker.output().splitlines()[-1].endswith(" stopped")


def test_a_server_without_its_database_backs_off_quietly_and_stops_on_sigterm(
    server_factory: ServerFactory,
) -> None:
    # PostgreSQL is not migrated at start-up, so the server starts and its loop meets the
    # missing database.
    server = server_factory({"DATABASE_URL": NO_DATABASE}, wait_healthy=False)
    wait_for_output(server, "the database cannot be reached", timeout=20)
    time.sleep(DOWN_SECONDS)

    assert_quiet_back_off(server)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert server.terminate(timeout=15) in (0, -signal.SIGTERM), server.output()
    assert "Application shutdown complete" in server.output()


@pytest.mark.parametrize("content_type", ["text/html", JSON_CONTENT_TYPE])
def test_a_proxy_page_instead_of_slack_is_retried_after_its_retry_after_once(
    server: ServerProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, content_type: str
) -> None:
    campaign = campaign_id(1)
    add_campaign(nlpearl, campaign)
    channel = "C0FAULTS"
    path = subscribe(server, slack, channel, campaign)
    slack.fail_next(
        "chat.postMessage",
        status=502,
        body=PROXY_PAGE,
        content_type=content_type,
        headers={"Retry-After": "2"},
    )
    (lead,) = make_leads(1, [campaign])

    answer = httpx.post(server.url + path, json=Event(lead, 20, 0).payload(), timeout=10)
    assert answer.json() == {"status": "stored", "queued": 1}

    slack.wait_for_calls("chat.postMessage", 2, timeout=20, ok_only=True)
    failed, parent, reply = slack.records("chat.postMessage")
    assert (failed.status, parent.ok, reply.ok) == (502, True, True)
    assert reply.body["thread_ts"] == parent.reply["ts"]  # type: ignore[index]
    assert [m.get("thread_ts") for m in slack.messages(channel)] == [None, parent.reply["ts"]]  # type: ignore[index]
    retried = [r for r in log_records(server) if "will be retried" in r]
    assert len(retried) == 1
    assert "retried in 2.0s: Slack answered HTTP 502 without its usual JSON" in retried[0]
    assert "Traceback" not in server.output()
    assert "<html>" not in server.output()
