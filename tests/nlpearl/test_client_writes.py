"""The NLPearl client's changes: Update Lead and Add Lead, against the stand-in and a mock."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.demo.nlpearl_api import (
    SAMPLE_LEAD_EXTERNAL_ID,
    SAMPLE_LEAD_ID,
    SAMPLE_LEAD_PHONE,
    SAMPLE_PEARL_ID,
)
from bot.nlpearl.changes import LeadUpdate, NewLead
from bot.nlpearl.client import REASON_LIMIT, NLPearlClient, RetryPolicy
from bot.nlpearl.errors import (
    BadCredentials,
    BadResponse,
    NLPearlError,
    NotFound,
    RateLimited,
    Rejected,
    Unavailable,
    Unconfirmed,
)
from bot.nlpearl.models import Lead
from tests.clock import FakeClock
from tests.nlpearl.test_client import Reply, Server, answer, fail, ok
from tests.standins import NLPearlStandIn

API_KEY = "65f0c0ffee1234567890abcd:Xy7sEcReT-9q"
PEARL_ID = "669f0b2ce4d5c6b7a8f90112"
LEAD_ID = "66a1d3f09b7e4c2a1f0e5d61"
NEW_PHONE = "+14155550199"
STOP = LeadUpdate(status=130)
NEW_LEAD = NewLead(phone_number=NEW_PHONE, external_id="crm-9", call_data={"firstName": "Ann"})

Connect = Callable[..., NLPearlClient]
Change = Callable[[NLPearlClient], Awaitable[Any]]


def update(client: NLPearlClient) -> Awaitable[Lead | None]:
    return client.update_lead(PEARL_ID, LEAD_ID, STOP)


def add(client: NLPearlClient) -> Awaitable[str | None]:
    return client.add_lead(PEARL_ID, NEW_LEAD)


CHANGES = pytest.mark.parametrize("change", [update, add], ids=["update", "add"])


@pytest.fixture
def fake_time() -> FakeClock:
    """The client's monotonic clock, moved only when the client sleeps."""
    return FakeClock()


@pytest.fixture
async def loopback(nlpearl: NLPearlStandIn, fake_time: FakeClock) -> AsyncIterator[Connect]:
    """Clients of the running NLPearl stand-in, on a fake clock."""
    async with httpx.AsyncClient() as http:

        def connect(version: str = "v2", **options: Any) -> NLPearlClient:
            options.setdefault("api_key", nlpearl.api_key)
            options.setdefault("sleep", fake_time.sleep)
            options.setdefault("clock", fake_time.monotonic)
            return NLPearlClient(http, base_url=nlpearl.url, version=version, **options)

        yield connect


@pytest.fixture
async def mocked(fake_time: FakeClock) -> AsyncIterator[Callable[[Server], NLPearlClient]]:
    """Clients of a mock transport, for answers the stand-in cannot give."""
    clients: list[httpx.AsyncClient] = []

    def connect(server: Server, **options: Any) -> NLPearlClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(server))
        clients.append(http)
        options.setdefault("sleep", fake_time.sleep)
        options.setdefault("clock", fake_time.monotonic)
        return NLPearlClient(http, api_key=API_KEY, **options)

    yield connect
    for http in clients:
        await http.aclose()


def lead_path(version: str, lead_id: str = SAMPLE_LEAD_ID) -> str:
    return f"/{version}/Outbound/{SAMPLE_PEARL_ID}/Lead/{lead_id}"


# --- requests, over loopback ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_update_lead_puts_the_change_and_returns_the_lead(
    loopback: Connect, nlpearl: NLPearlStandIn, version: str
) -> None:
    lead = await loopback(version).update_lead(SAMPLE_PEARL_ID, SAMPLE_LEAD_ID, STOP)

    [write] = nlpearl.writes()
    assert (write.method, write.path) == ("PUT", lead_path(version))
    assert write.json() == {"status": 130}
    assert write.headers["content-type"] == "application/json"
    assert write.headers["authorization"] == f"Bearer {nlpearl.api_key}"
    assert isinstance(lead, Lead)
    assert (lead.id, lead.status, lead.phone_number) == (SAMPLE_LEAD_ID, 130, SAMPLE_LEAD_PHONE)


