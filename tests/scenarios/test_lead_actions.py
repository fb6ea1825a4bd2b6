"""Acting on leads from Slack end to end: the card's actions, confirming, editing, who may act.

The real app runs in process against Slack and NLPearl stand-ins of the test's own (actions
change NLPearl's data). Every click and submission is a payload signed as Slack signs it,
every button value comes from a card or view the app drew, and what NLPearl was asked to
change is read off the stand-in's recorded writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.demo.nlpearl_api import (
    SAMPLE_LEAD_ID,
    SAMPLE_LEAD_MANY_CALLS_ID,
    SAMPLE_LEAD_NO_CALLS_ID,
)
from tests.blocks.slack_limits import assert_no_injection
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
    eventually,
    form_values,
    json_nodes,
    lead_in,
    lead_path,
    set_status,
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
from tests.harness.webhooks import lead_event, post_webhook, webhook_url
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")

MARIA = SAMPLE_LEAD_ID  # status 100, Success
DEVON = SAMPLE_LEAD_MANY_CALLS_ID  # status 110, Not successful
PRIYA = SAMPLE_LEAD_NO_CALLS_ID  # status 1, New
PRIYA_PHONE = "+16175550121"
MEMBER = "U0MEMBER"
CONFIRM, EDIT = "confirm_action_modal", "edit_lead_modal"
STATUS_TEXT = {
    1: "🆕 New",
    10: "🔁 Needs retry",
    100: "✅ Success",
    110: "❌ Not successful",
    130: "☑️ Completed",
}
FEED = "C0FEED"


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
    assert_no_stack_traces(slack.calls("chat.postMessage") + slack.calls("chat.update"))


@pytest.fixture
def desk(server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn) -> Desk:
    """The app with stand-ins of this test's own; U0USER (tess) is a workspace admin."""
    slack.add_user(ADMIN, "tess", is_admin=True)
    slack.add_user(MEMBER, "milo")
    return Desk(server, slack, nlpearl)


def card_in_modal(desk: Desk, lead_id: str, view_id: str = "V0CARD") -> dict[str, Any]:
    """The lead's card in a modal, reached as a person does: the shortcut, then the form."""
    shortcut = slack_says.global_shortcut()
    after = desk.mark()
    acked = slack_says.send_interaction(desk.server.events_url, shortcut)
    assert (acked.status_code, acked.text) == (200, "")
    form = desk.wait_call("views.open", after, trigger_id=shortcut["trigger_id"])["view"]
    values = {
        "campaign": {"lookup.campaign": slack_says.selected_option("Solar", P)},
        "lead": {"lookup.lead": slack_says.text_input(lead_id)},
    }
    card: dict[str, Any] = ack_view(desk.submit(form, view_id, values))["view"]
    assert card["callback_id"] == "card_modal", card
    return card


def grant(desk: Desk, users: list[str], groups: tuple[str, ...] = ()) -> dict[str, Any]:
    """The admin opens "Who may act" from Home and saves these people and groups; the new Home."""
    home = desk.home()
    assert "home.who_may_act" in buttons(home)
    desk.opens_as("V0GRANTS")
    after = desk.mark()
    click = slack_says.view_block_actions("home.who_may_act", None, home, "V0HOME")
    acked = slack_says.send_interaction(desk.server.events_url, click)
    assert (acked.status_code, acked.text) == (200, "")
    form = desk.wait_call("views.update", after, view_id="V0GRANTS")["view"]
    assert form["callback_id"] == "who_may_act_modal", form
    offered = [option["value"] for found in json_nodes(form, "options") for option in found]
    assert set(groups) <= set(offered), offered
    values: Values = {
        "grant_users": {"users": {"type": "multi_users_select", "selected_users": users}}
    }
    if groups:
        chosen = [{"text": {"type": "plain_text", "text": g}, "value": g} for g in groups]
        values["grant_usergroups"] = {
            "grants.usergroups": {"type": "multi_static_select", "selected_options": chosen}
        }
    after = desk.mark()
    saving = ack_view(desk.submit(form, "V0GRANTS", values))["view"]
    assert "Saving" in view_text(saving)
    saved = desk.wait_call("views.update", after, view_id="V0GRANTS")["view"]
    assert "Saved" in view_text(saved)
    published: dict[str, Any] = desk.wait_call("views.publish", after, user_id=ADMIN)["view"]
    return published


def lead_thread(desk: Desk) -> dict[str, Any]:
    """FEED subscribes to the campaign and a webhook about Priya posts her parent and a reply."""
    acked = send_command(
        desk.server.events_url, f"subscribe {P}", desk.slack.response_url("sub"), channel_id=FEED
    )
    assert (acked.status_code, acked.text) == (200, "")
    [reply] = desk.slack.wait_for_responses(1, "sub")
    event = lead_event(
        PRIYA, PRIYA_PHONE, 1, first_name="Priya", last_name="Raman", external_id="crm-004533"
    )
    answer = post_webhook(desk.server.url, webhook_url(reply).group(3), event)
    assert answer.status_code == 200, answer.text

    def posted() -> dict[str, Any] | None:
        kept = desk.slack.messages(FEED)
        parents = [m for m in kept if not m.get("thread_ts")]
        replies = [m for m in kept if m.get("thread_ts")]
        return parents[0] if parents and replies else None

    return eventually(posted, "Priya's parent message and its first reply")


