"""The campaign card through the real `python -m bot serve` process: show it, pause it once.

The stand-ins are shared with other tests, so this file pauses a campaign of its own.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.harness import interactions as slack_says
from tests.harness.acting import ack_view, eventually, view_text, writes_of
from tests.harness.processes import ServerFactory
from tests.harness.slack_requests import blocks_text, buttons, send_command
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")

ADMIN = "U0E2ECAMP"
OWN_PEARL = "e2eca0000000000000000001"


def test_a_campaign_card_pauses_its_campaign_once_through_the_process(
    shared_server_factory: ServerFactory,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
) -> None:
    """`/lead campaign` shows it Running; Pause → confirm → one PUT isActive=false; now Paused."""
    shared_slack.add_user(ADMIN, "cam", is_admin=True)
    shared_nlpearl.add_pearl(
        {"id": OWN_PEARL, "name": "E2E Campaign", "type": 2, "status": 1, "totalTodayCalls": 4}
    )
    server = shared_server_factory()
    url = shared_slack.response_url("campaign-e2e")

    acked = send_command(server.events_url, f"campaign {OWN_PEARL}", url, user_id=ADMIN)
    assert (acked.status_code, acked.text) == (200, "")
    [card] = shared_slack.wait_for_responses(1, "campaign-e2e")
    assert "🟢 Running" in blocks_text(card)

    # The servers share a database: a view id of this test's own, as Slack's are unique.
    view_id = f"V0{uuid.uuid4().hex[:10].upper()}"
    shared_slack.set_response("views.open", {"ok": True, "view": {"id": view_id, "type": "modal"}})
    click = slack_says.message_block_actions(
        "campaign.pause", buttons(card)["campaign.pause"]["value"], url, user_id=ADMIN
    )
    assert slack_says.send_interaction(server.events_url, click).status_code == 200
    confirm = next(
        call["view"]
        for call in _updates(shared_slack, view_id, 1)
        if call["view"].get("callback_id") == "confirm_campaign_modal"
    )
    submission = slack_says.view_submission(confirm, view_id, {}, user_id=ADMIN)
    ack_view(slack_says.send_interaction(server.events_url, submission))
    outcome = _updates(shared_slack, view_id, 2)[-1]["view"]

    assert "Paused" in view_text(outcome)
    pauses = [w for w in writes_of(shared_nlpearl) if OWN_PEARL in w[1]]
    assert pauses == [("PUT", f"/v2/Pearl/{OWN_PEARL}/Active", {"isActive": False})]
    redrawn = shared_slack.wait_for_responses(2, "campaign-e2e")[-1]
    assert "⏸️ Paused" in blocks_text(redrawn)


def _updates(slack: SlackStandIn, view_id: str, count: int) -> list[dict[str, Any]]:
    """The views.update calls for this view, once there are at least `count`."""

    def enough() -> list[dict[str, Any]] | None:
        mine = [c for c in slack.calls("views.update") if c.get("view_id") == view_id]
        return mine if len(mine) >= count else None

    return eventually(enough, f"{count} views.update calls for {view_id}")
