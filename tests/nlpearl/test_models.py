"""The NLPearl models read every documented shape and never fail on odd values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from bot.nlpearl.models import Call, CollectedInfo, Lead, Pearl, TranscriptMessage

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# --- every fixture parses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "model"),
    [
        ("lead_full.json", Lead),
        ("lead_nulls.json", Lead),
        ("lead_string_numbers.json", Lead),
        ("lead_unknown_statuses.json", Lead),
        ("lead_v1_pascal.json", Lead),
        ("call.json", Call),
        ("call_roles.json", Call),
        ("pearl.json", Pearl),
    ],
)
def test_every_fixture_parses(fixture: str, model: type[BaseModel]) -> None:
    body = load(fixture)

    parsed = model.model_validate(body)

    assert isinstance(parsed, model)
    expected_id = body.get("id", body.get("Id"))
    assert parsed.model_dump()["id"] == expected_id


def test_pearl_list_items_all_parse() -> None:
    pearls = [Pearl.model_validate(item) for item in load("pearl_list.json")]

    assert [(p.id, p.name, p.type, p.status) for p in pearls] == [
        ("669f0b2ce4d5c6b7a8f90112", "Dental – Recall Reminders", 2, 1),
        ("669f0c91e4d5c6b7a8f90140", "Front Desk Overflow", 1, 2),
        ("66a00d33e4d5c6b7a8f90177", "Lapsed Patients Q3", 2, 10),
    ]


# --- a full V2 lead ---------------------------------------------------------------------------


def test_full_v2_lead_reads_every_documented_field() -> None:
    lead = Lead.model_validate(load("lead_full.json"))

    assert lead.id == "66a1d3f09b7e4c2a1f0e5d61"
    assert lead.external_id == "hubspot-88213"
    assert lead.phone_number == "+13035550142"
    assert lead.time_zone == "-7.0"
    assert lead.status == 100
    assert lead.created == datetime(2025, 4, 11, 8, 15, 27, 318000, tzinfo=UTC)
    assert lead.calls_id == ["66a1e0117c2d4b9a8e3f1a02", "66a2f4c81d3e5a6b7c8d9e03"]
    assert lead.call_data == {"firstName": "Jordan", "lastName": "Ellis", "clinic": "Lakewood"}


def test_full_v2_lead_last_call_is_read() -> None:
    call = Lead.model_validate(load("lead_full.json")).last_call

    assert call is not None
    assert call.id == "66a2f4c81d3e5a6b7c8d9e03"
    assert call.pearl_id == "669f0b2ce4d5c6b7a8f90112"
    assert call.start_time == datetime(2025, 4, 12, 16, 40, 5, tzinfo=UTC)
    assert call.status == 4
    assert call.from_number == "+17205550199"
    assert call.name == "Jordan Ellis"
    assert call.duration == 96.0
    assert (
        call.summary == "Jordan booked a cleaning for Wednesday at 2 pm and is an existing patient."
    )
    assert call.tags == ["Appointment booked", "Existing patient"]
    assert call.recording_url == (
        "https://media.example-recordings.test/calls/66a2f4c81d3e5a6b7c8d9e03.mp3"
    )


def test_last_call_collected_data_is_lifted_into_transcript_and_collected_info() -> None:
    call = Lead.model_validate(load("lead_full.json")).last_call

    assert call is not None
    assert [(m.role, m.content) for m in call.transcript] == [
        (3, "Hello Jordan, this is Sam from Front Range Dental about your cleaning."),
        (2, "Oh right, I meant to book that."),
        (3, "We have Tuesday at 9 or Wednesday at 2. Which works better?"),
        (2, "Wednesday at 2, please."),
    ]
    assert (call.transcript[1].start_time, call.transcript[1].end_time) == (5.1, 7.3)
    assert [(i.id, i.name, i.value) for i in call.collected_info] == [
        ("appointmentSlot", "Appointment Slot", "Wednesday 14:00"),
        ("newPatient", "New Patient", False),
        ("insuranceCount", "Insurance Plans", 2),
    ]


def test_lead_collected_data_keeps_every_json_type_as_is() -> None:
    body = load("lead_full.json")

    lead = Lead.model_validate(body)

    assert lead.collected_data == body["collectedData"]
    assert lead.collected_data["newPatient"] is False
    assert lead.collected_data["notes"] is None
    assert isinstance(lead.collected_data["insuranceCount"], int)
    assert lead.collected_data["copay"] == 25.5
    assert lead.collected_data["preferredTimes"] == ["morning", "early afternoon"]
    assert lead.collected_data["address"] == {"city": "Lakewood", "zip": "80226"}


def test_top_level_transcript_is_not_overwritten_by_collected_data() -> None:
    call = Call.model_validate(
        {
            "transcript": [{"role": 3, "content": "top level"}],
            "collectedData": {
                "transcript": [{"role": 2, "content": "nested"}],
                "collectedInfos": [{"id": "x", "value": 1}],
            },
        }
    )

    assert [m.content for m in call.transcript] == ["top level"]
    assert [(i.id, i.value) for i in call.collected_info] == [("x", 1)]


def test_collected_data_that_is_not_an_object_is_ignored() -> None:
    call = Call.model_validate({"id": "c1", "collectedData": ["transcript"]})

    assert call.id == "c1"
    assert call.transcript == []
    assert call.collected_info == []


# --- nulls and missing fields -----------------------------------------------------------------


def _assert_empty_lead(lead: Lead) -> None:
    assert lead.id is None
    assert lead.pearl_id is None
    assert lead.external_id is None
    assert lead.phone_number is None
    assert lead.time_zone is None
    assert lead.status is None
    assert lead.created is None
    assert lead.calls_id == []
    assert lead.last_call is None
    assert lead.call_data == {}
    assert lead.collected_data == {}


def test_lead_with_nulls_everywhere_gives_empty_values() -> None:
    _assert_empty_lead(Lead.model_validate(load("lead_nulls.json")))


def test_lead_with_no_fields_at_all_gives_empty_values() -> None:
    _assert_empty_lead(Lead.model_validate({}))


def test_call_with_nulls_everywhere_gives_empty_values() -> None:
    body = dict.fromkeys(load("call.json"))

    call = Call.model_validate(body)

    assert call.id is None
    assert call.start_time is None
    assert call.conversation_status is None
    assert call.status is None
    assert call.from_number is None
    assert call.to is None
    assert call.duration is None
    assert call.recording is None
    assert call.recording_url is None
    assert call.transcript == []
    assert call.summary is None
    assert call.collected_info == []
    assert call.tags == []
    assert call.is_call_transferred is None
    assert call.overall_sentiment is None


def test_pearl_with_no_fields_gives_none() -> None:
    pearl = Pearl.model_validate({})

    assert (pearl.id, pearl.name, pearl.type, pearl.status) == (None, None, None, None)


# --- string numbers ---------------------------------------------------------------------------


def test_string_numbers_become_numbers() -> None:
    lead = Lead.model_validate(load("lead_string_numbers.json"))

    assert lead.status == 100
    assert isinstance(lead.status, int)
    assert lead.time_zone == "-5"
    assert lead.external_id == "4471"
    call = lead.last_call
    assert call is not None
    assert call.status == 4
    assert call.duration == 142.0
    assert [(m.role, m.start_time, m.end_time) for m in call.transcript] == [
        (3, 0.0, 2.5),
        (2, 3.25, 3.9),
    ]


def test_dotnet_seven_digit_fractions_and_naive_times_are_read_as_utc() -> None:
    lead = Lead.model_validate(load("lead_string_numbers.json"))

    assert lead.created == datetime(2025, 4, 11, 8, 15, 27, 318123, tzinfo=UTC)
    assert lead.last_call is not None
    assert lead.last_call.start_time == datetime(2025, 4, 12, 16, 40, 5, tzinfo=UTC)


def test_offset_times_keep_their_offset() -> None:
    call = Call.model_validate({"startTime": "2025-04-12T09:40:05-07:00"})

    assert call.start_time == datetime(2025, 4, 12, 16, 40, 5, tzinfo=UTC)
    assert call.start_time is not None
    assert call.start_time.utcoffset() is not None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("100", 100), (" 110 ", 110), ("100.0", 100), (130.0, 130), (70, 70)],
)
def test_status_numbers_in_any_form(raw: object, expected: int) -> None:
    assert Lead.model_validate({"status": raw}).status == expected


# --- unknown status codes ---------------------------------------------------------------------


def test_unknown_status_codes_are_kept() -> None:
    lead = Lead.model_validate(load("lead_unknown_statuses.json"))

    assert lead.status == 999
    assert lead.last_call is not None
    assert lead.last_call.status == 220
    assert lead.last_call.duration == 0.0
    assert lead.last_call.transcript == []
    assert lead.call_data == {}


# --- key casing -------------------------------------------------------------------------------


def test_v1_pascal_case_lead_is_read() -> None:
    lead = Lead.model_validate(load("lead_v1_pascal.json"))

    assert lead.id == "66a1d3f09b7e4c2a1f0e5d99"
    assert lead.pearl_id == "5f8e7d6c5b4a39281706f5e4"
    assert lead.external_id == "sf-00Q5e00000AbCdE"
    assert lead.phone_number == "+15125550176"
    assert lead.time_zone == "-6.0"
    assert lead.status == 110
    assert lead.created == datetime(2024, 11, 19, 21, 4, 33, 120000, tzinfo=UTC)
    assert lead.calls_id == ["66c1bb22334455667788990a"]
    assert lead.call_data == {"firstName": "Luis"}
    assert lead.collected_data == {"interested": False}


def test_v1_pascal_case_last_call_is_read() -> None:
    call = Lead.model_validate(load("lead_v1_pascal.json")).last_call

    assert call is not None
    assert call.id == "66c1bb22334455667788990a"
    assert call.start_time == datetime(2024, 11, 20, 15, 12, 48, tzinfo=UTC)
    assert call.status == 4
    assert call.from_number == "+17375550110"
    assert call.name == "Luis Ortega"
    assert call.duration == 38.0
    assert call.summary == "Luis is not interested in switching providers."
    assert call.tags == ["Not interested"]
    assert call.recording_url == (
        "https://media.example-recordings.test/v1/66c1bb22334455667788990a.wav"
    )
    assert [(m.role, m.content, m.end_time) for m in call.transcript] == [
        (3, "Hi Luis, this is Nova with Hill Country Internet.", 3.0),
        (2, "Not interested, sorry.", 5.5),
    ]
    assert [(i.id, i.name, i.value) for i in call.collected_info] == [
        ("interested", "Interested", False)
    ]


@pytest.mark.parametrize(
    "key", ["phoneNumber", "PhoneNumber", "phonenumber", "PHONENUMBER", "phone_number"]
)
def test_lead_keys_are_matched_in_any_case(key: str) -> None:
    assert Lead.model_validate({key: "+13035550142"}).phone_number == "+13035550142"


@pytest.mark.parametrize(
    ("key", "attribute"),
    [
        ("conversationStatus", "conversation_status"),
        ("ConversationStatus", "conversation_status"),
        ("conversationstatus", "conversation_status"),
        ("overallSentiment", "overall_sentiment"),
        ("OverallSentiment", "overall_sentiment"),
        ("overallsentiment", "overall_sentiment"),
    ],
)
def test_call_keys_are_matched_in_any_case(key: str, attribute: str) -> None:
    assert getattr(Call.model_validate({key: 5}), attribute) == 5


def test_first_spelling_of_a_key_wins() -> None:
    lead = Lead.model_validate({"status": 100, "Status": 110})

    assert lead.status == 100


def test_unknown_keys_are_ignored() -> None:
    lead = Lead.model_validate({"id": "l1", "somethingNew": {"x": 1}, "additionalData": [1]})

    assert lead.id == "l1"
    assert not hasattr(lead, "somethingNew")
    assert not hasattr(lead, "additionalData")


# --- aliases ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["from", "From", "FROM", "fromNumber", "from_number"])
def test_from_maps_to_from_number(key: str) -> None:
    assert Call.model_validate({key: "+17205550199"}).from_number == "+17205550199"


@pytest.mark.parametrize("key", ["recording", "Recording", "recordingUrl", "RecordingUrl"])
def test_recording_url_alias(key: str) -> None:
    url = "https://media.example-recordings.test/a.mp3"

    call = Call.model_validate({key: url})

    assert call.recording == url
    assert call.recording_url == url


@pytest.mark.parametrize(
    "key", ["collectedInfo", "collectedInfos", "CollectedInfo", "collectedinfos"]
)
def test_collected_infos_alias(key: str) -> None:
    call = Call.model_validate({key: [{"id": "budget", "name": "Budget", "value": 1200}]})

    assert [(i.id, i.name, i.value) for i in call.collected_info] == [("budget", "Budget", 1200)]


def test_call_from_get_call_is_read() -> None:
    call = Call.model_validate(load("call.json"))

    assert call.related_id == "669f0b2ce4d5c6b7a8f90112"
    assert call.conversation_status == 100
    assert call.status == 4
    assert call.to == "+13035550142"
    assert call.from_number == "+17205550199"
    assert call.is_call_transferred is False
    assert call.overall_sentiment == 4
    assert call.tags == ["Appointment booked"]
    assert [i.id for i in call.collected_info] == ["appointmentSlot", "newPatient"]
    assert [m.role for m in call.transcript] == [3, 2]


def test_transcript_roles_are_kept_including_unknown_ones() -> None:
    call = Call.model_validate(load("call_roles.json"))

    assert [m.role for m in call.transcript] == [1, 3, 2, 7]
    assert call.transcript[3].content == "Transferred to front desk."
    assert call.is_call_transferred is True
    assert call.conversation_status == 130


def test_pearl_is_read_and_extra_fields_ignored() -> None:
    pearl = Pearl.model_validate(load("pearl.json"))

    assert pearl.id == "669f0b2ce4d5c6b7a8f90112"
    assert pearl.name == "Dental – Recall Reminders"
    assert pearl.type == 2
    assert pearl.status == 1


# --- garbage values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "attribute", "expected"),
    [
        ("status", "abc", "status", None),
        ("status", "", "status", None),
        ("status", True, "status", None),
        ("status", [100], "status", None),
        ("status", {"code": 100}, "status", None),
        ("status", "NaN", "status", None),
        ("status", "Infinity", "status", None),
        ("status", "1e999", "status", None),
        ("created", "not a date", "created", None),
        ("created", "", "created", None),
        ("created", 1712823327, "created", None),
        ("created", ["2025-04-11"], "created", None),
        ("callsId", "x", "calls_id", []),
        ("callsId", {"0": "x"}, "calls_id", []),
        ("callsId", 7, "calls_id", []),
        ("lastCall", "oops", "last_call", None),
        ("lastCall", [{"id": "c1"}], "last_call", None),
        ("lastCall", 0, "last_call", None),
        ("callData", "firstName=Jo", "call_data", {}),
        ("collectedData", [1, 2], "collected_data", {}),
        ("timeZone", {"offset": -5}, "time_zone", None),
        ("phoneNumber", "   ", "phone_number", None),
        ("phoneNumber", ["+13035550142"], "phone_number", None),
        ("externalId", {}, "external_id", None),
    ],
)
def test_garbage_lead_values_become_empty(
    field: str, value: object, attribute: str, expected: object
) -> None:
    lead = Lead.model_validate({"id": "l1", field: value})

    assert lead.id == "l1"
    assert getattr(lead, attribute) == expected


def test_calls_id_keeps_only_readable_ids() -> None:
    lead = Lead.model_validate({"callsId": [None, "", "  ", "c1", 42, {"id": "c2"}, [], " c3 "]})

    assert lead.calls_id == ["c1", "42", "c3"]


@pytest.mark.parametrize(
    ("field", "value", "attribute", "expected"),
    [
        ("duration", "long", "duration", None),
        ("duration", True, "duration", None),
        ("duration", "inf", "duration", None),
        ("startTime", "yesterday", "start_time", None),
        ("transcript", "Agent: hi", "transcript", []),
        ("transcript", {"role": 2}, "transcript", []),
        ("collectedInfo", {"id": "x", "value": 1}, "collected_info", []),
        ("collectedInfo", "x", "collected_info", []),
        ("tags", "vip", "tags", []),
        ("tags", [None, "vip", {"name": "x"}], "tags", ["vip"]),
        ("isCallTransferred", "yes", "is_call_transferred", None),
        ("isCallTransferred", "true", "is_call_transferred", True),
        ("isCallTransferred", "0", "is_call_transferred", False),
        ("isCallTransferred", 1, "is_call_transferred", True),
        ("overallSentiment", "very good", "overall_sentiment", None),
        ("conversationStatus", "110", "conversation_status", 110),
        ("summary", {"text": "x"}, "summary", None),
    ],
)
def test_garbage_call_values_become_empty(
    field: str, value: object, attribute: str, expected: object
) -> None:
    call = Call.model_validate({"id": "c1", field: value})

    assert call.id == "c1"
    assert getattr(call, attribute) == expected


def test_transcript_skips_items_that_are_not_objects() -> None:
    call = Call.model_validate(
        {"transcript": [None, "hello", 3, ["x"], {"role": "2", "content": "ok", "startTime": "x"}]}
    )

    assert call.transcript == [TranscriptMessage(role=2, content="ok")]
    assert call.transcript[0].start_time is None


def test_collected_info_skips_items_that_are_not_objects() -> None:
    call = Call.model_validate({"collectedInfo": ["x", None, {"Id": "a", "Value": 1}]})

    assert call.collected_info == [CollectedInfo(id="a", value=1)]


def test_last_call_with_garbage_inside_still_gives_a_lead() -> None:
    lead = Lead.model_validate(
        {
            "id": "l1",
            "status": 100,
            "lastCall": {"id": "c1", "status": "??", "duration": [], "collectedData": "oops"},
        }
    )

    assert lead.status == 100
    assert lead.last_call is not None
    assert lead.last_call.id == "c1"
    assert lead.last_call.status is None
    assert lead.last_call.duration is None
    assert lead.last_call.transcript == []


# --- collected values of every JSON type ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["Thursday", "", 12, 0, 12.5, True, False, None, [1, "two", None], {"a": {"b": [1, 2]}}],
)
def test_collected_info_value_is_kept_as_is(value: object) -> None:
    call = Call.model_validate({"collectedInfo": [{"id": "v", "name": "V", "value": value}]})

    kept = call.collected_info[0].value
    assert kept == value
    assert type(kept) is type(value)


@pytest.mark.parametrize(
    "value",
    ["Thursday", 12, 12.5, True, False, None, [1, "two"], {"nested": {"deep": [True]}}],
)
def test_lead_collected_data_value_is_kept_as_is(value: object) -> None:
    lead = Lead.model_validate({"collectedData": {"answer": value}, "callData": {"given": value}})

    assert lead.collected_data == {"answer": value}
    assert type(lead.collected_data["answer"]) is type(value)
    assert lead.call_data == {"given": value}


# --- recording URL ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "https://media.example-recordings.test/a.mp3",
            "https://media.example-recordings.test/a.mp3",
        ),
        (
            "http://media.example-recordings.test/a.mp3",
            "http://media.example-recordings.test/a.mp3",
        ),
        (
            "  https://media.example-recordings.test/a.mp3 ",
            "https://media.example-recordings.test/a.mp3",
        ),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("ftp://media.example-recordings.test/a.mp3", None),
        ("//media.example-recordings.test/a.mp3", None),
        ("media.example-recordings.test/a.mp3", None),
        ("", None),
        (None, None),
    ],
)
def test_recording_url_only_returns_http_links(raw: str | None, expected: str | None) -> None:
    assert Call.model_validate({"recording": raw}).recording_url == expected


def test_unsafe_recording_is_kept_raw_but_not_offered_as_a_url() -> None:
    call = Call.model_validate({"recording": "javascript:alert(1)"})

    assert call.recording == "javascript:alert(1)"
    assert call.recording_url is None


# --- immutability -----------------------------------------------------------------------------


def test_models_are_frozen() -> None:
    lead = Lead.model_validate({"id": "l1"})

    with pytest.raises(ValidationError):
        lead.id = "l2"  # type: ignore[misc]