def click_in_feed(desk: Desk, parent: dict[str, Any], verb: str) -> dict[str, Any]:
    """Clicks the action for `verb` on the feed's parent message; the view the app fills."""
    action_id, value = act_options(parent)[verb]
    payload = slack_says.message_block_actions(
        action_id,
        value,
        desk.slack.response_url("feed-click"),
        message=parent,
        channel_id=FEED,
        is_ephemeral=False,
    )
    if action_id == "lead.menu":
        payload["actions"] = [slack_says.overflow_action(action_id, value)]
    desk.opens_as("V0CONFIRM")
    after = desk.mark()
    slack_says.send_interaction(desk.server.events_url, payload)
    filled: dict[str, Any] = desk.wait_call("views.update", after, view_id="V0CONFIRM")["view"]
    return filled


def thread_notes(slack: SlackStandIn, parent_ts: str) -> list[dict[str, Any]]:
    """The app's posts in the parent's thread, oldest first."""
    posts = slack.calls("chat.postMessage", ok_only=True)
    return [p for p in posts if p.get("channel") == FEED and p.get("thread_ts") == parent_ts]


def open_edit(desk: Desk, lead_id: str = MARIA) -> dict[str, Any]:
    """The Edit lead form, from the card's menu."""
    form = desk.click(desk.card(lead_id), "edit", view_id="V0EDIT")
    assert form["callback_id"] == EDIT, form
    return form


def save(desk: Desk, form: dict[str, Any], typed: dict[str, str | None]) -> dict[str, Any]:
    """Submits the edit form with `typed` changed: "Saving…" at once, then how it went."""
    after = desk.mark()
    saving = ack_view(desk.submit(form, "V0EDIT", form_values(form, typed)))["view"]
    assert "Saving" in view_text(saving)
    shown: dict[str, Any] = desk.wait_call("views.update", after, view_id="V0EDIT")["view"]
    return shown


# Changing a lead's status from its card


@pytest.mark.parametrize("version", ["v2", "v1"])
@pytest.mark.parametrize(
    ("lead_id", "verb", "status", "asks", "effect", "done"),
    [
        (
            PRIYA,
            "stop",
            130,
            "Stop calling Priya Raman?",
            "The campaign will not call +1 617-555-0121 again.",
            "✋ *Stopped calling: Priya Raman*",
        ),
        (
            DEVON,
            "retry",
            10,
            "Call Devon Clarke again?",
            "The campaign will call +1 312-555-0188 again in its next calling window.",
            "🔁 *Set to call again: Devon Clarke*",
        ),
        (
            PRIYA,
            "won",
            100,
            "Mark Priya Raman as won?",
            "NLPearl will record a success",
            "🏆 *Marked won: Priya Raman*",
        ),
        (
            MARIA,
            "lost",
            110,
            "Mark Maria Gonzalez as lost?",
            "NLPearl will record the lead as not successful",
            "🚫 *Marked lost: Maria Gonzalez*",
        ),
    ],
)
def test_a_status_change_is_confirmed_sent_once_redrawn_and_audited(
    server_factory: AppFactory,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    version: str,
    lead_id: str,
    verb: str,
    status: int,
    asks: str,
    effect: str,
    done: str,
) -> None:
    """Card → confirm naming lead and effect → one PUT {status} → card redrawn → audit applied."""
    slack.add_user(ADMIN, "tess", is_admin=True)
    desk = Desk(server_factory({"NLPEARL_API_VERSION": version}), slack, nlpearl)
    card = desk.card(lead_id)
    before = lead_in(nlpearl, lead_id)["status"]

    confirm = desk.click(card, verb)
    assert confirm["callback_id"] == CONFIRM
    assert asks in view_text(confirm)
    assert effect in view_text(confirm)
    assert f"Lead `{lead_id}`" in view_text(confirm)
    assert nlpearl.writes() == []

    outcome = desk.confirm(confirm)

    assert done in view_text(outcome)
    assert writes_of(nlpearl) == [("PUT", lead_path(lead_id, version), {"status": status})]
    assert lead_in(nlpearl, lead_id)["status"] == status
    [redrawn] = slack.wait_for_responses(1, "click")
    assert redrawn["replace_original"] is True
    assert f"*Status*\n{STATUS_TEXT[status]}" in blocks_text(redrawn)
    assert f"*Status*\n{STATUS_TEXT[before]}" not in blocks_text(redrawn)
    assert verb not in act_options(redrawn)
    audit = desk.audit()
    assert "applied ✅ · by <@U0USER>" in audit
    assert f"Lead `{lead_id}`" in audit


