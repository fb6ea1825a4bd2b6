"""The NLPearl client's Analytics: the request, the range it refuses, and liberal answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.demo.nlpearl_api import SAMPLE_PEARL_ID
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import BadResponse, NotFound, RateLimited, Unavailable
from bot.nlpearl.models import Analytics, CallEvents, StatusOverview
from tests.clock import FakeClock
from tests.nlpearl.test_client import Server, ok
from tests.standins import NLPearlStandIn

API_KEY = "65f0c0ffee1234567890abcd:Xy7sEcReT-9q"
UNKNOWN_PEARL_ID = "669f0b2ce4d5c6b7a8f90112"
MARCH_1 = datetime(2025, 3, 1, tzinfo=UTC)
# The last millisecond of 3 March, so the range covers three whole days.
MARCH_3_END = datetime(2025, 3, 3, 23, 59, 59, 999000, tzinfo=UTC)

Connect = Callable[..., NLPearlClient]

# Written for this test: three days of an outbound campaign, in NLPearl's V2 shape.
FULL_ANSWER: dict[str, Any] = {
    "callsStatusOverview": {
        "totalCalls": 120,
        "totalLeads": 80,
        "needRetry": 14,
        "wrongCountryCode": 1,
        "needFollowUp": 6,
        "voiceMailLeft": 22,
        "successful": 19,
        "unsuccessful": 31,
        "wrongNumber": 3,
        "completed": 9,
        "unreachable": 12,
        "error": 3,
    },
    "callsSentimentOverview": {"negative": 4, "neutral": 30, "positive": 12},
    "callsStatusTimeLine": [
        {"date": "2025-03-01T00:00:00Z", "totalCalls": 50, "successful": 8, "voiceMailLeft": 9},
        {"date": "2025-03-02T00:00:00Z", "totalCalls": 40, "successful": 6, "voiceMailLeft": 7},
        {"date": "2025-03-03T00:00:00Z", "totalCalls": 30, "successful": 5, "voiceMailLeft": 6},
    ],
    "callsAverageTimeLine": [{"date": "2025-03-01T00:00:00Z", "averageCallDuration": 61.5}],
    "callsCostTimeLine": [
        {"date": "2025-03-01T00:00:00Z", "totalPrice": 12.75, "averageCostPerCall": 0.255},
        {"date": "2025-03-02T00:00:00Z", "totalPrice": 10.2, "averageCostPerCall": 0.255},
        {"date": "2025-03-03T00:00:00Z", "totalPrice": 0, "averageCostPerCall": 0},
    ],
    "callsPickupRateTimeLine": [
        {"date": "2025-03-01T00:00:00Z", "pickupRatePercentage": 62.0},
        {"date": "2025-03-02T00:00:00Z", "pickupRatePercentage": 55.5},
    ],
    "callsSuccessRateTimeLine": [
        {"date": "2025-03-01T00:00:00Z", "successRatePercentage": 16},
        {"date": "2025-03-02T00:00:00Z", "successRatePercentage": 15},
    ],
    "callLabelCount": [{"id": "t1", "name": "Survey booked", "color": "#00aa00", "count": 7}],
    "callEventsCounts": {
        "takeMessageCount": 2,
        "smsSentCount": 11,
        "callTransferredCount": 4,
        "calendarBookedCount": 7,
        "emailSentCount": 0,
    },
    "callsByHourDayOfWeeks": [{"hourOfDay": 10, "dayOfWeek": 1, "count": 17}],
}


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


def analytics_path(version: str, pearl_id: str = SAMPLE_PEARL_ID) -> str:
    resource = "Pearl" if version == "v2" else "Outbound"
    return f"/{version}/{resource}/{pearl_id}/Analytics"


async def march(client: NLPearlClient, pearl_id: str = SAMPLE_PEARL_ID) -> Analytics:
    return await client.get_analytics(pearl_id, start=MARCH_1, end=MARCH_3_END)


def days(*numbers: int) -> list[date]:
    return [date(2025, 3, number) for number in numbers]


# --- requests, over loopback ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_analytics_posts_the_range_and_reads_the_answer(
    loopback: Connect, nlpearl: NLPearlStandIn, version: str
) -> None:
    analytics = await march(loopback(version))

    [request] = nlpearl.requests()
    assert (request.method, request.path) == ("POST", analytics_path(version))
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"from": "2025-03-01T00:00:00.000Z", "to": "2025-03-03T23:59:59.999Z"}
    assert analytics.status_overview.total_calls == 0
    assert list(analytics.status_by_day) == days(1, 2, 3)
    assert analytics.pickup_rate_by_day == dict.fromkeys(days(1, 2, 3), 0.0)
    assert analytics.events.calendar_booked == 0
    assert nlpearl.writes() == [], "Analytics only reads"


async def test_times_are_sent_in_utc_to_the_millisecond(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    new_york = timezone(timedelta(hours=-5))
    start = datetime(2025, 2, 28, 19, 0, 0, 123987, tzinfo=new_york)

    await loopback().get_analytics(SAMPLE_PEARL_ID, start=start, end=start + timedelta(days=1))

    [request] = nlpearl.requests()
    assert request.json() == {"from": "2025-03-01T00:00:00.123Z", "to": "2025-03-02T00:00:00.123Z"}


async def test_a_full_answer_is_read(loopback: Connect, nlpearl: NLPearlStandIn) -> None:
    nlpearl.set_analytics(SAMPLE_PEARL_ID, FULL_ANSWER)

    analytics = await march(loopback())

    assert analytics.status_overview == StatusOverview(
        total_calls=120,
        total_leads=80,
        need_retry=14,
        wrong_country_code=1,
        need_follow_up=6,
        voicemail_left=22,
        successful=19,
        unsuccessful=31,
        wrong_number=3,
        completed=9,
        unreachable=12,
        error=3,
    )
    by_day = analytics.status_by_day
    assert [(s.total_calls, s.successful, s.voicemail_left) for s in by_day.values()] == [
        (50, 8, 9),
        (40, 6, 7),
        (30, 5, 6),
    ]
    assert list(by_day) == days(1, 2, 3)
    assert by_day[date(2025, 3, 1)].need_retry is None, "a day gives only some counts"
    assert analytics.pickup_rate_by_day == dict(zip(days(1, 2), [62.0, 55.5], strict=True))
    assert analytics.success_rate_by_day == dict(zip(days(1, 2), [16.0, 15.0], strict=True))
    assert analytics.cost_by_day == dict(zip(days(1, 2, 3), [12.75, 10.2, 0.0], strict=True))
    assert analytics.events == CallEvents(
        calendar_booked=7, call_transferred=4, take_message=2, sms_sent=11, email_sent=0
    )


async def test_a_pascal_case_answer_is_read(loopback: Connect, nlpearl: NLPearlStandIn) -> None:
    pascal = {
        "CallsStatusOverview": {"TotalCalls": 9, "VoiceMailLeft": 2, "NeedFollowUp": 1},
        "CallsStatusTimeLine": [{"Date": "2025-03-02T00:00:00", "TotalCalls": 9}],
        "CallsPickupRateTimeLine": [{"Date": "2025-03-02", "PickupRatePercentage": 40}],
        "CallsSuccessRateTimeLine": [{"DATE": "2025-03-02", "SuccessRatePercentage": 11.1}],
        "CallsCostTimeLine": [{"Date": "2025-03-02", "TotalPrice": 1.5}],
        "CallEventsCounts": {"CalendarBookedCount": 1, "SmsSentCount": 3},
    }
    nlpearl.set_analytics(SAMPLE_PEARL_ID, pascal)

    analytics = await march(loopback("v1"))

    overview = analytics.status_overview
    assert (overview.total_calls, overview.voicemail_left, overview.need_follow_up) == (9, 2, 1)
    assert {day: s.total_calls for day, s in analytics.status_by_day.items()} == {
        date(2025, 3, 2): 9
    }
    assert analytics.pickup_rate_by_day == {date(2025, 3, 2): 40.0}
    assert analytics.success_rate_by_day == {date(2025, 3, 2): 11.1}
    assert analytics.cost_by_day == {date(2025, 3, 2): 1.5}
    assert (analytics.events.calendar_booked, analytics.events.sms_sent) == (1, 3)
    assert analytics.events.email_sent is None


async def test_missing_fields_are_none_or_empty(loopback: Connect, nlpearl: NLPearlStandIn) -> None:
    nlpearl.set_analytics(SAMPLE_PEARL_ID, {"callsStatusOverview": {"totalCalls": 4}})

    analytics = await march(loopback())

    assert analytics.status_overview == StatusOverview(total_calls=4)
    assert analytics.status_by_day == {}
    assert analytics.pickup_rate_by_day == analytics.success_rate_by_day == {}
    assert analytics.cost_by_day == {}
    assert analytics.events == CallEvents()


async def test_a_5xx_then_a_429_are_retried_as_a_read(
    loopback: Connect, nlpearl: NLPearlStandIn, fake_time: FakeClock
) -> None:
    nlpearl.fail_next(analytics_path("v2"), status=502, method="POST")
    nlpearl.fail_next(analytics_path("v2"), status=429, headers={"Retry-After": "1"}, method="POST")

    analytics = await march(loopback())

    assert analytics.status_overview.total_calls == 0
    assert len(nlpearl.requests()) == 3
    assert len(fake_time.sleeps) == 2
    assert fake_time.sleeps[1] == 1.0


async def test_a_read_that_keeps_failing_is_unavailable_not_unconfirmed(
    loopback: Connect, nlpearl: NLPearlStandIn
) -> None:
    nlpearl.fail_next(analytics_path("v1"), status=503, times=3, method="POST")

    with pytest.raises(Unavailable) as failure:
        await march(loopback("v1"))

    assert type(failure.value) is Unavailable, "a read leaves nothing in doubt"
    assert len(nlpearl.requests()) == 3


async def test_a_persistent_429_is_rate_limited(loopback: Connect, nlpearl: NLPearlStandIn) -> None:
    nlpearl.fail_next(analytics_path("v2"), status=429, times=3, method="POST")

    with pytest.raises(RateLimited):
        await march(loopback())

    assert len(nlpearl.requests()) == 3


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_an_unknown_campaign_is_not_found(
    loopback: Connect, nlpearl: NLPearlStandIn, version: str
) -> None:
    with pytest.raises(NotFound):
        await march(loopback(version), UNKNOWN_PEARL_ID)

    assert [r.path for r in nlpearl.requests()] == [analytics_path(version, UNKNOWN_PEARL_ID)]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(MARCH_1, MARCH_1, id="empty"),
        pytest.param(MARCH_3_END, MARCH_1, id="backwards"),
        pytest.param(MARCH_1, MARCH_1 + timedelta(days=90, milliseconds=1), id="over-90-days"),
        pytest.param(MARCH_1, MARCH_1 + timedelta(microseconds=999), id="same-millisecond"),
        pytest.param(MARCH_1.replace(tzinfo=None), MARCH_3_END, id="naive-start"),
        pytest.param(MARCH_1, MARCH_3_END.replace(tzinfo=None), id="naive-end"),
    ],
)
async def test_a_bad_range_is_a_value_error_before_any_request(
    loopback: Connect, nlpearl: NLPearlStandIn, start: datetime, end: datetime
) -> None:
    with pytest.raises(ValueError, match="analytics"):
        await loopback().get_analytics(SAMPLE_PEARL_ID, start=start, end=end)

    assert nlpearl.requests() == []


async def test_exactly_90_days_is_allowed(loopback: Connect, nlpearl: NLPearlStandIn) -> None:
    end = MARCH_1 + timedelta(days=90)

    analytics = await loopback().get_analytics(SAMPLE_PEARL_ID, start=MARCH_1, end=end)

    assert len(analytics.status_by_day) == 91, "one entry per day touched, both ends included"
    assert nlpearl.requests()[0].json()["to"] == "2025-05-30T00:00:00.000Z"


# --- answers, from a mock ---------------------------------------------------------------------


async def _analytics_answered(server: Server) -> Analytics:
    """The analytics the client reads when NLPearl answers as `server` does."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        client = NLPearlClient(http, api_key=API_KEY, sleep=FakeClock().sleep)
        return await march(client, "p1")


