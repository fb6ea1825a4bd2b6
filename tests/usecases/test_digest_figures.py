"""The digest's figures from NLPearl's analytics and the feed's counts, and when it was last due."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.blocks.digest import digest_message, digest_without_chart
from bot.nlpearl.models import Analytics, Pearl, StatusOverview
from bot.parsing.schedule import next_due
from bot.reports import DayPoint, Rate
from bot.storage.rows import DigestInfo, Workspace
from bot.storage.watch import FeedCounts
from bot.usecases.digests import (
    DigestFigures,
    _latest_due,
    _rate,
    differences,
    fortnight,
    shape_digest,
)
from tests.blocks.hostile import hostile_text
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message

Json = dict[str, Any]

CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
DAY = date(2026, 1, 11)
DUE = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
INFO = DigestInfo(
    id=7,
    workspace=Workspace("T0TEST"),
    channel_id="C0DIGEST",
    campaign_id=CAMPAIGN_ID,
    at_time="09:00",
    time_zone="UTC",
    next_due_at=DUE,
    created_by="U0ADMIN",
    problem=None,
)
PEARL = Pearl.model_validate(
    {"id": CAMPAIGN_ID, "name": "Solar", "budgetConsumed": 312.5, "budgetTotal": 1500}
)
FEED = FeedCounts(leads_by_status={100: 14, 110: 3}, calls_ended=112, webhooks=130)


def stamp(day: date) -> str:
    """A timeline entry's date, as NLPearl writes it."""
    return f"{day.isoformat()}T00:00:00Z"


def days_before(n: int) -> date:
    return DAY - timedelta(days=n)


def timeline(field: str, values: dict[int, Any]) -> list[Json]:
    """A daily timeline of one field, keyed by how many days before DAY."""
    return [{"date": stamp(days_before(n)), field: value} for n, value in values.items()]


def analytics(**parts: Any) -> Analytics:
    return Analytics.model_validate(parts)


def figures(
    *,
    campaign: Pearl | None = PEARL,
    day: Analytics | None = None,
    span: Analytics | None = None,
    attention: int | None = 2,
    feed: FeedCounts | None = None,
) -> DigestFigures:
    return DigestFigures(campaign, day or analytics(), span or analytics(), attention, feed)


# Rates: the day's, and the mean of the seven days before


def test_a_rate_is_the_days_and_the_mean_of_the_seven_days_before() -> None:
    # Day 3 is missing and day 8 is outside the week: neither counts.
    span = analytics(
        callsSuccessRateTimeLine=timeline(
            "successRatePercentage", {0: 40, 1: 10, 2: "20%", 4: 30, 8: 1000}
        ),
        callsPickupRateTimeLine=timeline("pickupRatePercentage", {0: 61.5, 7: 50}),
    )

    digest = shape_digest(INFO, DAY, figures(span=span), late_by=None)

    assert digest.success == Rate(40.0, 20.0)
    assert digest.reached == Rate(61.5, 50.0)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({0: 12}, Rate(12.0, None)),
        ({1: 10, 7: 20}, Rate(None, 15.0)),
        ({}, Rate(None, None)),
        ({0: 0, 1: 0}, Rate(0.0, 0.0)),
        ({0: None, 1: "n/a", 2: 9}, Rate(None, 9.0)),
    ],
)
def test_a_day_nlpearl_did_not_report_is_left_out(values: dict[int, Any], expected: Rate) -> None:
    span = analytics(callsSuccessRateTimeLine=timeline("successRatePercentage", values))

    assert _rate(None, span, DAY, lambda a, d: a.success_rate_by_day.get(d)) == expected


def test_without_the_timeline_no_rate_is_known() -> None:
    digest = shape_digest(INFO, DAY, figures(span=None), late_by=None)

    assert digest.reached == digest.success == digest.voicemail == Rate(None, None)
    assert _rate(None, None, DAY, lambda a, d: 1.0) == Rate(None, None)


