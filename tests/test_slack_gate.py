"""The gate on `/slack/events`: only what Slack signed reaches Bolt, and nothing else runs."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest, AsyncRespond
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.app.bodies import declared_too_large
from bot.app.settings import Settings
from bot.app.slack_app import build_slack_app, handle_error, is_slack_url
from bot.app.slack_client import build_slack_client
from bot.app.slack_gate import (
    MAX_BODY_BYTES,
    admit,
    header_problem,
    signature_matches,
    signing_secret_for,
)
from bot.app.tenancy import OneWorkspace, build_nlpearl_client
from bot.blocks import messages
from bot.listeners.inflight import InFlight
from bot.storage.engine import create_engine
from bot.usecases.campaigns import CampaignDirectory
from bot.usecases.home import SetupCheck
from bot.usecases.services import Services
from tests.standins import SlackStandIn

SECRET = "unit-signing-secret"
MARKER = "FORGED-51c0de-MARKER"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
REFUSED = {"error": "not signed by Slack"}
UNREADABLE = {"error": "the body cannot be read"}
CHALLENGE = b'{"token": "t", "challenge": "c-123", "type": "url_verification"}'
RELAXED = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def sign(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signature headers for `body`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def command(response_url: str) -> bytes:
    """A slash command naming an attacker's response_url."""
    fields = {"command": "/lead", "text": MARKER, "response_url": response_url, "user_id": "U1"}
    return urlencode(fields).encode()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    """Slack's Web API and response_urls; the Bolt app talks to nothing else."""
    with SlackStandIn() as standin:
        yield standin


def build_bolt(slack: SlackStandIn, **overrides: Any) -> AsyncApp:
    """The production Bolt app, with its error handler, pointed at the stand-in."""
    config = Settings(
        slack_bot_token=slack.valid_token,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        nlpearl_api_key="account:key",
        nlpearl_api_url="http://127.0.0.1:9",
        **overrides,
    )
    nlpearl = build_nlpearl_client(config, httpx.AsyncClient())
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    services = Services(
        nlpearl=nlpearl,
        engine=engine,
        campaigns=CampaignDirectory(nlpearl),
        setup=SetupCheck(nlpearl, engine),
        mask_shared_phone_numbers=config.mask_shared_phone_numbers,
        public_url=config.public_url,
    )
    tenancy = OneWorkspace(services, build_slack_client(config, retries=False))
    return build_slack_app(config, tenancy, InFlight(messages.restarting()).track)


class Gated:
    """A small Starlette app with the gate on /slack/events, called from synchronous tests."""

    def __init__(self, bolt: AsyncApp, secret: str | None = SECRET) -> None:
        async def events(request: Request) -> Response:
            return await admit(request, bolt, secret)

        self.app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])

    def send(self, request: httpx.Request) -> httpx.Response:
        async def sending() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport) as client:
                return await client.send(request)

        return asyncio.run(sending())

    def post(self, body: bytes, headers: dict[str, str | bytes]) -> httpx.Response:
        url = "http://testserver/slack/events"
        return self.send(httpx.Request("POST", url, content=body, headers=headers))


@pytest.fixture
def client(slack: SlackStandIn) -> Gated:
    return Gated(build_bolt(slack))


def post(
    client: Gated, body: bytes, headers: dict[str, str], content_type: str = FORM
) -> httpx.Response:
    return client.post(body, {"Content-Type": content_type, **headers})


# Verified requests get through


def test_signed_request_reaches_bolt(client: Gated) -> None:
    """The control: Slack's URL check, signed, is answered by Bolt itself."""
    response = post(client, CHALLENGE, sign(CHALLENGE), JSON)

    assert (response.status_code, response.json()) == (200, {"challenge": "c-123"})