def test_an_action_in_the_card_modal_is_pushed_and_redraws_the_modal_below(desk: Desk) -> None:
    """From the card in a modal: the confirmation is pushed; the card modal shows the new status."""
    card = card_in_modal(desk, PRIYA)
    assert "*Status*\n🆕 New" in view_text(card)

    confirm = desk.click_in_view(card, "V0CARD", "stop")
    assert [c["view"]["callback_id"] for c in desk.slack.calls("views.push")] == ["loading_modal"]
    assert desk.slack.calls("views.open")[-1]["view"]["callback_id"] == "lookup_modal"
    assert "Stop calling Priya Raman?" in view_text(confirm)
    after = desk.mark()
    outcome = desk.confirm(confirm, "V0PUSHED")

    assert "Stopped calling: Priya Raman" in view_text(outcome)
    assert writes_of(desk.nlpearl) == [("PUT", lead_path(PRIYA), {"status": 130})]
    below = desk.wait_call("views.update", after, view_id="V0CARD")["view"]
    assert below["callback_id"] == "card_modal"
    assert "*Status*\n☑️ Completed" in view_text(below)
    assert json.loads(below["private_metadata"]) == json.loads(card["private_metadata"])
    assert desk.slack.responses() == []


def test_an_unreadable_action_value_says_so_and_changes_nothing(desk: Desk) -> None:
    """A click whose value is not an action (old or forged) opens "That didn't work"."""
    desk.opens_as("V0BAD")
    after = desk.mark()
    payload = slack_says.message_block_actions(
        "lead.act", '{"v": "stop"}', desk.slack.response_url("bad")
    )
    slack_says.send_interaction(desk.server.events_url, payload)

    shown = desk.wait_call("views.update", after, view_id="V0BAD")["view"]

    assert "That didn't work" in view_text(shown)
    assert desk.nlpearl.writes() == []


# Who may act


def test_a_member_without_a_grant_is_refused_and_the_refusal_is_audited(desk: Desk) -> None:
    """A non-admin's click opens the refusal, nothing reaches NLPearl, and Home logs "denied"."""
    card = desk.card(PRIYA, user_id=MEMBER)

    refused = desk.click(card, "stop", user_id=MEMBER)

    assert "You can't change leads from Slack" in view_text(refused)
    assert "Who may act" in view_text(refused)
    assert not refused.get("submit")
    assert desk.nlpearl.writes() == []
    assert lead_in(desk.nlpearl, PRIYA)["status"] == 1
    audit = desk.audit()
    assert "*Stop calling* · denied 🔒 · by <@U0MEMBER>" in audit
    assert "not a workspace admin or owner" in audit


def test_a_confirmation_submitted_by_someone_without_the_right_changes_nothing(desk: Desk) -> None:
    """The right is checked again on submission: a member submitting an admin's form is refused."""
    confirm = desk.click(desk.card(PRIYA), "stop")

    refused = desk.confirm(confirm, user_id=MEMBER)

    assert "You can't change leads from Slack" in view_text(refused)
    assert desk.nlpearl.writes() == []
    assert "denied 🔒 · by <@U0MEMBER>" in desk.audit()


def test_an_admin_grants_a_member_who_then_may_act_until_it_is_taken_back(desk: Desk) -> None:
    """Home → Who may act → the member is saved; they can act; emptied again, they can't."""
    home = grant(desk, [MEMBER])
    assert "Workspace admins and owners, plus <@U0MEMBER>." in view_text(home)

    confirm = desk.click(desk.card(PRIYA, user_id=MEMBER), "stop", user_id=MEMBER)
    assert "Stop calling Priya Raman?" in view_text(confirm)
    outcome = desk.confirm(confirm, user_id=MEMBER)
    assert "Stopped calling: Priya Raman" in view_text(outcome)
    assert writes_of(desk.nlpearl) == [("PUT", lead_path(PRIYA), {"status": 130})]
    assert "applied ✅ · by <@U0MEMBER>" in desk.audit()

    home = grant(desk, [])
    assert "Workspace admins and owners only." in view_text(home)
    refused = desk.click(desk.card(DEVON, "card2", user_id=MEMBER), "retry", user_id=MEMBER)
    assert "You can't change leads from Slack" in view_text(refused)
    assert len(desk.nlpearl.writes()) == 1


def test_a_member_of_a_granted_user_group_may_act(desk: Desk) -> None:
    """A user group granted from Home lets its members act; it shows by handle, not a mention."""
    desk.slack.add_usergroup("S0CLOSERS", "closers", [MEMBER])

    home = grant(desk, [], ("S0CLOSERS",))

    assert "Workspace admins and owners, plus @closers." in view_text(home)
    assert "subteam" not in json.dumps(home)
    confirm = desk.click(desk.card(DEVON, user_id=MEMBER), "retry", user_id=MEMBER)
    outcome = desk.confirm(confirm, user_id=MEMBER)
    assert "Set to call again: Devon Clarke" in view_text(outcome)
    assert writes_of(desk.nlpearl) == [("PUT", lead_path(DEVON), {"status": 10})]