def test_the_voicemail_rate_is_voicemails_over_calls() -> None:
    statuses = [
        {"date": stamp(DAY), "totalCalls": 80, "voiceMailLeft": 20},
        {"date": stamp(days_before(1)), "totalCalls": 100, "voiceMailLeft": 50},
        {"date": stamp(days_before(2)), "totalCalls": 40, "VoiceMailLeft": 0},
        # No calls, or no count of voicemails: no rate, not a zero one.
        {"date": stamp(days_before(3)), "totalCalls": 0, "voiceMailLeft": 0},
        {"date": stamp(days_before(4)), "totalCalls": 50},
    ]

    digest = shape_digest(
        INFO, DAY, figures(span=analytics(callsStatusTimeLine=statuses)), late_by=None
    )

    assert digest.voicemail == Rate(25.0, 25.0)


# Outcomes, counts and what NLPearl did not give


def test_outcomes_are_labelled_in_order_without_zero_counts() -> None:
    overview = {
        "totalCalls": 112,
        "error": 8,
        "wrongNumber": 1,
        "needFollowUp": 2,
        "voiceMailLeft": 30,
        "unsuccessful": 0,
        "completed": None,
        "successful": 14,
        "needRetry": "20",
    }

    digest = shape_digest(
        INFO, DAY, figures(day=analytics(callsStatusOverview=overview)), late_by=None
    )

    assert digest.calls == 112
    assert digest.outcomes == (
        ("✅ Success", 14),
        ("📼 Voicemail left", 30),
        ("📌 Needs follow-up", 2),
        ("🔁 Needs retry", 20),
        ("☎️ Wrong number", 1),
        ("⚠️ Error", 8),
    )


def test_counts_come_from_the_day_and_the_budget_from_the_campaign() -> None:
    day = analytics(
        callsStatusOverview={"totalCalls": 0},
        callEventsCounts={"calendarBookedCount": 9, "callTransferredCount": 4},
    )

    digest = shape_digest(INFO, DAY, figures(day=day, attention=0), late_by=None)

    assert (digest.calls, digest.outcomes) == (0, ())
    assert (digest.bookings, digest.transfers) == (9, 4)
    assert (digest.campaign_name, digest.budget_used, digest.budget_total) == ("Solar", 312.5, 1500)
    assert digest.attention == 0
    assert (digest.day, digest.time_zone, digest.campaign_id) == (DAY, "UTC", CAMPAIGN_ID)
    assert digest.missing == ()


@pytest.mark.parametrize(
    ("gone", "missing"),
    [
        ((), ()),
        (("campaign",), ("the campaign",)),
        (("day",), ("the day's analytics",)),
        (("span", "attention"), ("the 14-day analytics", "the leads needing attention")),
        (
            ("campaign", "day", "span", "attention"),
            (
                "the campaign",
                "the day's analytics",
                "the 14-day analytics",
                "the leads needing attention",
            ),
        ),
    ],
)
def test_what_nlpearl_could_not_give_is_named(
    gone: tuple[str, ...], missing: tuple[str, ...]
) -> None:
    parts = DigestFigures(
        campaign=None if "campaign" in gone else PEARL,
        day_analytics=None if "day" in gone else analytics(),
        range_analytics=None if "span" in gone else analytics(),
        attention=None if "attention" in gone else 3,
        feed=None,
    )

    digest = shape_digest(INFO, DAY, parts, late_by=None)

    assert digest.missing == missing


def test_without_the_days_analytics_its_figures_are_unknown() -> None:
    parts = DigestFigures(None, None, None, None, FEED)

    digest = shape_digest(INFO, DAY, parts, late_by=timedelta(hours=2))

    assert (digest.calls, digest.outcomes, digest.bookings, digest.transfers) == (
        None,
        (),
        None,
        None,
    )
    assert (digest.campaign_name, digest.budget_used, digest.budget_total) == (None, None, None)
    assert digest.differences == ()
    assert digest.late_by == timedelta(hours=2)
    assert digest.chart_file_id is None


# The chart's fortnight