def hundred_block_view_submission() -> bytes:
    """A view_submission from a 100-input modal, every input typed full in non-ASCII text."""
    blocks = [
        {
            "type": "input",
            "block_id": f"b{i}",
            "label": {"type": "plain_text", "text": "Notes from the call " * 100},
            "element": {"type": "plain_text_input", "action_id": "a", "max_length": 3000},
        }
        for i in range(100)
    ]
    values = {f"b{i}": {"a": {"type": "plain_text_input", "value": "é" * 3000}} for i in range(100)}
    view = {
        "type": "modal",
        "callback_id": "unknown",
        "blocks": blocks,
        "state": {"values": values},
    }
    payload = {"type": "view_submission", "user": {"id": "U1"}, "view": view}
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()


def test_slacks_biggest_payloads_fit_the_limit_comfortably(client: Gated) -> None:
    """Even the largest modal Slack allows, typed full, is far from the limit and gets through."""
    body = hundred_block_view_submission()

    response = post(client, body, sign(body))

    assert len(body) * 1.5 < MAX_BODY_BYTES
    assert response.status_code not in (400, 401, 413)
    assert response.status_code < 500


# Unverifiable requests are refused before anything runs

FRESH_WRONG = "v0=" + "0" * 64


def now() -> str:
    return str(int(time.time()))