def test_an_owner_who_is_not_marked_admin_may_act(desk: Desk) -> None:
    """Workspace owners have the right as admins do, with no grant."""
    desk.slack.add_user("U0OWNER", "olga", is_owner=True)

    confirm = desk.click(desk.card(PRIYA, user_id="U0OWNER"), "won", user_id="U0OWNER")
    desk.confirm(confirm, user_id="U0OWNER")

    assert writes_of(desk.nlpearl) == [("PUT", lead_path(PRIYA), {"status": 100})]


@pytest.mark.parametrize(
    ("error", "says"),
    [
        ("no_such_subteam", "You can't change leads from Slack"),
        ("internal_error", "Couldn't check your permission"),
    ],
)
def test_a_granted_group_slack_cannot_list_grants_nothing_and_says_why(
    desk: Desk, error: str, says: str
) -> None:
    """A deleted group grants nothing; a group Slack can't list now means "couldn't check"."""
    desk.slack.add_usergroup("S0CLOSERS", "closers", [MEMBER])
    grant(desk, [], ("S0CLOSERS",))
    card = desk.card(DEVON, user_id=MEMBER)
    desk.slack.fail_next("usergroups.users.list", status=200, error=error)

    shown = desk.click(card, "retry", user_id=MEMBER)

    assert says in view_text(shown)
    assert desk.nlpearl.writes() == []


def test_only_an_admin_may_open_or_save_who_may_act(desk: Desk) -> None:
    """A member's "Who may act" shows who to ask; a forged save by them grants nothing."""
    assert "home.who_may_act" not in buttons(desk.home(MEMBER))
    admins_home = desk.home()
    desk.opens_as("V0MEMBERGRANTS")
    after = desk.mark()
    click = slack_says.view_block_actions(
        "home.who_may_act", None, admins_home, "V0HOME", user_id=MEMBER
    )
    slack_says.send_interaction(desk.server.events_url, click)
    shown = desk.wait_call("views.update", after, view_id="V0MEMBERGRANTS")["view"]
    assert "Only admins can choose" in view_text(shown)

    values: Values = {
        "grant_users": {"users": {"type": "multi_users_select", "selected_users": [MEMBER]}}
    }
    forged = {"type": "modal", "callback_id": "who_may_act_modal", "blocks": []}
    after = desk.mark()
    ack_view(desk.submit(forged, "V0FORGED", values, user_id=MEMBER))
    answer = desk.wait_call("views.update", after, view_id="V0FORGED")["view"]
    assert "Only admins can choose" in view_text(answer)
    refused = desk.click(desk.card(PRIYA, user_id=MEMBER), "stop", user_id=MEMBER)
    assert "You can't change leads from Slack" in view_text(refused)
    assert "Workspace admins and owners only." in view_text(desk.home())


def test_when_slack_cannot_say_who_is_acting_nothing_is_changed(desk: Desk) -> None:
    """users.info failing: the click and the submission say so plainly; no write, no claim burnt."""
    card = desk.card(PRIYA)
    desk.slack.fail_next("users.info", status=200, error="internal_error")
    unknown = desk.click(card, "stop", view_id="V0FIRST")
    assert "Couldn't check your permission" in view_text(unknown)
    assert "nothing was changed" in view_text(unknown)

    confirm = desk.click(card, "stop")
    desk.slack.fail_next("users.info", status=200, error="internal_error")
    unknown = desk.confirm(confirm)
    assert "Couldn't check your permission" in view_text(unknown)
    assert desk.nlpearl.writes() == []
    assert "Slack could not say who this is" in desk.audit()

    outcome = desk.confirm(confirm)
    assert "Stopped calling: Priya Raman" in view_text(outcome)
    assert writes_of(desk.nlpearl) == [("PUT", lead_path(PRIYA), {"status": 130})]


# The lead changed meanwhile, and doing it twice


def test_a_lead_that_moved_on_is_shown_as_it_is_now_and_asked_again(desk: Desk) -> None:
    """Status changed after the card was drawn: no write, the app asks again, then applies once."""
    confirm = desk.click(desk.card(PRIYA), "stop")
    set_status(desk.nlpearl, PRIYA, 10)

    again = desk.confirm(confirm)

    assert again["callback_id"] == CONFIRM
    assert "it was 🆕 New, it is now 🔁 Needs retry" in view_text(again)
    assert "Stop calling Priya Raman?" in view_text(again)
    assert json.loads(again["private_metadata"])["act"]["seen_status"] == 10
    assert desk.nlpearl.writes() == []
    assert "stale ↩️" in desk.audit()

    outcome = desk.confirm(again)
    assert "Stopped calling: Priya Raman" in view_text(outcome)
    assert writes_of(desk.nlpearl) == [("PUT", lead_path(PRIYA), {"status": 130})]


def test_a_card_drawn_before_the_lead_moved_asks_again_at_the_click(desk: Desk) -> None:
    """Clicking a card older than the lead's status shows the change before anything else."""
    card = desk.card(PRIYA)
    set_status(desk.nlpearl, PRIYA, 100)

    again = desk.click(card, "lost")

    assert "it was 🆕 New, it is now ✅ Success" in view_text(again)
    assert "Mark Priya Raman as lost?" in view_text(again)
    assert desk.nlpearl.writes() == []