def test_the_chart_has_fourteen_days_oldest_first_and_unreported_days_blank() -> None:
    span = analytics(
        callsStatusTimeLine=timeline("totalCalls", {0: 112, 1: 90, 13: 5, 14: 999}),
        callsSuccessRateTimeLine=timeline("successRatePercentage", {0: 12.5, 2: 10}),
    )

    points = fortnight(span, DAY)

    assert [p.day for p in points] == [days_before(n) for n in range(13, -1, -1)]
    assert points[0] == DayPoint(days_before(13), 5, None)
    assert points[-3:] == (
        DayPoint(days_before(2), None, 10.0),
        DayPoint(days_before(1), 90, None),
        DayPoint(DAY, 112, 12.5),
    )
    assert all(p == DayPoint(p.day, None, None) for p in points[1:-3])
    assert fortnight(None, DAY) == tuple(
        DayPoint(days_before(n), None, None) for n in range(13, -1, -1)
    )


# The feed against NLPearl


def test_fewer_webhooks_than_nlpearl_counted_may_have_been_lost() -> None:
    overview = StatusOverview(total_calls=112, successful=16)

    said = differences(overview, FEED)

    assert said == (
        "NLPearl counted 16 successful leads; the feed received 14 successes "
        "(2 webhook(s) may not have arrived).",
    )


def test_more_webhooks_than_nlpearl_counted_is_said_the_other_way() -> None:
    overview = StatusOverview(total_calls=100, successful=14)

    said = differences(overview, FEED)

    assert said == (
        "The feed received 112 call results, NLPearl counted 100 calls "
        "(NLPearl may count by another day boundary or still be catching up).",
    )


def test_both_counts_can_differ_at_once() -> None:
    overview = StatusOverview(total_calls=120, successful=1)

    calls, successes = differences(overview, FEED)

    assert calls.startswith("NLPearl counted 120 calls; the feed received 112 call results")
    assert successes.startswith("The feed received 14 successes, NLPearl counted 1 successful")


@pytest.mark.parametrize(
    ("overview", "feed"),
    [
        (StatusOverview(total_calls=112, successful=14), FEED),
        (StatusOverview(), FEED),
        (StatusOverview(total_calls=None, successful=14), FEED),
        (None, FEED),
        (StatusOverview(total_calls=5, successful=5), None),
        (StatusOverview(total_calls=0, successful=0), FeedCounts({}, 0, 0)),
    ],
)
def test_no_difference_when_they_agree_or_one_is_unknown(
    overview: StatusOverview | None, feed: FeedCounts | None
) -> None:
    assert differences(overview, feed) == ()


def test_the_digest_carries_the_differences_of_the_day() -> None:
    day = analytics(callsStatusOverview={"totalCalls": 113, "successful": 14})

    digest = shape_digest(INFO, DAY, figures(day=day, feed=FEED), late_by=None)

    assert len(digest.differences) == 1
    assert "1 webhook(s) may not have arrived" in digest.differences[0]


# When the digest was last due


def _info(next_due_at: datetime, at_time: str = "09:00", zone: str = "UTC") -> DigestInfo:
    return dataclasses.replace(INFO, next_due_at=next_due_at, at_time=at_time, time_zone=zone)


@pytest.mark.parametrize(
    ("down_for", "now", "latest"),
    [
        ("no time", DUE, DUE),
        ("a tick", DUE + timedelta(seconds=30), DUE),
        ("most of a day", DUE + timedelta(hours=23, minutes=59), DUE),
        ("one day", DUE + timedelta(days=1, hours=1), DUE + timedelta(days=1)),
        ("one day to the minute", DUE + timedelta(days=1), DUE + timedelta(days=1)),
        ("three days", DUE + timedelta(days=3, hours=5), DUE + timedelta(days=3)),
        (
            "three days, not yet the time",
            DUE + timedelta(days=3, hours=-1),
            DUE + timedelta(days=2),
        ),
    ],
)
def test_after_downtime_only_the_latest_due_moment_counts(
    down_for: str, now: datetime, latest: datetime
) -> None:
    assert _latest_due(_info(DUE), now) == latest, down_for


def test_the_latest_due_moment_is_in_the_digests_own_zone() -> None:
    # 09:00 in Paris is 08:00 UTC in winter.
    due = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)

    latest = _latest_due(_info(due, zone="Europe/Paris"), due + timedelta(days=3, minutes=1))

    assert latest == due + timedelta(days=3)


STEADY_ZONES = ("UTC", "Asia/Tokyo", "Asia/Kolkata", "America/Bogota", "Asia/Kathmandu")


