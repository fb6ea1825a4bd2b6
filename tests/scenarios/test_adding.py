"""Adding leads from Slack end to end: `/lead add`, "Add anyway", and the two add shortcuts.

The real app runs in process against Slack and NLPearl stand-ins of the test's own (adding
changes NLPearl's data). What NLPearl was asked to add is read off the stand-in's writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.demo.nlpearl_api import FIRST_NEW_LEAD_ID, SAMPLE_LEAD_ID, SAMPLE_LEAD_PHONE
from tests.harness import interactions as slack_says
from tests.harness.acting import (
    ADMIN,
    VIEW_METHODS,
    Desk,
    P,
    Values,
    ack_view,
    act_options,
    assert_view_fits,
    view_text,
    writes_of,
)
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
NEW_LEAD_ID = f"{FIRST_NEW_LEAD_ID:024x}"
ADD_ANYWAY = "lead.add_anyway"
ADD_FORM, DUPLICATE = "add_lead_modal", "add_duplicate_modal"
ADDED = "Added to the campaign"
TWIN = "This number is already a lead in that campaign."
MARIA_TYPED = "+1 (415) 555-0137"


# Fixtures and helpers


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
def desk(server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn) -> Desk:
    """The app with stand-ins of this test's own; U0USER (tess) is a workspace admin."""
    slack.add_user(ADMIN, "tess", is_admin=True)
    slack.add_user(MEMBER, "milo")
    return Desk(server, slack, nlpearl)


def add_path(version: str = "v2") -> str:
    """Add Lead's path for the sample campaign."""
    return f"/{version}/Outbound/{P}/Lead"


def command(desk: Desk, text: str, name: str = "add", user_id: str = ADMIN) -> dict[str, Any]:
    """`/lead text`: an empty ack at once, then the one private answer at the response_url."""
    url = desk.slack.response_url(name)
    acked = send_command(desk.server.events_url, text, url, user_id=user_id)
    assert (acked.status_code, acked.text) == (200, "")
    [answer] = desk.slack.wait_for_responses(1, name)
    assert answer.get("response_type") == "ephemeral", answer
    return answer


def click_add_anyway(desk: Desk, answer: dict[str, Any], name: str, user_id: str = ADMIN) -> None:
    """Clicks "Add anyway" on the private answer, as on an ephemeral message with this ts."""
    value = buttons(answer)[ADD_ANYWAY]["value"]
    payload = slack_says.message_block_actions(
        ADD_ANYWAY,
        value,
        desk.slack.response_url(name),
        message={"ts": "1700004000.000100"},
        user_id=user_id,
    )
    acked = slack_says.send_interaction(desk.server.events_url, payload)
    assert (acked.status_code, acked.text) == (200, "")


def open_form(
    desk: Desk,
    payload: dict[str, Any],
    view_id: str = "V0ADD",
) -> dict[str, Any]:
    """Sends a shortcut; the view opened at once ("Loading…"), then filled in."""
    desk.opens_as(view_id)
    after = desk.mark()
    acked = slack_says.send_interaction(desk.server.events_url, payload)
    assert (acked.status_code, acked.text) == (200, "")
    opened = desk.wait_call("views.open", after, trigger_id=payload["trigger_id"])
    assert "Loading" in view_text(opened["view"])
    form: dict[str, Any] = desk.wait_call("views.update", after, view_id=view_id)["view"]
    return form


def add_values(
    phone: str | None,
    *,
    campaign: str | None = P,
    external_id: str | None = None,
    zone: str | None = None,
    data: str | None = None,
) -> Values:
    """The Add a lead form's state as Slack sends it."""
    chosen = slack_says.selected_option("Solar", campaign) if campaign else slack_says.no_option()
    picked = (
        slack_says.selected_option(zone, zone) if zone else slack_says.no_option("static_select")
    )
    return {
        "campaign": {"lookup.campaign": chosen},
        "phone": {"value": slack_says.text_input(phone)},
        "external_id": {"value": slack_says.text_input(external_id)},
        "time_zone": {"value": picked},
        "new_data": {"value": slack_says.text_input(data)},
    }


