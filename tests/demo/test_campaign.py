"""The sandbox's simulated campaign: its moves, pace, refills, and bodies the app can read."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.demo.campaign import (
    ALLOWED_MOVES,
    FINAL_STATUSES,
    NEW,
    Campaign,
    Event,
    EventKind,
)
from bot.nlpearl.models import Analytics, Call, Lead, Pearl
from bot.parsing.webhooks import CallUpdate, LeadChange, parse_webhook


def run(campaign: Campaign, seconds: float, step: float = 0.5) -> list[Event]:
    """Every event of the next `seconds` of simulated time, advanced `step` at a time."""
    events: list[Event] = []
    moment = campaign.now
    end = moment + timedelta(seconds=seconds)
    while moment < end:
        moment = min(end, moment + timedelta(seconds=step))
        events += campaign.advance(moment)
    return events


def lead_moves(events: list[Event]) -> list[tuple[str, int, int]]:
    """Each lead status change as (lead ID, from, to), every lead starting New."""
    statuses: dict[str, int] = {}
    moves = []
    for event in events:
        if event.kind is EventKind.LEAD:
            before = statuses.get(event.lead_id, NEW)
            statuses[event.lead_id] = event.webhook["status"]
            moves.append((event.lead_id, before, event.webhook["status"]))
    return moves


def test_a_seed_gives_the_same_campaign() -> None:
    first, second = Campaign(seed=11), Campaign(seed=11)
    assert [e.webhook for e in run(first, 120)] == [e.webhook for e in run(second, 120)]
    assert first.leads() == second.leads()
    assert [e.webhook for e in run(Campaign(seed=12), 120)] != [e.webhook for e in run(first, 0)]


def test_leads_are_varied_and_fictional() -> None:
    leads = Campaign(seed=5).leads()
    assert len(leads) == 36
    phones = [lead["phoneNumber"] for lead in leads]
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert re.fullmatch(r"\+1\d{3}55501\d\d|\+442079460\d{3}", phone), phone
    assert len({lead["callData"]["firstName"] for lead in leads}) > 15
    assert all(lead["externalId"].startswith("crm-00") for lead in leads)
    assert all(lead["callData"]["emailAddress"].endswith("@example.com") for lead in leads)
    assert all(float(lead["timeZone"]) <= 0 for lead in leads)


@pytest.mark.parametrize("seed", range(12))
def test_the_first_events_come_within_two_seconds(seed: int) -> None:
    campaign = Campaign(seed=seed)
    assert campaign.advance(campaign.start + timedelta(seconds=2))


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_something_happens_every_few_seconds(seed: int) -> None:
    campaign = Campaign(seed=seed)
    events = run(campaign, 600, step=0.25)
    moments = sorted({(e.at - campaign.start).total_seconds() for e in events})
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert max(gaps) <= 3.0
    assert 40 <= len(events) / 10 <= 120  # events a minute


@pytest.mark.parametrize("seed", [2, 3, 9])
def test_leads_move_only_as_nlpearl_moves_them(seed: int) -> None:
    events = run(Campaign(seed=seed), 900)
    moves = lead_moves(events)
    assert moves
    for lead_id, before, after in moves:
        assert after in ALLOWED_MOVES.get(before, ()), (lead_id, before, after)
    seen = {after for _, _, after in moves}
    assert {20, 40, 10, 100, 110}.issubset(seen)


def test_every_lead_ends_done_or_is_called_back() -> None:
    campaign = Campaign(seed=4, leads=36, max_leads=72)
    first_batch = campaign.lead_ids()
    events = run(campaign, 1800, step=2)
    moves = lead_moves(events)
    last_status = {lead_id: after for lead_id, _, after in moves}
    # The first batch is done: some still shown, the oldest retired for newer batches.
    retired = {lead_id for lead_id, _ in campaign.take_retired()}
    assert retired
    for lead_id in first_batch:
        assert lead_id in retired or campaign.is_done(lead_id)
        assert last_status[lead_id] in FINAL_STATUSES | {70}
    assert 1 <= sum(last_status[i] == 30 for i in first_batch) <= 2
    # A lead left to retry was queued again afterwards (within the minute a retry waits).
    then = lead_moves(events + run(campaign, 120, step=2))
    for index, (lead_id, _, after) in enumerate(moves):
        if after == 10:
            assert (lead_id, 10, 20) in then[index:]


def test_unanswered_three_times_is_unreachable() -> None:
    campaign = Campaign(seed=8, max_leads=36)
    events = run(campaign, 1800, step=2)
    calls_by_lead = Counter(e.lead_id for e in events if e.kind is EventKind.CALL_STARTED)
    for lead in campaign.leads():
        if lead["status"] == 150:
            unanswered = [c for c in lead["callsId"] if campaign.call(c)["status"] in (5, 6, 7)]
            assert len(unanswered) == 3
        assert calls_by_lead[lead["id"]] <= 5


def test_a_fresh_batch_comes_when_none_is_left_to_call() -> None:
    campaign = Campaign(seed=6, leads=10, max_leads=25)
    assert len(campaign.lead_ids()) == 10
    run(campaign, 1200, step=1)
    lead_ids = campaign.lead_ids()
    assert len(lead_ids) == 25
    # The last batch, cut to the cap, came after the others.
    created = [campaign.lead(lead_id)["created"] for lead_id in lead_ids]
    assert created == sorted(created)
    assert created[0] < created[-1]


def test_webhooks_read_as_the_app_reads_them() -> None:
    campaign = Campaign(seed=13)
    events = run(campaign, 600)
    kinds = Counter(e.kind for e in events)
    assert kinds[EventKind.CALL_STARTED] >= kinds[EventKind.CALL_ENDED] > 10
    for event in events:
        parsed = parse_webhook(event.webhook)
        body = event.webhook
        if event.kind is EventKind.LEAD:
            assert isinstance(parsed, LeadChange)
            lead = Lead.model_validate(body)
            assert (lead.id, lead.status, lead.pearl_id) == (
                event.lead_id,
                body["status"],
                campaign.id,
            )
            assert parsed.lead == lead
        else:
            assert isinstance(parsed, CallUpdate)
            call = Call.model_validate(body)
            assert parsed.phase == ("start" if event.kind is EventKind.CALL_STARTED else "end")
            assert call.id == event.call_id
            assert call.conversation_status == body["conversationStatus"]
            assert call.to == campaign.lead(event.lead_id)["phoneNumber"]


def test_ended_calls_carry_what_the_lead_said() -> None:
    campaign = Campaign(seed=21)
    ended = [e for e in run(campaign, 900) if e.kind is EventKind.CALL_ENDED]
    successes = [
        Call.model_validate(e.webhook) for e in ended if e.webhook["conversationStatus"] == 100
    ]
    assert successes
    for call in successes:
        assert call.recording_url
        assert call.recording_url.endswith(f"/{call.id}.wav")
        assert [m.role for m in call.transcript][:2] == [3, 2]
        assert call.transcript[0].content
        assert call.name
        assert call.transcript[0].content.startswith(f"Hi {call.name.split()[0]}")
        assert {i.id for i in call.collected_info} >= {"preferredDay", "isHomeowner", "roofAge"}
        assert call.summary
        assert call.overall_sentiment in (4, 5)
        assert 6 <= (call.duration or 0) <= 20
    unanswered = [Call.model_validate(e.webhook) for e in ended if e.webhook["status"] in (5, 6, 7)]
    assert unanswered
    assert all(c.recording is None and c.duration == 0 for c in unanswered)


def test_leads_keep_their_calls_and_answers() -> None:
    campaign = Campaign(seed=17)
    run(campaign, 900)
    succeeded = [lead for lead in campaign.leads() if lead["status"] == 100]
    assert succeeded
    for body in succeeded:
        lead = Lead.model_validate(body)
        assert lead.last_call is not None
        assert lead.last_call.id == lead.calls_id[-1]
        assert lead.collected_data["isHomeowner"] is True
        assert lead.collected_data["preferredDay"] == lead.last_call.collected_info[0].value


def test_pearl_and_analytics_count_what_happened() -> None:
    campaign = Campaign(seed=19)
    run(campaign, 600)
    pearl = Pearl.model_validate(campaign.pearl())
    counts = campaign.counts()
    assert pearl.id == campaign.id
    assert pearl.name == campaign.name
    assert pearl.total_leads == sum(counts.values())
    assert pearl.total_leads_success == counts[100]
    assert pearl.total_today_calls == len(campaign.calls())
    assert pearl.total_ongoing_calls == counts[40] <= 3
    done = sum(counts[s] for s in FINAL_STATUSES)
    assert done <= (pearl.total_leads_completed or 0) <= done + counts[70]
    analytics = Analytics.model_validate(campaign.analytics())
    ended = [c for c in campaign.calls() if c["status"] != 3]
    assert analytics.status_overview.total_calls == len(ended)
    assert analytics.status_overview.successful == sum(
        c["conversationStatus"] == 100 for c in ended
    )
    today = campaign.now.date()
    assert analytics.status_by_day[today] == analytics.status_overview
    assert 0 < analytics.pickup_rate_by_day[today] < 100


steps = st.lists(st.floats(min_value=-5, max_value=40, allow_nan=False), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), steps=steps)
def test_any_advance_keeps_the_campaign_sound(seed: int, steps: list[float]) -> None:
    campaign = Campaign(seed=seed, leads=8, max_leads=30)
    moment, reached = campaign.start, campaign.start
    on_call: dict[str, str] = {}  # call ID -> lead ID
    for step in steps:
        moment += timedelta(seconds=step)
        events = campaign.advance(moment)
        for event in events:
            # Time never goes backwards, nor past the time asked for.
            assert reached <= event.at <= max(moment, reached)
            reached = event.at
            if event.kind is EventKind.CALL_STARTED:
                assert event.lead_id not in on_call.values()
                on_call[str(event.call_id)] = event.lead_id
                assert len(on_call) <= 3
            elif event.kind is EventKind.CALL_ENDED:
                assert on_call.pop(str(event.call_id)) == event.lead_id
        reached = max(reached, moment)
        assert campaign.now == reached
        assert campaign.counts()[40] == len(on_call) == campaign.pearl()["totalOngoingCalls"]


def test_an_earlier_time_changes_nothing() -> None:
    campaign = Campaign(seed=1)
    run(campaign, 30)
    before = campaign.leads()
    assert campaign.advance(campaign.start) == []
    assert campaign.advance(datetime.min.replace(tzinfo=campaign.start.tzinfo)) == []
    assert campaign.leads() == before


def test_leads_called_before_the_start_have_history_and_no_webhooks() -> None:
    campaign = Campaign(seed=3, leads=12)
    earlier = campaign.call_earlier()

    assert [call["conversationStatus"] for call in earlier] == [100, 110, 70, 100]
    for call in earlier:
        assert call["transcript"]
        assert call["summary"]
        assert call["recording"]
        assert datetime.fromisoformat(call["startTime"]) < campaign.start
        assert 60 <= call["duration"] <= 150
    example = campaign.lead(campaign.example_lead_id())
    assert example["status"] == 100
    assert example["callsId"] == [earlier[0]["id"]]
    assert example["lastCall"]["summary"] == earlier[0]["summary"]
    # They happened before anyone subscribed: the first advance tells only of new moves.
    events = campaign.advance(campaign.start + timedelta(seconds=5))
    assert all(event.webhook.get("id") not in {c["id"] for c in earlier} for event in events)


def test_a_status_the_app_sets_is_told_and_a_stopped_lead_is_never_called() -> None:
    campaign = Campaign(seed=5, leads=8, max_leads=8)
    stopped = campaign.lead_ids()[-1]
    campaign.set_status(stopped, 130)
    [told] = campaign.take_events()
    assert (told.lead_id, told.webhook["status"]) == (stopped, 130)

    events = run(campaign, 600)
    assert stopped not in {e.lead_id for e in events if e.kind is EventKind.CALL_STARTED}
    assert stopped not in campaign.lead_ids() or campaign.lead(stopped)["status"] == 130


def test_called_again_goes_to_the_front_of_the_line() -> None:
    campaign = Campaign(seed=5, leads=8)
    done = campaign.call_earlier()[0]
    lead_id = next(i for i in campaign.lead_ids() if done["id"] in campaign.lead(i)["callsId"])
    campaign.set_status(lead_id, NEW)
    assert [e.webhook["status"] for e in campaign.take_events()] == [NEW, 20]

    events = run(campaign, 30)
    calls = [e for e in events if e.kind is EventKind.CALL_STARTED]
    assert lead_id in {e.lead_id for e in calls[:3]}


def test_a_lead_on_a_call_takes_the_apps_status_when_the_call_ends() -> None:
    campaign = Campaign(seed=5, leads=8)
    events = run(campaign, 5)
    on_call = next(e.lead_id for e in events if e.kind is EventKind.CALL_STARTED)
    campaign.set_status(on_call, 130)
    assert campaign.take_events() == []
    run(campaign, 60)
    assert campaign.lead(on_call)["status"] == 130


def test_a_lead_added_through_the_api_is_adopted_once_with_its_own_call_data() -> None:
    campaign = Campaign(seed=5, leads=8)
    added = {"id": "6700000000000000000000aa", "phoneNumber": "+14155550199", "status": 1}
    added |= {"callData": {"firstName": "Ada", "favourite": "tea"}, "created": "2026-01-01"}

    assert campaign.adopt(added)
    assert not campaign.adopt(added)
    assert not campaign.adopt({"phoneNumber": "+1"})
    lead = campaign.lead(added["id"])
    assert lead["callData"] == {"firstName": "Ada", "favourite": "tea"}
    assert lead["status"] == 20


def test_a_campaign_left_running_keeps_moving_in_bounded_memory() -> None:
    campaign = Campaign(seed=6, leads=12, max_leads=24)
    run(campaign, 3600, step=5)
    assert len(campaign.lead_ids()) <= 24
    assert len(campaign.calls()) < 24 * 6
    # Still calling an hour on, long after the first 24 leads were done.
    late = run(campaign, 60)
    assert any(event.kind is EventKind.CALL_STARTED for event in late)