def test_an_action_that_no_longer_applies_is_not_offered_again(desk: Desk) -> None:
    """Stopping a lead that completed meanwhile: said so, no submit button, nothing sent."""
    confirm = desk.click(desk.card(PRIYA), "stop")
    set_status(desk.nlpearl, PRIYA, 130)

    gone = desk.confirm(confirm)

    assert "no longer applies to this lead, so nothing was changed" in view_text(gone)
    assert not gone.get("submit")
    assert desk.nlpearl.writes() == []


def test_the_same_confirmation_submitted_twice_is_applied_once(desk: Desk) -> None:
    """A resubmitted form (same view id) sends nothing again and says it was already applied."""
    confirm = desk.click(desk.card(PRIYA), "stop")
    desk.confirm(confirm)

    second = desk.confirm(confirm)

    assert "Already done" in view_text(second)
    assert "This change was already made; it was not sent again." in view_text(second)
    assert writes_of(desk.nlpearl) == [("PUT", lead_path(PRIYA), {"status": 130})]
    assert len(desk.slack.responses("click")) == 1


def test_two_submissions_at_once_send_one_change(desk: Desk) -> None:
    """Two deliveries of the same submission racing: one write; the other says it's under way."""
    confirm = desk.click(desk.card(PRIYA), "stop")
    desk.nlpearl.hang(lead_path(PRIYA), 0.5)
    after = desk.mark()

    with ThreadPoolExecutor(2) as pool:
        acks = list(pool.map(lambda _: desk.submit(confirm), range(2)))

    for acked in acks:
        assert "Working" in view_text(ack_view(acked)["view"])
    eventually(
        lambda: (
            True
            if len([r for r in desk.slack.records()[after:] if r.method_or_path == "views.update"])
            >= 2
            else None
        ),
        "both outcomes",
    )
    shown = [view_text(c["view"]) for c in desk.slack.calls("views.update")[-2:]]
    assert any("Stopped calling: Priya Raman" in text for text in shown), shown
    assert any("working on this change right now" in text for text in shown), shown
    assert writes_of(desk.nlpearl) == [("PUT", lead_path(PRIYA), {"status": 130})]


def test_a_double_click_opens_two_confirmations_but_changes_the_lead_once(desk: Desk) -> None:
    """Two confirmations from one card: the first applies; the second finds the lead moved on."""
    card = desk.card(PRIYA)
    first = desk.click(card, "stop", view_id="V0CONFIRM1")
    second = desk.click(card, "stop", view_id="V0CONFIRM2")

    desk.confirm(first, "V0CONFIRM1")
    late = desk.confirm(second, "V0CONFIRM2")

    assert "no longer applies to this lead" in view_text(late)
    assert writes_of(desk.nlpearl) == [("PUT", lead_path(PRIYA), {"status": 130})]


# NLPearl saying no


@pytest.mark.parametrize(
    ("status", "times", "why", "result"),
    [
        (401, 1, "NLPearl rejected Lead Bot's API key", "failed ⚠️"),
        (404, 1, "NLPearl no longer has this lead", "failed ⚠️"),
        (429, 3, "NLPearl is busy right now; try again in a minute", "failed ⚠️"),
    ],
)
def test_nlpearl_refusing_the_change_is_explained_and_nothing_claims_success(
    desk: Desk, status: int, times: int, why: str, result: str
) -> None:
    """401, 404, a rate limit that lasts: the reason in words; card kept; audit "failed"."""
    confirm = desk.click(desk.card(PRIYA), "stop")
    desk.nlpearl.fail_next(
        lead_path(PRIYA), status, times=times, headers={"Retry-After": "0"}, method="PUT"
    )

    outcome = desk.confirm(confirm)

    assert "Couldn't stop calling Priya Raman" in view_text(outcome)
    assert why in view_text(outcome)
    assert "Nothing was changed" in view_text(outcome)
    assert "Stopped calling" not in view_text(outcome)
    assert len(desk.nlpearl.writes()) == times
    assert lead_in(desk.nlpearl, PRIYA)["status"] == 1
    assert desk.slack.responses("click") == []
    assert f"*Stop calling* · {result}" in desk.audit()


def test_nlpearls_own_reason_for_a_400_is_shown_escaped(desk: Desk) -> None:
    """A 400's JSON message appears in the outcome and the audit, unable to mention or format."""
    confirm = desk.click(desk.card(PRIYA), "stop")
    reason = "Lead <!channel> is *locked* & can't change"
    body = json.dumps({"message": reason}).encode()
    desk.nlpearl.fail_next(lead_path(PRIYA), 400, body=body, method="PUT")

    outcome = desk.confirm(confirm)

    shown = view_text(outcome)
    assert (
        "NLPearl refused the change (Lead &lt;!channel&gt; is ∗locked∗ &amp; can't change)" in shown
    )
    assert "<!channel>" not in json.dumps(outcome)
    assert "Nothing was changed" in shown
    assert len(desk.nlpearl.writes()) == 1
    assert desk.slack.responses("click") == []
    audit = desk.audit()
    assert "*Stop calling* · failed ⚠️" in audit
    assert "&lt;!channel&gt;" in audit