def submit_form(
    desk: Desk, view: dict[str, Any], values: Values, view_id: str = "V0ADD"
) -> dict[str, Any]:
    """Submits the form: "Adding the lead…" at once, then what the modal shows after."""
    after = desk.mark()
    adding = ack_view(desk.submit(view, view_id, values))["view"]
    assert "Adding the lead" in view_text(adding)
    shown: dict[str, Any] = desk.wait_call("views.update", after, view_id=view_id)["view"]
    return shown


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A form's input blocks by block_id."""
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


# `/lead add`


@pytest.mark.parametrize(("version", "method"), [("v2", "POST"), ("v1", "PUT")])
def test_lead_add_adds_once_and_shows_the_new_leads_card(
    server_factory: AppFactory,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    version: str,
    method: str,
) -> None:
    """An admin's `/lead add`: one Add Lead (E.164, externalId, callData); the new card shown."""
    slack.add_user(ADMIN, "tess", is_admin=True)
    desk = Desk(server_factory({"NLPEARL_API_VERSION": version}), slack, nlpearl)

    answer = command(desk, f"add {P} +1 (555) 010-9999 ext:crm-9 plan=Pro")

    assert writes_of(nlpearl) == [
        (
            method,
            add_path(version),
            {"phoneNumber": "+15550109999", "externalId": "crm-9", "callData": {"plan": "Pro"}},
        )
    ]
    shown = blocks_text(answer)
    assert ADDED in shown
    assert f"Lead `{NEW_LEAD_ID}`" in shown
    assert "+1 555-010-9999" in shown
    assert "*Status*\n🆕 New" in shown
    assert "stop" in act_options(answer)
    assert not answer.get("replace_original")
    assert "*Add lead* · applied ✅ · by <@U0USER>" in desk.audit()


def test_adding_a_number_already_in_the_campaign_shows_that_lead_instead(desk: Desk) -> None:
    """Maria's number: her card with "Add anyway", and nothing is added."""
    answer = command(desk, f"add {P} {MARIA_TYPED}")

    assert TWIN in message_text(answer)
    assert f"Lead `{SAMPLE_LEAD_ID}`" in blocks_text(answer)
    assert "Maria Gonzalez" in blocks_text(answer)
    draft = json.loads(buttons(answer)[ADD_ANYWAY]["value"])
    assert draft["phone_number"] == SAMPLE_LEAD_PHONE
    assert desk.nlpearl.writes() == []


def test_add_anyway_adds_the_twin_once_even_when_clicked_twice(desk: Desk) -> None:
    """ "Add anyway": one Add Lead; the second click of the same button adds nothing."""
    answer = command(desk, f"add {P} {MARIA_TYPED} ext:crm-dup")

    click_add_anyway(desk, answer, "anyway")
    [added] = desk.slack.wait_for_responses(1, "anyway")
    click_add_anyway(desk, answer, "anyway")
    _, again = desk.slack.wait_for_responses(2, "anyway")

    assert writes_of(desk.nlpearl) == [
        ("POST", add_path(), {"phoneNumber": SAMPLE_LEAD_PHONE, "externalId": "crm-dup"})
    ]
    assert added["replace_original"] is True
    assert ADDED in blocks_text(added)
    assert f"Lead `{NEW_LEAD_ID}`" in blocks_text(added)
    assert "Already done" in blocks_text(again)
    assert "This addition was already made; it was not sent again." in blocks_text(again)
    # Said beside the new lead's card, which stays where it is.
    assert not again.get("replace_original")


def test_a_member_without_the_right_cannot_add(desk: Desk) -> None:
    """A non-admin's `/lead add` and "Add anyway" are refused; nothing reaches NLPearl."""
    refused = command(desk, f"add {P} +15550109999", user_id=MEMBER)
    assert "You can't change leads from Slack" in blocks_text(refused)

    twin = command(desk, f"add {P} {MARIA_TYPED}", "twin")
    click_add_anyway(desk, twin, "member-anyway", user_id=MEMBER)
    [anyway] = desk.slack.wait_for_responses(1, "member-anyway")
    assert "You can't change leads from Slack" in blocks_text(anyway)

    assert desk.nlpearl.writes() == []
    audit = desk.audit()
    assert audit.count("*Add lead* · denied 🔒 · by <@U0MEMBER>") == 2