@pytest.mark.parametrize(("version", "method"), [("v2", "POST"), ("v1", "PUT")])
async def test_add_lead_sends_the_lead_and_returns_its_id(
    loopback: Connect, nlpearl: NLPearlStandIn, version: str, method: str
) -> None:
    client = loopback(version)

    lead_id = await client.add_lead(SAMPLE_PEARL_ID, NEW_LEAD)

    [write] = nlpearl.writes()
    assert (write.method, write.path) == (method, f"/{version}/Outbound/{SAMPLE_PEARL_ID}/Lead")
    assert write.json() == {
        "phoneNumber": NEW_PHONE,
        "externalId": "crm-9",
        "callData": {"firstName": "Ann"},
    }
    assert write.headers["content-type"] == "application/json"
    assert lead_id is not None
    added = await client.get_lead(SAMPLE_PEARL_ID, lead_id)
    assert (added.phone_number, added.status, added.call_data) == (
        NEW_PHONE,
        1,
        {"firstName": "Ann"},
    )


async def test_only_the_fields_set_are_sent(loopback: Connect, nlpearl: NLPearlStandIn) -> None:
    client = loopback()
    change = LeadUpdate(external_id="crm-777", time_zone_id="Pacific Standard Time")

    lead = await client.update_lead(SAMPLE_PEARL_ID, SAMPLE_LEAD_ID, change)

    assert nlpearl.writes()[0].json() == {
        "externalId": "crm-777",
        "timeZoneId": "Pacific Standard Time",
    }
    assert lead is not None
    assert (lead.status, lead.phone_number, lead.call_data["plan"]) == (
        100,
        SAMPLE_LEAD_PHONE,
        "Pro",
    )
    found = await client.get_lead_by_external_id(SAMPLE_PEARL_ID, "crm-777")
    assert found.id == SAMPLE_LEAD_ID
    with pytest.raises(NotFound):
        await client.get_lead_by_external_id(SAMPLE_PEARL_ID, SAMPLE_LEAD_EXTERNAL_ID)