def headers_case(body: bytes) -> dict[str, dict[str, str]]:
    """Signature headers that cannot verify `body`, by what is wrong with them."""
    good = sign(body)
    stamp, signature = good["X-Slack-Request-Timestamp"], good["X-Slack-Signature"]
    return {
        "none": {},
        "timestamp-only": {"X-Slack-Request-Timestamp": stamp},
        "signature-only": {"X-Slack-Signature": signature},
        "timestamp-x": {"X-Slack-Request-Timestamp": "x", "X-Slack-Signature": signature},
        "timestamp-empty": {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": signature},
        "timestamp-float": {
            "X-Slack-Request-Timestamp": stamp + ".0",
            "X-Slack-Signature": signature,
        },
        "timestamp-plus": {
            "X-Slack-Request-Timestamp": "+" + stamp,
            "X-Slack-Signature": signature,
        },
        "timestamp-spaces": {
            "X-Slack-Request-Timestamp": f" {stamp} ",
            "X-Slack-Signature": signature,
        },
        "timestamp-overflow": {
            "X-Slack-Request-Timestamp": "9" * 400,
            "X-Slack-Signature": signature,
        },
        "timestamp-huge": {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": signature},
        "stale": sign(body, timestamp=int(time.time()) - 301),
        "future": sign(body, timestamp=int(time.time()) + 301),
        "wrong-secret": sign(body, secret="not-the-secret"),
        "signature-empty": {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": ""},
        "signature-wrong": {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": FRESH_WRONG},
        "signature-upper": {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature.upper(),
        },
        "signature-v1": {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature.replace("v0=", "v1="),
        },
    }


BODY = command("http://127.0.0.1:9/forged")
CASES = headers_case(BODY)


@pytest.mark.parametrize("kind", list(CASES))
def test_unverifiable_request_is_refused_and_runs_nothing(
    slack: SlackStandIn, client: Gated, kind: str
) -> None:
    """401 with the gate's own tiny answer: Bolt, its error handler and Slack never see it."""
    body = command(slack.response_url("forged"))
    headers = headers_case(body)[kind]

    response = post(client, body, headers)

    assert (response.status_code, response.json()) == (401, REFUSED)
    assert slack.records() == []


def test_repeated_signature_headers_are_refused(slack: SlackStandIn, client: Gated) -> None:
    """One good and one bad copy of a header: which one counts would be anyone's guess."""
    body = command(slack.response_url("forged"))
    good = sign(body)
    raw_headers = [
        (b"content-type", FORM.encode()),
        (b"x-slack-request-timestamp", good["X-Slack-Request-Timestamp"].encode()),
        (b"x-slack-signature", good["X-Slack-Signature"].encode()),
        (b"x-slack-signature", FRESH_WRONG.encode()),
    ]
    request = httpx.Request("POST", "http://testserver/slack/events", content=body)
    request.headers = httpx.Headers(raw_headers)

    response = client.send(request)

    assert (response.status_code, response.json()) == (401, REFUSED)
    assert slack.records() == []


def test_non_ascii_header_values_are_refused(slack: SlackStandIn, client: Gated) -> None:
    """Bytes a header may carry (read as Latin-1) never reach an ASCII-only comparison."""
    body = command(slack.response_url("forged"))
    headers = {
        "X-Slack-Request-Timestamp": "１７００".encode().decode("latin-1"),
        "X-Slack-Signature": "v0=\xe9",
    }

    response = client.post(
        body, {"Content-Type": FORM, **{k: v.encode("latin-1") for k, v in headers.items()}}
    )

    assert (response.status_code, response.json()) == (401, REFUSED)
    assert slack.records() == []


header_text = st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=80)
timestamps = st.one_of(
    header_text,
    st.integers(-(10**20), 10**20).map(str),
    st.integers(-400, 400).map(lambda skew: str(int(time.time()) + skew)),
)
signatures = st.one_of(
    header_text, st.binary(min_size=32, max_size=32).map(lambda b: "v0=" + b.hex())
)
bodies = st.one_of(
    st.binary(max_size=3000),
    st.builds(command, st.just("http://127.0.0.1:9/forged")),
    st.text(max_size=200).map(lambda t: urlencode({"payload": t}).encode()),
)


@RELAXED
@given(stamp=st.none() | timestamps, signature=st.none() | signatures, body=bodies)
def test_no_forged_request_gets_past_the_gate(
    slack: SlackStandIn,
    client: Gated,
    stamp: str | None,
    signature: str | None,
    body: bytes,
) -> None:
    """Whatever the headers and body, without the secret: 401, and nobody is called."""
    headers = {"Content-Type": FORM}
    if stamp is not None:
        headers["X-Slack-Request-Timestamp"] = stamp
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    encoded = {k: v.encode("latin-1") for k, v in headers.items()}

    response = client.post(body, dict(encoded))

    assert (response.status_code, response.json()) == (401, REFUSED)
    assert slack.records() == []


# Signed bodies Bolt cannot read: 400, not 500, and no error handler

UNREADABLE_BODIES = {
    "invalid-utf8": (FORM, command("http://127.0.0.1:9/x") + b"&x=\xff"),
    "invalid-json": (JSON, b'{"response_url": "http://127.0.0.1:9/x",'),
    "payload-not-json": (FORM, urlencode({"payload": "{not json"}).encode()),
    "payload-list": (FORM, b"payload=[]"),
    "payload-null": (FORM, b"payload=null"),
    "payload-number": (FORM, b"payload=5"),
    "payload-string": (FORM, b'payload="x"'),
    "json-list": (JSON, b"[]"),
    "brace-but-not-json": (FORM, b"{a=b"),
    "enterprise-not-an-object": (JSON, b'{"enterprise": 5}'),
}


@pytest.mark.parametrize("kind", list(UNREADABLE_BODIES))
def test_signed_body_bolt_cannot_read_is_a_400(
    slack: SlackStandIn, client: Gated, kind: str
) -> None:
    content_type, body = UNREADABLE_BODIES[kind]

    response = post(client, body, sign(body), content_type)

    assert (response.status_code, response.json()) == (400, UNREADABLE)
    assert slack.records() == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["enterprise", "team", "user", "type", "x"]), children)
    ),
    max_leaves=10,
)
signed_bodies = st.one_of(
    st.binary(max_size=500).map(lambda b: (FORM, b)),
    json_values.map(lambda v: (JSON, json.dumps(v).encode())),
    json_values.map(lambda v: (FORM, urlencode({"payload": json.dumps(v)}).encode())),
)


@RELAXED
@given(case=signed_bodies)
def test_no_signed_body_makes_a_500(client: Gated, case: tuple[str, bytes]) -> None:
    """Whatever Slack's signature covers, the answer is never a server error."""
    content_type, body = case

    response = post(client, body, sign(body), content_type)

    assert response.status_code < 500


# Size: refused without reading, or as soon as the limit passes


