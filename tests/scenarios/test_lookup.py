"""`/lead` end to end: help, usage problems, lookups by every kind of key, and every failure.

Each test drives the real app, in process, over loopback with requests signed as Slack signs
them; the card (or the notice saying what went wrong) arrives at the command's response_url.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.demo.nlpearl_api import (
    SAMPLE_LEAD_EXTERNAL_ID,
    SAMPLE_LEAD_ID,
    SAMPLE_LEAD_MANY_CALLS_ID,
    SAMPLE_LEAD_NO_CALLS_ID,
    SAMPLE_LEAD_PHONE,
    SAMPLE_PEARL_ID,
    sample_dataset,
)
from tests.harness.in_process import AppFactory, AppInProcess
from tests.harness.processes import free_port
from tests.harness.slack_requests import (
    SETTLE_CAMPAIGN,
    blocks_text,
    buttons,
    message_text,
    send_command,
    settle,
)
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")

P = SAMPLE_PEARL_ID
LEAD_PATH = f"/v2/Outbound/{P}/Lead"
LEADS = {lead["id"]: lead for lead in sample_dataset()[1]}
MARIA_CALLS: list[str] = LEADS[SAMPLE_LEAD_ID]["callsId"]  # oldest first
DEVON_CALLS: list[str] = LEADS[SAMPLE_LEAD_MANY_CALLS_ID]["callsId"]
VOICEMAIL_CALL = MARIA_CALLS[1]
CAMPAIGN_NAME = "Solar – Spring Re-engagement"
UNKNOWN_ID = "ffffffffffffffffffffffff"
OTHER_CAMPAIGN = "0123456789abcdef01234567"
PHONE_PATH = f"{LEAD_PATH}/PhoneNumber/%2B14155550137"
EXTERNAL_PATH = f"{LEAD_PATH}/External/{SAMPLE_LEAD_EXTERNAL_ID}"
ID_PATH = f"{LEAD_PATH}/{SAMPLE_LEAD_ID}"


# Helpers


def look_up(server: AppInProcess, slack: SlackStandIn, text: str, name: str) -> dict[str, Any]:
    """`/lead text`: checks the empty ack, then returns the one message posted to response_url."""
    acked = send_command(server.events_url, text, slack.response_url(name))
    assert (acked.status_code, acked.text) == (200, "")
    [answer] = slack.wait_for_responses(1, name)
    return answer


def ack_body(server: AppInProcess, slack: SlackStandIn, text: str, name: str) -> dict[str, Any]:
    """`/lead text` answered in the HTTP response itself: its JSON body."""
    acked = send_command(server.events_url, text, slack.response_url(name))
    assert acked.status_code == 200
    assert acked.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = acked.json()
    return body


def app_paths(nlpearl: NLPearlStandIn) -> list[str]:
    """NLPearl paths the app requested, leaving out those of `settle()`."""
    return [r.path for r in nlpearl.requests() if SETTLE_CAMPAIGN not in r.path]


def fields(card: dict[str, Any]) -> list[str]:
    """The texts of the card's facts (status, phone, calls, …)."""
    section = next(b for b in card["blocks"] if b["type"] == "section" and "fields" in b)
    return [field["text"] for field in section["fields"]]


def call_sections(card: dict[str, Any]) -> list[str]:
    """The texts of the card's call sections, newest first."""
    return [
        block["text"]["text"]
        for block in card["blocks"]
        if block["type"] == "section" and block.get("text", {}).get("text", "").startswith("*📞")
    ]


def header(card: dict[str, Any]) -> str:
    """The card's header text."""
    [block] = [b for b in card["blocks"] if b["type"] == "header"]
    text: str = block["text"]["text"]
    return text


def assert_notice(answer: dict[str, Any], *phrases: str) -> None:
    """A private notice (no card, no buttons) that says every one of `phrases`."""
    assert answer["response_type"] == "ephemeral"
    assert not answer.get("replace_original")
    assert buttons(answer) == {}
    text = message_text(answer)
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in {text!r}"