async def test_new_lead_without_options_sends_only_the_phone(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    await loopback().add_lead(SAMPLE_PEARL_ID, NewLead(phone_number=NEW_PHONE))

    assert nlpearl.writes()[0].json() == {"phoneNumber": NEW_PHONE}


async def test_ids_are_encoded_in_the_path(mocked: Callable[[Server], NLPearlClient]) -> None:
    server = Server(ok(True))

    await mocked(server).update_lead("a/b c", "l?1#x", STOP)
    await mocked(server).add_lead("a/b c", NEW_LEAD)

    assert server.paths == ["/v2/Outbound/a%2Fb%20c/Lead/l%3F1%23x", "/v2/Outbound/a%2Fb%20c/Lead"]


# --- errors, over loopback --------------------------------------------------------------------


async def test_update_of_an_unknown_lead_is_not_found(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    with pytest.raises(NotFound):
        await loopback().update_lead(SAMPLE_PEARL_ID, "ffffffffffffffffffffffff", STOP)

    assert len(nlpearl.writes()) == 1


async def test_add_to_an_unknown_campaign_is_not_found(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    with pytest.raises(NotFound):
        await loopback().add_lead("ffffffffffffffffffffffff", NEW_LEAD)

    assert len(nlpearl.writes()) == 1


async def test_a_status_nlpearl_refuses_is_rejected_in_its_words(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    with pytest.raises(Rejected) as caught:
        await loopback().update_lead(SAMPLE_PEARL_ID, SAMPLE_LEAD_ID, LeadUpdate(status=40))

    assert caught.value.reason == "The status 40 cannot be set on a lead."
    assert len(nlpearl.writes()) == 1


async def test_an_add_without_a_phone_is_rejected(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    with pytest.raises(Rejected) as caught:
        await loopback().add_lead(SAMPLE_PEARL_ID, NewLead(phone_number=""))

    assert caught.value.reason == "The PhoneNumber field is required."
    assert len(nlpearl.writes()) == 1


@pytest.mark.parametrize("status", [409, 422])
async def test_conflict_and_unprocessable_are_rejected(
    loopback: Connect, nlpearl: NLPearlStandIn, status: int
) -> None:
    body = json.dumps({"Title": "Lead is on a call"}).encode()
    nlpearl.fail_next(lead_path("v2"), status=status, body=body, method="PUT")

    with pytest.raises(Rejected) as caught:
        await loopback().update_lead(SAMPLE_PEARL_ID, SAMPLE_LEAD_ID, STOP)

    assert caught.value.reason == "Lead is on a call"


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_a_wrong_key_is_bad_credentials_and_not_retried(
    loopback: Connect, nlpearl: NLPearlStandIn, fake_time: FakeClock, version: str
) -> None:
    client = loopback(version, api_key="acct123:wrong")

    with pytest.raises(BadCredentials):
        await client.update_lead(SAMPLE_PEARL_ID, SAMPLE_LEAD_ID, STOP)
    with pytest.raises(BadCredentials):
        await client.add_lead(SAMPLE_PEARL_ID, NEW_LEAD)

    assert len(nlpearl.writes()) == 2
    assert fake_time.sleeps == []


# --- retries, over loopback -------------------------------------------------------------------


async def test_update_after_429_waits_as_asked_and_retries_once(
    loopback: Connect, nlpearl: NLPearlStandIn, fake_time: FakeClock
) -> None:
    nlpearl.fail_next(lead_path("v2"), status=429, headers={"Retry-After": "2"}, method="PUT")

    lead = await loopback().update_lead(SAMPLE_PEARL_ID, SAMPLE_LEAD_ID, STOP)

    assert lead is not None
    assert lead.status == 130
    assert fake_time.sleeps == [2.0]
    assert len(nlpearl.writes()) == 2


@pytest.mark.parametrize(("version", "method"), [("v2", "POST"), ("v1", "PUT")])
async def test_add_after_429_waits_as_asked_and_retries_once(
    loopback: Connect, nlpearl: NLPearlStandIn, fake_time: FakeClock, version: str, method: str
) -> None:
    path = f"/{version}/Outbound/{SAMPLE_PEARL_ID}/Lead"
    nlpearl.fail_next(path, status=429, headers={"Retry-After": "3"}, method=method)

    lead_id = await loopback(version).add_lead(SAMPLE_PEARL_ID, NEW_LEAD)

    assert lead_id is not None
    assert fake_time.sleeps == [3.0]
    assert [w.method for w in nlpearl.writes()] == [method, method]


async def test_update_after_503_is_retried(
    loopback: Connect, nlpearl: NLPearlStandIn, fake_time: FakeClock
) -> None:
    nlpearl.fail_next(lead_path("v2"), status=503, method="PUT")

    lead = await loopback().update_lead(SAMPLE_PEARL_ID, SAMPLE_LEAD_ID, STOP)

    assert lead is not None
    assert len(nlpearl.writes()) == 2
    assert len(fake_time.sleeps) == 1


async def test_an_update_refused_after_a_5xx_is_unconfirmed_not_refused(
    loopback: Connect, nlpearl: NLPearlStandIn, fake_time: FakeClock
) -> None:
    """The first attempt may have applied the change, so a 400 on the retry proves nothing."""
    nlpearl.fail_next(lead_path("v2"), status=503, method="PUT")
    nlpearl.fail_next(lead_path("v2"), status=400, body=b'{"message": "bad"}', method="PUT")

    with pytest.raises(Unconfirmed):
        await loopback().update_lead(SAMPLE_PEARL_ID, SAMPLE_LEAD_ID, STOP)

    assert len(nlpearl.writes()) == 2


@pytest.mark.parametrize(("version", "method"), [("v2", "POST"), ("v1", "PUT")])
async def test_add_after_5xx_is_unconfirmed_and_not_retried(
    loopback: Connect, nlpearl: NLPearlStandIn, fake_time: FakeClock, version: str, method: str
) -> None:
    nlpearl.fail_next(f"/{version}/Outbound/", status=502, method=method)

    with pytest.raises(Unconfirmed, match="may or may not have happened"):
        await loopback(version).add_lead(SAMPLE_PEARL_ID, NEW_LEAD)

    assert len(nlpearl.writes()) == 1
    assert fake_time.sleeps == []


async def test_a_fault_on_the_put_leaves_the_get_alone(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    nlpearl.fail_next(lead_path("v2"), status=500, times=10, method="PUT")
    client = loopback()

    lead = await client.get_lead(SAMPLE_PEARL_ID, SAMPLE_LEAD_ID)
    with pytest.raises(Unconfirmed):
        await client.update_lead(SAMPLE_PEARL_ID, SAMPLE_LEAD_ID, STOP)

    assert lead.status == 100
    assert len(nlpearl.writes()) == RetryPolicy().attempts


async def test_an_add_cut_short_by_a_timeout_is_unconfirmed_yet_may_happen(
    nlpearl: NLPearlStandIn,
) -> None:
    # On the real clock: the stand-in answers after the client gave up, and adds the lead then.
    nlpearl.hang("/v2/Outbound/", 0.6)
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.2)) as http:
        client = NLPearlClient(http, api_key=nlpearl.api_key, base_url=nlpearl.url)
        with pytest.raises(Unconfirmed):
            await client.add_lead(SAMPLE_PEARL_ID, NEW_LEAD)
        assert len(nlpearl.writes()) == 1
        await asyncio.sleep(0.8)
        nlpearl.reset()
        added = await client.get_lead_by_phone(SAMPLE_PEARL_ID, NEW_PHONE)

    assert added.external_id == "crm-9"


# --- answers, over a mock transport -----------------------------------------------------------

LEAD = {"id": LEAD_ID, "phoneNumber": "+14155550137", "status": 130, "callData": {"a": 1}}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (ok({"leadId": "a1"}), "a1"),
        (ok({"LeadId": "a2"}), "a2"),
        (ok({"leadid": "a3"}), "a3"),
        (ok({"LEADID": " a4 "}), "a4"),
        (ok({"lead_id": "a5"}), "a5"),
        (ok({"id": "a6"}), "a6"),
        (ok({"Id": "a7", "extra": True}), "a7"),
        (ok("a8"), "a8"),
        (ok({"leadId": None}), None),
        (ok({"leadId": 123}), None),
        (ok({}), None),
        (ok(True), None),
        (ok(None), None),
        (ok(""), None),
        (ok([{"leadId": "x"}]), None),
        (answer(200), None),
        (answer(201, b" \n"), None),
        (answer(204), None),
        (answer(200, b"<html>created</html>"), None),
    ],
)
async def test_add_lead_reads_the_id_however_it_is_spelled(
    mocked: Callable[[Server], NLPearlClient], reply: Reply, expected: str | None
) -> None:
    server = Server(reply)

    assert await add(mocked(server)) == expected
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("reply", "lead_id"),
    [
        (ok(LEAD), LEAD_ID),
        (ok({k.upper(): v for k, v in LEAD.items()}), LEAD_ID),
        (ok(True), None),
        (ok(None), None),
        (ok({}), None),
        (ok({"success": True}), None),
        (ok("done"), None),
        (ok([LEAD]), None),
        (answer(200), None),
        (answer(204), None),
        (answer(200, b"OK"), None),
    ],
)
async def test_update_lead_answers_the_lead_or_none(
    mocked: Callable[[Server], NLPearlClient], reply: Reply, lead_id: str | None
) -> None:
    lead = await update(mocked(Server(reply)))

    assert (lead.id if lead else None) == lead_id
    if lead is not None:
        assert (lead.status, lead.call_data) == (130, {"a": 1})


@CHANGES
async def test_an_answer_of_false_is_rejected(
    mocked: Callable[[Server], NLPearlClient], change: Change
) -> None:
    with pytest.raises(Rejected) as caught:
        await change(mocked(Server(ok(False))))

    assert caught.value.reason is None


@CHANGES
@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (answer(401), BadCredentials),
        (answer(403, "Forbidden"), BadCredentials),
        (answer(404), NotFound),
        (answer(400), Rejected),
        (answer(409), Rejected),
        (answer(422), Rejected),
        (answer(405), BadResponse),
        (answer(418, "I'm a teapot"), BadResponse),
        (answer(302, headers={"Location": "https://elsewhere.test/"}), BadResponse),
    ],
)
async def test_error_mapping_without_retry(
    mocked: Callable[[Server], NLPearlClient],
    fake_time: FakeClock,
    change: Change,
    reply: Reply,
    error: type[NLPearlError],
) -> None:
    server = Server(reply)

    with pytest.raises(error):
        await change(mocked(server))

    assert len(server.requests) == 1
    assert fake_time.sleeps == []


