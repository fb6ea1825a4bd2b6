"""The sweep end to end: a status change whose webhook never came reaches the channel once.

The real app runs in process against the stand-ins, sweeping every fraction of a second. A
channel subscribes; one webhook tells the app where a lead stands; NLPearl then moves the lead
on without a webhook. The sweep finds the change and posts it in the lead's thread, marked;
the webhook that comes late after all is a duplicate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.harness.in_process import AppFactory, AppInProcess
from tests.harness.slack_requests import blocks_text, send_command
from tests.harness.webhooks import lead_event, post_webhook, webhook_url
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.e2e

CAMPAIGN = "5eef00000000000000000001"
LEAD = "5eef000000000000000000a1"
PHONE = "+14155550199"
CHANNEL = "C0SWEEP"
FOUND = "Found by the periodic check"
WAIT_SECONDS = 30.0
Json = dict[str, Any]


def _lead(status: int, calls: list[str]) -> Json:
    return lead_event(LEAD, PHONE, status, calls=calls, first_name="Sam", pearl_id=CAMPAIGN)


def _wait_for(what: str, found: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not found():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _subscribe(server: AppInProcess, slack: SlackStandIn) -> str:
    acked = send_command(
        server.events_url, f"subscribe {CAMPAIGN}", slack.response_url("sub"), channel_id=CHANNEL
    )
    assert acked.status_code == 200, acked.text
    [reply] = slack.wait_for_responses(1, "sub", timeout=15)
    return webhook_url(reply).group(3)


def _said(slack: SlackStandIn) -> list[str]:
    return [blocks_text(m) + " " + str(m.get("text", "")) for m in slack.messages(CHANNEL)]


def test_the_sweep_posts_a_change_whose_webhook_never_came_once(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """Queued (webhook) → Success in NLPearl (no webhook): one marked reply; the late webhook
    for the same change is a duplicate, and later sweeps post nothing more."""
    nlpearl.add_pearl({"id": CAMPAIGN, "name": "Sweep Demo", "type": 2, "status": 1})
    nlpearl.add_lead(CAMPAIGN, {**_lead(20, ["c1"]), "created": "2026-12-01T10:00:00Z"})
    server = server_factory({"SWEEP_MINUTES": "0.005", "SCHEDULE_TICK_SECONDS": "0.1"})
    path = _subscribe(server, slack)
    assert post_webhook(server.url, path, _lead(20, ["c1"])).json()["status"] == "stored"
    _wait_for("the lead's first post", lambda: len(slack.messages(CHANNEL)) >= 1)
    _wait_for("a sweep", lambda: bool(nlpearl.requests(f"/Outbound/{CAMPAIGN}/Leads")))

    nlpearl.add_lead(CAMPAIGN, {**_lead(100, ["c1", "c2"]), "created": "2026-12-01T10:00:00Z"})
    _wait_for("the swept change", lambda: any(FOUND in said for said in _said(slack)))

    late = post_webhook(server.url, path, _lead(100, ["c1", "c2"]))
    assert late.json()["status"] == "duplicate"
    sweeps = len(nlpearl.requests(f"/Outbound/{CAMPAIGN}/Leads"))
    _wait_for(
        "more sweeps",
        lambda: len(nlpearl.requests(f"/Outbound/{CAMPAIGN}/Leads")) >= sweeps + 3,
    )
    found = [said for said in _said(slack) if FOUND in said]
    assert len(found) == 1
    assert "Success" in found[0]
