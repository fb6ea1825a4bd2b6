"""The campaign card end to end: `/lead campaign`, Refresh, Share, and Pause / Resume with rights,
confirmation, one write to NLPearl, the card redrawn and the subscribed channel told."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.harness import interactions as slack_says
from tests.harness.acting import ADMIN, P, ack_view, assert_view_fits, view_text, writes_of
from tests.harness.in_process import AppFactory, AppInProcess
from tests.harness.slack_requests import (
    assert_no_stack_traces,
    blocks_text,
    buttons,
    message_text,
    send_command,
)
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")

MEMBER = "U0MEMBER"
PAUSE, RESUME = "campaign.pause", "campaign.resume"
REFRESH, SHARE = "campaign.refresh", "campaign.share"
CONFIRM = "confirm_campaign_modal"
VIEW_ID = "V0CAMPAIGN"
VIEW_METHODS = ("views.open", "views.update", "views.push")


@pytest.fixture(autouse=True)
def views_fit_slack(slack: SlackStandIn) -> Iterator[None]:
    """After the test, every view the app sent fits Slack, and none shows a stack trace."""
    yield
    for method in VIEW_METHODS:
        bodies = slack.calls(method)
        for body in bodies:
            assert_view_fits(body["view"])
        assert_no_stack_traces(bodies)


@pytest.fixture
def people(slack: SlackStandIn) -> None:
    """tess is a workspace admin; milo is a member with no grant."""
    slack.add_user(ADMIN, "tess", is_admin=True)
    slack.add_user(MEMBER, "milo")


def campaign_card(
    server: AppInProcess, slack: SlackStandIn, name: str = "card", user_id: str = ADMIN
) -> dict[str, Any]:
    """The private card `/lead campaign P` answers with."""
    acked = send_command(
        server.events_url, f"campaign {P}", slack.response_url(name), user_id=user_id
    )
    assert (acked.status_code, acked.text) == (200, "")
    [card] = slack.wait_for_responses(1, name)
    return card


def click(
    server: AppInProcess,
    slack: SlackStandIn,
    card: dict[str, Any],
    action_id: str,
    *,
    name: str = "card",
    user_id: str = ADMIN,
) -> dict[str, Any]:
    """Clicks Pause or Resume: a loading modal opens at once, then it is filled; the filled view."""
    slack.set_response("views.open", {"ok": True, "view": {"id": VIEW_ID, "type": "modal"}})
    value = buttons(card)[action_id]["value"]
    payload = slack_says.message_block_actions(
        action_id, value, slack.response_url(name), user_id=user_id
    )
    acked = slack_says.send_interaction(server.events_url, payload)
    assert (acked.status_code, acked.text) == (200, "")
    [opened] = slack.wait_for_calls("views.open", 1)
    assert "Checking" in view_text(opened["view"])
    [filled] = slack.wait_for_calls("views.update", 1)
    view: dict[str, Any] = filled["view"]
    return view


def submit(server: AppInProcess, slack: SlackStandIn, view: dict[str, Any], done: int) -> str:
    """Submits the confirmation: "Working…" at once, then the outcome (the `done`th update)."""
    payload = slack_says.view_submission(view, VIEW_ID, {})
    working = ack_view(slack_says.send_interaction(server.events_url, payload))["view"]
    assert "Working" in view_text(working)
    return view_text(slack.wait_for_calls("views.update", done)[-1]["view"])


def sample_pearl(nlpearl: NLPearlStandIn) -> dict[str, Any]:
    """The sample campaign as the stand-in serves it now."""
    answer = httpx.get(
        f"{nlpearl.url}/v2/Pearl/{P}", headers={"Authorization": f"Bearer {nlpearl.api_key}"}
    )
    pearl: dict[str, Any] = answer.json()
    return pearl


# The card


def test_the_campaign_card_shows_its_state_calls_totals_and_budget(
    server: AppInProcess, slack: SlackStandIn, people: None
) -> None:
    """`/lead campaign P`: name, Running, today's calls, leads, success rate, budget, Pause."""
    card = campaign_card(server, slack)

    text = blocks_text(card)
    assert "Solar – Spring Re-engagement" in text
    assert "🟢 Running" in text
    assert "*Calls today*\n87" in text
    assert "*On a call now*\n3" in text
    assert "*Leads*\n1,240" in text
    assert "133 · 33% of completed" in text
    assert "312 of 1,500 used (21%)" in text
    assert "None yet" in text
    assert set(buttons(card)) == {REFRESH, SHARE, PAUSE, "campaign.attention"}


