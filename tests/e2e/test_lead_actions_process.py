"""Acting on and adding leads through the real `python -m bot serve` process, V1 and V2.

One shared server per NLPearl API version (V2's is the default shared server, so this file
starts one process of its own). The stand-ins are shared with other tests: this file acts
only on leads of its own, as an admin of its own, and adds numbers no other test uses.
"""

from __future__ import annotations

import uuid

import pytest

from tests.harness.acting import Desk, P, lead_in, lead_path, writes_of
from tests.harness.processes import ServerFactory
from tests.harness.slack_requests import blocks_text, send_command
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")

ADMIN = "U0E2EADMIN"
ENVIRONMENTS: dict[str, dict[str, str | None]] = {
    "v2": {},
    "v1": {"NLPEARL_API_VERSION": "v1"},
}
OWN_LEAD = {"v2": "e2eac7000000000000000002", "v1": "e2eac7000000000000000001"}
OWN_PHONE = {"v2": "+15550103402", "v1": "+15550103401"}
NEW_PHONE = {"v2": "+15550103302", "v1": "+15550103301"}


def desk_for(
    version: str, factory: ServerFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> Desk:
    """The shared server for `version`, an admin of this file's, and its lead (status New)."""
    slack.add_user(ADMIN, "erin", is_admin=True)
    nlpearl.add_lead(
        P,
        {
            "id": OWN_LEAD[version],
            "externalId": f"crm-e2e-{version}",
            "phoneNumber": OWN_PHONE[version],
            "status": 1,
            "callsId": [],
            "callData": {"firstName": "Eden", "lastName": version.upper()},
        },
    )
    return Desk(factory(ENVIRONMENTS[version]), slack, nlpearl)


@pytest.mark.parametrize("version", sorted(ENVIRONMENTS))
def test_stopping_and_adding_through_the_process_write_once_each(
    version: str,
    shared_server_factory: ServerFactory,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
) -> None:
    """Stop calling (button, confirm, submit) sends one PUT {status: 130}; `/lead add` one add."""
    desk = desk_for(version, shared_server_factory, shared_slack, shared_nlpearl)
    lead_id, phone = OWN_LEAD[version], NEW_PHONE[version]
    # The servers share a database: a view id of this test's own, as Slack's are unique.
    view_id = f"V0{uuid.uuid4().hex[:10].upper()}"

    card = desk.card(lead_id, user_id=ADMIN)
    confirm = desk.click(card, "stop", user_id=ADMIN, view_id=view_id)
    assert "Stop calling Eden" in blocks_text(confirm)
    outcome = desk.confirm(confirm, view_id, user_id=ADMIN)

    assert "Stopped calling: Eden" in blocks_text(outcome)
    updates = [w for w in writes_of(shared_nlpearl) if lead_id in w[1]]
    assert updates == [("PUT", lead_path(lead_id, version), {"status": 130})]
    assert lead_in(shared_nlpearl, lead_id)["status"] == 130
    [redrawn] = shared_slack.wait_for_responses(1, "click")
    assert "*Status*\n☑️ Completed" in blocks_text(redrawn)

    acked = send_command(
        desk.server.events_url,
        f"add {P} {phone} ext:e2e-add-{version}",
        shared_slack.response_url("add"),
        user_id=ADMIN,
    )
    assert (acked.status_code, acked.text) == (200, "")
    [answer] = shared_slack.wait_for_responses(1, "add")

    method = "POST" if version == "v2" else "PUT"
    add_path = f"/{version}/Outbound/{P}/Lead"
    adds = [w for w in writes_of(shared_nlpearl) if w[1] == add_path]
    assert adds == [(method, add_path, {"phoneNumber": phone, "externalId": f"e2e-add-{version}"})]
    assert "Added to the campaign" in blocks_text(answer)
    assert f"e2e-add-{version}" in blocks_text(answer)