async def call_gate(
    bolt: AsyncApp, headers: dict[str, str], chunks: Iterator[bytes]
) -> tuple[int, int]:
    """Runs the gate on a raw ASGI request; the status and how many body bytes it pulled."""
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/slack/events",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    response = await admit(Request(scope, receive), bolt, SECRET)
    return response.status_code, pulled


def endless(chunk: bytes) -> Iterator[bytes]:
    while True:
        yield chunk


async def test_declared_oversize_body_is_refused_unread(slack: SlackStandIn) -> None:
    headers = {"Content-Length": str(MAX_BODY_BYTES + 1), **sign(b"")}

    status, pulled = await call_gate(build_bolt(slack), headers, endless(b"x" * 65536))

    assert (status, pulled) == (413, 0)


async def test_undeclared_oversize_body_is_read_only_up_to_the_limit(slack: SlackStandIn) -> None:
    """A body with no length (chunked) that never ends: 413 once it passes the limit."""
    chunk = b"x" * 65536

    status, pulled = await call_gate(build_bolt(slack), sign(b""), endless(chunk))

    assert status == 413
    assert MAX_BODY_BYTES < pulled <= MAX_BODY_BYTES + len(chunk)


async def test_unsigned_body_is_not_read_past_a_kilobyte(slack: SlackStandIn) -> None:
    """Without signature headers only Slack's tiny certificate check is worth reading."""
    status, pulled = await call_gate(build_bolt(slack), {}, endless(b"x" * 512))

    assert status == 401
    assert pulled <= 1536


async def test_body_with_bad_headers_is_not_read_at_all(slack: SlackStandIn) -> None:
    headers = {"X-Slack-Request-Timestamp": "x", "X-Slack-Signature": FRESH_WRONG}

    status, pulled = await call_gate(build_bolt(slack), headers, endless(b"x" * 512))

    assert (status, pulled) == (401, 0)


@pytest.mark.parametrize(
    ("declared", "too_large"),
    [
        ("", False),
        ("0", False),
        (str(MAX_BODY_BYTES), False),
        ("0" * 30 + "12", False),
        (str(MAX_BODY_BYTES + 1), True),
        ("9" * 5000, True),
        ("²", False),
    ],
)
def test_declared_too_large(declared: str, too_large: bool) -> None:
    assert declared_too_large(declared, MAX_BODY_BYTES) is too_large


# Slack's certificate check, Socket Mode


def test_slack_certificate_check_gets_an_empty_200(slack: SlackStandIn, client: Gated) -> None:
    response = post(client, b"ssl_check=1&token=legacy-token", {})

    assert (response.status_code, response.text) == (200, "")
    assert slack.records() == []


@pytest.mark.parametrize(
    "body",
    [b"ssl_check=0&token=t", b"ssl_check=1&command=/lead&text=x", b"ssl_check=1&" + command("x")],
)
def test_anything_more_than_a_certificate_check_needs_a_signature(
    slack: SlackStandIn, client: Gated, body: bytes
) -> None:
    response = post(client, body, {})

    assert (response.status_code, response.json()) == (401, REFUSED)
    assert slack.records() == []


def test_in_socket_mode_http_events_are_not_served(slack: SlackStandIn) -> None:
    """Slack traffic comes over the WebSocket: even a correctly signed POST gets a 404."""
    settings = Settings(slack_app_token="xapp-1-test", slack_signing_secret=SECRET)
    client = Gated(build_bolt(slack, slack_app_token="xapp-1-test"), signing_secret_for(settings))

    response = post(client, CHALLENGE, sign(CHALLENGE), JSON)

    assert response.status_code == 404
    assert slack.records() == []


# Pure parts, against slack_sdk's own verifier


