"""The stand-ins and request builders behave as the end-to-end tests rely on (no bot needed)."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.demo.nlpearl_api import (
    SAMPLE_LEAD_EXTERNAL_ID,
    SAMPLE_LEAD_ID,
    SAMPLE_LEAD_MANY_CALLS_ID,
    SAMPLE_LEAD_NO_CALLS_ID,
    SAMPLE_LEAD_PHONE,
    SAMPLE_PEARL_ID,
)
from tests.harness.slack_requests import (
    SIGNING_SECRET,
    block_actions_body,
    sign,
    slash_command_body,
)
from tests.standins import NLPearlStandIn, SlackStandIn

BOT_AUTH = {"Authorization": "Bearer xoxb-test-token"}
PEARL_AUTH = {"Authorization": "Bearer acct123:secret456"}
LEAD_PATH = f"/v2/Outbound/{SAMPLE_PEARL_ID}/Lead"


def slack_post(slack: SlackStandIn, method: str, body: dict[str, object]) -> httpx.Response:
    """Calls one Web API method with the bot token and a JSON body."""
    return httpx.post(slack.api_url + method, json=body, headers=BOT_AUTH)


def pearl_get(nlpearl: NLPearlStandIn, path: str, timeout: float = 5) -> httpx.Response:
    """GETs one NLPearl path with the valid API key."""
    return httpx.get(nlpearl.url + path, headers=PEARL_AUTH, timeout=timeout)


def pearl_send(
    nlpearl: NLPearlStandIn, method: str, path: str, body: Any, auth: dict[str, str] = PEARL_AUTH
) -> httpx.Response:
    """Sends a JSON body (or raw bytes) to one NLPearl path with the valid API key."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {**auth, "Content-Type": "application/json"}
    return httpx.request(method, nlpearl.url + path, content=content, headers=headers, timeout=5)


# Slack stand-in


def test_slack_rejects_wrong_token_and_answers_auth_test(slack: SlackStandIn) -> None:
    """A wrong token gets invalid_auth; the right one gets the bot identity."""
    wrong = httpx.post(slack.api_url + "auth.test", headers={"Authorization": "Bearer xoxb-nope"})
    right = httpx.post(slack.api_url + "auth.test", headers=BOT_AUTH)

    assert wrong.json() == {"ok": False, "error": "invalid_auth"}
    assert right.json()["user_id"] == "U0BOT"
    assert [r.ok for r in slack.records("auth.test")] == [False, True]


async def test_slack_serves_the_real_sdk_client(slack: SlackStandIn) -> None:
    """slack_sdk's AsyncWebClient (JSON posts, GET for conversations.info) works against it."""
    client = AsyncWebClient(token=slack.valid_token, base_url=slack.api_url)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]

    first = await client.chat_postMessage(channel="C1", text="hi", blocks=blocks)
    second = await client.chat_postMessage(channel="C1", text="again", thread_ts=first["ts"])
    updated = await client.chat_update(channel="C1", ts=first["ts"], text="edited")
    info = await client.conversations_info(channel="C1")
    view = await client.views_open(trigger_id="t1", view={"type": "modal", "blocks": []})

    assert first["ts"] < second["ts"]
    assert first["message"]["blocks"] == blocks
    assert updated["ts"] == first["ts"]
    assert updated["message"]["text"] == "edited"
    assert info["channel"]["is_member"] is True
    assert view["view"]["id"] == "V123"
    assert view["view"]["type"] == "modal"
    assert [body["text"] for body in slack.calls("chat.postMessage")] == ["hi", "again"]
    assert slack.calls("conversations.info") == [{"channel": "C1"}]


def test_slack_decodes_form_bodies(slack: SlackStandIn) -> None:
    """Form-encoded calls are recorded as dicts, with JSON-valued arguments decoded."""
    blocks = [{"type": "divider"}]
    form = {"channel": "C1", "user": "U1", "blocks": json.dumps(blocks)}

    response = httpx.post(slack.api_url + "chat.postEphemeral", data=form, headers=BOT_AUTH)

    assert response.json()["message_ts"]
    assert slack.calls("chat.postEphemeral") == [{"channel": "C1", "user": "U1", "blocks": blocks}]


def test_slack_fail_next_queues_http_and_api_errors(slack: SlackStandIn) -> None:
    """Programmed failures answer in order, once each, then the method works again."""
    slack.fail_next("chat.postMessage", status=429)
    slack.fail_next("chat.postMessage", status=200, error="channel_not_found")

    limited = slack_post(slack, "chat.postMessage", {"channel": "C1", "text": "a"})
    missing = slack_post(slack, "chat.postMessage", {"channel": "C1", "text": "b"})
    posted = slack_post(slack, "chat.postMessage", {"channel": "C1", "text": "c"})

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.json() == {"ok": False, "error": "ratelimited"}
    assert missing.status_code == 200
    assert missing.json() == {"ok": False, "error": "channel_not_found"}
    assert posted.json()["ok"] is True
    assert len(slack.calls("chat.postMessage")) == 3
    assert slack.calls("chat.postMessage", ok_only=True) == [{"channel": "C1", "text": "c"}]