def assert_maria_card(card: dict[str, Any]) -> None:
    """The private card of the sample lead Maria Gonzalez, with everything it should show."""
    assert card["response_type"] == "ephemeral"
    assert not card.get("replace_original")
    assert header(card) == "👤 Maria Gonzalez"
    assert {
        "*Status*\n✅ Success",
        "*Phone*\n+1 415-555-0137",
        "*Calls*\n3",
        f"*External ID*\n{SAMPLE_LEAD_EXTERNAL_ID}",
    } <= set(fields(card))
    calls = call_sections(card)
    assert len(calls) == 3
    assert "Maria agreed to a site survey on Thursday morning" in calls[0]
    assert "Reached voicemail; left a short message about the solar quote." in calls[1]
    text = blocks_text(card)
    for answer in ("*Preferred Day*\nThursday", "*Roof Age (years)*\n12", "*Homeowner*\n✅ Yes"):
        assert answer in text
    assert CAMPAIGN_NAME in text
    card_buttons = buttons(card)
    recording = card_buttons["lead_card.recording.0"]
    assert recording["url"] == f"https://recordings.example-cdn.net/{MARIA_CALLS[-1]}.mp3"
    # Whatever key found the lead, the buttons name it by its NLPearl ID.
    ref = {"campaign_id": P, "kind": "id", "key": SAMPLE_LEAD_ID}
    assert json.loads(card_buttons["lead_card.refresh"]["value"]) == ref
    assert json.loads(card_buttons["lead_card.share"]["value"]) == ref


# Help and usage problems: answered in the ack, nothing fetched, nothing posted later


@pytest.mark.parametrize("text", ["", "help", "  HELP  "])
def test_help_answers_in_the_ack_with_examples(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
    text: str,
) -> None:
    """`/lead` and `/lead help` show usage with examples, without asking NLPearl anything."""
    body = ack_body(shared_server, shared_slack, text, "help")
    settle(shared_server.events_url, shared_slack)

    usage = blocks_text(body)
    assert "/lead" in body["text"]
    assert f"/lead {P} {SAMPLE_LEAD_ID}" in usage  # a complete example
    assert "+14155550137" in usage
    assert "crm-004512" in usage
    assert all(prefix in usage for prefix in ("`id:`", "`phone:`", "`ext:`"))
    assert app_paths(shared_nlpearl) == []
    assert shared_slack.responses("help") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("onlyoneword", "only one ID"),
        (f"{P} phone:12", "The second part should be a lead ID, a phone number or an external ID"),
        (f"{P} " + "x" * 1000, "That is too long."),
    ],
    ids=["one-word", "bad-phone", "too-long"],
)
def test_malformed_command_gets_the_problem_and_the_right_form(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
    text: str,
    problem: str,
) -> None:
    """A command that can't be read is answered in the ack: why, and the right form."""
    body = ack_body(shared_server, shared_slack, text, "malformed")
    settle(shared_server.events_url, shared_slack)

    said = blocks_text(body)
    assert "That command didn't work" in said
    assert problem in said
    assert "`/lead CAMPAIGN_ID LEAD_ID`" in said
    assert "`/lead help`" in said
    assert app_paths(shared_nlpearl) == []
    assert shared_slack.responses("malformed") == []


# Lookups


@pytest.mark.parametrize(
    ("key", "lead_path"),
    [
        (SAMPLE_LEAD_ID, ID_PATH),
        (SAMPLE_LEAD_ID.upper(), ID_PATH),
        (SAMPLE_LEAD_PHONE, PHONE_PATH),
        ("+1 (415) 555-0137", PHONE_PATH),
        ("phone:415-555-0137", PHONE_PATH),
        (SAMPLE_LEAD_EXTERNAL_ID, EXTERNAL_PATH),
        (f"id:{SAMPLE_LEAD_ID}", ID_PATH),
        (f"ext:{SAMPLE_LEAD_EXTERNAL_ID}", EXTERNAL_PATH),
        (f"“{SAMPLE_LEAD_ID}”.", ID_PATH),
    ],
    ids=[
        "lead-id",
        "lead-id-upper",
        "phone",
        "formatted-phone",
        "phone-prefix",
        "external-id",
        "id-prefix",
        "ext-prefix",
        "punctuation",
    ],
)
def test_lookup_posts_the_card_privately(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
    key: str,
    lead_path: str,
) -> None:
    """Any kind of key finds the lead; the card arrives at the response_url, for the user only."""
    card = look_up(shared_server, shared_slack, f"{P} {key}", "lookup")

    assert_maria_card(card)
    paths = app_paths(shared_nlpearl)
    lead_paths = [p for p in paths if "/Lead" in p]
    assert lead_paths == [lead_path]
    call_paths = sorted(p for p in paths if "/Call/" in p)
    assert call_paths == sorted(f"/v2/Call/{call_id}" for call_id in MARIA_CALLS)
    auth = {r.headers.get("authorization") for r in shared_nlpearl.requests()}
    assert auth == {"Bearer acct123:secret456"}


