"""Requests not signed by Slack are refused and do nothing; typed IDs can't steer NLPearl
requests elsewhere."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from bot.demo.nlpearl_api import SAMPLE_LEAD_ID, SAMPLE_PEARL_ID
from tests.harness.in_process import AppInProcess
from tests.harness.slack_requests import (
    FORM_CONTENT_TYPE,
    SETTLE_CAMPAIGN,
    SIGNING_SECRET,
    block_actions_body,
    buttons,
    message_text,
    post_signed,
    send_command,
    settle,
    sign,
    slash_command_body,
)
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")

TEN_MINUTES = 600
SHARE_VALUE = f'{{"campaign_id": "{SAMPLE_PEARL_ID}", "kind": "id", "key": "{SAMPLE_LEAD_ID}"}}'

BodyBuilder = Callable[[str], bytes]
BODIES: dict[str, BodyBuilder] = {
    "lookup": lambda url: slash_command_body(f"{SAMPLE_PEARL_ID} {SAMPLE_LEAD_ID}", url),
    "share": lambda url: block_actions_body("lead_card.share", SHARE_VALUE, url, is_ephemeral=True),
}


def post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """POSTs a form body with exactly these extra headers."""
    return httpx.post(url, content=body, headers={"Content-Type": FORM_CONTENT_TYPE, **headers})


def forged(events_url: str, body: bytes) -> httpx.Response:
    """Signed with a secret that isn't the app's."""
    return post_signed(events_url, body, FORM_CONTENT_TYPE, "not-the-signing-secret")


def stale(events_url: str, body: bytes) -> httpx.Response:
    """Correctly signed, ten minutes ago (a replay)."""
    timestamp = int(time.time()) - TEN_MINUTES
    return post_signed(events_url, body, FORM_CONTENT_TYPE, SIGNING_SECRET, timestamp)


def from_the_future(events_url: str, body: bytes) -> httpx.Response:
    """Correctly signed, ten minutes from now."""
    timestamp = int(time.time()) + TEN_MINUTES
    return post_signed(events_url, body, FORM_CONTENT_TYPE, SIGNING_SECRET, timestamp)


def tampered(events_url: str, body: bytes) -> httpx.Response:
    """Signed, then changed on the way."""
    headers = sign(SIGNING_SECRET, body)
    return post(events_url, body.replace(b"U0USER", b"U0EVIL"), headers)


def no_signature(events_url: str, body: bytes) -> httpx.Response:
    """A timestamp but no signature."""
    headers = sign(SIGNING_SECRET, body)
    del headers["X-Slack-Signature"]
    return post(events_url, body, headers)


def no_headers(events_url: str, body: bytes) -> httpx.Response:
    """Neither signature nor timestamp."""
    return post(events_url, body, {})


Sender = Callable[[str, bytes], httpx.Response]
REFUSED: dict[str, Sender] = {
    "wrong-secret": forged,
    "stale-timestamp": stale,
    "future-timestamp": from_the_future,
    "tampered-body": tampered,
    "missing-signature": no_signature,
    "missing-headers": no_headers,
}


def app_paths(nlpearl: NLPearlStandIn) -> list[str]:
    """NLPearl paths the app requested, leaving out those of `settle()`."""
    return [r.path for r in nlpearl.requests() if SETTLE_CAMPAIGN not in r.path]


@pytest.mark.parametrize("kind", list(BODIES))
@pytest.mark.parametrize("send", list(REFUSED.values()), ids=list(REFUSED))
def test_request_not_signed_by_slack_is_refused_and_does_nothing(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
    kind: str,
    send: Sender,
) -> None:
    """401, no NLPearl request and no post to the response_url it names."""
    body = BODIES[kind](shared_slack.response_url("refused"))

    response = send(shared_server.events_url, body)
    settle(shared_server.events_url, shared_slack)

    assert response.status_code == 401
    assert shared_slack.responses("refused") == []
    assert app_paths(shared_nlpearl) == []


@pytest.mark.parametrize("kind", list(BODIES))
def test_the_same_request_signed_properly_is_served(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
    kind: str,
) -> None:
    """The control for the test above: signed as Slack signs it, the request does its work."""
    body = BODIES[kind](shared_slack.response_url("accepted"))

    response = post_signed(shared_server.events_url, body, FORM_CONTENT_TYPE, SIGNING_SECRET)
    [first, *_] = shared_slack.wait_for_responses(1, "accepted")

    assert (response.status_code, response.text) == (200, "")
    assert "lead_card.refresh" in buttons(first)
    assert f"/v2/Outbound/{SAMPLE_PEARL_ID}/Lead/{SAMPLE_LEAD_ID}" in app_paths(shared_nlpearl)


def test_typed_ids_cannot_reach_other_nlpearl_paths(
    shared_server: AppInProcess, shared_slack: SlackStandIn, shared_nlpearl: NLPearlStandIn
) -> None:
    """Slashes and dots in what the user types stay inside one path segment."""
    acked = send_command(
        shared_server.events_url,
        "a/../../Account ext:../../Call/x?y=1",
        shared_slack.response_url("traversal"),
    )
    [answer] = shared_slack.wait_for_responses(1, "traversal")

    assert acked.status_code == 200
    assert "Lead not found" in message_text(answer)
    paths = app_paths(shared_nlpearl)
    assert paths
    campaign = "a%2F..%2F..%2FAccount"
    for path in paths:
        assert path.startswith((f"/v2/Outbound/{campaign}/Lead/", f"/v2/Pearl/{campaign}")), path
        assert "?" not in path
