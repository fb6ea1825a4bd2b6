"""The NLPearl client on campaigns and the account: Get Pearl, Get Account and Set Active."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.demo.nlpearl_api import SAMPLE_PEARL_ID, sample_dataset
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import (
    BadCredentials,
    NotFound,
    RateLimited,
    Rejected,
    Unconfirmed,
)
from bot.nlpearl.models import Account, Pearl
from bot.nlpearl.statuses import ACCOUNT_CAN_CALL, account_status, activity_status
from tests.clock import FakeClock
from tests.nlpearl.test_client import Reply, Server, answer, ok
from tests.standins import NLPearlStandIn

API_KEY = "65f0c0ffee1234567890abcd:Xy7sEcReT-9q"
PEARL_ID_MOCK = "669f0b2ce4d5c6b7a8f90112"
PEARL_PATH = f"/v2/Pearl/{SAMPLE_PEARL_ID}"
ACTIVE = {
    "v2": ("PUT", f"{PEARL_PATH}/Active"),
    "v1": ("POST", f"/v1/Outbound/{SAMPLE_PEARL_ID}/Active"),
}

Connect = Callable[..., NLPearlClient]
Mock = Callable[..., NLPearlClient]


@pytest.fixture
def fake_time() -> FakeClock:
    """The client's monotonic clock, moved only when the client sleeps (or a test moves it)."""
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
async def mocked(fake_time: FakeClock) -> AsyncIterator[Mock]:
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


def suspend(nlpearl: NLPearlStandIn) -> None:
    """Marks the sample pearl suspended, without a request the stand-in would record."""
    pearl, _, _ = sample_dataset()
    nlpearl.add_pearl({**pearl, "status": 3})


# --- Set Active, over loopback ----------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_set_active_sends_the_state_once_and_returns_the_status(
    loopback: Connect, nlpearl: NLPearlStandIn, version: str
) -> None:
    client = loopback(version)

    paused = await client.set_active(SAMPLE_PEARL_ID, False)
    running = await client.set_active(SAMPLE_PEARL_ID, True)

    method, path = ACTIVE[version]
    assert [(w.method, w.path, w.json()) for w in nlpearl.writes()] == [
        (method, path, {"isActive": False}),
        (method, path, {"isActive": True}),
    ]
    assert nlpearl.writes()[0].headers["content-type"] == "application/json"
    assert (paused, running) == (2, 1)


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_a_suspended_campaign_is_rejected_in_nlpearls_words(
    loopback: Connect, nlpearl: NLPearlStandIn, fake_time: FakeClock, version: str
) -> None:
    suspend(nlpearl)

    with pytest.raises(Rejected) as caught:
        await loopback(version).set_active(SAMPLE_PEARL_ID, True)

    assert caught.value.reason == "The Pearl is suspended"
    assert len(nlpearl.writes()) == 1
    assert fake_time.sleeps == []
    assert (await loopback(version).get_campaign(SAMPLE_PEARL_ID)).status == 3


