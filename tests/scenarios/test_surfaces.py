"""Shortcuts, modals, the campaign picker's options, digging into calls, and the App Home tab.

Each test drives the real app, in process, over loopback with payloads built and signed as
Slack sends them (see `interactions.py`); what the app sends back to Slack arrives at the
Slack stand-in, where every view is checked against Slack's own limits (slack_sdk models).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.demo.nlpearl_api import (
    SAMPLE_LEAD_EXTERNAL_ID,
    SAMPLE_LEAD_ID,
    SAMPLE_LEAD_MANY_CALLS_ID,
    SAMPLE_LEAD_PHONE,
    SAMPLE_PEARL_ID,
    sample_dataset,
)
from tests.harness import interactions as slack_says
from tests.harness.in_process import AppInProcess
from tests.harness.slack_requests import blocks_text, buttons, send_command
from tests.standins import NLPearlStandIn, SlackStandIn
from tests.standins.slack import Recorded

pytestmark = pytest.mark.usefixtures("no_stack_traces")

P = SAMPLE_PEARL_ID
CAMPAIGN_NAME = "Solar – Spring Re-engagement"
CAMPAIGN_OPTION_TEXT = f"{CAMPAIGN_NAME} (a59687)"
FULL_PHONE = "+1 415-555-0137"
MASKED_PHONE = "•••• 0137"
UNKNOWN_LEAD = "ffffffffffffffffffffffff"
VIEW_METHODS = ("views.open", "views.push", "views.update", "views.publish")
MAX_VIEW_BLOCKS = 100
MAX_OPTIONS, MAX_OPTION_TEXT, MAX_OPTION_VALUE = 100, 75, 150
# Slack waits 3 seconds for an options request; the client gives up when Slack would.
SLACK_OPTIONS_WINDOW = 3.0
# Slack stand-in view ids the app is given when it opens or pushes a view.
OPENED_VIEW_ID = "V0OPENED"
# What the lookup modal's inputs are called.
CAMPAIGN_BLOCK, CAMPAIGN_ACTION = "campaign", "lookup.campaign"
KEY_BLOCK, KEY_ACTION = "lead", "lookup.lead"
POST_BLOCK, POST_ACTION = "post_to", "card.post_channel"
PICK_BLOCK, PICK_ACTION = "pick", "pick.lead"
MARIA_TRANSCRIPT = [turn["content"] for turn in sample_dataset()[2][2]["transcript"]]

# Data of this file's own, added to the NLPearl stand-in, so no other test is disturbed.
LONG_CALL_ID = "5e5e5e5e5e5e5e5e5e5e0001"
LONG_CALL_LEAD_ID = "5e5e5e5e5e5e5e5e5e5e1001"
LONG_CALL_TURNS = 70  # three pages of 30
BUSY_LEAD_ID = "5e5e5e5e5e5e5e5e5e5e1002"
BUSY_LEAD_CALLS = 25  # three pages of 10
BUSY_CALL_IDS = [f"5e5e5e5e5e5e5e5e5e5e2{n:03x}" for n in range(1, BUSY_LEAD_CALLS + 1)]

T = TypeVar("T")


# Checking what the app sends


def assert_options_fit(options: list[dict[str, Any]]) -> None:
    """Slack's limits on select options, which slack_sdk's validators don't all check."""
    assert len(options) <= MAX_OPTIONS, f"{len(options)} options"
    for option in options:
        assert 0 < len(option["text"]["text"]) <= MAX_OPTION_TEXT, option
        assert 0 < len(option["value"]) <= MAX_OPTION_VALUE, option