def test_slack_set_response_overrides_and_reset_restores(slack: SlackStandIn) -> None:
    """set_response replaces a method's answer until reset()."""
    outside = {"ok": True, "channel": {"id": "C1", "is_member": False}}
    slack.set_response("conversations.info", outside)

    overridden = slack_post(slack, "conversations.info", {"channel": "C1"})
    slack.reset()
    restored = slack_post(slack, "conversations.info", {"channel": "C1"})

    assert overridden.json() == outside
    assert restored.json()["channel"]["is_member"] is True
    assert len(slack.calls("conversations.info")) == 1


def test_slack_rate_limits_posts_per_channel(slack: SlackStandIn) -> None:
    """With a per-channel limit, a second post to the same channel at once gets 429."""
    slack.rate_limit_per_channel(seconds=5)

    first = slack_post(slack, "chat.postMessage", {"channel": "C1", "text": "a"})
    again = slack_post(slack, "chat.postMessage", {"channel": "C1", "text": "b"})
    elsewhere = slack_post(slack, "chat.postMessage", {"channel": "C2", "text": "c"})

    assert first.status_code == 200
    assert again.status_code == 429
    assert 1 <= int(again.headers["Retry-After"]) <= 5
    assert elsewhere.status_code == 200


def test_slack_records_response_url_posts(slack: SlackStandIn) -> None:
    """Posts to response URLs are recorded by name and can be waited for."""
    threading.Timer(0.2, httpx.post, [slack.response_url("r2")], {"json": {"text": "late"}}).start()
    answer = httpx.post(slack.response_url(), json={"text": "now", "response_type": "ephemeral"})

    arrived = slack.wait_for_responses(2, timeout=5)

    assert answer.text == "ok"
    # The timer's post may win the race on a loaded machine: which came first is not the point.
    assert sorted(body["text"] for body in arrived) == ["late", "now"]
    assert slack.responses("r2") == [{"text": "late"}]


def test_slack_wait_for_calls_reports_what_arrived(slack: SlackStandIn) -> None:
    """A wait that times out fails with the bodies that did arrive."""
    slack_post(slack, "chat.postMessage", {"channel": "C1", "text": "only one"})

    with pytest.raises(AssertionError, match=r"(?s)got 1:.*only one"):
        slack.wait_for_calls("chat.postMessage", 2, timeout=0.2)


# NLPearl stand-in


def test_nlpearl_requires_the_api_key(nlpearl: NLPearlStandIn) -> None:
    """A missing or wrong key gets 401 with an empty body."""
    missing = httpx.get(nlpearl.url + "/v2/Account")
    wrong = httpx.get(nlpearl.url + "/v2/Account", headers={"Authorization": "Bearer acct:bad"})

    assert (missing.status_code, missing.content) == (401, b"")
    assert (wrong.status_code, wrong.content) == (401, b"")


@pytest.mark.parametrize(
    "path",
    [
        f"{LEAD_PATH}/{SAMPLE_LEAD_ID}",
        f"/v1/Outbound/{SAMPLE_PEARL_ID}/Lead/{SAMPLE_LEAD_ID}",
        f"{LEAD_PATH}/External/{SAMPLE_LEAD_EXTERNAL_ID}",
        f"/v1/Outbound/{SAMPLE_PEARL_ID}/Lead/Extrenal/{SAMPLE_LEAD_EXTERNAL_ID}",
        f"{LEAD_PATH}/PhoneNumber/%2B14155550137",
        f"{LEAD_PATH}/PhoneNumber/{SAMPLE_LEAD_PHONE}",
    ],
)
def test_nlpearl_finds_a_lead_by_id_external_id_and_phone(
    nlpearl: NLPearlStandIn, path: str
) -> None:
    """Every lookup path (v1 and v2, URL-encoded or not) finds the sample lead."""
    response = pearl_get(nlpearl, path)

    assert response.status_code == 200
    assert response.json()["callData"]["lastName"] == "Gonzalez"


@pytest.mark.parametrize(
    "path",
    [
        f"{LEAD_PATH}/ffffffffffffffffffffffff",
        f"{LEAD_PATH}/External/crm-unknown",
        f"{LEAD_PATH}/PhoneNumber/%2B15550000000",
        f"/v2/Outbound/664e9b02f0e1d2c3b4a59690/Lead/{SAMPLE_LEAD_ID}",
        "/v2/Call/ffffffffffffffffffffffff",
        "/v2/Pearl/ffffffffffffffffffffffff",
        f"/v2/Outbound/{SAMPLE_PEARL_ID}/Lead/Extrenal/{SAMPLE_LEAD_EXTERNAL_ID}",
        "/v3/Account",
    ],
)
def test_nlpearl_answers_404_with_empty_body(nlpearl: NLPearlStandIn, path: str) -> None:
    """Unknown records, a lead under another pearl and unknown routes are 404, empty body."""
    response = pearl_get(nlpearl, path)

    assert (response.status_code, response.content) == (404, b"")