def _moments(at_time: str, zone: str, first: datetime, until: datetime) -> list[datetime]:
    """Every moment the digest was due from `first` up to `until`, one by one."""
    found = [first]
    while (following := next_due(at_time, zone, found[-1])) <= until:
        found.append(following)
    return found


@settings(max_examples=100, deadline=None)
@given(
    zone=st.sampled_from(STEADY_ZONES),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1)),
    down=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)),
)
def test_the_latest_due_moment_is_the_last_one_missed(
    zone: str, hour: int, minute: int, start: datetime, down: timedelta
) -> None:
    at_time = f"{hour:02d}:{minute:02d}"
    first = next_due(at_time, zone, start.replace(tzinfo=UTC))
    now = first + down

    assert _latest_due(_info(first, at_time, zone), now) == _moments(at_time, zone, first, now)[-1]


# Once a bug: around a change of clocks the day before is 23 or 25 hours long, and one day
# back from now lands on the wrong side of a due moment.
@pytest.mark.parametrize(
    ("zone", "next_due_at", "now", "latest"),
    [
        # New York springs forward on 8 March 2026: 09:00 is 14:00 UTC on the 7th, 13:00 on the
        # 8th. Down since the 6th and back at 13:30 UTC on the 8th, it queues the 7th's.
        (
            "America/New_York",
            datetime(2026, 3, 6, 14, 0, tzinfo=UTC),
            datetime(2026, 3, 8, 13, 30, tzinfo=UTC),
            datetime(2026, 3, 8, 13, 0, tzinfo=UTC),
        ),
        # London falls back on 26 October 2025: 09:00 is 08:00 UTC on the 25th, 09:00 on the
        # 26th. Down since the 24th and back at 08:30 UTC on the 26th, it queues the 24th's,
        # which is over a day old, so the sender drops it and no digest goes out.
        (
            "Europe/London",
            datetime(2025, 10, 24, 8, 0, tzinfo=UTC),
            datetime(2025, 10, 26, 8, 30, tzinfo=UTC),
            datetime(2025, 10, 25, 8, 0, tzinfo=UTC),
        ),
    ],
)
def test_across_a_change_of_clocks_the_latest_due_moment_is_still_the_last_one_missed(
    zone: str, next_due_at: datetime, now: datetime, latest: datetime
) -> None:
    assert _moments("09:00", zone, next_due_at, now)[-1] == latest
    assert _latest_due(_info(next_due_at, zone=zone), now) == latest


# Any figures at all make a digest Slack takes


# NLPearl's numbers are int64 and doubles; those past the float range are tried just below.
numbers = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(min_value=-1e300, max_value=1e300),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), "12%", " 7 ", "", "1e3"]),
    st.text(max_size=6),
)
junk = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
dates = st.one_of(
    st.integers(-2, 20).map(lambda n: stamp(days_before(n))),
    st.integers(-2, 20).map(lambda n: f"{days_before(n).isoformat()}T23:30:00-05:00"),
    st.datetimes().map(lambda moment: moment.isoformat()),
    junk,
)
STATUS_KEYS = (
    "totalCalls",
    "totalLeads",
    "needRetry",
    "wrongCountryCode",
    "needFollowUp",
    "voiceMailLeft",
    "successful",
    "unsuccessful",
    "wrongNumber",
    "completed",
    "unreachable",
    "error",
)
counts = st.fixed_dictionaries({}, optional=dict.fromkeys(STATUS_KEYS, numbers))


