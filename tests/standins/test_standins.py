"""The stand-ins and request builders behave as the end-to-end tests rely on (no bot needed)."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.harness.slack_requests import (
    SIGNING_SECRET,
    block_actions_body,
    sign,
    slash_command_body,
)
from tests.standins import NLPearlStandIn, SlackStandIn
from tests.standins.nlpearl import (
    SAMPLE_LEAD_EXTERNAL_ID,
    SAMPLE_LEAD_ID,
    SAMPLE_LEAD_MANY_CALLS_ID,
    SAMPLE_LEAD_NO_CALLS_ID,
    SAMPLE_LEAD_PHONE,
    SAMPLE_PEARL_ID,
)

BOT_AUTH = {"Authorization": "Bearer xoxb-test-token"}
PEARL_AUTH = {"Authorization": "Bearer acct123:secret456"}
LEAD_PATH = f"/v2/Outbound/{SAMPLE_PEARL_ID}/Lead"


def slack_post(slack: SlackStandIn, method: str, body: dict[str, object]) -> httpx.Response:
    """Calls one Web API method with the bot token and a JSON body."""
    return httpx.post(slack.api_url + method, json=body, headers=BOT_AUTH)


def pearl_get(nlpearl: NLPearlStandIn, path: str, timeout: float = 5) -> httpx.Response:
    """GETs one NLPearl path with the valid API key."""
    return httpx.get(nlpearl.url + path, headers=PEARL_AUTH, timeout=timeout)


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
