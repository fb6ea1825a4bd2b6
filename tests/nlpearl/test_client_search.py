"""The NLPearl client's Search Leads: requests, paging and liberal answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.demo.nlpearl_api import (
    SAMPLE_LEAD_ID,
    SAMPLE_LEAD_MANY_CALLS_ID,
    SAMPLE_LEAD_NO_CALLS_ID,
    SAMPLE_PEARL_ID,
)
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import BadCredentials, BadResponse, NLPearlError, NotFound
from bot.nlpearl.models import LeadPage
from tests.clock import FakeClock
from tests.nlpearl.test_client import Server, answer, ok
from tests.standins import NLPearlStandIn

API_KEY = "65f0c0ffee1234567890abcd:Xy7sEcReT-9q"
UNKNOWN_PEARL_ID = "669f0b2ce4d5c6b7a8f90112"
# Sample leads, newest first: statuses 1, 110 and 100.
SAMPLE_NEWEST_FIRST = [SAMPLE_LEAD_NO_CALLS_ID, SAMPLE_LEAD_MANY_CALLS_ID, SAMPLE_LEAD_ID]

Connect = Callable[..., NLPearlClient]


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


def search_path(version: str, pearl_id: str = SAMPLE_PEARL_ID) -> str:
    return f"/{version}/Outbound/{pearl_id}/Leads"


def add_leads(nlpearl: NLPearlStandIn) -> None:
    """Three more leads, newer than the sample's: statuses 500, 30 and 150, in that order."""
    for index, status in enumerate((500, 30, 150)):
        lead = {
            "id": f"6650f1c2a9e4b27d3c8e42{index:02x}",
            "externalId": f"crm-9{index}",
            "phoneNumber": f"+1415555020{index}",
            "status": status,
            "created": f"2025-03-0{5 + index}T09:00:00.000Z",
            "callsId": ["66530000c2d3e4f5a6b7c900"],
        }
        nlpearl.add_lead(SAMPLE_PEARL_ID, lead)


async def search(client: NLPearlClient, pearl_id: str = SAMPLE_PEARL_ID) -> LeadPage:
    return await client.search_leads(pearl_id, statuses=[])


# --- requests, over loopback ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_search_posts_the_body_and_reads_the_page(
    loopback: Connect, nlpearl: NLPearlStandIn, version: str
) -> None:
    page = await loopback(version).search_leads(SAMPLE_PEARL_ID, statuses=(1, 100, 110), limit=5)

    [request] = nlpearl.requests()
    assert (request.method, request.path) == ("POST", search_path(version))
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "skip": 0,
        "limit": 5,
        "sortProp": "created",
        "isAscending": False,
        "statuses": [1, 100, 110],
        "searchInput": None,
    }
    assert page.count == 3
    assert [lead.id for lead in page.results] == SAMPLE_NEWEST_FIRST
    assert page.results[-1].call_data["firstName"] == "Maria"
    # Search rows are slim: a lead's calls come only from Get Lead.
    assert all(lead.calls_id == [] and lead.last_call is None for lead in page.results)


async def test_search_filters_by_status_and_pages(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    add_leads(nlpearl)
    client = loopback()

    first = await client.search_leads(SAMPLE_PEARL_ID, statuses=[100, 150, 500], limit=2)
    rest = await client.search_leads(SAMPLE_PEARL_ID, statuses=[100, 150, 500], skip=2, limit=2)
    everything = await client.search_leads(SAMPLE_PEARL_ID, statuses=[], limit=50)

    assert (first.count, [lead.status for lead in first.results]) == (3, [150, 500])
    assert (rest.count, [lead.id for lead in rest.results]) == (3, [SAMPLE_LEAD_ID])
    assert everything.count == 6
    assert [lead.status for lead in everything.results] == [150, 30, 500, 1, 110, 100]


async def test_a_status_no_lead_has_finds_nothing(loopback: Connect) -> None:
    page = await loopback().search_leads(SAMPLE_PEARL_ID, statuses=[130])

    assert (page.count, page.results) == (0, [])


async def test_a_search_after_503_is_retried(
    loopback: Connect, nlpearl: NLPearlStandIn, fake_time: FakeClock
) -> None:
    nlpearl.fail_next(search_path("v2"), status=503, method="POST")

    page = await search(loopback())

    assert page.count == 3
    assert len(nlpearl.requests()) == 2
    assert len(fake_time.sleeps) == 1


async def test_a_search_answered_404_after_a_5xx_is_not_found_not_unconfirmed(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    path = search_path("v2", UNKNOWN_PEARL_ID)
    nlpearl.fail_next(path, status=502, method="POST")

    with pytest.raises(NotFound):
        await search(loopback(), UNKNOWN_PEARL_ID)

    assert len(nlpearl.requests()) == 2


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_an_unknown_campaign_is_not_found(loopback: Connect, version: str) -> None:
    with pytest.raises(NotFound):
        await search(loopback(version), UNKNOWN_PEARL_ID)


async def test_a_wrong_key_is_bad_credentials_and_not_retried(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    with pytest.raises(BadCredentials):
        await search(loopback(api_key="wrong"))

    assert len(nlpearl.requests()) == 1


# --- answers, from a mock ---------------------------------------------------------------------


async def _search_answered(server: Server) -> LeadPage:
    """The page the client reads when NLPearl answers as `server` does."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        client = NLPearlClient(http, api_key=API_KEY, sleep=FakeClock().sleep)
        return await client.search_leads("p1", statuses=[10])


async def test_a_bare_list_is_a_page_of_every_row() -> None:
    rows = [{"id": "a", "status": 10}, "junk", {"ID": "b", "Status": "70"}]

    page = await _search_answered(Server(ok(rows)))

    assert page.count is None, "a bare list does not say how many match in all"
    assert [(lead.id, lead.status) for lead in page.results] == [("a", 10), ("b", 70)]


@pytest.mark.parametrize("key", ["results", "Results", "items", "LEADS"])
async def test_rows_are_read_under_any_name_and_casing(key: str) -> None:
    body = {"Count": "7", key: [{"id": "a"}, None, 3, {"id": "b"}]}

    page = await _search_answered(Server(ok(body)))

    assert page.count == 7
    assert [lead.id for lead in page.results] == ["a", "b"]


async def test_a_page_without_rows_is_empty() -> None:
    page = await _search_answered(Server(ok({"count": None, "results": "none"})))

    assert (page.count, page.results) == (None, [])


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (answer(400), NotFound),
        (answer(404), NotFound),
        (answer(401), BadCredentials),
        (answer(403), BadCredentials),
        (answer(200, b"<html>oops</html>"), BadResponse),
        (ok("a string"), BadResponse),
        (answer(302), BadResponse),
    ],
)
async def test_error_mapping(
    reply: Callable[[httpx.Request], httpx.Response], error: type[NLPearlError]
) -> None:
    server = Server(reply)

    with pytest.raises(error):
        await _search_answered(server)

    assert server.paths == ["/v2/Outbound/p1/Leads"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=8)
            | st.sampled_from(["count", "results", "Items", "leads", "id", "status", "lastCall"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=24,
)


@settings(max_examples=150, deadline=None)
@given(body=JSON)
def test_any_json_answer_is_a_page_or_an_nlpearl_error(body: Any) -> None:
    reply = answer(200, json.dumps(body), {"Content-Type": "application/json"})
    try:
        page = asyncio.run(_search_answered(Server(reply)))
    except NLPearlError:
        return
    assert isinstance(page, LeadPage)
    assert all(lead is not None for lead in page.results)