def test_nlpearl_serves_calls_pearls_and_account(nlpearl: NLPearlStandIn) -> None:
    """Calls, pearls (v2) / outbounds (v1) and the account come back as JSON."""
    lead = pearl_get(nlpearl, f"{LEAD_PATH}/{SAMPLE_LEAD_ID}").json()
    calls = [pearl_get(nlpearl, f"/v2/Call/{call_id}").json() for call_id in lead["callsId"]]
    pearl = pearl_get(nlpearl, f"/v2/Pearl/{SAMPLE_PEARL_ID}").json()
    outbounds = pearl_get(nlpearl, "/v1/Outbound").json()

    assert calls[-1]["id"] == lead["lastCall"]["id"]
    assert calls[-1]["summary"] == lead["lastCall"]["summary"]
    assert pearl["name"] == "Solar – Spring Re-engagement"
    assert outbounds == pearl_get(nlpearl, "/v2/Pearl").json()
    assert outbounds[0]["createdAt"] == pearl["created"]
    assert pearl_get(nlpearl, "/v1/Account").json()["creditBalance"] == 12.5


def test_nlpearl_sample_covers_many_calls_and_none(nlpearl: NLPearlStandIn) -> None:
    """The sample holds a lead with 10 resolvable calls and a new lead with none."""
    busy = pearl_get(nlpearl, f"{LEAD_PATH}/{SAMPLE_LEAD_MANY_CALLS_ID}").json()
    new = pearl_get(nlpearl, f"{LEAD_PATH}/{SAMPLE_LEAD_NO_CALLS_ID}").json()

    statuses = [pearl_get(nlpearl, f"/v1/Call/{i}").status_code for i in busy["callsId"]]
    assert statuses == [200] * 10
    assert (new["status"], new["callsId"], new["lastCall"]) == (1, [], None)


def test_nlpearl_fail_next_by_prefix_and_regex(nlpearl: NLPearlStandIn) -> None:
    """Failures match a path prefix or a regex, answer as programmed, and run out."""
    nlpearl.fail_next("/v2/Call/", status=429, times=2)
    nlpearl.fail_next(re.compile(r"/Lead/[0-9a-f]{24}$"), status=200, body=b"<html>oops")

    limited = [pearl_get(nlpearl, "/v2/Call/x") for _ in range(3)]
    garbage = pearl_get(nlpearl, f"{LEAD_PATH}/{SAMPLE_LEAD_ID}")
    lead = pearl_get(nlpearl, f"{LEAD_PATH}/{SAMPLE_LEAD_ID}")

    assert [r.status_code for r in limited] == [429, 429, 404]
    assert limited[0].headers["Retry-After"] == "1"
    assert (garbage.status_code, garbage.content) == (200, b"<html>oops")
    assert lead.json()["id"] == SAMPLE_LEAD_ID


def test_nlpearl_records_requests_and_reset_keeps_data(nlpearl: NLPearlStandIn) -> None:
    """Requests are recorded with headers; reset() forgets them but not the data."""
    pearl_get(nlpearl, f"{LEAD_PATH}/PhoneNumber/%2B14155550137")

    recorded = nlpearl.requests("PhoneNumber")
    nlpearl.reset()

    assert [(r.method, r.path) for r in recorded] == [
        ("GET", f"{LEAD_PATH}/PhoneNumber/%2B14155550137")
    ]
    assert recorded[0].headers["authorization"] == PEARL_AUTH["Authorization"]
    assert nlpearl.requests() == []
    assert pearl_get(nlpearl, f"{LEAD_PATH}/{SAMPLE_LEAD_ID}").status_code == 200


def test_nlpearl_latency_delays_concurrent_requests_in_parallel(nlpearl: NLPearlStandIn) -> None:
    """Latency delays each answer, and concurrent requests are served side by side."""
    nlpearl.set_latency(0.5)
    started = time.monotonic()

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: pearl_get(nlpearl, "/v2/Account"), range(8)))

    elapsed = time.monotonic() - started
    assert [r.status_code for r in responses] == [200] * 8
    assert 0.5 <= elapsed < 2.5, "8 × 0.5 s would take 4 s if served one at a time"


def test_nlpearl_hang_outlasts_a_client_timeout(nlpearl: NLPearlStandIn) -> None:
    """A hung path makes the client time out while other paths still answer."""
    nlpearl.hang("/v2/Call/", seconds=30)

    with pytest.raises(httpx.ReadTimeout):
        pearl_get(nlpearl, "/v2/Call/66523b11c2d3e4f5a6b7c8d9", timeout=0.3)
    assert pearl_get(nlpearl, "/v2/Account").status_code == 200


# NLPearl stand-in: changes

LEAD_URL = f"{LEAD_PATH}/{SAMPLE_LEAD_ID}"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_nlpearl_update_lead_applies_the_fields_given(
    nlpearl: NLPearlStandIn, version: str
) -> None:
    """Update Lead changes the fields sent, re-indexes phone and external ID, keeps the rest."""
    change = {
        "phoneNumber": "+14155550100",
        "externalId": "crm-new",
        "timeZoneId": "Pacific Standard Time",
        "callData": {"firstName": "Mary"},
        "status": 130,
    }

    answer = pearl_send(
        nlpearl, "PUT", f"/{version}/Outbound/{SAMPLE_PEARL_ID}/Lead/{SAMPLE_LEAD_ID}", change
    )

    stored = pearl_get(nlpearl, LEAD_URL).json()
    assert answer.status_code == 200
    assert answer.json() == stored
    assert {key: stored[key] for key in change} == change
    assert stored["collectedData"]["roofAge"] == 12
    assert pearl_get(nlpearl, f"{LEAD_PATH}/External/crm-new").json()["id"] == SAMPLE_LEAD_ID
    assert pearl_get(nlpearl, f"{LEAD_PATH}/PhoneNumber/%2B14155550100").status_code == 200
    assert pearl_get(nlpearl, f"{LEAD_PATH}/External/{SAMPLE_LEAD_EXTERNAL_ID}").status_code == 404
    assert pearl_get(nlpearl, f"{LEAD_PATH}/PhoneNumber/%2B14155550137").status_code == 404