def test_nlpearl_failing_every_retry_leaves_the_change_unconfirmed(desk: Desk) -> None:
    """5xx on every attempt: retried, then "may or may not have changed"; never "done"."""
    confirm = desk.click(desk.card(PRIYA), "stop")
    desk.nlpearl.fail_next(lead_path(PRIYA), 503, times=10, method="PUT")

    outcome = desk.confirm(confirm)

    assert "NLPearl didn't confirm" in view_text(outcome)
    assert "may or may not have changed" in view_text(outcome)
    assert "Stopped calling" not in view_text(outcome)
    writes = writes_of(desk.nlpearl)
    assert len(writes) == 3
    assert set(map(json.dumps, writes)) == {json.dumps(("PUT", lead_path(PRIYA), {"status": 130}))}
    assert desk.slack.responses("click") == []
    assert "*Stop calling* · unconfirmed ⏳" in desk.audit()


def test_a_lead_nlpearl_no_longer_has_says_so_at_the_click(desk: Desk) -> None:
    """The lead is gone when the action is clicked: said in words, no confirmation, no write."""
    card = desk.card(PRIYA)
    desk.nlpearl.fail_next(lead_path(PRIYA), 404, method="GET")

    gone = desk.click(card, "stop")

    assert "NLPearl no longer has this lead" in view_text(gone)
    assert not gone.get("submit")
    assert desk.nlpearl.writes() == []


def test_a_change_nlpearl_took_without_echoing_the_lead_is_still_reported_done(
    desk: Desk,
) -> None:
    """NLPearl's 200 without the lead, then a failed re-read: done, audited, Refresh suggested."""
    confirm = desk.click(desk.card(PRIYA), "stop")
    desk.nlpearl.hang(lead_path(PRIYA), 0.3)
    desk.nlpearl.fail_next(lead_path(PRIYA), 200, method="PUT")
    after, reads = desk.mark(), len(desk.nlpearl.requests(lead_path(PRIYA)))
    ack_view(desk.submit(confirm))
    # Once the check before the change has been asked, the reads after it fail.
    desk.nlpearl.wait_for_requests(lead_path(PRIYA), reads + 1)
    desk.nlpearl.fail_next(lead_path(PRIYA), 503, times=10, method="GET")
    outcome = desk.wait_call("views.update", after, view_id="V0CONFIRM")["view"]

    assert [w.method for w in desk.nlpearl.writes()] == ["PUT"]
    assert "Stopped calling: Priya Raman" in view_text(outcome)
    assert "Nothing was changed" not in view_text(outcome)
    assert "Press Refresh" in view_text(outcome)
    assert desk.slack.responses("click") == []
    assert "*Stop calling* · applied ✅" in desk.audit()


# The lead's threads in subscribed channels


def test_an_action_is_noted_in_the_leads_thread_and_its_parent_redrawn(desk: Desk) -> None:
    """After acting from a card: a "by @tess" reply under the lead's parent; the parent updated."""
    parent = lead_thread(desk)
    assert "🆕 New" in message_text(parent)
    notes_before = len(thread_notes(desk.slack, parent["ts"]))

    desk.confirm(desk.click(desk.card(PRIYA), "stop"))

    notes = thread_notes(desk.slack, parent["ts"])
    assert len(notes) == notes_before + 1
    assert notes[-1]["text"] == "✋ Stopped calling · by @tess"
    assert "Stopped calling · by @tess · <!date^" in message_text(notes[-1])
    [update] = [u for u in desk.slack.calls("chat.update") if u.get("ts") == parent["ts"]]
    assert update["channel"] == FEED
    assert "☑️ Completed" in message_text(update)
    assert "🆕 New" not in message_text(update)
    [redrawn] = desk.slack.wait_for_responses(1, "click")
    assert "*Status*\n☑️ Completed" in blocks_text(redrawn)


def test_the_feed_parents_own_action_bar_acts_and_redraws_the_parent(desk: Desk) -> None:
    """The parent message's Stop calling: confirmed, sent once, noted and redrawn in the channel."""
    parent = lead_thread(desk)
    assert json.loads(act_options(parent)["stop"][1])["o"] == "feed"

    confirm = click_in_feed(desk, parent, "stop")
    assert "Stop calling Priya Raman?" in view_text(confirm)

    outcome = desk.confirm(confirm)

    assert "Stopped calling: Priya Raman" in view_text(outcome)
    assert writes_of(desk.nlpearl) == [("PUT", lead_path(PRIYA), {"status": 130})]
    assert thread_notes(desk.slack, parent["ts"])[-1]["text"] == "✋ Stopped calling · by @tess"
    [kept] = [m for m in desk.slack.messages(FEED) if m["ts"] == parent["ts"]]
    assert "☑️ Completed" in message_text(kept)
    assert "stop" not in act_options(kept)
    assert desk.slack.responses("feed-click") == []