def test_the_campaign_card_reads_v1_outbounds_too(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """With NLPEARL_API_VERSION=v1 the card comes from /v1/Outbound/{id}."""
    server = server_factory({"NLPEARL_API_VERSION": "v1"})

    card = campaign_card(server, slack)

    assert "🟢 Running" in blocks_text(card)
    assert nlpearl.requests(f"/v1/Outbound/{P}")


def test_an_unknown_campaign_says_so(
    server: AppInProcess, slack: SlackStandIn, people: None
) -> None:
    """A campaign NLPearl doesn't have: a plain notice, no card, no buttons."""
    acked = send_command(server.events_url, "campaign nope-nope", slack.response_url("none"))
    assert acked.status_code == 200
    [answer] = slack.wait_for_responses(1, "none")

    assert "No such campaign" in blocks_text(answer)
    assert buttons(answer) == {}


def test_refresh_redraws_the_card_in_place(
    server: AppInProcess, slack: SlackStandIn, people: None
) -> None:
    """Refresh: the same card, replacing the one clicked."""
    card = campaign_card(server, slack)
    value = buttons(card)[REFRESH]["value"]

    payload = slack_says.message_block_actions(REFRESH, value, slack.response_url("card"))
    assert slack_says.send_interaction(server.events_url, payload).status_code == 200
    _, redrawn = slack.wait_for_responses(2, "card")

    assert redrawn["replace_original"] is True
    assert "🟢 Running" in blocks_text(redrawn)


def test_share_posts_the_card_for_the_channel_and_drops_the_private_one(
    server: AppInProcess, slack: SlackStandIn, people: None
) -> None:
    """Share: in channel, saying who shared it, without a Share button; the private copy goes."""
    card = campaign_card(server, slack)
    value = buttons(card)[SHARE]["value"]

    payload = slack_says.message_block_actions(SHARE, value, slack.response_url("card"))
    assert slack_says.send_interaction(server.events_url, payload).status_code == 200
    _, shared, deleted = slack.wait_for_responses(3, "card")

    assert shared["response_type"] == "in_channel"
    assert f"Shared by <@{ADMIN}>" in blocks_text(shared)
    assert SHARE not in buttons(shared)
    assert deleted["delete_original"] is True


# Pause and resume


def test_an_admin_pauses_the_campaign_once_and_the_channel_hears_of_it(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """Pause → a confirmation naming the campaign → one PUT isActive=false → card redrawn
    Paused with Resume → a note in the subscribed channel → the audit on Home."""
    subscribed = send_command(server.events_url, f"subscribe {P}", slack.response_url("sub"))
    assert subscribed.status_code == 200
    slack.wait_for_responses(1, "sub")
    card = campaign_card(server, slack)

    confirm = click(server, slack, card, PAUSE)
    assert confirm["callback_id"] == CONFIRM
    assert "Pause Solar – Spring Re-engagement? It stops placing new calls" in view_text(confirm)
    outcome = submit(server, slack, confirm, 2)

    assert "Paused" in outcome
    assert writes_of(nlpearl) == [("PUT", f"/v2/Pearl/{P}/Active", {"isActive": False})]
    assert sample_pearl(nlpearl)["status"] == 2
    redrawn = slack.wait_for_responses(2, "card")[-1]
    assert redrawn["replace_original"] is True
    assert "⏸️ Paused" in blocks_text(redrawn)
    assert RESUME in buttons(redrawn)
    [note] = [m for m in slack.calls("chat.postMessage") if "paused" in message_text(m)]
    assert "by @tess" in message_text(note)
    acked = slack_says.send_event(server.events_url, slack_says.app_home_opened(ADMIN))
    assert acked.status_code == 200
    [home] = slack.wait_for_calls("views.publish", 1)
    assert f"⏸️ *Pause campaign* · applied ✅ · by <@{ADMIN}>" in view_text(home["view"])


def test_resume_on_v1_posts_to_the_outbound(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """V1: a paused campaign resumes with one POST /v1/Outbound/{id}/Active isActive=true."""
    server = server_factory({"NLPEARL_API_VERSION": "v1"})
    nlpearl.add_pearl({**sample_pearl(nlpearl), "status": 2})
    card = campaign_card(server, slack)

    confirm = click(server, slack, card, RESUME)
    assert "Resume Solar – Spring Re-engagement?" in view_text(confirm)
    submit(server, slack, confirm, 2)

    assert writes_of(nlpearl) == [("POST", f"/v1/Outbound/{P}/Active", {"isActive": True})]


def test_a_member_without_the_right_cannot_pause(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """A member sees the card, but Pause says the action is not theirs; nothing is sent."""
    card = campaign_card(server, slack, user_id=MEMBER)

    refused = click(server, slack, card, PAUSE, user_id=MEMBER)

    assert "You can't change campaigns from Slack" in view_text(refused)
    assert writes_of(nlpearl) == []


def test_a_campaign_paused_meanwhile_is_not_paused_again(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """The card said Running, but the campaign was paused elsewhere: say so, send nothing."""
    card = campaign_card(server, slack)
    confirm = click(server, slack, card, PAUSE)
    nlpearl.add_pearl({**sample_pearl(nlpearl), "status": 2})

    outcome = submit(server, slack, confirm, 2)

    assert "already ⏸️ Paused; nothing was changed" in outcome
    assert writes_of(nlpearl) == []


def test_the_same_confirmation_submitted_twice_pauses_once(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """A double submission (or Slack's retry) of one confirmation sends one change."""
    card = campaign_card(server, slack)
    confirm = click(server, slack, card, PAUSE)
    submit(server, slack, confirm, 2)

    again = submit(server, slack, confirm, 3)

    assert "Already done" in again
    assert len(writes_of(nlpearl)) == 1


def test_nlpearl_refusing_to_resume_a_suspended_campaign_is_explained(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """NLPearl's 400 (its reason escaped) reaches the person; nothing claims it happened."""
    nlpearl.add_pearl({**sample_pearl(nlpearl), "status": 2})
    card = campaign_card(server, slack)
    confirm = click(server, slack, card, RESUME)
    nlpearl.fail_next(
        f"/v2/Pearl/{P}/Active", status=400, body=b'{"message": "Out of <credit>"}', method="PUT"
    )

    outcome = submit(server, slack, confirm, 2)

    assert "Couldn't resume" in outcome
    assert "Out of &lt;credit&gt;" in outcome
    assert "Nothing was changed" in outcome


# Leads needing attention

ATTENTION, ATTENTION_PAGE, MENU = "campaign.attention", "attention.page", "lead.menu"


def add_stuck_leads(nlpearl: NLPearlStandIn, count: int) -> list[str]:
    """Leads the campaign can't get through to (Error, Wrong country code, Unreachable)."""
    ids = []
    for n in range(count):
        lead_id = f"a77e0000000000000000{n:04x}"
        nlpearl.add_lead(
            P,
            {
                "id": lead_id,
                "phoneNumber": f"+1555010{n:04d}",
                "status": (500, 30, 150)[n % 3],
                "created": f"2025-04-{1 + n:02d}T10:00:00Z",
                "callsId": [],
                "callData": {"firstName": f"Stuck{n}"},
            },
        )
        ids.append(lead_id)
    return ids


def open_attention(
    server: AppInProcess, slack: SlackStandIn, user_id: str = ADMIN
) -> dict[str, Any]:
    """Clicks the card's "Leads needing attention"; the list the modal is filled with."""
    card = campaign_card(server, slack, user_id=user_id)
    slack.set_response("views.open", {"ok": True, "view": {"id": "V0ATTN", "type": "modal"}})
    value = buttons(card)[ATTENTION]["value"]
    payload = slack_says.message_block_actions(
        ATTENTION, value, slack.response_url("card"), user_id=user_id
    )
    assert slack_says.send_interaction(server.events_url, payload).status_code == 200
    [filled] = slack.wait_for_calls("views.update", 1)
    view: dict[str, Any] = filled["view"]
    assert view["callback_id"] == "attention_modal"
    return view


def overflow_values(view: dict[str, Any]) -> list[dict[str, str]]:
    """Each lead's menu options in the list, as {label: value}."""
    menus = []
    for block in view["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "overflow":
            menus.append({o["text"]["text"]: o["value"] for o in accessory["options"]})
    return menus


def test_the_attention_list_pages_and_lets_an_admin_call_a_lead_again(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """12 stuck leads: 10 on the first page, 2 on the next; Call again from the list sends one
    PUT with status 10 after its confirmation."""
    add_stuck_leads(nlpearl, 12)

    first = open_attention(server, slack)
    text = view_text(first)
    assert "12 leads need attention" in text
    assert len(overflow_values(first)) == 10
    assert "Stuck11" in text, "newest first"

    older = next(
        e
        for b in first["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == f"{ATTENTION_PAGE}.next"
    )
    paging = slack_says.view_block_actions(older["action_id"], older["value"], first, "V0ATTN")
    assert slack_says.send_interaction(server.events_url, paging).status_code == 200
    second = slack.wait_for_calls("views.update", 2)[-1]["view"]
    assert len(overflow_values(second)) == 2

    menu = next(m for m in overflow_values(second) if any("Call again" in k for k in m))
    value = next(v for k, v in menu.items() if "Call again" in k)
    slack.set_response("views.push", {"ok": True, "view": {"id": VIEW_ID, "type": "modal"}})
    click = slack_says.view_block_actions(MENU, value, second, "V0ATTN")
    click["actions"] = [slack_says.overflow_action(MENU, value)]
    assert slack_says.send_interaction(server.events_url, click).status_code == 200
    confirm = slack.wait_for_calls("views.update", 3)[-1]["view"]
    assert "again? The campaign will call" in view_text(confirm)
    submit(server, slack, confirm, 4)

    [(method, path, body)] = writes_of(nlpearl)
    assert (method, body) == ("PUT", {"status": 10})
    assert path.startswith(f"/v2/Outbound/{P}/Lead/a77e")


def test_a_member_sees_the_list_but_no_fixes(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """Without the right to act: the leads and why there are no menus."""
    add_stuck_leads(nlpearl, 2)

    view = open_attention(server, slack, user_id=MEMBER)

    assert "2 leads need attention" in view_text(view)
    assert overflow_values(view) == []
    assert "Only workspace admins and owners" in view_text(view)


def test_share_while_nlpearl_is_down_posts_nothing_for_the_channel(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """Share when NLPearl fails: the problem goes to the person; the private card stays."""
    card = campaign_card(server, slack)
    nlpearl.fail_next(f"/v2/Pearl/{P}", status=503, times=10)

    payload = slack_says.message_block_actions(
        SHARE, buttons(card)[SHARE]["value"], slack.response_url("card")
    )
    assert slack_says.send_interaction(server.events_url, payload).status_code == 200
    _, answer = slack.wait_for_responses(2, "card")

    assert answer.get("response_type") == "ephemeral"
    assert not answer.get("replace_original")
    assert "NLPearl" in blocks_text(answer)
    assert not any(r.get("response_type") == "in_channel" for r in slack.responses("card"))
    assert not any(r.get("delete_original") for r in slack.responses("card"))


def test_refresh_while_nlpearl_is_down_keeps_the_card(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """Refresh when NLPearl fails: the card is not replaced by a notice without buttons."""
    card = campaign_card(server, slack)
    nlpearl.fail_next(f"/v2/Pearl/{P}", status=503, times=10)

    payload = slack_says.message_block_actions(
        REFRESH, buttons(card)[REFRESH]["value"], slack.response_url("card")
    )
    assert slack_says.send_interaction(server.events_url, payload).status_code == 200
    _, answer = slack.wait_for_responses(2, "card")

    assert not answer.get("replace_original")
    assert answer.get("response_type") == "ephemeral"


def test_nlpearl_answering_another_state_is_not_called_a_resume(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, people: None
) -> None:
    """Set Active answers 3 (suspended) to a resume: the outcome says so, no channel note."""
    nlpearl.add_pearl({**sample_pearl(nlpearl), "status": 2})
    card = campaign_card(server, slack)
    confirm = click(server, slack, card, RESUME)
    nlpearl.fail_next(f"/v2/Pearl/{P}/Active", status=200, body=b"3", method="PUT")

    outcome = submit(server, slack, confirm, 2)

    assert "Couldn't resume" in outcome
    assert "Suspended" in outcome
    assert not [m for m in slack.calls("chat.postMessage") if "resumed" in message_text(m)]