def test_nlpearl_update_lead_leaves_null_and_unsent_fields_alone(nlpearl: NLPearlStandIn) -> None:
    """Only the fields sent with a value change; callData is replaced, not merged."""
    before = pearl_get(nlpearl, LEAD_URL).json()

    pearl_send(
        nlpearl, "PUT", LEAD_URL, {"status": None, "phoneNumber": None, "callData": {"x": 1}}
    )

    after = pearl_get(nlpearl, LEAD_URL).json()
    assert after == {**before, "callData": {"x": 1}}


@pytest.mark.parametrize(
    "body",
    [b"not json", b"", b"[1]", b'"status"', {"status": 40}, {"status": True}, {"status": "130"}],
)
def test_nlpearl_update_lead_refuses_with_a_message(nlpearl: NLPearlStandIn, body: Any) -> None:
    """A body that is not an object, or a status Update Lead does not take, is a 400."""
    before = pearl_get(nlpearl, LEAD_URL).json()

    answer = pearl_send(nlpearl, "PUT", LEAD_URL, body)

    assert answer.status_code == 400
    assert answer.json()["message"]
    assert pearl_get(nlpearl, LEAD_URL).json() == before


@pytest.mark.parametrize(
    "path",
    [
        f"{LEAD_PATH}/ffffffffffffffffffffffff",
        f"/v2/Outbound/664e9b02f0e1d2c3b4a59690/Lead/{SAMPLE_LEAD_ID}",
        f"{LEAD_PATH}/External/{SAMPLE_LEAD_EXTERNAL_ID}",
    ],
)
def test_nlpearl_update_of_an_unknown_lead_is_404(nlpearl: NLPearlStandIn, path: str) -> None:
    """An unknown lead, or one under another pearl, is 404 whatever the body."""
    assert pearl_send(nlpearl, "PUT", path, {"status": 130}).status_code == 404
    assert pearl_send(nlpearl, "PUT", path, b"not json").status_code == 404


@pytest.mark.parametrize(("version", "method"), [("v2", "POST"), ("v1", "PUT")])
def test_nlpearl_add_lead_creates_a_new_lead(
    nlpearl: NLPearlStandIn, version: str, method: str
) -> None:
    """Add Lead (POST on v2, PUT on v1) answers the new ID of a lead not yet called."""
    fields = {
        "phoneNumber": "+14155550199",
        "externalId": "crm-9",
        "timeZoneId": "Eastern Standard Time",
        "callData": {"firstName": "Ann"},
    }

    answer = pearl_send(nlpearl, method, f"/{version}/Outbound/{SAMPLE_PEARL_ID}/Lead", fields)

    lead_id = answer.json()["leadId"]
    lead = pearl_get(nlpearl, f"{LEAD_PATH}/{lead_id}").json()
    assert answer.status_code == 200
    assert re.fullmatch("[0-9a-f]{24}", lead_id)
    assert {key: lead[key] for key in fields} == fields
    assert (lead["status"], lead["callsId"], lead["lastCall"]) == (1, [], None)
    assert lead["created"].endswith("Z")
    assert datetime.fromisoformat(lead["created"]).tzinfo is not None
    assert pearl_get(nlpearl, f"{LEAD_PATH}/External/crm-9").json()["id"] == lead_id
    assert pearl_get(nlpearl, f"{LEAD_PATH}/PhoneNumber/%2B14155550199").json()["id"] == lead_id


def test_nlpearl_add_lead_does_not_dedupe_phone_numbers(nlpearl: NLPearlStandIn) -> None:
    """Adding a phone number twice, or one a lead has already, makes new leads each time."""
    answers = [
        pearl_send(nlpearl, "POST", LEAD_PATH, {"phoneNumber": SAMPLE_LEAD_PHONE}) for _ in range(2)
    ]

    ids = [answer.json()["leadId"] for answer in answers]
    assert len({*ids, SAMPLE_LEAD_ID}) == 3
    assert all(pearl_get(nlpearl, f"{LEAD_PATH}/{i}").status_code == 200 for i in ids)
    assert pearl_get(nlpearl, LEAD_URL).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"phoneNumber": ""}, {"phoneNumber": None}, {"phoneNumber": 14155550199}, [1], b"x"],
)
def test_nlpearl_add_lead_needs_a_phone_number(nlpearl: NLPearlStandIn, body: Any) -> None:
    """An add without a phone number, or without a JSON object, is a 400 with a message."""
    answer = pearl_send(nlpearl, "POST", LEAD_PATH, body)

    assert answer.status_code == 400
    assert answer.json()["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/Outbound/664e9b02f0e1d2c3b4a59690/Lead"),
        ("PUT", "/v1/Outbound/664e9b02f0e1d2c3b4a59690/Lead"),
        ("POST", f"/v1/Outbound/{SAMPLE_PEARL_ID}/Lead"),
        ("PUT", LEAD_PATH),
        ("POST", LEAD_URL),
        ("PUT", f"{LEAD_PATH}s"),
        ("PUT", f"/v2/Pearl/{SAMPLE_PEARL_ID}"),
    ],
)
def test_nlpearl_writes_elsewhere_are_404(nlpearl: NLPearlStandIn, method: str, path: str) -> None:
    """Adds to an unknown pearl, the wrong method for a version, and other paths are 404."""
    answer = pearl_send(nlpearl, method, path, {"phoneNumber": "+14155550199", "status": 130})

    assert (answer.status_code, answer.content) == (404, b"")