def test_a_feed_message_still_acts_and_redraws_after_its_channel_unsubscribed(
    desk: Desk,
) -> None:
    """The clicked parent is redrawn and noted even once the channel stopped following."""
    parent = lead_thread(desk)
    acked = send_command(
        desk.server.events_url,
        f"unsubscribe {P}",
        desk.slack.response_url("unsub"),
        channel_id=FEED,
    )
    assert acked.status_code == 200
    desk.slack.wait_for_responses(1, "unsub")

    desk.confirm(click_in_feed(desk, parent, "won"))

    assert writes_of(desk.nlpearl) == [("PUT", lead_path(PRIYA), {"status": 100})]
    assert thread_notes(desk.slack, parent["ts"])[-1]["text"] == "🏆 Marked won · by @tess"
    [kept] = [m for m in desk.slack.messages(FEED) if m["ts"] == parent["ts"]]
    assert "✅ Success" in message_text(kept)


def test_a_display_name_cannot_mention_anyone_from_a_thread_note(desk: Desk) -> None:
    """The actor's name is outside text: a name like "<!channel>" is shown, never broadcast."""
    desk.slack.add_user(ADMIN, "<!channel> *tess*", is_admin=True)
    parent = lead_thread(desk)

    desk.confirm(desk.click(desk.card(PRIYA), "stop"))

    note = thread_notes(desk.slack, parent["ts"])[-1]
    assert note["text"] == "✋ Stopped calling · by @&lt;!channel&gt; ∗tess∗"
    assert_no_injection(note)


def test_acting_on_a_card_shared_in_a_channel_redraws_it_masked_and_credited(
    desk: Desk,
) -> None:
    """A shared card's action redraws that channel card in place, number still masked."""
    card = desk.card(PRIYA)
    share = next(
        e["value"]
        for b in card["blocks"]
        for e in b.get("elements") or []
        if e.get("action_id") == "lead_card.share"
    )
    payload = slack_says.message_block_actions(
        "lead_card.share", share, desk.slack.response_url("share")
    )
    slack_says.send_interaction(desk.server.events_url, payload)
    shared = next(r for r in desk.slack.wait_for_responses(2, "share") if r.get("blocks"))
    shared = {**shared, "ts": "1700003000.000100"}

    action_id, value = act_options(shared)["stop"]
    click = slack_says.message_block_actions(
        action_id,
        value,
        desk.slack.response_url("shared-click"),
        message=shared,
        is_ephemeral=False,
    )
    desk.opens_as("V0CONFIRM")
    after = desk.mark()
    slack_says.send_interaction(desk.server.events_url, click)
    confirm = desk.wait_call("views.update", after, view_id="V0CONFIRM")["view"]
    desk.confirm(confirm)

    [redrawn] = desk.slack.wait_for_responses(1, "shared-click")
    assert redrawn["replace_original"] is True
    assert "*Status*\n☑️ Completed" in blocks_text(redrawn)
    assert "•••• 0121" in blocks_text(redrawn)
    assert "617" not in message_text(redrawn)
    assert "Shared by <@U0USER>" in blocks_text(redrawn)


# Edit lead


def test_the_edit_form_shows_the_lead_as_nlpearl_has_it(desk: Desk) -> None:
    """Phone, external ID, a time-zone picker with the current offset, and each call-data field."""
    form = open_edit(desk)

    inputs = {b["block_id"]: b for b in form["blocks"] if b["type"] == "input"}
    assert inputs["phone"]["element"]["initial_value"] == "+1 415-555-0137"
    assert inputs["external_id"]["element"]["initial_value"] == "crm-004512"
    zone = inputs["time_zone"]
    assert zone["element"]["type"] == "static_select"
    names = [o["value"] for g in zone["element"]["option_groups"] for o in g["options"]]
    assert "Pacific Standard Time" in names
    assert zone["hint"]["text"] == "Currently UTC−08:00. Leave it empty to keep it."
    data = [inputs[f"data.{n}"]["element"].get("initial_value") for n in range(4)]
    assert data == ["Maria", "Gonzalez", "maria.gonzalez@example.com", "Pro"]
    assert "new_data" in inputs
    assert json.loads(form["private_metadata"])["fingerprint"]


def test_a_new_phone_in_a_loose_format_sends_only_the_phone_in_e164(desk: Desk) -> None:
    """Only what changed is sent: {"phoneNumber": "+14155550199"}; the card is redrawn."""
    form = open_edit(desk)

    shown = save(desk, form, {"phone": "+1 (415) 555.0199"})

    assert "Edited the lead: Maria Gonzalez" in view_text(shown)
    assert writes_of(desk.nlpearl) == [("PUT", lead_path(MARIA), {"phoneNumber": "+14155550199"})]
    [redrawn] = desk.slack.wait_for_responses(1, "click")
    assert "+1 415-555-0199" in blocks_text(redrawn)
    assert "*Edit lead* · applied ✅" in desk.audit()


