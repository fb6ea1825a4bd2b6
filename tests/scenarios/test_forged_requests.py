"""Hostile requests to `/slack/events`: refused with a 4xx before anything runs, never logged."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import pytest

from tests.harness.in_process import AppInProcess
from tests.harness.slack_requests import (
    FORM_CONTENT_TYPE,
    SIGNING_SECRET,
    settle,
    sign,
    slash_command_body,
)
from tests.standins import SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")

MARKER = "FORGED-7f3a9c-MARKER"
JSON_CONTENT_TYPE = "application/json"


def fresh() -> str:
    return str(int(time.time()))


def command_body(response_url: str) -> bytes:
    """A slash command whose text and response_url an attacker chose."""
    return slash_command_body(f"{MARKER} 664e9a77f0e1d2c3b4a59687", response_url)


def payload_body(payload: str) -> bytes:
    return urlencode({"payload": payload}).encode()


def block_actions(response_url: str) -> str:
    return json.dumps(
        {"type": "block_actions", "response_url": response_url, "actions": [], "text": MARKER}
    )


# Each case: (headers, content type, body), given the response_url the forged body names.
Case = Callable[[str], tuple[dict[str, str | bytes], str, bytes]]


def unsigned(
    timestamp: str | Callable[[], str] | None, signature: str | bytes | None = None
) -> Case:
    """The forged command with these signature headers (None leaves the header out)."""

    def build(url: str) -> tuple[dict[str, str | bytes], str, bytes]:
        headers: dict[str, str | bytes] = {}
        if timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = (
                timestamp if isinstance(timestamp, str) else timestamp()
            )
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        return headers, FORM_CONTENT_TYPE, command_body(url)

    return build


def raw(content_type: str, body: Callable[[str], bytes], *, signed: bool = False) -> Case:
    """`body` as is, signed with the app's secret or carrying only a timestamp."""

    def build(url: str) -> tuple[dict[str, str | bytes], str, bytes]:
        content = body(url)
        headers: dict[str, str | bytes] = (
            dict(sign(SIGNING_SECRET, content)) if signed else {"X-Slack-Request-Timestamp": "x"}
        )
        return headers, content_type, content

    return build


FORGED: dict[str, Case] = {
    "no-headers": unsigned(None),
    "timestamp-x": unsigned("x"),
    "timestamp-empty": unsigned("", "v0=" + "0" * 64),
    "timestamp-non-integer": unsigned("1700000000.5", "v0=" + "0" * 64),
    "timestamp-negative": unsigned("-1", "v0=" + "0" * 64),
    "timestamp-overflows-float": unsigned("9" * 400, "v0=" + "0" * 64),
    "timestamp-over-int-digit-limit": unsigned("9" * 5000, "v0=" + "0" * 64),
    "signature-empty": unsigned(fresh, ""),
    "signature-not-ascii": unsigned(fresh, b"v0=\xe9\xe9"),
    "signature-wrong": unsigned(fresh, "v0=" + "0" * 64),
    "invalid-json": raw(JSON_CONTENT_TYPE, lambda url: b'{"text": "' + MARKER.encode() + b'",'),
    "invalid-utf8": raw(FORM_CONTENT_TYPE, lambda url: command_body(url) + b"&x=\xff\xfe"),
    "payload-list": raw(FORM_CONTENT_TYPE, lambda url: payload_body(f'["{MARKER}", "{url}"]')),
    "payload-not-json": raw(FORM_CONTENT_TYPE, lambda url: payload_body(f"{MARKER} {url}")),
}

SIGNED_UNREADABLE: dict[str, Case] = {
    "invalid-utf8": raw(
        FORM_CONTENT_TYPE, lambda url: command_body(url) + b"&x=\xff\xfe", signed=True
    ),
    "invalid-json": raw(
        JSON_CONTENT_TYPE, lambda url: b'{"response_url": "' + url.encode() + b'",', signed=True
    ),
    "payload-list": raw(FORM_CONTENT_TYPE, lambda url: payload_body("[]"), signed=True),
    "payload-null": raw(FORM_CONTENT_TYPE, lambda url: payload_body("null"), signed=True),
    "payload-not-json": raw(
        FORM_CONTENT_TYPE, lambda url: payload_body(block_actions(url)[:-1]), signed=True
    ),
    "json-list": raw(JSON_CONTENT_TYPE, lambda url: f'["{url}"]'.encode(), signed=True),
    "enterprise-not-an-object": raw(
        JSON_CONTENT_TYPE,
        lambda url: json.dumps({"enterprise": 5, "response_url": url}).encode(),
        signed=True,
    ),
}


def send(server: AppInProcess, case: Case, url: str) -> httpx.Response:
    headers, content_type, body = case(url)
    return httpx.post(
        server.events_url,
        content=body,
        headers={"Content-Type": content_type, **headers},
        timeout=10,
    )


@pytest.fixture
def quiet_slack(shared_server: AppInProcess, shared_slack: SlackStandIn) -> SlackStandIn:
    """The shared stand-in after one signed request, so later Slack calls are the test's own."""
    settle(shared_server.events_url, shared_slack)
    shared_slack.reset()
    return shared_slack


def calls_besides_settle(slack: SlackStandIn) -> list[str]:
    """Every Web API method and response_url the app called, except settle()'s answer."""
    return [r.method_or_path for r in slack.records() if "settle-" not in r.method_or_path]


@pytest.mark.parametrize("case", list(FORGED.values()), ids=list(FORGED))
def test_forged_request_is_refused_before_anything_runs(
    shared_server: AppInProcess, quiet_slack: SlackStandIn, case: Case
) -> None:
    """4xx, no call to Slack (the response_url it names included), the body never logged."""
    response = send(shared_server, case, quiet_slack.response_url("forged"))
    settle(shared_server.events_url, quiet_slack)

    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert len(response.content) < 100
    assert calls_besides_settle(quiet_slack) == []
    assert MARKER not in shared_server.output()


@pytest.mark.parametrize("case", list(SIGNED_UNREADABLE.values()), ids=list(SIGNED_UNREADABLE))
def test_signed_body_bolt_cannot_read_gets_400(
    shared_server: AppInProcess, quiet_slack: SlackStandIn, case: Case
) -> None:
    """Slack's signature but a body Bolt cannot parse: 400, not 500, and no error handler."""
    response = send(shared_server, case, quiet_slack.response_url("unreadable"))
    settle(shared_server.events_url, quiet_slack)

    assert response.status_code == 400, (response.status_code, response.text)
    assert calls_besides_settle(quiet_slack) == []
    assert "Traceback" not in shared_server.output()


def test_slack_ssl_check_is_answered_and_does_nothing(
    shared_server: AppInProcess, quiet_slack: SlackStandIn
) -> None:
    """Slack's certificate check comes unsigned; it gets an empty 200 and runs nothing."""
    response = httpx.post(
        shared_server.events_url,
        content=b"ssl_check=1&token=legacy-verification-token",
        headers={"Content-Type": FORM_CONTENT_TYPE},
    )
    settle(shared_server.events_url, quiet_slack)

    assert (response.status_code, response.text) == (200, "")
    assert calls_besides_settle(quiet_slack) == []