def test_lookup_from_a_pasted_platform_link(
    shared_server: AppInProcess, shared_slack: SlackStandIn, shared_nlpearl: NLPearlStandIn
) -> None:
    """A pasted NLPearl link (as Slack sends links) names both the campaign and the lead."""
    link = f"<https://platform.nlpearl.ai/outbound/{P}/leads/{SAMPLE_LEAD_ID}|lead>"

    card = look_up(shared_server, shared_slack, link, "link")

    assert_maria_card(card)
    assert [p for p in app_paths(shared_nlpearl) if "/Lead" in p] == [ID_PATH]


@pytest.mark.parametrize(
    ("key", "lead_path"),
    [
        (SAMPLE_LEAD_ID, f"/v1/Outbound/{P}/Lead/{SAMPLE_LEAD_ID}"),
        (SAMPLE_LEAD_PHONE, f"/v1/Outbound/{P}/Lead/PhoneNumber/%2B14155550137"),
    ],
    ids=["lead-id", "phone"],
)
def test_lookup_on_api_v1_uses_v1_paths(
    shared_server_factory: AppFactory,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
    key: str,
    lead_path: str,
) -> None:
    """With NLPEARL_API_VERSION=v1 every request goes to a /v1/ path, and the card is the same."""
    server = shared_server_factory({"NLPEARL_API_VERSION": "v1"})

    card = look_up(server, shared_slack, f"{P} {key}", "v1")

    assert_maria_card(card)  # includes the campaign name, read from /v1/Outbound/{id}
    paths = app_paths(shared_nlpearl)
    assert paths
    assert [p for p in paths if not p.startswith("/v1/")] == []
    assert [p for p in paths if "/Lead" in p] == [lead_path]
    assert sorted(p for p in paths if "/Call/" in p) == sorted(f"/v1/Call/{c}" for c in MARIA_CALLS)