@pytest.mark.parametrize(
    ("status", "body", "says", "result"),
    [
        (500, b"", "may or may not have been added", "unconfirmed ⏳"),
        (
            400,
            json.dumps({"message": "Phone <+1> is *blocked*"}).encode(),
            "NLPearl refused the change (Phone &lt;+1&gt; is ∗blocked∗). Nothing was added.",
            "failed ⚠️",
        ),
    ],
)
def test_nlpearl_failing_to_add_is_said_plainly_and_not_retried(
    desk: Desk, status: int, body: bytes, says: str, result: str
) -> None:
    """A 500 is not sent again (it may have added); a 400's reason is shown, escaped."""
    desk.nlpearl.fail_next(add_path(), status, times=5, body=body, method="POST")

    answer = command(desk, f"add {P} +15550109999")

    assert says in blocks_text(answer)
    assert ADDED not in blocks_text(answer)
    assert [(m, p) for m, p, _ in writes_of(desk.nlpearl)] == [("POST", add_path())]
    assert f"*Add lead* · {result}" in desk.audit()


def test_adding_to_a_campaign_nlpearl_does_not_have_adds_nothing(desk: Desk) -> None:
    """An unknown campaign: NLPearl's 404 to the add is said in words; the audit says "failed"."""
    answer = command(desk, "add ffffffffffffffffffffffff +15550109999")

    assert "NLPearl has no such campaign. Nothing was added." in blocks_text(answer)
    assert ADDED not in blocks_text(answer)
    assert [w.method for w in desk.nlpearl.writes()] == ["POST"]
    assert "*Add lead* · failed ⚠️" in desk.audit()


def test_when_nlpearl_cannot_say_whether_the_number_is_a_lead_nothing_is_added(
    desk: Desk,
) -> None:
    """The twin check failing is no reason to risk a twin: said so, no Add Lead sent."""
    desk.nlpearl.fail_next(f"{add_path()}/PhoneNumber", 503, times=10, method="GET")

    answer = command(desk, f"add {P} +15550109999")

    assert ADDED not in blocks_text(answer)
    assert "NLPearl" in blocks_text(answer)
    assert desk.nlpearl.writes() == []


def test_a_malformed_lead_add_is_answered_with_its_usage_at_once(desk: Desk) -> None:
    """`/lead add` with no usable number: the problem in the ack itself, nothing added."""
    url = desk.slack.response_url("malformed")
    acked = send_command(desk.server.events_url, f"add {P} 12", url)

    assert acked.status_code == 200
    assert "`12` isn't a phone number Lead Bot can call" in message_text(acked.json())
    assert desk.nlpearl.writes() == []
    assert desk.slack.responses("malformed") == []


# The "Add a lead" shortcut and its form


def test_the_add_shortcut_opens_the_form_and_adds_the_lead(desk: Desk) -> None:
    """ "Add a lead": campaign, phone, ID, zone, call data; submitted, one add, the new card."""
    form = open_form(desk, slack_says.global_shortcut(callback_id="lead_add"))
    assert form["callback_id"] == ADD_FORM
    assert set(inputs(form)) == {"campaign", "phone", "external_id", "time_zone", "new_data"}

    values = add_values(
        "555.010.7777",
        external_id="crm-77",
        zone="Eastern Standard Time",
        data="firstName=Ada\nplan=Pro",
    )
    shown = submit_form(desk, form, values)

    assert writes_of(desk.nlpearl) == [
        (
            "POST",
            add_path(),
            {
                "phoneNumber": "+15550107777",
                "externalId": "crm-77",
                "timeZoneId": "Eastern Standard Time",
                "callData": {"firstName": "Ada", "plan": "Pro"},
            },
        )
    ]
    assert ADDED in view_text(shown)
    assert f"Lead `{NEW_LEAD_ID}`" in view_text(shown)
    assert "Ada" in view_text(shown)


