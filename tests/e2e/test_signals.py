"""SIGTERM, what Heroku-like hosts send on deploy: the process stops cleanly, and work it
acknowledged before the signal still reaches the user."""

from __future__ import annotations

import signal

import pytest

from bot.demo.nlpearl_api import SAMPLE_LEAD_ID, SAMPLE_PEARL_ID
from tests.harness.processes import ServerProcess
from tests.harness.slack_requests import buttons, send_command
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")


def test_sigterm_stops_the_server_cleanly(server: ServerProcess) -> None:
    """SIGTERM (what Heroku-like hosts send on deploy) ends the process without a traceback."""
    assert server.process.poll() is None

    code = server.terminate(timeout=30)

    # uvicorn re-raises the signal after a clean shutdown, so -SIGTERM is a clean exit too.
    assert code in (0, -signal.SIGTERM), f"exit code {code}; output:\n{server.output()}"
    assert "Traceback" not in server.output()


def test_lookup_in_flight_at_sigterm_still_gets_its_answer(
    server: ServerProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """A deploy's SIGTERM lets a lookup already acknowledged finish: the user gets the card."""
    nlpearl.set_latency(1.0)
    acked = send_command(
        server.events_url, f"{SAMPLE_PEARL_ID} {SAMPLE_LEAD_ID}", slack.response_url("in-flight")
    )
    assert (acked.status_code, acked.text) == (200, "")
    nlpearl.wait_for_requests(f"/Lead/{SAMPLE_LEAD_ID}")

    server.process.send_signal(signal.SIGTERM)
    code = server.terminate(timeout=30)

    assert code in (0, -signal.SIGTERM), f"exit code {code}; output:\n{server.output()}"
    answers = slack.responses("in-flight")
    assert answers, f"the acknowledged lookup was dropped; output:\n{server.output()}"
    assert "lead_card.refresh" in buttons(answers[0])