class FixedClock(Clock):
    """slack_sdk's clock, stopped at one instant."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


@RELAXED
@given(
    body=st.binary(max_size=300),
    skew=st.integers(-1000, 1000),
    secret=st.text(st.characters(codec="ascii"), min_size=1, max_size=30),
)
def test_gate_and_slack_sdk_agree_on_signed_requests(body: bytes, skew: int, secret: str) -> None:
    """What the gate lets through, slack_sdk's verifier (Bolt's second check) accepts too."""
    secret = secret.strip() or "s"
    current = time.time()
    headers = sign(body, secret=secret, timestamp=int(current) + skew)
    stamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]

    passes = header_problem([stamp], [signature], current) is None and signature_matches(
        secret, stamp, signature, body
    )

    assert passes is (abs(current - int(stamp)) <= 300)
    assert not signature_matches(secret, stamp, signature, body + b"&")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return
    verifier = SignatureVerifier(secret, clock=FixedClock(current))
    assert verifier.is_valid(text, stamp, signature) is passes


@RELAXED
@given(stamp=header_text, signature=header_text, body=st.binary(max_size=100))
def test_header_checks_never_raise(stamp: str, signature: str, body: bytes) -> None:
    if header_problem([stamp], [signature], time.time()) is None:
        assert not signature_matches(SECRET, stamp, signature, body)


# Bolt's own logging and error handler, should a request ever reach them unverified


async def test_bolt_never_logs_the_body_it_refuses(
    slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """Bypassing the gate on purpose: Bolt's second check refuses, and logs no body."""
    bolt = build_bolt(slack)
    body = command(slack.response_url("forged")).decode()
    request = AsyncBoltRequest(body=body, headers={"Content-Type": FORM, **sign(b"other")})

    with caplog.at_level(logging.DEBUG):
        response = await bolt.async_dispatch(request)

    assert response.status == 401
    assert "Bolt refused a request whose signature did not verify" in caplog.text
    assert MARKER not in caplog.text


async def test_error_handler_answers_on_slacks_own_hosts(slack: SlackStandIn) -> None:
    """The response_url is on the configured Web API's host (the stand-in): it gets the apology."""
    client = AsyncWebClient(base_url=slack.api_url)
    respond = AsyncRespond(response_url=slack.response_url("apology"))

    await handle_error(RuntimeError("boom"), respond, client)

    [apology] = slack.wait_for_responses(1, "apology")
    assert "went wrong" in json.dumps(apology).lower()


async def test_error_handler_posts_nowhere_else(slack: SlackStandIn) -> None:
    """A response_url on any other host gets nothing, though the error is still logged."""
    with SlackStandIn() as elsewhere:
        client = AsyncWebClient(base_url=slack.api_url)
        respond = AsyncRespond(response_url=elsewhere.response_url("stolen"))

        answer = await handle_error(RuntimeError("boom"), respond, client)

        assert answer.status == 200
        assert elsewhere.records() == []


@pytest.mark.parametrize(
    ("url", "api_url", "allowed"),
    [
        ("https://hooks.slack.com/commands/T1/2/abc", "https://slack.com/api/", True),
        ("https://hooks.slack.com:443/actions/T1/2/abc", "https://slack.com/api/", True),
        ("https://hooks.slack-gov.com/commands/T1/2/a", "https://slack-gov.com/api/", True),
        ("http://127.0.0.1:5000/response/x", "http://127.0.0.1:5000/api/", True),
        ("http://hooks.slack.com/commands/T1/2/abc", "https://slack.com/api/", False),
        ("https://hooks.slack.com:8443/x", "https://slack.com/api/", False),
        ("https://hooks.slack.com.evil.example/x", "https://slack.com/api/", False),
        ("https://hooks.slack.com@evil.example/x", "https://slack.com/api/", False),
        ("https://evil.example/hooks.slack.com", "https://slack.com/api/", False),
        ("http://127.0.0.1:5001/response/x", "http://127.0.0.1:5000/api/", False),
        ("http://169.254.169.254/latest/meta-data", "https://slack.com/api/", False),
        ("https://[::1/x", "https://slack.com/api/", False),
        ("https://hooks.slack.com:99999/x", "https://slack.com/api/", False),
        (None, "https://slack.com/api/", False),
        (["https://hooks.slack.com/x"], "https://slack.com/api/", False),
    ],
)
def test_is_slack_url(url: object, api_url: str, allowed: bool) -> None:
    assert is_slack_url(url, api_url) is allowed