def test_nlpearl_writes_need_the_api_key(nlpearl: NLPearlStandIn) -> None:
    """A write with the wrong key is 401 and changes nothing."""
    wrong = {"Authorization": "Bearer acct:bad"}

    update = pearl_send(nlpearl, "PUT", LEAD_URL, {"status": 130}, auth=wrong)
    add = pearl_send(nlpearl, "POST", LEAD_PATH, {"phoneNumber": "+14155550199"}, auth=wrong)

    assert (update.status_code, add.status_code) == (401, 401)
    assert pearl_get(nlpearl, LEAD_URL).json()["status"] == 100
    assert pearl_get(nlpearl, f"{LEAD_PATH}/PhoneNumber/%2B14155550199").status_code == 404


def test_nlpearl_records_bodies_and_picks_out_writes(nlpearl: NLPearlStandIn) -> None:
    """Requests keep their bodies; writes() leaves out GETs and filters by path."""
    pearl_get(nlpearl, LEAD_URL)
    pearl_send(nlpearl, "PUT", LEAD_URL, {"status": 10})
    pearl_send(nlpearl, "POST", LEAD_PATH, b"not json")

    writes = nlpearl.writes()
    assert [(w.method, w.path) for w in writes] == [("PUT", LEAD_URL), ("POST", LEAD_PATH)]
    assert [w.body for w in writes] == [b'{"status": 10}', b"not json"]
    assert [w.json() for w in writes] == [{"status": 10}, None]
    assert [w.method for w in nlpearl.writes(SAMPLE_LEAD_ID)] == ["PUT"]
    assert nlpearl.requests()[0].body == b""
    assert nlpearl.requests()[0].json() is None


def test_nlpearl_wait_for_writes(nlpearl: NLPearlStandIn) -> None:
    """A wait returns once the writes arrived, and a timed-out one shows those that did."""
    later = threading.Timer(0.2, pearl_send, [nlpearl, "PUT", LEAD_URL, {"status": 110}])
    later.start()

    arrived = nlpearl.wait_for_writes(SAMPLE_LEAD_ID, timeout=5)

    assert arrived[0].json() == {"status": 110}
    with pytest.raises(AssertionError, match=r"got 1: PUT .*status.*110"):
        nlpearl.wait_for_writes(SAMPLE_LEAD_ID, count=2, timeout=0.2)


def test_nlpearl_fail_next_by_method(nlpearl: NLPearlStandIn) -> None:
    """A fault for one method leaves other methods to the same path alone; without one, any."""
    nlpearl.fail_next(LEAD_URL, status=503, method="put")
    nlpearl.fail_next(LEAD_URL, status=502)

    read = pearl_get(nlpearl, LEAD_URL)
    failed = pearl_send(nlpearl, "PUT", LEAD_URL, {"status": 130})
    served = pearl_send(nlpearl, "PUT", LEAD_URL, {"status": 130})

    assert (read.status_code, failed.status_code, served.status_code) == (502, 503, 200)
    assert pearl_get(nlpearl, LEAD_URL).json()["status"] == 130


def test_nlpearl_method_faults_match_regexes_too(nlpearl: NLPearlStandIn) -> None:
    """A regex fault with a method matches the path alone, not the method in front of it."""
    nlpearl.fail_next(re.compile(r"^/v2/Outbound/[^/]+/Lead$"), status=500, method="POST")

    added = pearl_send(nlpearl, "POST", LEAD_PATH, {"phoneNumber": "+14155550199"})
    again = pearl_send(nlpearl, "POST", LEAD_PATH, {"phoneNumber": "+14155550199"})

    assert (added.status_code, again.status_code) == (500, 200)


# Request builders


def test_sign_matches_slack_sdk_verifier() -> None:
    """Signatures verify with slack_sdk's SignatureVerifier, and a stale one does not."""
    body = slash_command_body("camp lead", "http://127.0.0.1/response/r1")
    verifier = SignatureVerifier(SIGNING_SECRET)

    fresh = sign(SIGNING_SECRET, body)
    stale = sign(SIGNING_SECRET, body, timestamp=int(time.time()) - 600)

    assert verifier.is_valid_request(body, fresh)
    assert not verifier.is_valid_request(body, stale)
    assert not verifier.is_valid_request(body + b"x", fresh)