def entries(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A timeline: entries with a date and the given fields, now and then something else."""
    entry = st.fixed_dictionaries({"date": dates}, optional=fields)
    return st.one_of(st.lists(st.one_of(entry, entry, junk), max_size=24), junk)


analytics_json = st.fixed_dictionaries(
    {},
    optional={
        "callsStatusOverview": st.one_of(counts, junk),
        "callsStatusTimeLine": entries(totalCalls=numbers, voiceMailLeft=numbers),
        "callsPickupRateTimeLine": entries(pickupRatePercentage=numbers),
        "callsSuccessRateTimeLine": entries(successRatePercentage=numbers),
        "callEventsCounts": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={"calendarBookedCount": numbers, "callTransferredCount": numbers},
            ),
            junk,
        ),
    },
)
some_analytics = st.one_of(st.none(), analytics_json.map(Analytics.model_validate))
some_campaign = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {}, optional={"name": hostile_text, "budgetConsumed": numbers, "budgetTotal": numbers}
    ).map(Pearl.model_validate),
)
some_feed = st.one_of(
    st.none(),
    st.builds(
        FeedCounts,
        st.dictionaries(st.integers(-1, 600), st.integers(0, 10**6), max_size=5),
        st.integers(0, 10**9),
        st.integers(0, 10**9),
    ),
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    campaign_id=st.one_of(st.just(CAMPAIGN_ID), hostile_text),
    zone=st.one_of(st.sampled_from(["UTC", "Europe/Paris"]), hostile_text),
    campaign=some_campaign,
    day=some_analytics,
    span=some_analytics,
    attention=st.one_of(st.none(), st.integers()),
    feed=some_feed,
    late_by=st.one_of(st.none(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(3))),
)
def test_any_figures_make_a_digest_slack_accepts(
    campaign_id: str,
    zone: str,
    campaign: Pearl | None,
    day: Analytics | None,
    span: Analytics | None,
    attention: int | None,
    feed: FeedCounts | None,
    late_by: timedelta | None,
) -> None:
    info = dataclasses.replace(INFO, campaign_id=campaign_id, time_zone=zone)

    digest = shape_digest(
        info, DAY, DigestFigures(campaign, day, span, attention, feed), late_by=late_by
    )

    assert len(digest.days) == 14
    for message in (
        digest_message(digest),
        digest_message(dataclasses.replace(digest, chart_file_id="F0UP0000001")),
        digest_without_chart(digest_message(dataclasses.replace(digest, chart_file_id="F0UP1"))),
    ):
        assert_valid_message(message)
        assert_no_injection(message)


# Once a bug: a number NLPearl's JSON can hold but a float sum cannot makes shape_digest raise,
# so the sender retries the digest all day and drops it, and the next week's digests with it.
@pytest.mark.parametrize(
    "span",
    [
        # Two rates near the double limit: statistics.fmean overflows in math.fsum.
        {"callsSuccessRateTimeLine": timeline("successRatePercentage", {1: 1e308, 2: 1e308})},
        # A count with more digits than a double holds: int-to-float conversion overflows.
        {"callsStatusTimeLine": [{"date": stamp(DAY), "totalCalls": 10, "voiceMailLeft": 10**400}]},
        # Voicemail rates of +inf and -inf in the week before: math.fsum refuses to add them.
        {
            "callsStatusTimeLine": [
                {"date": stamp(days_before(1)), "totalCalls": 1, "voiceMailLeft": 10**307},
                {"date": stamp(days_before(2)), "totalCalls": 1, "voiceMailLeft": -(10**307)},
            ]
        },
    ],
    ids=["rates-near-the-double-limit", "a-count-past-the-double-limit", "opposite-infinities"],
)
def test_numbers_past_the_float_range_still_make_a_digest(span: Json) -> None:
    parts = figures(span=Analytics.model_validate(span))

    digest = shape_digest(INFO, DAY, parts, late_by=None)

    assert_valid_message(digest_message(digest))


def test_the_days_rate_weighs_the_utc_days_a_local_day_straddles_by_their_calls() -> None:
    """Tokyo's day spans two UTC days: 30 calls at 10% and 90 at 30% make 25%, not 20%."""
    local_day = analytics(
        callsStatusTimeLine=[
            {"date": stamp(days_before(1)), "totalCalls": 30},
            {"date": stamp(days_before(0)), "totalCalls": 90},
        ],
        callsSuccessRateTimeLine=timeline("successRatePercentage", {1: 10.0, 0: 30.0}),
    )
    fortnight_of = analytics(
        callsSuccessRateTimeLine=timeline("successRatePercentage", {0: 99.0, 1: 10.0, 2: 20.0}),
    )

    rate = _rate(local_day, fortnight_of, DAY, lambda a, d: a.success_rate_by_day.get(d))

    assert rate == Rate(25.0, 15.0)