@pytest.mark.parametrize("body", [[FULL_ANSWER], "analytics", 42, True])
async def test_an_answer_that_is_not_an_object_is_a_bad_response(body: Any) -> None:
    server = Server(ok(body))

    with pytest.raises(BadResponse):
        await _analytics_answered(server)

    assert server.paths == ["/v2/Pearl/p1/Analytics"]


async def test_odd_values_are_read_or_dropped_one_by_one() -> None:
    body = {
        "callsStatusOverview": {"totalCalls": "12", "successful": "many", "error": None},
        "callsStatusTimeLine": [
            {"date": "2025-03-01", "totalCalls": "5"},
            {"date": "not a date", "totalCalls": 99},
            {"totalCalls": 98},
            None,
            "2025-03-02",
            # Late on 2 March in New York is 3 March in UTC.
            {"date": "2025-03-02T22:00:00-05:00", "totalCalls": 7.0},
        ],
        "callsPickupRateTimeLine": [
            {"date": "2025-03-01T00:00:00.0000000Z", "pickupRatePercentage": "45.5%"},
            {"date": "2025-03-02", "pickupRatePercentage": None},
            {"date": "2025-03-03", "pickupRatePercentage": "NaN"},
        ],
        # A fraction is not told from a small percent: 0.4 stays 0.4 (percent).
        "callsSuccessRateTimeLine": [{"date": "2025-03-01", "successRatePercentage": 0.4}],
        "callsCostTimeLine": {"date": "2025-03-01", "totalPrice": 3},
        "callEventsCounts": ["calendarBookedCount", 3],
        "somethingNew": {"totalCalls": 1},
    }

    analytics = await _analytics_answered(Server(ok(body)))

    assert analytics.status_overview == StatusOverview(total_calls=12)
    assert {day: s.total_calls for day, s in analytics.status_by_day.items()} == {
        date(2025, 3, 1): 5,
        date(2025, 3, 3): 7,
    }
    assert analytics.pickup_rate_by_day == {date(2025, 3, 1): 45.5}
    assert analytics.success_rate_by_day == {date(2025, 3, 1): 0.4}
    assert analytics.cost_by_day == {}
    assert analytics.events == CallEvents()


