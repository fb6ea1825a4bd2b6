"""The NLPearl client over a mock transport: paths, auth, error mapping, retries and caching."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.nlpearl.client import DEFAULT_TIMEOUT, NLPearlClient, RetryPolicy, retry_after_seconds
from bot.nlpearl.errors import (
    BadCredentials,
    BadResponse,
    NLPearlError,
    NotFound,
    RateLimited,
    Unavailable,
)
from bot.nlpearl.models import Call, Lead, Pearl
from tests.clock import FakeClock
from tests.standins import NLPearlStandIn

FIXTURES = Path(__file__).parent / "fixtures"
API_KEY = "65f0c0ffee1234567890abcd:Xy7sEcReT-9q"
BASE = "https://api.nlpearl.ai"
PEARL_ID = "669f0b2ce4d5c6b7a8f90112"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


Reply = Callable[[httpx.Request], httpx.Response]


def ok(body: Any) -> Reply:
    return lambda request: httpx.Response(200, json=body)


def answer(status: int, content: bytes | str = b"", headers: dict[str, str] | None = None) -> Reply:
    return lambda request: httpx.Response(status, content=content, headers=headers)


def fail(error: type[httpx.TransportError]) -> Reply:
    def raise_it(request: httpx.Request) -> httpx.Response:
        raise error("simulated", request=request)

    return raise_it


class Server:
    """Answers each request with the next reply; the last reply repeats."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return reply(request)

    @property
    def paths(self) -> list[str]:
        return [request.url.raw_path.decode() for request in self.requests]


Connect = Callable[..., NLPearlClient]


@pytest.fixture
def fake_time() -> FakeClock:
    """The client's monotonic clock, moved only when the client sleeps (or a test moves it)."""
    return FakeClock()


@pytest.fixture
async def connect(fake_time: FakeClock) -> AsyncIterator[Connect]:
    clients: list[httpx.AsyncClient] = []

    def _connect(server: Server, **options: Any) -> NLPearlClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(server))
        clients.append(http)
        options.setdefault("api_key", API_KEY)
        options.setdefault("sleep", fake_time.sleep)
        options.setdefault("clock", fake_time.monotonic)
        return NLPearlClient(http, **options)

    yield _connect
    for http in clients:
        await http.aclose()


# --- paths ------------------------------------------------------------------------------------

Action = Callable[[NLPearlClient], Awaitable[Any]]

LEAD = load("lead_full.json")
CALL = load("call.json")
PEARL = load("pearl.json")
PEARLS = load("pearl_list.json")


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize(
    ("action", "body", "path"),
    [
        (
            lambda c: c.get_lead(PEARL_ID, "66a1d3f09b7e4c2a1f0e5d61"),
            LEAD,
            f"/Outbound/{PEARL_ID}/Lead/66a1d3f09b7e4c2a1f0e5d61",
        ),
        (
            lambda c: c.get_lead_by_external_id(PEARL_ID, "hubspot-88213"),
            LEAD,
            f"/Outbound/{PEARL_ID}/Lead/External/hubspot-88213",
        ),
        (
            lambda c: c.get_lead_by_external_id(PEARL_ID, "crm/004 5?x"),
            LEAD,
            f"/Outbound/{PEARL_ID}/Lead/External/crm%2F004%205%3Fx",
        ),
        (
            lambda c: c.get_lead_by_phone(PEARL_ID, "+14155550137"),
            LEAD,
            f"/Outbound/{PEARL_ID}/Lead/PhoneNumber/%2B14155550137",
        ),
        (lambda c: c.get_call("66a2f4c81d3e5a6b7c8d9e03"), CALL, "/Call/66a2f4c81d3e5a6b7c8d9e03"),
        (lambda c: c.check_credentials(), {"name": "Front Range Dental"}, "/Account"),
    ],
    ids=["lead", "external-id", "external-id-encoded", "phone", "call", "account"],
)
async def test_paths_for_each_version(
    connect: Connect, version: str, action: Action, body: Any, path: str
) -> None:
    server = Server(ok(body))

    await action(connect(server, version=version))

    assert len(server.requests) == 1
    request = server.requests[0]
    assert request.method == "GET"
    assert request.url.scheme == "https"
    assert request.url.host == "api.nlpearl.ai"
    assert request.url.raw_path.decode() == f"/{version}{path}"