def _option_lists(node: Any) -> Iterator[list[dict[str, Any]]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "options" and isinstance(value, list):
                yield value
            else:
                yield from _option_lists(value)
    elif isinstance(node, list):
        for value in node:
            yield from _option_lists(value)


def assert_view_fits(view: dict[str, Any]) -> None:
    """Fail unless Slack would accept the view: slack_sdk's own validators and 100 blocks."""
    assert view.get("type") in ("modal", "home"), view
    blocks = view.get("blocks") or []
    assert 0 < len(blocks) <= MAX_VIEW_BLOCKS, f"{len(blocks)} blocks"
    View(**view).to_dict()  # to_dict() runs the validators of the view and all it holds
    for index, block in enumerate(blocks):
        parsed = Block.parse(block)
        assert parsed is not None, f"block {index} has an unknown type: {block!r:.200}"
        parsed.to_dict()
    for options in _option_lists(blocks):
        assert_options_fit(options)


@pytest.fixture(autouse=True)
def views_fit_slack(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the test, every view the app opened, pushed, updated or published fits Slack."""
    names = ("slack", "shared_slack")
    standins = [request.getfixturevalue(n) for n in names if n in request.fixturenames]
    yield
    for standin in standins:
        for method in VIEW_METHODS:
            for body in standin.calls(method):
                assert_view_fits(body["view"])


def answered(response: httpx.Response) -> dict[str, Any]:
    """The app's answer to an interactive request: 200, and its JSON body (or {} if empty)."""
    assert response.status_code == 200, response.text
    if not response.content:
        return {}
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    if "view" in body:
        assert_view_fits(body["view"])
    return body


def acked_empty(response: httpx.Response) -> None:
    """Slack's expected answer to a shortcut or button: an empty 200."""
    assert (response.status_code, response.text) == (200, "")


def updated_view(response: httpx.Response) -> dict[str, Any]:
    """A submission answered with `response_action: update`: the new view."""
    body = answered(response)
    assert body.get("response_action") == "update", body
    view: dict[str, Any] = body["view"]
    return view


def errors_of(response: httpx.Response) -> dict[str, str]:
    """A submission answered with `response_action: errors`: the errors by block_id."""
    body = answered(response)
    assert body.get("response_action") == "errors", body
    errors: dict[str, str] = body["errors"]
    return errors


def view_text(view: dict[str, Any]) -> str:
    """All text a person can read in a view's blocks."""
    return blocks_text(view)


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    """The element of the input block called `block_id`."""
    [block] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    assert block["type"] == "input", block
    found: dict[str, Any] = block["element"]
    return found


def view_buttons(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A view's buttons by action_id."""
    return buttons(view)


def new_user() -> str:
    """A user ID of this test's own, so what the app remembers of others can't interfere."""
    return "U0" + uuid.uuid4().hex[:10].upper()


def new_channel() -> str:
    """A channel ID of this test's own."""
    return "C0" + uuid.uuid4().hex[:10].upper()


def eventually(attempt: Callable[[], T | None], timeout: float = 10, what: str = "it") -> T:
    """Repeats `attempt` until it returns something, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = attempt()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        time.sleep(0.1)


# Waiting for what the app sends to Slack


def mark(slack: SlackStandIn) -> int:
    """How many requests the Slack stand-in has seen: later waits look only past this."""
    return len(slack.records())


def wait_for_call(
    slack: SlackStandIn, method: str, after: int, timeout: float = 10, **fields: Any
) -> dict[str, Any]:
    """The first call of `method` since `after` whose body has these fields."""

    def matches(record: Recorded) -> bool:
        return record.method_or_path == method and all(
            record.body.get(k) == v for k, v in fields.items()
        )

    return slack.wait_for_request(matches, after=after, timeout=timeout).body


def give_opened_views_an_id(slack: SlackStandIn, view_id: str = OPENED_VIEW_ID) -> None:
    """Slack answers views.open and views.push with the new view's id: make it this one."""
    for method in ("views.open", "views.push"):
        slack.set_response(method, {"ok": True, "view": {"id": view_id, "type": "modal"}})


def assert_nothing_posted(
    slack: SlackStandIn, after: int, channel: str, name: str, texts: list[str]
) -> None:
    """Since `after`: nothing went to the clicked message's channel or response_url, and no
    message anywhere shows `texts`.

    (Other tests' notifications may reach the shared Slack stand-in, so only this test's own
    channel, response_url and content are looked at.)
    """
    posting = ("chat.postMessage", "chat.postEphemeral", "chat.update")
    records = slack.records()[after:]
    posts = [r.body for r in records if r.method_or_path in posting]
    responses = [r.body for r in records if r.method_or_path.startswith("/response/")]
    assert [p for p in posts if p.get("channel") == channel] == []
    assert slack.responses(name) == []
    for post in posts + responses:
        shown = json.dumps(post, ensure_ascii=False)
        assert not [t for t in texts if t in shown], f"posted: {shown:.300}"


# Driving the app


def shortcut(server: AppInProcess, slack: SlackStandIn, user_id: str) -> dict[str, Any]:
    """The global shortcut: an empty ack, then the view the app opens with its trigger."""
    payload = slack_says.global_shortcut(user_id=user_id)
    after = mark(slack)
    acked_empty(slack_says.send_interaction(server.events_url, payload))
    opened = wait_for_call(slack, "views.open", after, trigger_id=payload["trigger_id"])
    view: dict[str, Any] = opened["view"]
    return view


def submit(
    server: AppInProcess,
    view: dict[str, Any],
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    view_id: str = "V0SUBMITTED",
    user_id: str = slack_says.DEFAULT_USER,
) -> httpx.Response:
    """Submits a view the app sent, with these input values."""
    payload = slack_says.view_submission(view, view_id, values, user_id=user_id)
    return slack_says.send_interaction(server.events_url, payload)


def lookup_values(
    key: str | None, campaign: tuple[str, str] | None = (CAMPAIGN_OPTION_TEXT, P)
) -> dict[str, dict[str, dict[str, Any]]]:
    """The lookup form's state: a campaign chosen (or not) and the key typed."""
    chosen = slack_says.selected_option(*campaign) if campaign else slack_says.no_option()
    return {
        CAMPAIGN_BLOCK: {CAMPAIGN_ACTION: chosen},
        KEY_BLOCK: {KEY_ACTION: slack_says.text_input(key)},
    }


def card_modal(
    server: AppInProcess, slack: SlackStandIn, user_id: str, key: str = SAMPLE_LEAD_ID
) -> dict[str, Any]:
    """The card modal, reached the way a person does: shortcut, then submit the form."""
    form = shortcut(server, slack, user_id)
    view = updated_view(submit(server, form, lookup_values(key), user_id=user_id))
    assert view["callback_id"] == "card_modal", view
    return view


def options(
    server: AppInProcess, typed: str, timeout: float = SLACK_OPTIONS_WINDOW
) -> list[dict[str, Any]]:
    """The campaign picker's options for what was typed; the client waits as long as Slack."""
    payload = slack_says.block_suggestion(typed)
    body = answered(slack_says.send_interaction(server.events_url, payload, timeout=timeout))
    assert set(body) == {"options"}, body
    found: list[dict[str, Any]] = body["options"]
    assert_options_fit(found)
    return found


def values_of(found: list[dict[str, Any]]) -> list[str]:
    return [option["value"] for option in found]


def message_shortcut(
    server: AppInProcess,
    slack: SlackStandIn,
    message: dict[str, Any],
    name: str,
    user_id: str = slack_says.DEFAULT_USER,
) -> dict[str, Any]:
    """The message shortcut on `message`; returns the payload sent."""
    payload = slack_says.message_shortcut(message, slack.response_url(name), user_id=user_id)
    acked_empty(slack_says.send_interaction(server.events_url, payload))
    return payload


def lookup_card(server: AppInProcess, slack: SlackStandIn, key: str, name: str) -> dict[str, Any]:
    """The private card `/lead P key` posts to the response_url called `name`."""
    acked_empty(send_command(server.events_url, f"{P} {key}", slack.response_url(name)))
    [card] = slack.wait_for_responses(1, name)
    assert "lead_card.refresh" in buttons(card), f"not a card: {card}"
    return card


def click_in_message(
    server: AppInProcess,
    slack: SlackStandIn,
    action_id: str,
    value: str,
    name: str,
    channel_id: str = slack_says.DEFAULT_CHANNEL,
) -> dict[str, Any]:
    """Clicks a button on an ephemeral card; returns the payload sent."""
    payload = slack_says.message_block_actions(
        action_id, value, slack.response_url(name), channel_id=channel_id
    )
    acked_empty(slack_says.send_interaction(server.events_url, payload))
    return payload


def click_in_view(
    server: AppInProcess,
    action_id: str,
    value: str | None,
    view: dict[str, Any],
    view_id: str,
    user_id: str = slack_says.DEFAULT_USER,
) -> dict[str, Any]:
    """Clicks a button in a modal or the Home tab; returns the payload sent."""
    payload = slack_says.view_block_actions(action_id, value, view, view_id, user_id=user_id)
    acked_empty(slack_says.send_interaction(server.events_url, payload))
    return payload


def open_home(server: AppInProcess, slack: SlackStandIn, user_id: str) -> dict[str, Any]:
    """Opens the Home tab as `user_id`; returns the view published for them."""
    after = mark(slack)
    acked_empty(slack_says.send_event(server.events_url, slack_says.app_home_opened(user_id)))
    published = wait_for_call(slack, "views.publish", after, user_id=user_id)
    view: dict[str, Any] = published["view"]
    return view


def home_with_recent(server: AppInProcess, slack: SlackStandIn, user_id: str) -> dict[str, Any]:
    """The Home tab once it lists a recent lookup (the app remembers it just after answering)."""

    def attempt() -> dict[str, Any] | None:
        view = open_home(server, slack, user_id)
        return view if any(a.startswith("home.recent.") for a in view_buttons(view)) else None

    return eventually(attempt, what="a recent lookup on the Home tab")


# Global shortcut and the lookup form


def test_global_shortcut_opens_the_lookup_form_at_once(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    """An empty ack, and views.open with the trigger: a campaign picker and a key field."""
    view = shortcut(shared_server, shared_slack, new_user())

    assert view["type"] == "modal"
    assert view["callback_id"] == "lookup_modal"
    picker = element(view, CAMPAIGN_BLOCK)
    assert picker["type"] == "external_select"
    assert picker["action_id"] == CAMPAIGN_ACTION
    assert "initial_option" not in picker  # this person never looked anything up
    field = element(view, KEY_BLOCK)
    assert (field["type"], field["action_id"]) == ("plain_text_input", KEY_ACTION)
    assert "initial_value" not in field
    assert view["submit"]["text"]


def test_next_shortcut_offers_the_campaign_of_the_last_lookup(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    """After a lookup, that person's next form starts on the same campaign; others' don't."""
    user_id = new_user()
    card_modal(shared_server, shared_slack, user_id)

    def offered() -> dict[str, Any] | None:
        picker = element(shortcut(shared_server, shared_slack, user_id), CAMPAIGN_BLOCK)
        return picker.get("initial_option")

    initial = eventually(offered, what="the last campaign offered")
    assert initial["value"] == P
    assert initial["text"]["text"] == CAMPAIGN_OPTION_TEXT
    someone_else = element(shortcut(shared_server, shared_slack, new_user()), CAMPAIGN_BLOCK)
    assert "initial_option" not in someone_else


# The campaign picker's options


def add_campaigns(nlpearl: NLPearlStandIn) -> dict[str, str]:
    """Two more outbound campaigns and an inbound one; their IDs by name."""
    campaigns = {
        "Solar – Summer Push": ("5e5e5e5e5e5e5e5e5e5e3001", 2),
        "Roofing – Autumn Follow-up": ("5e5e5e5e5e5e5e5e5e5e3002", 2),
        "Solar inbound line": ("5e5e5e5e5e5e5e5e5e5e3003", 1),
    }
    for name, (pearl_id, kind) in campaigns.items():
        nlpearl.add_pearl({"id": pearl_id, "name": name, "type": kind, "status": 1})
    return {name: pearl_id for name, (pearl_id, _) in campaigns.items()}


def test_campaign_options_are_nlpearls_campaigns_filtered_by_what_was_typed(
    server: AppInProcess, nlpearl: NLPearlStandIn
) -> None:
    """Outbound campaigns whose name or ID contains the typed text, named with their ID's end."""
    ids = add_campaigns(nlpearl)
    summer, roofing, inbound = ids.values()

    everything = options(server, "")
    assert sorted(values_of(everything)) == sorted([P, summer, roofing])
    assert {o["text"]["text"] for o in everything} == {
        CAMPAIGN_OPTION_TEXT,
        "Solar – Summer Push (5e3001)",
        "Roofing – Autumn Follow-up (5e3002)",
    }
    assert sorted(values_of(options(server, "solar"))) == sorted([P, summer])
    assert values_of(options(server, "AUTUMN")) == [roofing]
    assert values_of(options(server, "a59687")) == [P]
    assert options(server, "wind turbines") == []
    assert inbound not in values_of(options(server, "inbound"))


def test_a_typed_campaign_id_is_offered_even_when_nlpearl_does_not_list_it(
    server: AppInProcess,
) -> None:
    """A 24-hex ID typed (any case) is offered as itself, once; a listed one is not repeated."""
    unlisted = "0123456789ABCDEF01234567"

    found = options(server, unlisted)
    assert values_of(found) == [unlisted.lower()]
    assert "Use this ID" in found[0]["text"]["text"]
    assert values_of(options(server, P)) == [P]
    assert values_of(options(server, f"  {P.upper()}  ")) == [P]


def test_options_come_from_the_cache_in_time_when_nlpearl_turns_slow(
    server: AppInProcess, nlpearl: NLPearlStandIn
) -> None:
    """Once NLPearl has listed the campaigns, a slow NLPearl can't delay the picker past Slack."""
    first = options(server, "solar")
    assert values_of(first) == [P]

    nlpearl.hang("/v2/Pearl", 5)
    nlpearl.set_latency(5)
    assert options(server, "solar") == first  # within the 3 s the client (like Slack) waits


def test_options_answer_in_time_when_nlpearl_hangs_from_the_start(
    server: AppInProcess, nlpearl: NLPearlStandIn
) -> None:
    """Nothing cached and NLPearl hanging: an answer still comes in time, a typed ID still works."""
    nlpearl.hang("/v2/Pearl", 5)
    nlpearl.set_latency(5)

    assert options(server, "solar") == []
    typed = "0123456789abcdef01234567"
    assert values_of(options(server, typed)) == [typed]


# Submitting the lookup form


@pytest.mark.parametrize("key", ["", "   ", "x" * 300], ids=["empty", "blank", "300-chars"])
def test_lookup_form_with_a_malformed_key_says_so_under_the_lead_field(
    shared_server: AppInProcess, shared_slack: SlackStandIn, key: str
) -> None:
    """The form stays open with the problem under the key field, naming the forms it takes."""
    user_id = new_user()
    form = shortcut(shared_server, shared_slack, user_id)

    errors = errors_of(submit(shared_server, form, lookup_values(key), user_id=user_id))
    assert set(errors) == {KEY_BLOCK}
    assert "lead ID" in errors[KEY_BLOCK]
    assert "phone" in errors[KEY_BLOCK]


def test_lookup_form_without_a_campaign_says_so_under_the_campaign_picker(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    user_id = new_user()
    form = shortcut(shared_server, shared_slack, user_id)

    values = lookup_values(SAMPLE_LEAD_ID, campaign=None)
    errors = errors_of(submit(shared_server, form, values, user_id=user_id))
    assert set(errors) == {CAMPAIGN_BLOCK}
    assert "campaign" in errors[CAMPAIGN_BLOCK].lower()


def test_lookup_form_with_an_unknown_lead_says_there_is_no_such_lead(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    user_id = new_user()
    form = shortcut(shared_server, shared_slack, user_id)

    errors = errors_of(submit(shared_server, form, lookup_values(UNKNOWN_LEAD), user_id=user_id))
    assert set(errors) == {KEY_BLOCK}
    assert "No such lead" in errors[KEY_BLOCK]


@pytest.mark.parametrize(
    "key",
    [SAMPLE_LEAD_ID, SAMPLE_LEAD_PHONE, SAMPLE_LEAD_EXTERNAL_ID],
    ids=["lead-id", "phone", "external-id"],
)
def test_lookup_form_with_a_good_key_shows_the_card_in_the_modal(
    shared_server: AppInProcess, shared_slack: SlackStandIn, key: str
) -> None:
    """The modal becomes the card: the name, the full phone number, a channel picker."""
    view = card_modal(shared_server, shared_slack, new_user(), key)

    text = view_text(view)
    assert "Maria Gonzalez" in text
    assert FULL_PHONE in text
    assert MASKED_PHONE not in text
    picker = element(view, POST_BLOCK)
    assert (picker["type"], picker["action_id"]) == ("conversations_select", POST_ACTION)
    assert json.loads(view["private_metadata"])["key"] == SAMPLE_LEAD_ID
    assert "lead_card.share" not in view_buttons(view)  # a modal has no channel to share in


def test_lookup_form_with_a_slow_nlpearl_shows_loading_then_the_card(
    shared_server: AppInProcess, shared_slack: SlackStandIn, shared_nlpearl: NLPearlStandIn
) -> None:
    """Past Slack's window the form becomes a loading view, and views.update brings the card."""
    user_id = new_user()
    form = shortcut(shared_server, shared_slack, user_id)
    shared_nlpearl.set_latency(3)

    after = mark(shared_slack)
    response = submit(shared_server, form, lookup_values(SAMPLE_LEAD_ID), view_id="V0SLOW")
    loading = updated_view(response)
    assert loading["callback_id"] != "card_modal"
    assert "Looking up" in view_text(loading)

    update = wait_for_call(shared_slack, "views.update", after, timeout=30, view_id="V0SLOW")
    card = update["view"]
    assert card["callback_id"] == "card_modal"
    assert "Maria Gonzalez" in view_text(card)
    assert FULL_PHONE in view_text(card)


# Posting the card from the modal


def post_values(channel: str | None) -> dict[str, dict[str, dict[str, Any]]]:
    return {POST_BLOCK: {POST_ACTION: slack_says.conversation(channel)}}


def test_card_modal_posts_a_masked_card_to_the_chosen_channel(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    """The card goes to the channel with the phone masked and who shared it; the modal says so."""
    user_id = new_user()
    channel = new_channel()
    view = card_modal(shared_server, shared_slack, user_id)

    after = mark(shared_slack)
    response = submit(shared_server, view, post_values(channel), view_id="V0CARD", user_id=user_id)
    assert "Posting" in view_text(updated_view(response))

    posted = wait_for_call(shared_slack, "chat.postMessage", after, channel=channel)
    shown = blocks_text(posted) + "\n" + posted["text"]
    assert "Maria Gonzalez" in shown
    assert MASKED_PHONE in shown
    assert FULL_PHONE not in shown
    assert SAMPLE_LEAD_PHONE not in shown
    assert f"Shared by <@{user_id}>" in shown
    update = wait_for_call(shared_slack, "views.update", after, view_id="V0CARD")
    assert "Posted" in view_text(update["view"])
    assert f"<#{channel}>" in view_text(update["view"])


def test_card_modal_without_a_channel_asks_for_one(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    user_id = new_user()
    view = card_modal(shared_server, shared_slack, user_id)

    errors = errors_of(submit(shared_server, view, post_values(None), user_id=user_id))
    assert set(errors) == {POST_BLOCK}
    assert "channel" in errors[POST_BLOCK]
    shared_by = f"Shared by <@{user_id}>"
    assert not [p for p in shared_slack.calls("chat.postMessage") if shared_by in json.dumps(p)]


def test_card_modal_explains_how_to_invite_the_bot_when_it_is_not_in_the_channel(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    user_id = new_user()
    channel = new_channel()
    view = card_modal(shared_server, shared_slack, user_id)
    shared_slack.fail_next("chat.postMessage", status=200, error="not_in_channel")

    after = mark(shared_slack)
    response = submit(shared_server, view, post_values(channel), view_id="V0NOTIN", user_id=user_id)
    updated_view(response)

    update = wait_for_call(shared_slack, "views.update", after, view_id="V0NOTIN")
    text = view_text(update["view"])
    assert "/invite @Lead Bot" in text
    assert f"<#{channel}>" in text
    assert "Posted" not in text
    posted = shared_slack.calls("chat.postMessage", ok_only=True)
    assert [p for p in posted if p.get("channel") == channel] == []


def test_card_modal_says_to_try_again_when_slack_does_not_answer(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    user_id = new_user()
    channel = new_channel()
    view = card_modal(shared_server, shared_slack, user_id)
    # More 503s than the app's client retries: the post fails for now, not for good.
    shared_slack.fail_next("chat.postMessage", status=503, times=3)

    after = mark(shared_slack)
    response = submit(shared_server, view, post_values(channel), view_id="V0NOANS", user_id=user_id)
    updated_view(response)

    update = wait_for_call(shared_slack, "views.update", after, view_id="V0NOANS")
    text = view_text(update["view"])
    assert "Couldn't post the card" in text
    assert "Slack didn't answer. Try again in a minute." in text
    assert "/invite" not in text
    tried = [p for p in shared_slack.calls("chat.postMessage") if p.get("channel") == channel]
    assert len(tried) == 3  # every programmed failure was used up: none is left for others
    posted = shared_slack.calls("chat.postMessage", ok_only=True)
    assert [p for p in posted if p.get("channel") == channel] == []


# The message shortcut


def test_message_naming_one_lead_gets_its_card_privately(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    message = slack_says.chat_message(f"Can someone check campaign {P} lead {SAMPLE_LEAD_ID}?")
    message_shortcut(shared_server, shared_slack, message, "one-lead")

    [card] = shared_slack.wait_for_responses(1, "one-lead")
    assert card["response_type"] == "ephemeral"
    assert not card.get("replace_original")
    assert "Maria Gonzalez" in blocks_text(card)
    assert "lead_card.refresh" in buttons(card)
    assert shared_slack.calls("views.open") == []


def test_message_naming_two_leads_offers_a_choice_then_the_chosen_card(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    user_id = new_user()
    text = f"Campaign {P}: call back lead {SAMPLE_LEAD_ID} and lead {SAMPLE_LEAD_MANY_CALLS_ID}"
    after = mark(shared_slack)
    payload = message_shortcut(
        shared_server, shared_slack, slack_says.chat_message(text), "two-leads", user_id
    )

    opened = wait_for_call(shared_slack, "views.open", after, trigger_id=payload["trigger_id"])
    picker_view = opened["view"]
    assert picker_view["callback_id"] == "pick_modal"
    picker = element(picker_view, PICK_BLOCK)
    choices = picker["options"]
    assert len(choices) == 2
    assert SAMPLE_LEAD_ID in choices[0]["text"]["text"]
    assert SAMPLE_LEAD_MANY_CALLS_ID in choices[1]["text"]["text"]

    chosen = {"type": "static_select", "selected_option": choices[1]}
    values = {PICK_BLOCK: {PICK_ACTION: chosen}}
    card = updated_view(submit(shared_server, picker_view, values, user_id=user_id))
    assert card["callback_id"] == "card_modal"
    assert "Devon Clarke" in view_text(card)
    assert shared_slack.responses("two-leads") == []


def test_message_naming_no_lead_opens_an_empty_lookup_form(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    after = mark(shared_slack)
    message = slack_says.chat_message("Lunch at noon? The usual place.")
    payload = message_shortcut(shared_server, shared_slack, message, "no-lead", new_user())

    opened = wait_for_call(shared_slack, "views.open", after, trigger_id=payload["trigger_id"])
    view = opened["view"]
    assert view["callback_id"] == "lookup_modal"
    assert "initial_value" not in element(view, KEY_BLOCK)
    assert "initial_option" not in element(view, CAMPAIGN_BLOCK)
    assert shared_slack.responses("no-lead") == []


def test_message_naming_a_lone_lead_id_opens_the_form_with_it_filled_in(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    after = mark(shared_slack)
    message = slack_says.chat_message(f"Lead {SAMPLE_LEAD_ID} asked for a callback")
    payload = message_shortcut(shared_server, shared_slack, message, "lone-lead", new_user())

    opened = wait_for_call(shared_slack, "views.open", after, trigger_id=payload["trigger_id"])
    view = opened["view"]
    assert view["callback_id"] == "lookup_modal"
    assert element(view, KEY_BLOCK)["initial_value"] == SAMPLE_LEAD_ID
    assert shared_slack.responses("lone-lead") == []


def test_a_lead_bot_cards_footer_text_finds_the_lead(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    """Someone copies the card's footer into a message: the shortcut knows the lead."""
    footer = f"📣 {CAMPAIGN_NAME} · Campaign `{P}` · Lead `{SAMPLE_LEAD_ID}`"
    message_shortcut(shared_server, shared_slack, slack_says.chat_message(footer), "footer")

    [card] = shared_slack.wait_for_responses(1, "footer")
    assert "Maria Gonzalez" in blocks_text(card)
    assert card["response_type"] == "ephemeral"


def test_a_card_lead_bot_posted_in_a_channel_finds_its_lead(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    """The shortcut on a card as Lead Bot posted it (text and blocks): that lead's card."""
    user_id = new_user()
    channel = new_channel()
    view = card_modal(shared_server, shared_slack, user_id)
    submit(shared_server, view, post_values(channel), user_id=user_id)
    wait_for_call(shared_slack, "chat.postMessage", 0, channel=channel)
    [posted] = shared_slack.messages(channel)

    after = mark(shared_slack)
    message_shortcut(shared_server, shared_slack, posted, "posted-card")

    def answered_somehow() -> str | None:
        if shared_slack.responses("posted-card"):
            return "card"
        opened = [r for r in shared_slack.records()[after:] if r.method_or_path == "views.open"]
        if not opened:
            return None
        view = opened[0].body["view"]
        offered = [
            o["text"]["text"]
            for b in view["blocks"]
            for o in b.get("element", {}).get("options", [])
        ]
        return f"views.open of {view['callback_id']} offering {offered}"

    outcome = eventually(answered_somehow, what="an answer to the shortcut")
    assert outcome == "card", f"expected the card at the response_url, got {outcome}"
    [card] = shared_slack.responses("posted-card")
    assert "Maria Gonzalez" in blocks_text(card)


# Transcripts and call lists: in modals, never in a channel


def add_long_call(nlpearl: NLPearlStandIn) -> None:
    """A lead whose one call has a long transcript."""
    transcript = [
        {
            "role": 3 if n % 2 == 0 else 2,
            "content": f"Turn {n:02d} of the long call.",
            "startTime": 5 * n,
            "endTime": 5 * n + 4,
        }
        for n in range(LONG_CALL_TURNS)
    ]
    call = {
        "id": LONG_CALL_ID,
        "pearlId": P,
        "relatedId": P,
        "startTime": "2025-03-20T16:00:00Z",
        "conversationStatus": 100,
        "status": 4,
        "from": "+12125550100",
        "to": "+14155550199",
        "name": "Lena Long",
        "duration": 5 * LONG_CALL_TURNS,
        "recording": None,
        "transcript": transcript,
        "summary": "A very long conversation.",
        "collectedInfo": None,
        "tags": [],
        "isCallTransferred": False,
        "overallSentiment": 3,
    }
    nlpearl.add_call(call)
    nlpearl.add_lead(
        P,
        {
            "id": LONG_CALL_LEAD_ID,
            "phoneNumber": "+14155550199",
            "status": 100,
            "created": "2025-03-19T10:00:00Z",
            "callsId": [LONG_CALL_ID],
            "callData": {"firstName": "Lena", "lastName": "Long"},
        },
    )


def add_busy_lead(nlpearl: NLPearlStandIn) -> None:
    """A lead called 25 times, one call a day; call n's summary says "Attempt n"."""
    for n, call_id in enumerate(BUSY_CALL_IDS, start=1):
        nlpearl.add_call(
            {
                "id": call_id,
                "pearlId": P,
                "relatedId": P,
                "startTime": f"2025-04-{n:02d}T16:00:00Z",
                "conversationStatus": 10,
                "status": 7,
                "from": "+12125550100",
                "to": "+14155550177",
                "name": "Bea Busy",
                "duration": 0,
                "recording": None,
                "transcript": None,
                "summary": f"Attempt {n:02d}",
                "collectedInfo": None,
                "tags": [],
                "isCallTransferred": False,
                "overallSentiment": None,
            }
        )
    nlpearl.add_lead(
        P,
        {
            "id": BUSY_LEAD_ID,
            "phoneNumber": "+14155550177",
            "status": 10,
            "created": "2025-03-30T10:00:00Z",
            "callsId": list(BUSY_CALL_IDS),
            "callData": {"firstName": "Bea", "lastName": "Busy"},
        },
    )


def transcript_button(card: dict[str, Any]) -> tuple[str, str]:
    """The action_id and value of the first Transcript button on a card or view."""
    found = [
        (a, b["value"]) for a, b in buttons(card).items() if a.startswith("lead_card.transcript.")
    ]
    assert found, f"no Transcript button: {list(buttons(card))}"
    return found[0]


def turns_shown(view: dict[str, Any]) -> list[str]:
    """The 'Turn NN' lines of the long call a transcript view shows, in order."""
    return re.findall(r"Turn (\d\d) of the long call", view_text(view))


def attempts_shown(view: dict[str, Any]) -> list[int]:
    """The busy lead's calls a call-list view shows, in order, by attempt number."""
    return [int(n) for n in re.findall(r"Attempt (\d\d)", view_text(view))]


def test_transcript_from_a_message_card_opens_in_a_modal(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    """Loading at once with the trigger, then the transcript, speaker by speaker."""
    card = lookup_card(shared_server, shared_slack, SAMPLE_LEAD_ID, "transcript-card")
    action_id, value = transcript_button(card)
    give_opened_views_an_id(shared_slack)

    channel = new_channel()
    after = mark(shared_slack)
    payload = click_in_message(
        shared_server, shared_slack, action_id, value, "transcript-click", channel
    )

    opened = wait_for_call(shared_slack, "views.open", after, trigger_id=payload["trigger_id"])
    assert "Loading" in view_text(opened["view"])
    update = wait_for_call(shared_slack, "views.update", after, view_id=OPENED_VIEW_ID)
    view = update["view"]
    assert view["callback_id"] == "transcript_modal"
    text = view_text(view)
    assert "🤖 Pearl" in text
    assert "👤 Lead" in text
    positions = [text.index(line) for line in MARIA_TRANSCRIPT]
    assert positions == sorted(positions)
    assert_nothing_posted(shared_slack, after, channel, "transcript-click", MARIA_TRANSCRIPT)


def test_transcript_from_a_modal_is_pushed_onto_it(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    user_id = new_user()
    card_view = card_modal(shared_server, shared_slack, user_id)
    action_id, value = transcript_button(card_view)
    give_opened_views_an_id(shared_slack, "V0PUSHED")

    after = mark(shared_slack)
    payload = click_in_view(shared_server, action_id, value, card_view, "V0CARDVIEW", user_id)

    pushed = wait_for_call(shared_slack, "views.push", after, trigger_id=payload["trigger_id"])
    assert "Loading" in view_text(pushed["view"])
    update = wait_for_call(shared_slack, "views.update", after, view_id="V0PUSHED")
    assert update["view"]["callback_id"] == "transcript_modal"
    assert MARIA_TRANSCRIPT[-1] in view_text(update["view"])
    records = shared_slack.records()[after:]
    assert "views.open" not in [r.method_or_path for r in records]
    assert_nothing_posted(shared_slack, after, slack_says.DEFAULT_CHANNEL, "-", MARIA_TRANSCRIPT)


def test_a_long_transcript_pages_in_place(
    shared_server: AppInProcess, shared_slack: SlackStandIn, shared_nlpearl: NLPearlStandIn
) -> None:
    """30 turns a page; Next and Previous update the same modal."""
    add_long_call(shared_nlpearl)
    card = lookup_card(shared_server, shared_slack, LONG_CALL_LEAD_ID, "long-card")
    action_id, value = transcript_button(card)
    give_opened_views_an_id(shared_slack, "V0LONG")
    channel = new_channel()
    after = clicked = mark(shared_slack)
    click_in_message(shared_server, shared_slack, action_id, value, "long-click", channel)
    first = wait_for_call(shared_slack, "views.update", after, view_id="V0LONG")["view"]
    assert turns_shown(first) == [f"{n:02d}" for n in range(30)]
    assert "transcript.page.prev" not in view_buttons(first)

    pages = [first]
    for _ in range(2):
        shown = pages[-1]
        after = mark(shared_slack)
        next_value = view_buttons(shown)["transcript.page.next"]["value"]
        click_in_view(shared_server, "transcript.page.next", next_value, shown, "V0LONG")
        pages.append(wait_for_call(shared_slack, "views.update", after, view_id="V0LONG")["view"])

    assert turns_shown(pages[1]) == [f"{n:02d}" for n in range(30, 60)]
    assert turns_shown(pages[2]) == [f"{n:02d}" for n in range(60, LONG_CALL_TURNS)]
    assert "transcript.page.next" not in view_buttons(pages[2])
    assert "transcript.page.prev" in view_buttons(pages[2])

    after = mark(shared_slack)
    back = view_buttons(pages[2])["transcript.page.prev"]["value"]
    click_in_view(shared_server, "transcript.page.prev", back, pages[2], "V0LONG")
    again = wait_for_call(shared_slack, "views.update", after, view_id="V0LONG")["view"]
    assert turns_shown(again) == turns_shown(pages[1])
    assert_nothing_posted(shared_slack, clicked, channel, "long-click", ["of the long call"])


def test_all_calls_lists_every_call_newest_first_in_pages(
    shared_server: AppInProcess, shared_slack: SlackStandIn, shared_nlpearl: NLPearlStandIn
) -> None:
    """A lead with 25 calls: three pages of at most 10, newest first, Older/Newer in place."""
    add_busy_lead(shared_nlpearl)
    card = lookup_card(shared_server, shared_slack, BUSY_LEAD_ID, "busy-card")
    value = buttons(card)["lead_card.all_calls"]["value"]
    give_opened_views_an_id(shared_slack, "V0CALLS")

    channel = new_channel()
    after = clicked = mark(shared_slack)
    payload = click_in_message(
        shared_server, shared_slack, "lead_card.all_calls", value, "busy", channel
    )
    opened = wait_for_call(shared_slack, "views.open", after, trigger_id=payload["trigger_id"])
    assert "Loading" in view_text(opened["view"])
    first = wait_for_call(shared_slack, "views.update", after, view_id="V0CALLS")["view"]
    assert first["callback_id"] == "calls_modal"
    assert "Bea Busy" in view_text(first)
    assert "25 calls" in view_text(first)
    assert attempts_shown(first) == list(range(25, 15, -1))
    assert "calls.page.prev" not in view_buttons(first)

    pages = [first]
    for _ in range(2):
        shown = pages[-1]
        after = mark(shared_slack)
        older = view_buttons(shown)["calls.page.next"]["value"]
        click_in_view(shared_server, "calls.page.next", older, shown, "V0CALLS")
        pages.append(wait_for_call(shared_slack, "views.update", after, view_id="V0CALLS")["view"])

    assert attempts_shown(pages[1]) == list(range(15, 5, -1))
    assert attempts_shown(pages[2]) == list(range(5, 0, -1))
    assert "calls.page.next" not in view_buttons(pages[2])
    assert "calls.page.prev" in view_buttons(pages[2])
    assert_nothing_posted(shared_slack, clicked, channel, "busy", ["Attempt 0", "Attempt 1"])


# The App Home tab


def assert_home_is_right(view: dict[str, Any], channel: str) -> None:
    """Set-up fine, the channel's subscription, and Maria's card among recent lookups."""
    assert view["type"] == "home"
    text = view_text(view)
    assert "✅ NLPearl key accepted" in text
    assert "✅ Database healthy" in text
    assert "⚠️" not in text
    assert f"<#{channel}>" in text
    assert P in text
    assert "Maria Gonzalez" in text
    recent = [a for a in view_buttons(view) if a.startswith("home.recent.")]
    assert len(recent) == 1


def test_home_tab_shows_set_up_subscriptions_and_recent_lookups_even_when_retried(
    server: AppInProcess, slack: SlackStandIn
) -> None:
    """app_home_opened publishes the tab; Slack's retry of it gets 200 and breaks nothing."""
    user_id = new_user()
    channel = new_channel()
    subscribe = send_command(
        server.events_url, f"subscribe {P}", slack.response_url("subscribe"), channel_id=channel
    )
    acked_empty(subscribe)
    slack.wait_for_responses(1, "subscribe")
    lookup = send_command(
        server.events_url, f"{P} {SAMPLE_LEAD_ID}", slack.response_url("look"), user_id=user_id
    )
    acked_empty(lookup)
    slack.wait_for_responses(1, "look")

    view = home_with_recent(server, slack, user_id)
    assert_home_is_right(view, channel)

    envelope = slack_says.app_home_opened(user_id)
    acked_empty(slack_says.send_event(server.events_url, envelope))
    retried = slack_says.send_event(server.events_url, envelope, retry_num=1)
    assert retried.status_code == 200, retried.text
    # Someone else opening the Home tab afterwards marks when the retry has had its turn.
    open_home(server, slack, new_user())

    published = [c for c in slack.calls("views.publish") if c["user_id"] == user_id]
    assert published
    for body in published:
        assert_home_is_right(body["view"], channel)
    assert all(r.ok for r in slack.records("views.publish"))
    assert "Traceback" not in server.output()
    assert "Unhandled error" not in server.output()


def test_home_tab_of_a_new_user_says_what_will_appear(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    view = open_home(shared_server, shared_slack, new_user())

    text = view_text(view)
    assert "Set-up" in text
    assert "recent lookups" in text.lower()
    assert not [a for a in view_buttons(view) if a.startswith("home.recent.")]
    assert {"home.lookup", "home.help"} <= set(view_buttons(view))


def test_opening_the_messages_tab_publishes_nothing(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    user_id = new_user()
    envelope = slack_says.app_home_opened(user_id, tab="messages")
    acked_empty(slack_says.send_event(shared_server.events_url, envelope))
    # Someone opening their Home tab afterwards marks when the first event has had its turn.
    open_home(shared_server, shared_slack, new_user())

    assert [c for c in shared_slack.calls("views.publish") if c["user_id"] == user_id] == []


def test_home_look_up_button_opens_the_lookup_form(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    user_id = new_user()
    home = open_home(shared_server, shared_slack, user_id)

    after = mark(shared_slack)
    payload = click_in_view(shared_server, "home.lookup", None, home, "V0HOME", user_id)
    opened = wait_for_call(shared_slack, "views.open", after, trigger_id=payload["trigger_id"])
    assert opened["view"]["callback_id"] == "lookup_modal"
    assert element(opened["view"], CAMPAIGN_BLOCK)["type"] == "external_select"


def test_home_help_button_opens_help(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    user_id = new_user()
    home = open_home(shared_server, shared_slack, user_id)

    after = mark(shared_slack)
    payload = click_in_view(shared_server, "home.help", None, home, "V0HOME", user_id)
    opened = wait_for_call(shared_slack, "views.open", after, trigger_id=payload["trigger_id"])
    assert opened["view"]["callback_id"] == "help_modal"
    assert "/lead" in view_text(opened["view"])


def test_home_recent_lookup_reopens_the_card(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    """ "Open" on a recent lookup: a loading modal at once, then the card with a channel picker."""
    user_id = new_user()
    acked_empty(
        send_command(
            shared_server.events_url,
            f"{P} {SAMPLE_LEAD_ID}",
            shared_slack.response_url("recent"),
            user_id=user_id,
        )
    )
    shared_slack.wait_for_responses(1, "recent")
    home = home_with_recent(shared_server, shared_slack, user_id)
    [(action_id, button)] = [
        (a, b) for a, b in view_buttons(home).items() if a.startswith("home.recent.")
    ]
    give_opened_views_an_id(shared_slack, "V0RECENT")

    after = mark(shared_slack)
    payload = click_in_view(shared_server, action_id, button["value"], home, "V0HOME", user_id)
    opened = wait_for_call(shared_slack, "views.open", after, trigger_id=payload["trigger_id"])
    assert opened["view"]["callback_id"] != "card_modal"
    update = wait_for_call(shared_slack, "views.update", after, view_id="V0RECENT")
    card = update["view"]
    assert card["callback_id"] == "card_modal"
    assert "Maria Gonzalez" in view_text(card)
    assert FULL_PHONE in view_text(card)
    assert element(card, POST_BLOCK)["type"] == "conversations_select"