async def test_set_active_on_an_unknown_campaign_is_not_found(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    with pytest.raises(NotFound):
        await loopback().set_active("ffffffffffffffffffffffff", True)

    assert len(nlpearl.writes()) == 1


async def test_set_active_with_a_wrong_key_is_bad_credentials(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    with pytest.raises(BadCredentials):
        await loopback(api_key="acct123:wrong").set_active(SAMPLE_PEARL_ID, False)

    assert len(nlpearl.writes()) == 1


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_set_active_after_a_5xx_is_retried(
    loopback: Connect, nlpearl: NLPearlStandIn, fake_time: FakeClock, version: str
) -> None:
    method, path = ACTIVE[version]
    nlpearl.fail_next(path, status=503, method=method)

    status = await loopback(version).set_active(SAMPLE_PEARL_ID, False)

    assert status == 2
    assert len(nlpearl.writes()) == 2
    assert len(fake_time.sleeps) == 1


async def test_set_active_that_keeps_failing_is_unconfirmed(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    nlpearl.fail_next(ACTIVE["v2"][1], status=502, times=3, method="PUT")

    with pytest.raises(Unconfirmed):
        await loopback().set_active(SAMPLE_PEARL_ID, False)

    assert len(nlpearl.writes()) == 3


async def test_set_active_refused_after_a_5xx_is_unconfirmed(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    """The first attempt may have changed the state, so a refusal on the retry proves nothing."""
    nlpearl.fail_next(ACTIVE["v2"][1], status=503, method="PUT")
    nlpearl.fail_next(ACTIVE["v2"][1], status=400, body=b'{"message": "no"}', method="PUT")

    with pytest.raises(Unconfirmed):
        await loopback().set_active(SAMPLE_PEARL_ID, False)


# --- the campaign cache, over loopback --------------------------------------------------------


async def test_set_active_drops_the_cached_campaign(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    client = loopback()
    before = await client.get_campaign(SAMPLE_PEARL_ID)

    await client.set_active(SAMPLE_PEARL_ID, False)
    after = await client.get_campaign(SAMPLE_PEARL_ID)
    again = await client.get_campaign(SAMPLE_PEARL_ID)

    assert (before.status, after.status, again.status) == (1, 2, 2)
    assert len(nlpearl.requests(PEARL_PATH)) - len(nlpearl.writes()) == 2


async def test_a_refused_set_active_drops_the_cached_campaign_too(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    client = loopback()
    await client.get_campaign(SAMPLE_PEARL_ID)
    suspend(nlpearl)

    with pytest.raises(Rejected):
        await client.set_active(SAMPLE_PEARL_ID, True)

    assert (await client.get_campaign(SAMPLE_PEARL_ID)).status == 3


async def test_fresh_bypasses_the_cache_and_refreshes_it(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    client = loopback()
    cached = await client.get_campaign(SAMPLE_PEARL_ID)
    suspend(nlpearl)

    stale = await client.get_campaign(SAMPLE_PEARL_ID)
    fresh = await client.get_campaign(SAMPLE_PEARL_ID, fresh=True)
    refreshed = await client.get_campaign(SAMPLE_PEARL_ID)

    assert (cached.status, stale.status, fresh.status, refreshed.status) == (1, 1, 3, 3)
    assert len(nlpearl.requests(PEARL_PATH)) == 2


async def test_get_campaign_reads_the_live_numbers(loopback: Connect) -> None:
    pearl = await loopback().get_campaign(SAMPLE_PEARL_ID)

    assert pearl.phone_number == "+12125550100"
    assert (pearl.total_agents, pearl.budget_consumed, pearl.budget_total) == (5, 312.0, 1500.0)
    assert (pearl.total_today_calls, pearl.total_ongoing_calls, pearl.total_on_queue) == (
        87,
        3,
        None,
    )
    assert (pearl.total_leads, pearl.total_leads_completed, pearl.total_leads_success) == (
        1240,
        402,
        133,
    )
    assert pearl.created == datetime(2025, 2, 20, 9, 12, tzinfo=UTC)


# --- the account, over loopback ---------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_get_account_reads_the_account(
    loopback: Connect, nlpearl: NLPearlStandIn, version: str
) -> None:
    nlpearl.set_account(status=3, creditBalance=0, remainingMinutes="7.5")

    account = await loopback(version).get_account()

    assert account == Account(
        name="Test account", total_agents=3, credit_balance=0.0, status=3, remaining_minutes=7.5
    )
    assert [r.path for r in nlpearl.requests()] == [f"/{version}/Account"]


async def test_check_credentials_still_reads_the_account(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    await loopback().check_credentials()
    with pytest.raises(BadCredentials):
        await loopback(api_key="acct123:wrong").check_credentials()

    assert [r.path for r in nlpearl.requests()] == ["/v2/Account"] * 2


# --- answers the stand-in does not give, on a mock ------------------------------------------


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (ok(2), 2),
        (ok("1"), 1),
        (ok(" 10 "), 10),
        (ok({"status": 2}), 2),
        (ok({"Status": "1"}), 1),
        (ok({"ActivityStatus": 3}), 3),
        (ok({"activity_status": None, "STATUS": 2}), 2),
        (answer(200, b"2"), 2),
        (answer(200), None),
        (answer(204), None),
        (ok(None), None),
        (ok(True), None),
        (ok("running"), None),
        (ok("-1"), None),
        (ok(2.5), None),
        (ok({"isActive": True}), None),
        (ok([1]), None),
        (answer(200, b"<html>ok</html>"), None),
    ],
)
async def test_set_active_reads_the_status_in_any_shape(
    mocked: Mock, reply: Reply, status: int | None
) -> None:
    assert await mocked(Server(reply)).set_active(PEARL_ID_MOCK, True) == status


async def test_set_active_answered_false_is_rejected(
    mocked: Mock,
) -> None:
    with pytest.raises(Rejected):
        await mocked(Server(ok(False))).set_active(PEARL_ID_MOCK, True)


@pytest.mark.parametrize("status", [409, 422])
async def test_set_active_conflict_is_rejected_with_the_reason(mocked: Mock, status: int) -> None:
    server = Server(answer(status, json.dumps({"Title": "Pearl is in maintenance"})))

    with pytest.raises(Rejected) as caught:
        await mocked(server).set_active(PEARL_ID_MOCK, True)

    assert caught.value.reason == "Pearl is in maintenance"


async def test_set_active_encodes_the_id(mocked: Mock) -> None:
    server = Server(ok(1))

    await mocked(server).set_active("a/b c", True)
    await mocked(server, version="v1").set_active("a/b c", False)

    assert server.paths == ["/v2/Pearl/a%2Fb%20c/Active", "/v1/Outbound/a%2Fb%20c/Active"]
    assert [r.method for r in server.requests] == ["PUT", "POST"]


async def test_a_persistent_429_on_set_active_is_rate_limited_not_unconfirmed(
    mocked: Mock,
) -> None:
    """A rate limit turns the change away before NLPearl acts, so nothing may have happened."""
    server = Server(answer(429, headers={"Retry-After": "0"}))

    with pytest.raises(RateLimited):
        await mocked(server).set_active(PEARL_ID_MOCK, True)

    assert len(server.requests) == 3


# --- liberal models ---------------------------------------------------------------------------


def test_pearl_reads_pascal_case_strings_and_nulls() -> None:
    pearl = Pearl.model_validate(
        {
            "Id": "p1",
            "PHONENUMBER": 12125550100,
            "TotalAgents": "5",
            "Created": "2025-02-20T09:12:00",
            "BudgetConsumed": "312.75",
            "budgetTotal": None,
            "TotalTodayCalls": "87.0",
            "totalOngoingCalls": "many",
            "TotalOnQueue": True,
            "TotalLeads": {"n": 3},
            "totalLeadsCompleted": [],
            "TotalLeadsSuccess": "NaN",
        }
    )

    assert (pearl.id, pearl.phone_number, pearl.total_agents) == ("p1", "12125550100", 5)
    assert pearl.created == datetime(2025, 2, 20, 9, 12, tzinfo=UTC)
    assert (pearl.budget_consumed, pearl.budget_total, pearl.total_today_calls) == (
        312.75,
        None,
        87,
    )
    assert pearl.total_ongoing_calls is None
    assert pearl.total_on_queue is None
    assert (pearl.total_leads, pearl.total_leads_completed, pearl.total_leads_success) == (
        None,
        None,
        None,
    )


def test_account_reads_pascal_case_strings_and_nulls() -> None:
    account = Account.model_validate(
        {
            "Name": "  Brightline  ",
            "TOTALAGENTS": "4",
            "CreditBalance": "-3.25",
            "Status": "5",
            "RemainingMinutes": None,
            "extra": "ignored",
        }
    )

    assert account == Account(
        name="Brightline", total_agents=4, credit_balance=-3.25, status=5, remaining_minutes=None
    )
    assert Account.model_validate({}) == Account()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=16,
)
FIELD_KEYS = st.sampled_from(
    [
        name
        for model in (Pearl, Account)
        for field in model.model_fields
        for name in (field, field.upper(), "".join(p.title() for p in field.split("_")))
    ]
)


@settings(max_examples=200, deadline=None)
@given(body=st.dictionaries(FIELD_KEYS | st.text(max_size=12), JSON, max_size=12))
def test_any_json_object_is_a_pearl_and_an_account(body: dict[str, Any]) -> None:
    Pearl.model_validate(body)
    Account.model_validate(body)


# --- status labels ----------------------------------------------------------------------------


def test_activity_and_account_statuses_have_labels_and_unknowns() -> None:
    assert activity_status(2).text == "⏸️ Paused"
    assert activity_status(10).label == "Maintenance"
    assert activity_status(7).label == "Unknown (7)"
    assert account_status(3).text == "🪫 No credits"
    assert account_status(5).label == "Debt limit reached"
    assert account_status(None).label == "Unknown"
    assert sorted(ACCOUNT_CAN_CALL) == [1, 2]