def test_request_bodies_have_slacks_shape() -> None:
    """Slash-command and block_actions bodies carry the fields Slack sends."""
    command = parse_qs(slash_command_body("help", "http://r/1").decode())
    another = parse_qs(slash_command_body("help", "http://r/1").decode())
    actions_form = parse_qs(block_actions_body("share", "v1", "http://r/2", is_ephemeral=True))
    payload = json.loads(actions_form[b"payload"][0])

    assert command["command"] == ["/lead"]
    assert command["text"] == ["help"]
    assert command["response_url"] == ["http://r/1"]
    assert command["trigger_id"] != another["trigger_id"]
    assert payload["type"] == "block_actions"
    assert payload["container"]["is_ephemeral"] is True
    assert "message" not in payload
    assert payload["actions"][0]["action_id"] == "share"
    assert payload["actions"][0]["value"] == "v1"


# Slack stand-in: people and user groups


def slack_form(slack: SlackStandIn, method: str, form: dict[str, str]) -> httpx.Response:
    """Calls one Web API method with the bot token and form fields, as Slack documents them."""
    return httpx.post(slack.api_url + method, data=form, headers=BOT_AUTH)


async def test_slack_users_info_describes_the_people_added(slack: SlackStandIn) -> None:
    """users.info answers as Slack does for a known person, through the real SDK client too."""
    slack.add_user("U1", "ana", is_admin=True, team_id="T1")
    slack.add_user("U2", is_owner=True, is_primary_owner=True, deleted=True)
    client = AsyncWebClient(token=slack.valid_token, base_url=slack.api_url)

    ana = (await client.users_info(user="U1"))["user"]
    tess = slack_form(slack, "users.info", {"user": "U2"}).json()

    assert ana == {
        "id": "U1",
        "team_id": "T1",
        "name": "ana",
        "real_name": "Ana",
        "deleted": False,
        "is_admin": True,
        "is_owner": False,
        "is_primary_owner": False,
        "is_bot": False,
        "profile": {"display_name": "ana", "real_name": "Ana"},
    }
    assert tess["ok"] is True
    assert (tess["user"]["name"], tess["user"]["team_id"], tess["user"]["deleted"]) == (
        "tess",
        "T0TEST",
        True,
    )
    assert (tess["user"]["is_admin"], tess["user"]["is_owner"]) == (False, True)
    assert tess["user"]["is_primary_owner"] is True
    assert slack.calls("users.info") == [{"user": "U1"}, {"user": "U2"}]


def test_slack_users_info_does_not_know_anyone_else(slack: SlackStandIn) -> None:
    """An unknown or missing user is user_not_found; adding a person again replaces them."""
    slack.add_user("U1", "ana")
    slack.add_user("U1", "bea", is_admin=True)

    unknown = slack_form(slack, "users.info", {"user": "U404"})
    missing = slack_form(slack, "users.info", {})
    replaced = slack_form(slack, "users.info", {"user": "U1"}).json()["user"]

    assert (unknown.status_code, unknown.json()) == (200, {"ok": False, "error": "user_not_found"})
    assert missing.json() == {"ok": False, "error": "user_not_found"}
    assert (replaced["name"], replaced["is_admin"]) == ("bea", True)


async def test_slack_lists_user_groups_and_their_members(slack: SlackStandIn) -> None:
    """usergroups.list shows each group added; usergroups.users.list its members."""
    slack.add_usergroup("S1", "sales", ["U1", "U2"])
    slack.add_usergroup("S2", "empty", [], name="Nobody Yet")
    client = AsyncWebClient(token=slack.valid_token, base_url=slack.api_url)

    listed = await client.usergroups_list()
    with_users = slack_form(slack, "usergroups.list", {"include_users": "true"}).json()
    members = await client.usergroups_users_list(usergroup="S1")
    none = slack_form(slack, "usergroups.users.list", {"usergroup": "S2"}).json()

    assert listed["usergroups"] == [
        {"id": "S1", "handle": "sales", "name": "sales", "user_count": 2},
        {"id": "S2", "handle": "empty", "name": "Nobody Yet", "user_count": 0},
    ]
    assert [g["users"] for g in with_users["usergroups"]] == [["U1", "U2"], []]
    assert members["users"] == ["U1", "U2"]
    assert none == {"ok": True, "users": []}


def test_slack_does_not_know_other_user_groups(slack: SlackStandIn) -> None:
    """With no groups the list is empty; an unknown group's members are no_such_subteam."""
    empty = slack_form(slack, "usergroups.list", {}).json()
    slack.add_usergroup("S1", "sales", ["U1"])

    unknown = slack_form(slack, "usergroups.users.list", {"usergroup": "S404"}).json()
    missing = slack_form(slack, "usergroups.users.list", {}).json()

    assert empty == {"ok": True, "usergroups": []}
    assert unknown == {"ok": False, "error": "no_such_subteam"}
    assert missing == {"ok": False, "error": "no_such_subteam"}


@pytest.mark.parametrize(
    ("method", "form"),
    [
        ("users.info", {"user": "U1"}),
        ("usergroups.list", {}),
        ("usergroups.users.list", {"usergroup": "S1"}),
    ],
)
def test_slack_fail_next_covers_people_and_groups(
    slack: SlackStandIn, method: str, form: dict[str, str]
) -> None:
    """Programmed failures answer for the people methods too, then they work again."""
    slack.add_user("U1")
    slack.add_usergroup("S1", "sales", ["U1"])
    slack.fail_next(method, status=429)
    slack.fail_next(method, status=200, error="missing_scope")

    limited = slack_form(slack, method, form)
    refused = slack_form(slack, method, form)
    answered = slack_form(slack, method, form)

    assert (limited.status_code, limited.json()["error"]) == (429, "ratelimited")
    assert refused.json() == {"ok": False, "error": "missing_scope"}
    assert answered.json()["ok"] is True