@pytest.mark.parametrize(
    ("version", "path"),
    [("v2", f"/v2/Pearl/{PEARL_ID}"), ("v1", f"/v1/Outbound/{PEARL_ID}")],
)
async def test_get_campaign_path(connect: Connect, version: str, path: str) -> None:
    server = Server(ok(PEARL))

    pearl = await connect(server, version=version).get_campaign(PEARL_ID)

    assert server.paths == [path]
    assert pearl.id == PEARL_ID
    assert pearl.name == "Dental – Recall Reminders"


@pytest.mark.parametrize(("version", "path"), [("v2", "/v2/Pearl"), ("v1", "/v1/Outbound")])
async def test_list_campaigns_path(connect: Connect, version: str, path: str) -> None:
    server = Server(ok(PEARLS))

    pearls = await connect(server, version=version).list_campaigns()

    assert server.paths == [path]
    assert [p.id for p in pearls] == [item["id"] for item in PEARLS]
    assert all(isinstance(p, Pearl) for p in pearls)


async def test_campaign_id_is_encoded_too(connect: Connect) -> None:
    server = Server(ok(LEAD))

    await connect(server).get_lead("a/b c", "l?1#x")

    assert server.paths == ["/v2/Outbound/a%2Fb%20c/Lead/l%3F1%23x"]


async def test_custom_base_url_with_trailing_slash(connect: Connect) -> None:
    server = Server(ok(CALL))

    await connect(server, base_url="https://nlpearl.internal.test:8443/").get_call("c1")

    assert str(server.requests[0].url) == "https://nlpearl.internal.test:8443/v2/Call/c1"


# --- headers ----------------------------------------------------------------------------------


async def test_bearer_header_is_account_id_colon_secret(connect: Connect) -> None:
    server = Server(ok(CALL))

    await connect(server).get_call("c1")

    headers = server.requests[0].headers
    assert headers["Authorization"] == "Bearer 65f0c0ffee1234567890abcd:Xy7sEcReT-9q"
    assert headers["Accept"] == "application/json"


async def test_every_request_carries_the_header(connect: Connect) -> None:
    server = Server(answer(503), ok(CALL))

    await connect(server).get_call("c1")

    assert len(server.requests) == 2
    assert all(r.headers["Authorization"] == f"Bearer {API_KEY}" for r in server.requests)


# --- parsed results ---------------------------------------------------------------------------


async def test_get_lead_returns_the_parsed_lead(connect: Connect) -> None:
    lead = await connect(Server(ok(LEAD))).get_lead(PEARL_ID, "66a1d3f09b7e4c2a1f0e5d61")

    assert isinstance(lead, Lead)
    assert lead.external_id == "hubspot-88213"
    assert lead.last_call is not None
    assert [m.role for m in lead.last_call.transcript] == [3, 2, 3, 2]


async def test_get_call_returns_the_parsed_call(connect: Connect) -> None:
    call = await connect(Server(ok(CALL))).get_call("66a2f4c81d3e5a6b7c8d9e03")

    assert isinstance(call, Call)
    assert call.conversation_status == 100
    assert call.recording_url is not None


async def test_json_is_read_whatever_the_content_type(connect: Connect) -> None:
    server = Server(answer(200, json.dumps(CALL), {"Content-Type": "text/plain"}))

    call = await connect(server).get_call("c1")

    assert call.id == CALL["id"]


async def test_list_campaigns_skips_items_that_are_not_objects(connect: Connect) -> None:
    server = Server(ok([PEARLS[0], None, "x", 3, PEARLS[1]]))

    pearls = await connect(server).list_campaigns()

    assert [p.id for p in pearls] == [PEARLS[0]["id"], PEARLS[1]["id"]]