def test_acting_on_the_card_the_add_form_shows_redraws_that_card(desk: Desk) -> None:
    """The new lead's card shown by the form is a card modal: acting on it redraws it."""
    form = open_form(desk, slack_says.global_shortcut(callback_id="lead_add"))
    added = submit_form(desk, form, add_values("+15550107777"))
    assert added["callback_id"] == "card_modal"
    assert "stop" in act_options(added)

    confirm = desk.click_in_view(added, "V0ADD", "stop")
    after = desk.mark()
    desk.confirm(confirm, "V0PUSHED")

    assert [w.method for w in desk.nlpearl.writes()] == ["POST", "PUT"]
    # The outcome is shown after the redraws, so any redraw has been sent by now.
    redraws = [
        r.body["view"]
        for r in desk.slack.records()[after:]
        if r.method_or_path == "views.update" and r.body.get("view_id") == "V0ADD"
    ]
    assert redraws, "the card in the Add a lead modal still shows the lead as it was"
    assert "☑️ Completed" in view_text(redraws[-1])


def test_the_add_form_shows_its_problems_under_the_fields(desk: Desk) -> None:
    """No campaign, a bad number, a bad call-data line: errors in place, nothing added."""
    form = open_form(desk, slack_says.global_shortcut(callback_id="lead_add"))

    answer = desk.submit(form, "V0ADD", add_values("12", campaign=None, data="plan"))

    errors = ack_view(answer, "errors")["errors"]
    assert set(errors) == {"campaign", "phone", "new_data"}
    assert errors["phone"] == "Enter a phone number with its country code, like +14155550137."
    assert desk.nlpearl.writes() == []


def test_the_add_shortcut_refuses_a_member_before_they_fill_anything_in(desk: Desk) -> None:
    """A member opening "Add a lead" sees who may add, not the form."""
    shown = open_form(desk, slack_says.global_shortcut(callback_id="lead_add", user_id=MEMBER))

    assert shown["callback_id"] != ADD_FORM
    assert "You can't change leads from Slack" in view_text(shown)


def test_a_twin_in_the_form_shows_it_and_adding_anyway_adds_once(desk: Desk) -> None:
    """Maria's number in the form: her card and "Add anyway"; that adds once, twice submitted."""
    form = open_form(desk, slack_says.global_shortcut(callback_id="lead_add"))

    twin = submit_form(desk, form, add_values(MARIA_TYPED))
    assert twin["callback_id"] == DUPLICATE
    assert "already a lead in that campaign" in view_text(twin)
    assert "Maria Gonzalez" in view_text(twin)
    assert twin["submit"]["text"] == "Add anyway"
    assert desk.nlpearl.writes() == []

    added = submit_form(desk, twin, {})
    again = submit_form(desk, twin, {})

    assert writes_of(desk.nlpearl) == [("POST", add_path(), {"phoneNumber": SAMPLE_LEAD_PHONE})]
    assert ADDED in view_text(added)
    assert "Already done" in view_text(again)


def test_add_to_a_campaign_on_a_message_fills_in_what_the_message_says(desk: Desk) -> None:
    """ "Add to a campaign": the number, name and ID the message gives are filled in."""
    message = slack_says.chat_message(
        "New lead from the fair: Name: Ada Lovelace, +1 (555) 010-4242, crm: crm-42"
    )
    payload = slack_says.message_shortcut(
        message, desk.slack.response_url("shortcut"), callback_id="lead_add_from_message"
    )

    form = open_form(desk, payload)

    assert form["callback_id"] == ADD_FORM
    fields = inputs(form)
    assert fields["phone"]["element"]["initial_value"] == "+1 555-010-4242"
    assert fields["external_id"]["element"]["initial_value"] == "crm-42"
    assert fields["new_data"]["element"]["initial_value"] == "firstName=Ada\nlastName=Lovelace"
    assert desk.nlpearl.writes() == []