def test_slack_reset_keeps_people_and_groups(slack: SlackStandIn) -> None:
    """reset() forgets requests and overrides but keeps the people and groups, as data."""
    slack.add_user("U1", "ana")
    slack.add_usergroup("S1", "sales", ["U1"])
    slack.set_response("users.info", {"ok": False, "error": "user_not_found"})
    slack.fail_next("usergroups.users.list", status=500)

    slack.reset()

    assert slack.records() == []
    assert slack_form(slack, "users.info", {"user": "U1"}).json()["user"]["name"] == "ana"
    members = slack_form(slack, "usergroups.users.list", {"usergroup": "S1"}).json()
    assert members == {"ok": True, "users": ["U1"]}


# NLPearl stand-in: Set Active and the account

ACTIVE_PATHS = pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", f"/v2/Pearl/{SAMPLE_PEARL_ID}/Active"),
        ("POST", f"/v1/Outbound/{SAMPLE_PEARL_ID}/Active"),
    ],
)


@ACTIVE_PATHS
def test_nlpearl_set_active_pauses_and_runs_the_pearl(
    nlpearl: NLPearlStandIn, method: str, path: str
) -> None:
    """isActive false pauses (2), true runs (1); the answer is the bare status, kept for reads."""
    paused = pearl_send(nlpearl, method, path, {"isActive": False})
    status_after_pause = pearl_get(nlpearl, f"/v2/Pearl/{SAMPLE_PEARL_ID}").json()["status"]
    running = pearl_send(nlpearl, method, path, {"isActive": True})

    assert (paused.status_code, paused.json()) == (200, 2)
    assert status_after_pause == 2
    assert (running.status_code, running.json()) == (200, 1)
    assert pearl_get(nlpearl, f"/v1/Outbound/{SAMPLE_PEARL_ID}").json()["status"] == 1
    assert [(w.method, w.json()) for w in nlpearl.writes("/Active")] == [
        (method, {"isActive": False}),
        (method, {"isActive": True}),
    ]


@ACTIVE_PATHS
@pytest.mark.parametrize("body", [{}, {"isActive": "true"}, {"isActive": 1}, [True], b"nope"])
def test_nlpearl_set_active_needs_a_boolean(
    nlpearl: NLPearlStandIn, method: str, path: str, body: Any
) -> None:
    """A body without a boolean isActive is a 400 with a message, and changes nothing."""
    answer = pearl_send(nlpearl, method, path, body)

    assert answer.status_code == 400
    assert "isActive" in answer.json()["message"]
    assert pearl_get(nlpearl, f"/v2/Pearl/{SAMPLE_PEARL_ID}").json()["status"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v2/Pearl/ffffffffffffffffffffffff/Active"),
        ("POST", "/v1/Outbound/ffffffffffffffffffffffff/Active"),
        ("POST", f"/v2/Pearl/{SAMPLE_PEARL_ID}/Active"),
        ("PUT", f"/v1/Outbound/{SAMPLE_PEARL_ID}/Active"),
    ],
)
def test_nlpearl_set_active_elsewhere_is_404(
    nlpearl: NLPearlStandIn, method: str, path: str
) -> None:
    """An unknown pearl, or the other version's method, is 404."""
    answer = pearl_send(nlpearl, method, path, {"isActive": True})

    assert (answer.status_code, answer.content) == (404, b"")


@ACTIVE_PATHS
def test_nlpearl_a_suspended_pearl_stays_suspended(
    nlpearl: NLPearlStandIn, method: str, path: str
) -> None:
    """Set Active on a suspended pearl is refused with NLPearl's words, either way."""
    pearl = pearl_get(nlpearl, f"/v2/Pearl/{SAMPLE_PEARL_ID}").json()
    nlpearl.add_pearl({**pearl, "status": 3})

    answers = [pearl_send(nlpearl, method, path, {"isActive": a}) for a in (True, False)]

    assert [(a.status_code, a.json()) for a in answers] == [
        (400, {"message": "The Pearl is suspended"})
    ] * 2
    assert pearl_get(nlpearl, f"/v2/Pearl/{SAMPLE_PEARL_ID}").json()["status"] == 3


def test_nlpearl_set_active_honours_faults_by_method(nlpearl: NLPearlStandIn) -> None:
    """A fault for PUT answers Set Active, not the GET of the same pearl, then it works."""
    path = f"/v2/Pearl/{SAMPLE_PEARL_ID}"
    nlpearl.fail_next(path, status=503, method="PUT")

    read = pearl_get(nlpearl, path)
    failed = pearl_send(nlpearl, "PUT", f"{path}/Active", {"isActive": False})
    done = pearl_send(nlpearl, "PUT", f"{path}/Active", {"isActive": False})

    assert (read.status_code, failed.status_code, done.json()) == (200, 503, 2)
    assert all(r.answered_at is not None for r in nlpearl.requests())