async def test_list_campaigns_that_is_not_a_list_is_a_bad_response(connect: Connect) -> None:
    with pytest.raises(BadResponse):
        await connect(Server(ok({"results": PEARLS}))).list_campaigns()


async def test_check_credentials_passes_on_200(connect: Connect) -> None:
    server = Server(ok({"name": "Front Range Dental", "status": 1}))

    assert await connect(server).check_credentials() is None
    assert server.paths == ["/v2/Account"]


# --- V1 external ID fallback ------------------------------------------------------------------


async def test_v1_external_id_falls_back_to_misspelled_path_after_404(connect: Connect) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        if "/Extrenal/" in request.url.raw_path.decode():
            return httpx.Response(200, json=LEAD)
        return httpx.Response(404)

    server = Server(reply)

    lead = await connect(server, version="v1").get_lead_by_external_id(PEARL_ID, "crm/9 9")

    assert server.paths == [
        f"/v1/Outbound/{PEARL_ID}/Lead/External/crm%2F9%209",
        f"/v1/Outbound/{PEARL_ID}/Lead/Extrenal/crm%2F9%209",
    ]
    assert lead.id == LEAD["id"]


async def test_v1_external_id_found_first_time_needs_no_fallback(connect: Connect) -> None:
    server = Server(ok(LEAD))

    await connect(server, version="v1").get_lead_by_external_id(PEARL_ID, "hubspot-88213")

    assert server.paths == [f"/v1/Outbound/{PEARL_ID}/Lead/External/hubspot-88213"]


async def test_v1_external_id_not_found_on_either_path(connect: Connect) -> None:
    server = Server(answer(404))

    with pytest.raises(NotFound):
        await connect(server, version="v1").get_lead_by_external_id(PEARL_ID, "nobody")

    assert server.paths == [
        f"/v1/Outbound/{PEARL_ID}/Lead/External/nobody",
        f"/v1/Outbound/{PEARL_ID}/Lead/Extrenal/nobody",
    ]


async def test_v1_external_id_does_not_fall_back_on_bad_credentials(connect: Connect) -> None:
    server = Server(answer(401))

    with pytest.raises(BadCredentials):
        await connect(server, version="v1").get_lead_by_external_id(PEARL_ID, "x")

    assert len(server.requests) == 1


async def test_v2_external_id_has_no_fallback(connect: Connect) -> None:
    server = Server(answer(404))

    with pytest.raises(NotFound):
        await connect(server, version="v2").get_lead_by_external_id(PEARL_ID, "nobody")

    assert server.paths == [f"/v2/Outbound/{PEARL_ID}/Lead/External/nobody"]


# --- error mapping ----------------------------------------------------------------------------

PROBLEM = json.dumps(
    {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": {"leadId": ["The value 'zzz' is not valid."]},
    }
)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (answer(401), BadCredentials),
        (answer(403, "Forbidden"), BadCredentials),
        (answer(404), NotFound),
        (answer(400, PROBLEM, {"Content-Type": "application/problem+json"}), NotFound),
        (answer(200, b""), NotFound),
        (answer(200, b"  \n"), NotFound),
        (answer(204), NotFound),
        (answer(200, b"null"), NotFound),
        (answer(200, b"<html><body>Service page</body></html>"), BadResponse),
        (answer(200, b"\xff\xfe\x00garbage"), BadResponse),
        (ok([LEAD]), BadResponse),
        (ok("66a1d3f09b7e4c2a1f0e5d61"), BadResponse),
        (ok(True), BadResponse),
        (answer(418, "I'm a teapot"), BadResponse),
        (answer(409), BadResponse),
        (answer(302, headers={"Location": "https://elsewhere.test/"}), BadResponse),
    ],
    ids=[
        "401",
        "403",
        "404",
        "400",
        "empty-200",
        "blank-200",
        "204",
        "null",
        "html",
        "binary",
        "list",
        "string",
        "bool",
        "418",
        "409",
        "302",
    ],
)
async def test_error_mapping_without_retry(
    connect: Connect, fake_time: FakeClock, reply: Reply, error: type[NLPearlError]
) -> None:
    server = Server(reply)

    with pytest.raises(error):
        await connect(server).get_lead(PEARL_ID, "l1")

    assert len(server.requests) == 1
    assert fake_time.sleeps == []