@CHANGES
async def test_a_read_400_is_still_not_found(
    mocked: Callable[[Server], NLPearlClient], change: Change
) -> None:
    client = mocked(Server(answer(400, '{"message": "bad id"}')))

    with pytest.raises(NotFound):
        await client.get_lead(PEARL_ID, "zzz")
    with pytest.raises(Rejected):
        await change(client)


# --- the reason of a rejection ----------------------------------------------------------------

PROBLEM = {
    "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    "title": "One or more validation errors occurred.",
    "status": 400,
    "errors": {"PhoneNumber": ["The PhoneNumber field is required.", "Too short."]},
}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (json.dumps(PROBLEM), "The PhoneNumber field is required."),
        (json.dumps({"title": "Conflict", "status": 409}), "Conflict"),
        (json.dumps({"message": "Bad phone"}), "Bad phone"),
        (json.dumps({"MESSAGE": "Bad phone", "title": "Bad Request"}), "Bad phone"),
        (json.dumps({"Detail": "Lead is locked"}), "Lead is locked"),
        (json.dumps({"error": {"code": 7, "message": "Nested words"}}), "Nested words"),
        (json.dumps({"errors": [{"message": "Listed"}]}), "Listed"),
        (json.dumps({"errors": {"": [], "Status": ["Not allowed"]}}), "Not allowed"),
        (json.dumps({"message": "", "detail": "  ", "title": "Fallback"}), "Fallback"),
        (json.dumps(["First", "Second"]), "First"),
        (json.dumps("A bare JSON string"), "A bare JSON string"),
        (
            json.dumps({"message": "two\nlines\r\n\tand\u2028more  spaces"}),
            "two lines and more spaces",
        ),
        (json.dumps({"message": "bell\x07 and \u202eflip"}), "bell and flip"),
        ("Lead already exists", "Lead already exists"),
        ("  plain\n\ntext  \n", "plain text"),
        ("", None),
        ("   \n", None),
        ("null", None),
        ("42", None),
        ("true", None),
        (json.dumps({"status": 400, "traceId": "00-abc"}), None),
        (json.dumps({"message": None, "errors": {}}), None),
        ("<html><body><h1>400 Bad Request</h1></body></html>", None),
        ('{"message": "broken', None),
        ("[" * 100_000 + "]" * 100_000, None),
        (b"\xff\xfe not \x00 utf-8", "�� not utf-8"),
    ],
)
async def test_rejection_reason_is_nlpearls_own_words(
    mocked: Callable[[Server], NLPearlClient], content: str | bytes, reason: str | None
) -> None:
    with pytest.raises(Rejected) as caught:
        await update(mocked(Server(answer(400, content))))

    assert caught.value.reason == reason