def test_nlpearl_account_is_settable_per_standin(nlpearl: NLPearlStandIn) -> None:
    """set_account changes the given fields on both versions; the others keep their defaults."""
    before = pearl_get(nlpearl, "/v2/Account").json()
    nlpearl.set_account(status=3, creditBalance=0, remainingMinutes=None)

    after = pearl_get(nlpearl, "/v1/Account").json()

    assert before == {"name": "Test account", "totalAgents": 3, "creditBalance": 12.5, "status": 1}
    assert after == {**before, "status": 3, "creditBalance": 0, "remainingMinutes": None}
    with NLPearlStandIn() as other:
        assert pearl_get(other, "/v2/Account").json() == before


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_nlpearl_search_leads_answers_slim_rows_newest_first(
    nlpearl: NLPearlStandIn, version: str
) -> None:
    """Search Leads with no filter answers every lead, slim, newest first; it is recorded."""
    path = f"/{version}/Outbound/{SAMPLE_PEARL_ID}/Leads"

    found = pearl_send(nlpearl, "POST", path, {"statuses": None})

    body = found.json()
    assert (found.status_code, body["count"]) == (200, 3)
    assert [row["id"] for row in body["results"]] == [
        SAMPLE_LEAD_NO_CALLS_ID,
        SAMPLE_LEAD_MANY_CALLS_ID,
        SAMPLE_LEAD_ID,
    ]
    assert set(body["results"][0]) == {
        "id",
        "externalId",
        "phoneNumber",
        "timeZone",
        "status",
        "created",
        "callData",
    }
    assert [(r.method, r.path) for r in nlpearl.requests()] == [("POST", path)]


def test_nlpearl_search_leads_filters_and_pages(nlpearl: NLPearlStandIn) -> None:
    """Statuses filter the leads; count is every match, skip and limit cut the page."""
    path = f"{LEAD_PATH}s"
    search = {"statuses": [1, 100], "skip": 1, "limit": 1}

    page = pearl_send(nlpearl, "POST", path, search).json()
    empty = pearl_send(nlpearl, "POST", path, {**search, "limit": 0}).json()

    assert (page["count"], [row["id"] for row in page["results"]]) == (2, [SAMPLE_LEAD_ID])
    assert empty == {"count": 2, "results": []}


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v2/Outbound/unknown/Leads", {}, 404),
        (f"/v2/Outbound/{SAMPLE_PEARL_ID}/Leads", b"[1]", 400),
        (f"/v2/Outbound/{SAMPLE_PEARL_ID}/Leads", b"not json", 400),
        (f"/v2/Outbound/{SAMPLE_PEARL_ID}/Leads", {"statuses": "1"}, 400),
        (f"/v2/Outbound/{SAMPLE_PEARL_ID}/Leads", {"limit": -1}, 400),
    ],
)
def test_nlpearl_search_leads_refuses_unknown_pearls_and_bad_bodies(
    nlpearl: NLPearlStandIn, path: str, body: Any, status: int
) -> None:
    """An unknown pearl is 404; a body that is not a search is 400 with a message."""
    refused = pearl_send(nlpearl, "POST", path, body)

    assert refused.status_code == status
    if status == 400:
        assert refused.json()["message"]


@pytest.mark.parametrize(
    ("version", "resource"), [("v1", "Outbound"), ("v2", "Pearl")], ids=["v1", "v2"]
)
def test_nlpearl_analytics_answers_zeros_per_day_or_as_programmed(
    nlpearl: NLPearlStandIn, version: str, resource: str
) -> None:
    """Analytics: zeros, a day per entry; the programmed body; 404, 400; a read, not a write."""
    path = f"/{version}/{resource}/{SAMPLE_PEARL_ID}/Analytics"
    span = {"from": "2025-03-01T12:00:00.000Z", "to": "2025-03-03T00:00:00.000Z"}

    zeros = pearl_send(nlpearl, "POST", path, span).json()
    nlpearl.set_analytics(SAMPLE_PEARL_ID, {"callsStatusOverview": {"totalCalls": 7}})
    programmed = pearl_send(nlpearl, "POST", path, span).json()
    unknown = pearl_send(nlpearl, "POST", path.replace(SAMPLE_PEARL_ID, "unknown"), span)
    refused = [
        pearl_send(nlpearl, "POST", path, body).status_code
        for body in (b"not json", b"[]", {"from": span["from"]}, {**span, "to": "soon"})
    ]

    days = ["2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z", "2025-03-03T00:00:00Z"]
    assert [entry["date"] for entry in zeros["callsStatusTimeLine"]] == days
    assert [entry["date"] for entry in zeros["callsPickupRateTimeLine"]] == days
    assert set(zeros["callsStatusOverview"].values()) == {0}
    assert set(zeros["callEventsCounts"].values()) == {0}
    assert programmed == {"callsStatusOverview": {"totalCalls": 7}}
    assert (unknown.status_code, refused) == (404, [400, 400, 400, 400])
    assert nlpearl.requests(path)[0].json() == span
    assert nlpearl.writes() == []
    nlpearl.reset()
    assert pearl_send(nlpearl, "POST", path, span).json() == zeros, "reset() forgets the program"