@pytest.mark.parametrize("error", [NotFound, BadCredentials, RateLimited, Unavailable, BadResponse])
def test_every_error_is_an_nlpearl_error(error: type[Exception]) -> None:
    assert issubclass(error, NLPearlError)


# --- retries ----------------------------------------------------------------------------------


async def test_503_then_200_succeeds_after_two_requests(
    connect: Connect, fake_time: FakeClock
) -> None:
    server = Server(answer(503), ok(CALL))

    call = await connect(server).get_call("c1")

    assert call.id == CALL["id"]
    assert len(server.requests) == 2
    assert len(fake_time.sleeps) == 1
    assert 0.0 <= fake_time.sleeps[0] <= RetryPolicy().base_delay


async def test_429_with_retry_after_seconds_sleeps_that_long(
    connect: Connect, fake_time: FakeClock
) -> None:
    server = Server(answer(429, headers={"Retry-After": "1"}), ok(CALL))

    call = await connect(server).get_call("c1")

    assert call.id == CALL["id"]
    assert fake_time.sleeps == [1.0]
    assert len(server.requests) == 2


async def test_429_with_http_date_retry_after_sleeps_until_then(
    connect: Connect, fake_time: FakeClock
) -> None:
    # The HTTP date is read against the wall clock, so aim a few seconds ahead of it.
    when = datetime.now(UTC) + timedelta(seconds=4)
    server = Server(
        answer(429, headers={"Retry-After": format_datetime(when, usegmt=True)}), ok(CALL)
    )

    await connect(server).get_call("c1")

    assert len(server.requests) == 2
    assert len(fake_time.sleeps) == 1
    assert 2.0 < fake_time.sleeps[0] <= 4.0


async def test_429_with_past_http_date_retries_at_once(
    connect: Connect, fake_time: FakeClock
) -> None:
    server = Server(answer(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), ok(CALL))

    await connect(server).get_call("c1")

    assert fake_time.sleeps == [0.0]
    assert len(server.requests) == 2


async def test_persistent_500_is_unavailable_after_every_attempt(
    connect: Connect, fake_time: FakeClock
) -> None:
    server = Server(answer(500))
    policy = RetryPolicy()

    with pytest.raises(Unavailable):
        await connect(server).get_call("c1")

    assert len(server.requests) == policy.attempts
    assert len(fake_time.sleeps) == policy.attempts - 1


async def test_custom_attempts_are_honoured(connect: Connect, fake_time: FakeClock) -> None:
    server = Server(answer(502))

    with pytest.raises(Unavailable):
        await connect(server, retry=RetryPolicy(attempts=5)).get_call("c1")

    assert len(server.requests) == 5
    assert len(fake_time.sleeps) == 4


async def test_backoff_jitter_stays_under_a_growing_capped_ceiling(
    connect: Connect, fake_time: FakeClock
) -> None:
    policy = RetryPolicy(attempts=5, base_delay=1.0, max_delay=3.0, deadline=100.0)
    server = Server(answer(503))

    with pytest.raises(Unavailable):
        await connect(server, retry=policy).get_call("c1")

    ceilings = [1.0, 2.0, 3.0, 3.0]
    assert len(fake_time.sleeps) == len(ceilings)
    for delay, ceiling in zip(fake_time.sleeps, ceilings, strict=True):
        assert 0.0 <= delay <= ceiling