async def test_a_huge_reason_is_cut_to_one_short_line(
    mocked: Callable[[Server], NLPearlClient],
) -> None:
    words = "Invalid lead.\n" + "x" * 5_000_000
    server = Server(answer(422, json.dumps({"message": words})))

    with pytest.raises(Rejected) as caught:
        await add(mocked(server))

    reason = caught.value.reason
    assert reason is not None
    assert len(reason) == REASON_LIMIT
    assert reason.startswith("Invalid lead. xxx")
    assert reason.endswith("…")


async def test_the_reason_is_not_in_the_message(
    mocked: Callable[[Server], NLPearlClient],
) -> None:
    with pytest.raises(Rejected) as caught:
        await update(mocked(Server(answer(400, '{"message": "+14155550137 is invalid"}'))))

    assert "+1415" not in str(caught.value)
    assert "400" in str(caught.value)


# Long words too, repeated past the limit.
WORDS = st.text() | st.text(min_size=1, max_size=20).map(lambda text: text * 40)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | WORDS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=8)
            | st.sampled_from(["message", "Title", "DETAIL", "error", "errors"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=24,
)


async def _rejection_of(content: bytes, change: Change) -> Rejected:
    """The Rejected error a change gets when NLPearl answers 400 with `content`."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer(400, content))) as http:
        client = NLPearlClient(http, api_key=API_KEY)
        try:
            await change(client)
        except Rejected as rejected:
            return rejected
    raise AssertionError("a 400 was not rejected")


def assert_one_short_line(reason: str | None) -> None:
    if reason is not None:
        assert reason
        assert len(reason) <= REASON_LIMIT
        assert reason.splitlines() == [reason]
        assert reason == reason.strip()
        assert reason.isprintable()


@settings(max_examples=150, deadline=None)
@given(body=JSON, change=st.sampled_from([update, add]))
def test_any_json_reason_is_one_short_line_or_none(body: Any, change: Change) -> None:
    rejected = asyncio.run(_rejection_of(json.dumps(body).encode(), change))

    assert_one_short_line(rejected.reason)


@settings(max_examples=100, deadline=None)
@given(content=st.binary(max_size=2000) | WORDS.map(str.encode))
def test_any_bytes_reason_is_one_short_line_or_none(content: bytes) -> None:
    rejected = asyncio.run(_rejection_of(content, update))

    assert_one_short_line(rejected.reason)


# --- retries, over a mock transport -----------------------------------------------------------


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_an_add_that_never_left_is_retried(
    mocked: Callable[[Server], NLPearlClient], fake_time: FakeClock, error: type[Exception]
) -> None:
    server = Server(fail(error), ok({"leadId": "new1"}))

    assert await add(mocked(server)) == "new1"
    assert len(server.requests) == 2
    assert len(fake_time.sleeps) == 1


async def test_an_add_that_never_reaches_nlpearl_is_unavailable_not_unconfirmed(
    mocked: Callable[[Server], NLPearlClient],
) -> None:
    server = Server(fail(httpx.ConnectError))

    with pytest.raises(Unavailable) as caught:
        await add(mocked(server))

    assert not isinstance(caught.value, Unconfirmed)
    assert len(server.requests) == RetryPolicy().attempts


@pytest.mark.parametrize(
    "error", [httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.RemoteProtocolError]
)
async def test_an_add_that_may_have_arrived_is_unconfirmed_and_not_retried(
    mocked: Callable[[Server], NLPearlClient], fake_time: FakeClock, error: type[Exception]
) -> None:
    server = Server(fail(error), ok({"leadId": "twice"}))

    with pytest.raises(Unconfirmed) as caught:
        await add(mocked(server))

    assert isinstance(caught.value, Unavailable)
    assert len(server.requests) == 1
    assert fake_time.sleeps == []


async def test_an_add_rate_limited_then_failing_is_unconfirmed(
    mocked: Callable[[Server], NLPearlClient],
) -> None:
    server = Server(answer(429, headers={"Retry-After": "0"}), answer(500), ok({"leadId": "x"}))

    with pytest.raises(Unconfirmed):
        await add(mocked(server))

    assert len(server.requests) == 2


async def test_an_add_rate_limited_past_the_deadline_gives_up_without_sleeping(
    mocked: Callable[[Server], NLPearlClient], fake_time: FakeClock
) -> None:
    server = Server(answer(429, headers={"Retry-After": "30"}), ok({"leadId": "x"}))

    with pytest.raises(RateLimited):
        await add(mocked(server))

    assert len(server.requests) == 1
    assert fake_time.sleeps == []


@pytest.mark.parametrize(
    "error", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ConnectError]
)
async def test_an_update_is_retried_after_any_transport_failure(
    mocked: Callable[[Server], NLPearlClient], error: type[Exception]
) -> None:
    server = Server(fail(error), ok(LEAD))

    lead = await update(mocked(server))

    assert lead is not None
    assert len(server.requests) == 2
    assert [r.content for r in server.requests] == [b'{"status": 130}'] * 2


async def test_an_update_that_keeps_failing_after_arriving_is_unconfirmed(
    mocked: Callable[[Server], NLPearlClient],
) -> None:
    server = Server(answer(503), answer(429, headers={"Retry-After": "0"}))

    with pytest.raises(Unconfirmed):
        await update(mocked(server))

    assert len(server.requests) == RetryPolicy().attempts


async def test_an_update_that_never_arrived_is_unavailable(
    mocked: Callable[[Server], NLPearlClient],
) -> None:
    with pytest.raises(Unavailable) as caught:
        await update(mocked(Server(fail(httpx.ConnectError))))

    assert not isinstance(caught.value, Unconfirmed)


async def test_reads_carry_no_content_type(mocked: Callable[[Server], NLPearlClient]) -> None:
    server = Server(ok(LEAD))

    await mocked(server).get_lead(PEARL_ID, LEAD_ID)

    assert "Content-Type" not in server.requests[0].headers
    assert server.requests[0].content == b""


@CHANGES
async def test_the_api_key_is_never_logged(
    mocked: Callable[[Server], NLPearlClient], caplog: pytest.LogCaptureFixture, change: Change
) -> None:
    caplog.set_level(logging.DEBUG)
    server = Server(fail(httpx.ConnectError), answer(503), answer(500))

    with pytest.raises(Unavailable):
        await change(mocked(server))

    assert "NLPearl" in caplog.text
    assert API_KEY.partition(":")[2] not in caplog.text