# --- properties -------------------------------------------------------------------------------

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=24,
)
TOP_KEYS = [
    "callsStatusOverview",
    "CallsStatusTimeLine",
    "callsStatusTimeLine",
    "callsPickupRateTimeLine",
    "callsSuccessRateTimeLine",
    "callsCostTimeLine",
    "callEventsCounts",
    "CALLEVENTSCOUNTS",
]
ENTRY_KEYS = [
    "date",
    "Date",
    "totalCalls",
    "voiceMailLeft",
    "pickupRatePercentage",
    "successRatePercentage",
    "totalPrice",
    "calendarBookedCount",
    "smsSentCount",
]
HOSTILE = (
    SCALARS
    | st.sampled_from(["", " ", "1e999", "-0", "12%", "%", "0001-01-01T00:00:00+01:00"])
    | st.sampled_from(["9999-12-31T23:59:59-01:00", "2025-02-30", "2025-03-01T25:00:00Z"])
    | st.integers(min_value=10**18, max_value=10**40)
    | st.datetimes(timezones=st.timezones()).map(datetime.isoformat)
    | st.dates().map(date.isoformat)
)
ENTRY = st.dictionaries(st.sampled_from(ENTRY_KEYS), HOSTILE | JSON, max_size=5)
SECTION = ENTRY | st.lists(ENTRY | JSON, max_size=4) | JSON
ANSWER = st.dictionaries(st.sampled_from(TOP_KEYS) | st.text(max_size=8), SECTION, max_size=6)


@settings(max_examples=100, deadline=None)
@given(body=JSON)
def test_any_json_is_analytics_or_a_validation_error(body: Any) -> None:
    try:
        analytics = Analytics.model_validate(body)
    except ValidationError:
        assert not isinstance(body, dict), "an object never fails"
        return
    assert isinstance(analytics, Analytics)


@settings(max_examples=100, deadline=None)
@given(body=ANSWER)
def test_any_object_with_the_real_keys_is_read_without_raising(body: dict[str, Any]) -> None:
    analytics = Analytics.model_validate(body)

    assert isinstance(analytics.status_overview, StatusOverview)
    assert isinstance(analytics.events, CallEvents)
    timelines = (
        analytics.pickup_rate_by_day,
        analytics.success_rate_by_day,
        analytics.cost_by_day,
    )
    assert all(type(day) is date for timeline in timelines for day in timeline)
    assert all(isinstance(value, float) for timeline in timelines for value in timeline.values())
    assert all(type(day) is date for day in analytics.status_by_day)