async def test_persistent_429_is_rate_limited(connect: Connect, fake_time: FakeClock) -> None:
    server = Server(answer(429, headers={"Retry-After": "1"}))

    with pytest.raises(RateLimited):
        await connect(server).get_call("c1")

    assert len(server.requests) == RetryPolicy().attempts
    assert fake_time.sleeps == [1.0] * (RetryPolicy().attempts - 1)


async def test_persistent_429_without_retry_after_is_rate_limited(
    connect: Connect, fake_time: FakeClock
) -> None:
    server = Server(answer(429))

    with pytest.raises(RateLimited):
        await connect(server).get_call("c1")

    assert len(server.requests) == RetryPolicy().attempts


async def test_retry_after_longer_than_deadline_gives_up_without_sleeping(
    connect: Connect, fake_time: FakeClock
) -> None:
    server = Server(answer(429, headers={"Retry-After": "30"}), ok(CALL))

    with pytest.raises(RateLimited):
        await connect(server).get_call("c1")

    assert len(server.requests) == 1
    assert fake_time.sleeps == []


async def test_deadline_counts_time_already_spent(connect: Connect, fake_time: FakeClock) -> None:
    # 0 s + 5 s wait fits the 8 s deadline; after that, 5 s + 5 s does not.
    server = Server(answer(429, headers={"Retry-After": "5"}))

    with pytest.raises(RateLimited):
        await connect(server, retry=RetryPolicy(attempts=5, deadline=8.0)).get_call("c1")

    assert fake_time.sleeps == [5.0]
    assert len(server.requests) == 2


async def test_last_failure_decides_the_error(connect: Connect) -> None:
    server = Server(answer(429, headers={"Retry-After": "0"}), answer(503))

    with pytest.raises(Unavailable):
        await connect(server).get_call("c1")


async def test_not_found_after_a_retry_is_not_retried_again(connect: Connect) -> None:
    server = Server(answer(503), answer(404), ok(CALL))

    with pytest.raises(NotFound):
        await connect(server).get_call("c1")

    assert len(server.requests) == 2


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ReadTimeout, httpx.ConnectTimeout])
async def test_transport_failure_then_success(
    connect: Connect, fake_time: FakeClock, error: type[httpx.TransportError]
) -> None:
    server = Server(fail(error), ok(CALL))

    call = await connect(server).get_call("c1")

    assert call.id == CALL["id"]
    assert len(server.requests) == 2
    assert len(fake_time.sleeps) == 1


@pytest.mark.parametrize(
    "error", [httpx.ConnectError, httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError]
)
async def test_persistent_transport_failure_is_unavailable(
    connect: Connect, fake_time: FakeClock, error: type[httpx.TransportError]
) -> None:
    server = Server(fail(error))

    with pytest.raises(Unavailable):
        await connect(server).get_call("c1")

    assert len(server.requests) == RetryPolicy().attempts
    assert len(fake_time.sleeps) == RetryPolicy().attempts - 1


async def test_bad_credentials_are_never_retried(connect: Connect, fake_time: FakeClock) -> None:
    server = Server(answer(401), ok(CALL))

    with pytest.raises(BadCredentials):
        await connect(server).check_credentials()

    assert len(server.requests) == 1
    assert fake_time.sleeps == []


# --- the deadline caps the wait, hanging attempts included --------------------------------------
# These run against a real server that never answers in time, on the real clock; the bounds are
# generous and only prove that the deadline, not attempts × timeout, decides when the call ends.


async def hanging_call(limits: httpx.Timeout, policy: RetryPolicy) -> tuple[float, int]:
    """Seconds until `get_call` fails with Unavailable against a hanging NLPearl; requests sent."""
    with NLPearlStandIn() as standin:
        standin.hang("/", 60.0)
        async with httpx.AsyncClient(timeout=limits) as http:
            client = NLPearlClient(
                http, api_key=standin.api_key, base_url=standin.url, retry=policy
            )
            started = time.monotonic()
            with pytest.raises(Unavailable):
                await client.get_call("c1")
            elapsed = time.monotonic() - started
        return elapsed, len(standin.requests())


