"""How each webhook changes what a lead's parent message shows, and how a batch is folded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.blocks.notifications import StatusChange
from bot.feed.deliver import fold
from bot.feed.snapshot import ANSWERS_KEPT, NAMES_KEPT, apply
from bot.parsing.webhooks import CallUpdate, LeadChange, parse_webhook
from bot.records import LeadSnapshot
from tests.feed.samples import (
    CALL_ID,
    CAMPAIGN_ID,
    FIRST_CALL_ID,
    LEAD_ID,
    PHONE,
    v1_call_end,
    v1_lead,
    v2_call_end,
    v2_call_start,
    v2_lead,
)

AT = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)


def lead(**changes: Any) -> LeadChange:
    event = parse_webhook(v2_lead(**changes))
    assert isinstance(event, LeadChange)
    return event


def call_end(**changes: Any) -> CallUpdate:
    event = parse_webhook(v2_call_end(**changes))
    assert isinstance(event, CallUpdate)
    assert event.phase == "end"
    return event


def call_start(**changes: Any) -> CallUpdate:
    event = parse_webhook(v2_call_start(**changes))
    assert isinstance(event, CallUpdate)
    assert event.phase == "start"
    return event


def empty() -> LeadSnapshot:
    return LeadSnapshot(campaign_id=CAMPAIGN_ID)


# Lead changes


def test_a_lead_change_fills_an_empty_snapshot() -> None:
    after = apply(empty(), lead(), AT)

    assert after.campaign_id == CAMPAIGN_ID
    assert after.lead_id == LEAD_ID
    assert after.name == "Maria Gonzalez"
    assert after.phone == PHONE
    assert after.external_id == "crm-004512"
    assert after.status == 100
    assert after.on_call is False
    assert after.calls == 2
    assert after.answers == {"Interested": True, "Roof age": 12, "Preferred day": "Tuesday"}
    assert after.updated_at == AT


def test_a_v1_lead_change_reads_the_same() -> None:
    assert apply(empty(), parse_webhook(v1_lead()), AT) == apply(empty(), lead(), AT)


def test_apply_does_not_change_the_snapshot_it_is_given() -> None:
    before = empty()

    apply(before, lead(), AT)

    assert before == empty()


def test_the_new_status_replaces_the_old() -> None:
    before = apply(empty(), lead(status=20), AT)

    assert apply(before, lead(status=110), AT).status == 110


def test_a_change_without_a_status_keeps_the_old_one() -> None:
    before = apply(empty(), lead(status=20), AT)

    assert apply(before, lead(status=None), AT).status == 20


@pytest.mark.parametrize(
    ("call_data", "name"),
    [
        ({"firstName": "Maria", "lastName": "Gonzalez"}, "Maria Gonzalez"),
        ({"firstName": "Maria"}, "Maria"),
        ({"first_name": "Ann", "last_name": "Lee"}, "Ann Lee"),
        ({"name": "Devon Price"}, "Devon Price"),
        ({"fullName": "  Devon Price  "}, "Devon Price"),
    ],
)
def test_the_name_comes_from_call_data(call_data: dict[str, Any], name: str) -> None:
    assert apply(empty(), lead(callData=call_data), AT).name == name


def test_a_change_without_a_name_keeps_the_known_one() -> None:
    before = apply(empty(), lead(), AT)

    assert apply(before, lead(callData={"agentName": "Ava"}), AT).name == "Maria Gonzalez"
    assert apply(before, lead(callData=None), AT).name == "Maria Gonzalez"


def test_a_change_without_a_phone_keeps_the_known_one() -> None:
    before = apply(empty(), lead(), AT)

    assert apply(before, lead(phoneNumber=None), AT).phone == PHONE


def test_a_new_phone_replaces_the_old() -> None:
    before = apply(empty(), lead(), AT)

    assert apply(before, lead(phoneNumber="+13125550188"), AT).phone == "+13125550188"


def test_status_40_means_on_a_call_and_any_other_status_ends_it() -> None:
    on_call = apply(empty(), lead(status=40), AT)
    after = apply(on_call, lead(status=100), AT)

    assert on_call.on_call is True
    assert after.on_call is False


def test_the_call_count_follows_the_call_ids_and_never_drops() -> None:
    one = apply(empty(), lead(callsId=[FIRST_CALL_ID]), AT)
    two = apply(one, lead(callsId=[FIRST_CALL_ID, CALL_ID]), AT)
    none_listed = apply(two, lead(callsId=None), AT)

    assert (one.calls, two.calls, none_listed.calls) == (1, 2, 2)


def test_answers_merge_new_values_over_old() -> None:
    before = apply(empty(), lead(collectedData={"interested": False, "roofAge": 12}), AT)

    after = apply(before, lead(collectedData={"interested": True, "budget": 9000}), AT)

    assert after.answers == {"Interested": True, "Roof age": 12, "Budget": 9000}


def test_answers_are_capped_keeping_the_latest() -> None:
    old = {f"old{i}": i for i in range(6)}
    before = apply(empty(), lead(collectedData=old), AT)

    after = apply(before, lead(collectedData={f"new{i}": i for i in range(4)}), AT)

    assert len(after.answers) == ANSWERS_KEPT
    assert list(after.answers)[-4:] == ["New0", "New1", "New2", "New3"]
    assert "Old0" not in after.answers
    assert "Old1" not in after.answers


def test_an_answer_just_reported_again_survives_the_cap() -> None:
    # Eight answers known; the first one is reported again with a new value, plus one new one.
    before = apply(empty(), lead(collectedData={f"q{i}": "old" for i in range(ANSWERS_KEPT)}), AT)

    after = apply(before, lead(collectedData={"q0": "new", "extra": "yes"}), AT)

    assert len(after.answers) == ANSWERS_KEPT
    assert after.answers.get("Extra") == "yes"
    assert after.answers.get("Q0") == "new", f"the fresh answer was dropped: {after.answers}"


def test_many_answers_at_once_are_capped() -> None:
    after = apply(empty(), lead(collectedData={f"q{i}": i for i in range(30)}), AT)

    assert list(after.answers.values()) == list(range(22, 30))


def test_every_lead_change_stamps_the_time() -> None:
    later = AT + timedelta(minutes=5)

    assert apply(apply(empty(), lead(), AT), lead(status=110), later).updated_at == later


# Calls


def test_a_call_start_puts_the_lead_on_a_call_and_changes_nothing_else() -> None:
    before = apply(empty(), lead(status=20), AT)

    after = apply(before, call_start(), AT + timedelta(minutes=1))

    assert after.on_call is True
    assert after.calls == before.calls
    assert after.answers == before.answers
    assert after.status == 20
    assert after.updated_at == AT + timedelta(minutes=1)


def test_a_call_end_takes_the_lead_off_the_call_and_counts_it() -> None:
    before = apply(apply(empty(), lead(status=20, callsId=[FIRST_CALL_ID]), AT), call_start(), AT)

    after = apply(before, call_end(), AT)

    assert after.on_call is False
    assert after.calls == 2
    assert after.status == 20


def test_a_call_end_adds_its_answers_by_display_name() -> None:
    before = apply(empty(), lead(collectedData={"budget": 9000}), AT)

    after = apply(
        before,
        call_end(
            collectedInfo=[
                {"id": "interested", "name": "Interested", "value": False},
                {"id": "preferredDay", "value": "Monday"},
                {"value": "orphan"},
            ]
        ),
        AT,
    )

    assert after.answers == {
        "Budget": 9000,
        "Interested": False,
        "Preferred day": "Monday",
        "Answer": "orphan",
    }


def test_a_call_start_brings_no_answers() -> None:
    after = apply(empty(), call_start(collectedInfo=[{"id": "x", "value": 1}]), AT)

    assert after.answers == {}


def test_a_call_fills_in_who_when_no_lead_change_was_seen() -> None:
    after = apply(empty(), parse_webhook(v1_call_end(Name="Maria Gonzalez")), AT)

    assert after.lead_id == LEAD_ID
    assert after.name == "Maria Gonzalez"
    assert after.phone == PHONE
    assert after.calls == 1


def test_a_call_does_not_override_what_the_lead_said() -> None:
    before = apply(empty(), lead(callData={"name": "Maria G."}, phoneNumber="+13125550188"), AT)

    after = apply(before, call_end(name="Someone Else", to=PHONE), AT)

    assert after.name == "Maria G."
    assert after.phone == "+13125550188"


def test_a_snapshot_survives_its_json_round_trip() -> None:
    snapshot = apply(apply(empty(), lead(), AT), call_end(), AT)

    assert LeadSnapshot.model_validate(snapshot.model_dump(mode="json")) == snapshot


# Folding a batch


def test_fold_collects_status_changes_and_ended_calls_in_order() -> None:
    t = [AT + timedelta(minutes=i) for i in range(6)]
    first_call = call_end(id=FIRST_CALL_ID, conversationStatus=70, status=7)
    second_call = call_end()
    events: list[tuple[LeadChange | CallUpdate, datetime]] = [
        (lead(status=20), t[0]),
        (call_start(id=FIRST_CALL_ID), t[1]),
        (first_call, t[2]),
        (lead(status=10), t[3]),
        (second_call, t[4]),
        (lead(status=100), t[5]),
    ]

    folded = fold(empty(), events)

    assert folded.changes == [
        StatusChange(None, 20, t[0]),
        StatusChange(20, 10, t[3]),
        StatusChange(10, 100, t[5]),
    ]
    assert [c.id for c in folded.ended_calls] == [FIRST_CALL_ID, CALL_ID]
    assert folded.snapshot.status == 100
    assert folded.snapshot.on_call is False
    assert folded.snapshot.updated_at == t[5]


def test_fold_starts_from_the_snapshot_it_is_given() -> None:
    before = apply(empty(), lead(status=130), AT)

    folded = fold(before, [(lead(status=100), AT)])

    assert folded.changes == [StatusChange(130, 100, AT)]
    assert folded.changes[0].words == "☑️ Completed → ✅ Success"


def test_fold_of_a_call_start_says_nothing_but_marks_the_call() -> None:
    folded = fold(empty(), [(call_start(), AT)])

    assert folded.changes == []
    assert folded.ended_calls == []
    assert folded.snapshot.on_call is True


def test_fold_of_nothing_is_the_snapshot_itself() -> None:
    before = apply(empty(), lead(), AT)

    folded = fold(before, [])

    assert folded.snapshot == before
    assert folded.changes == []
    assert folded.ended_calls == []


def test_fold_counts_each_ended_call_once() -> None:
    folded = fold(empty(), [(call_end(id=f"call{i}"), AT) for i in range(3)])

    assert folded.snapshot.calls == 3
    assert len(folded.ended_calls) == 3


def test_an_answer_named_by_its_call_and_keyed_by_its_lead_shows_once() -> None:
    infos = [{"id": "isHomeowner", "name": "Homeowner", "value": True}]
    # The lead's data first (keyed by ID), then the call that named it, then the lead again.
    after = apply(empty(), lead(collectedData={"isHomeowner": True}), AT)
    assert after.answers == {"Is homeowner": True}
    after = apply(after, call_end(collectedInfo=infos), AT)
    assert after.answers == {"Homeowner": True}
    after = apply(after, lead(collectedData={"isHomeowner": False, "roofAge": 12}), AT)
    assert after.answers == {"Homeowner": False, "Roof age": 12}


def test_the_names_remembered_are_bounded_whatever_a_call_sends() -> None:
    infos = [{"id": f"v{n}", "name": f"Variable {n}", "value": n} for n in range(1000)]
    after = apply(empty(), call_end(collectedInfo=infos), AT)
    assert len(after.answer_names) == NAMES_KEPT
    assert after.answer_names["v999"] == "Variable 999"
    assert len(after.answers) == ANSWERS_KEPT