def test_lead_with_ten_calls_shows_the_latest_five_fetched_concurrently(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """Five newest calls on the card, the rest counted; the calls are fetched side by side."""
    nlpearl.set_latency(0.2)

    card = look_up(server, slack, f"{P} {SAMPLE_LEAD_MANY_CALLS_ID}", "many")

    assert header(card) == "👤 Devon Clarke"
    assert "*Calls*\n10" in fields(card)
    calls = call_sections(card)
    assert len(calls) == 5
    assert "Devon rents his home and is not interested in solar." in calls[0]
    assert "+ 5 earlier calls" in blocks_text(card)
    paths = nlpearl.requests()
    assert [r.path for r in paths if "/Lead" in r.path] == [
        f"{LEAD_PATH}/{SAMPLE_LEAD_MANY_CALLS_ID}"
    ]
    assert [r.path for r in paths if "/Pearl/" in r.path] == [f"/v2/Pearl/{P}"]
    call_paths = sorted(r.path for r in paths if "/Call/" in r.path)
    assert call_paths == sorted(f"/v2/Call/{call_id}" for call_id in DEVON_CALLS[-5:])
    assert len(paths) == 1 + 1 + 5
    assert nlpearl.max_in_flight_for("/v2/Call/") > 1, "calls were fetched one at a time"


def test_lead_without_calls_says_so(
    shared_server: AppInProcess, shared_slack: SlackStandIn, shared_nlpearl: NLPearlStandIn
) -> None:
    """A new lead's card says there are no calls yet, and no call is fetched."""
    card = look_up(shared_server, shared_slack, f"{P} {SAMPLE_LEAD_NO_CALLS_ID}", "none")

    assert header(card) == "👤 Priya Raman"
    assert {"*Status*\n🆕 New", "*Calls*\n0"} <= set(fields(card))
    assert "No calls yet." in blocks_text(card)
    assert call_sections(card) == []
    assert [p for p in app_paths(shared_nlpearl) if "/Call/" in p] == []


@pytest.mark.parametrize(
    ("status", "body"), [(500, b""), (200, b"<html>oops")], ids=["server-error", "garbage"]
)
def test_call_that_fails_to_load_is_shown_as_unavailable(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
    status: int,
    body: bytes,
) -> None:
    """One call NLPearl can't give doesn't sink the card: it says that call is unavailable."""
    shared_nlpearl.fail_next(f"/v2/Call/{VOICEMAIL_CALL}", status=status, times=10, body=body)

    card = look_up(shared_server, shared_slack, f"{P} {SAMPLE_LEAD_ID}", "call-fails")

    assert header(card) == "👤 Maria Gonzalez"
    calls = call_sections(card)
    assert len(calls) == 3
    assert sum("Call unavailable" in call for call in calls) == 1
    assert "Maria agreed to a site survey" in calls[0]
    assert "Reached voicemail" not in blocks_text(card)
    assert "lead_card.share" in buttons(card)


# Failures: a notice saying what went wrong, at the response_url


@pytest.mark.parametrize(
    ("campaign", "key", "shown_key"),
    [
        (P, UNKNOWN_ID, UNKNOWN_ID),
        (P, "crm-999999", "crm-999999"),
        (P, "+44 20 7183 8750", "+442071838750"),
        (OTHER_CAMPAIGN, SAMPLE_LEAD_ID, SAMPLE_LEAD_ID),
    ],
    ids=["unknown-lead-id", "unknown-external-id", "unknown-phone", "unknown-campaign"],
)
def test_unknown_lead_or_campaign_is_not_found(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    campaign: str,
    key: str,
    shown_key: str,
) -> None:
    """No such lead (or campaign): a notice naming the key and the campaign."""
    answer = look_up(shared_server, shared_slack, f"{campaign} {key}", "not-found")

    assert_notice(answer, "Lead not found", f"`{shown_key}`", f"`{campaign}`")


def test_rejected_api_key_tells_the_admin_what_to_set(
    shared_server_factory: AppFactory,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
) -> None:
    """NLPearl refusing the key: a notice naming NLPEARL_API_KEY, never echoing the key."""
    server = shared_server_factory({"NLPEARL_API_KEY": "wrong:key"})

    answer = look_up(server, shared_slack, f"{P} {SAMPLE_LEAD_ID}", "bad-key")

    assert_notice(answer, "NLPEARL_API_KEY")
    assert "wrong" not in message_text(answer)
    lead_requests = [r for r in shared_nlpearl.requests() if "/Lead/" in r.path]
    assert [r.headers["authorization"] for r in lead_requests] == ["Bearer wrong:key"]


@pytest.mark.parametrize("failure", ["server-error", "rate-limited"])
def test_nlpearl_failing_says_it_is_not_responding(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
    failure: str,
) -> None:
    """NLPearl answering 503 (or 429) to everything: a few bounded retries, then a notice."""
    if failure == "server-error":
        shared_nlpearl.fail_next(re.compile("."), status=503, times=1000)
    else:
        shared_nlpearl.fail_next(
            re.compile("."), status=429, times=1000, headers={"Retry-After": "0"}
        )

    answer = look_up(shared_server, shared_slack, f"{P} {SAMPLE_LEAD_ID}", "down")

    assert_notice(answer, "NLPearl is not responding")
    tries = len(shared_nlpearl.requests(ID_PATH))
    assert 2 <= tries <= 3, f"expected a retry or two, got {tries} attempts"


def test_nlpearl_unreachable_says_it_is_not_responding(
    shared_server_factory: AppFactory, shared_slack: SlackStandIn
) -> None:
    """Nothing listening at NLPEARL_API_URL: the same notice, not a stack trace."""
    server = shared_server_factory({"NLPEARL_API_URL": f"http://127.0.0.1:{free_port()}"})

    answer = look_up(server, shared_slack, f"{P} {SAMPLE_LEAD_ID}", "unreachable")

    assert_notice(answer, "NLPearl is not responding")


@pytest.mark.parametrize("body", [b"<html>oops", b"[1, 2]"], ids=["html", "json-list"])
def test_nlpearl_garbage_says_it_could_not_read_the_answer(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
    body: bytes,
) -> None:
    """A 200 that isn't a lead: the "couldn't read" notice."""
    shared_nlpearl.fail_next(re.compile(r"/Lead/"), status=200, body=body, times=3)

    answer = look_up(shared_server, shared_slack, f"{P} {SAMPLE_LEAD_ID}", "garbage")

    assert_notice(answer, "Something went wrong at NLPearl", "couldn't read")


def test_typed_key_cannot_mention_anyone_in_the_answer(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    """A key with Slack mention syntax comes back escaped, so it pings nobody."""
    answer = look_up(shared_server, shared_slack, f"{P} crm-<!channel>-<@U0BOSS>", "mention")

    assert_notice(answer, "Lead not found", "&lt;!channel&gt;")
    text = message_text(answer)
    assert "<!channel>" not in text
    assert "<@U0BOSS" not in text