async def test_a_hanging_attempt_is_cut_short_by_the_deadline() -> None:
    # The app's 5 s timeout would let one attempt outlast a 1 s deadline.
    elapsed, requests = await hanging_call(DEFAULT_TIMEOUT, RetryPolicy(deadline=1.0))

    assert elapsed < 2.5
    assert requests == 1


async def test_a_retry_gets_only_what_is_left_of_the_deadline() -> None:
    # 2 s for the first attempt, then 0.6 s left: enough to try again, but only for 0.6 s.
    policy = RetryPolicy(base_delay=0.0, deadline=2.6)

    elapsed, requests = await hanging_call(httpx.Timeout(2.0), policy)

    assert requests == 2
    assert elapsed < 3.5


async def test_no_attempt_starts_with_too_little_time_left() -> None:
    # After a 1 s attempt only 0.2 s of the deadline is left: not worth another request.
    policy = RetryPolicy(base_delay=0.0, deadline=1.2)

    elapsed, requests = await hanging_call(httpx.Timeout(1.0), policy)

    assert requests == 1
    assert elapsed < 2.0


# --- retry_after_seconds ----------------------------------------------------------------------

NOW = datetime(2026, 10, 21, 7, 27, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("1", 1.0),
        ("0", 0.0),
        ("120", 120.0),
        ("2.5", 2.5),
        (" 3 ", 3.0),
        ("-5", 0.0),
        ("Wed, 21 Oct 2026 07:28:00 GMT", 30.0),
        ("Wed, 21 Oct 2026 07:28:00 -0000", 30.0),
        ("Wed, 21 Oct 2026 09:28:00 +0200", 30.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),
        ("Tue, 20 Oct 2026 07:27:30 GMT", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("later please", None),
        ("Wed, 99 Foo 2026", None),
    ],
)
def test_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == expected


# --- campaign cache ---------------------------------------------------------------------------


async def test_campaign_is_cached(connect: Connect) -> None:
    server = Server(ok(PEARL))
    client = connect(server)

    first = await client.get_campaign(PEARL_ID)
    second = await client.get_campaign(PEARL_ID)

    assert len(server.requests) == 1
    assert first == second
    assert second.name == "Dental – Recall Reminders"


async def test_campaign_is_fetched_again_after_the_ttl(
    connect: Connect, fake_time: FakeClock
) -> None:
    renamed = {**PEARL, "name": "Dental – Recall Reminders (paused)", "status": 2}
    server = Server(ok(PEARL), ok(renamed))
    client = connect(server, campaign_cache_seconds=600.0)

    await client.get_campaign(PEARL_ID)
    fake_time.advance(599.0)
    still_cached = await client.get_campaign(PEARL_ID)
    fake_time.advance(1.5)
    refreshed = await client.get_campaign(PEARL_ID)

    assert len(server.requests) == 2
    assert still_cached.status == 1
    assert refreshed.status == 2
    assert refreshed.name == "Dental – Recall Reminders (paused)"


async def test_campaign_cache_is_per_campaign(connect: Connect) -> None:
    server = Server(ok(PEARLS[0]), ok(PEARLS[1]))
    client = connect(server)

    a = await client.get_campaign(PEARLS[0]["id"])
    b = await client.get_campaign(PEARLS[1]["id"])
    await client.get_campaign(PEARLS[0]["id"])

    assert (a.id, b.id) == (PEARLS[0]["id"], PEARLS[1]["id"])
    assert server.paths == [f"/v2/Pearl/{PEARLS[0]['id']}", f"/v2/Pearl/{PEARLS[1]['id']}"]


async def test_failed_campaign_lookup_is_not_cached(connect: Connect) -> None:
    server = Server(answer(404), ok(PEARL))
    client = connect(server)

    with pytest.raises(NotFound):
        await client.get_campaign(PEARL_ID)
    pearl = await client.get_campaign(PEARL_ID)

    assert pearl.id == PEARL_ID
    assert len(server.requests) == 2