def test_an_invalid_phone_is_refused_under_its_field_and_nothing_is_sent(desk: Desk) -> None:
    """A number without enough digits: `errors` under the phone block, no write."""
    form = open_edit(desk)

    answer = ack_view(desk.submit(form, "V0EDIT", form_values(form, {"phone": "555-01"})), "errors")

    assert answer["errors"] == {
        "phone": "Enter a phone number with its country code, like +14155550137."
    }
    assert desk.nlpearl.writes() == []


def test_an_untouched_form_saves_nothing(desk: Desk) -> None:
    """Submitting the form as drawn says "Nothing to save" and sends nothing."""
    shown = save(desk, open_edit(desk), {})

    assert "Nothing to save" in view_text(shown)
    assert "Maria Gonzalez is unchanged" in view_text(shown)
    assert desk.nlpearl.writes() == []


def test_a_call_data_change_sends_the_call_data_whole(desk: Desk) -> None:
    """One field edited, one added: callData is sent with every key, and nothing else."""
    form = open_edit(desk)

    save(desk, form, {"data.3": "Enterprise", "new_data": "source=slack"})

    assert writes_of(desk.nlpearl) == [
        (
            "PUT",
            lead_path(MARIA),
            {
                "callData": {
                    "firstName": "Maria",
                    "lastName": "Gonzalez",
                    "emailAddress": "maria.gonzalez@example.com",
                    "plan": "Enterprise",
                    "source": "slack",
                }
            },
        )
    ]


def test_a_chosen_time_zone_is_sent_by_its_name(desk: Desk) -> None:
    """Picking a zone sends {"timeZoneId": its Windows name} only."""
    form = open_edit(desk)
    values = form_values(form)
    values["time_zone"]["value"] = slack_says.selected_option(
        "(UTC−05:00) Eastern Standard Time", "Eastern Standard Time"
    )
    after = desk.mark()
    ack_view(desk.submit(form, "V0EDIT", values))
    desk.wait_call("views.update", after, view_id="V0EDIT")

    assert writes_of(desk.nlpearl) == [
        ("PUT", lead_path(MARIA), {"timeZoneId": "Eastern Standard Time"})
    ]


def test_a_lead_edited_meanwhile_brings_the_form_back_with_a_note(desk: Desk) -> None:
    """The lead changed while the form was open: no write; the form as it is now; then it saves."""
    form = open_edit(desk)
    maria = lead_in(desk.nlpearl, MARIA)
    desk.nlpearl.add_lead(P, {**maria, "callData": {**maria["callData"], "plan": "Basic"}})

    again = save(desk, form, {"phone": "+14155550199"})

    assert again["callback_id"] == EDIT
    assert "This lead changed while the form was open" in view_text(again)
    [plan] = [b for b in again["blocks"] if b.get("block_id") == "data.3"]
    assert plan["element"]["initial_value"] == "Basic"
    assert desk.nlpearl.writes() == []

    save(desk, again, {"phone": "+14155550199"})
    assert writes_of(desk.nlpearl) == [("PUT", lead_path(MARIA), {"phoneNumber": "+14155550199"})]


def test_editing_the_phone_of_a_lead_with_a_thread_notes_it_in_that_thread(desk: Desk) -> None:
    """A new phone: the note still finds the thread filed under the lead's old number."""
    parent = lead_thread(desk)
    notes_before = len(thread_notes(desk.slack, parent["ts"]))
    form = desk.click(desk.card(PRIYA), "edit", view_id="V0EDIT")

    save(desk, form, {"phone": "+16175550999"})

    assert writes_of(desk.nlpearl) == [("PUT", lead_path(PRIYA), {"phoneNumber": "+16175550999"})]
    notes = thread_notes(desk.slack, parent["ts"])
    assert len(notes) == notes_before + 1, "no note in the lead's thread after its phone changed"
    assert notes[-1]["text"] == "✏️ Edited the lead · by @tess"
    redrawn = [u for u in desk.slack.calls("chat.update") if u.get("ts") == parent["ts"]]
    assert redrawn, "the lead's parent message was not redrawn"
    assert "0999" in message_text(redrawn[-1])
    assert "0121" not in message_text(redrawn[-1]), "the parent still shows the old number"


def test_a_lead_whose_stored_number_is_not_e164_can_still_have_its_call_data_edited(
    desk: Desk,
) -> None:
    """An untouched number NLPearl keeps without its country code doesn't block saving."""
    odd = "aaaaaaaaaaaaaaaaaaaa0030"
    desk.nlpearl.add_lead(
        P,
        {
            "id": odd,
            "externalId": "crm-uk-30",
            "phoneNumber": "020 7946 0958",
            "status": 30,
            "callsId": [],
            "callData": {"firstName": "Alfie", "plan": "Pro"},
        },
    )
    form = open_edit(desk, odd)
    assert form["blocks"][1]["element"].get("initial_value")

    shown = save(desk, form, {"data.1": "Basic"})

    assert "Edited the lead" in view_text(shown)
    assert writes_of(desk.nlpearl) == [
        ("PUT", lead_path(odd), {"callData": {"firstName": "Alfie", "plan": "Basic"}})
    ]
