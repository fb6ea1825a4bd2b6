"""Reading webhook bodies: Lead vs Call, the call's phase, dedupe keys and lead keys."""

from __future__ import annotations

from typing import Any

import pytest

from bot.parsing.webhooks import BadPayload, CallUpdate, LeadChange, lead_key, parse_webhook
from tests.feed.samples import (
    CALL_ID,
    CAMPAIGN_ID,
    FIRST_CALL_ID,
    LEAD_ID,
    PHONE,
    RECORDING,
    SUMMARY,
    v1_call_end,
    v1_call_start,
    v1_lead,
    v2_call_end,
    v2_call_start,
    v2_lead,
)

GARBAGE: list[Any] = [
    None,
    "",
    "   ",
    "not a value",
    "💥" * 2000,
    True,
    -1,
    10**30,
    1e308,
    float("nan"),
    float("inf"),
    [],
    [1, {"a": 2}, None],
    {},
    {"nested": {"deeper": [1, 2]}},
]


def lead_change(body: dict[str, Any]) -> LeadChange:
    event = parse_webhook(body)
    assert isinstance(event, LeadChange)
    return event


def call_update(body: dict[str, Any]) -> CallUpdate:
    event = parse_webhook(body)
    assert isinstance(event, CallUpdate)
    return event


# Lead webhooks


@pytest.mark.parametrize("body", [v2_lead(), v1_lead()], ids=["v2", "v1"])
def test_a_lead_webhook_is_read_in_either_casing(body: dict[str, Any]) -> None:
    event = lead_change(body)

    assert event.kind == "lead"
    lead = event.lead
    assert lead.id == LEAD_ID
    assert lead.pearl_id == CAMPAIGN_ID
    assert lead.external_id == "crm-004512"
    assert lead.phone_number == PHONE
    assert lead.status == 100
    assert lead.calls_id == [FIRST_CALL_ID, CALL_ID]
    assert {k.lower(): v for k, v in lead.call_data.items()}["firstname"] == "Maria"
    assert lead.collected_data == {"interested": True, "roofAge": 12, "preferredDay": "Tuesday"}


def test_a_v2_lead_keeps_its_last_call() -> None:
    lead = lead_change(v2_lead()).lead

    assert lead.last_call is not None
    assert lead.last_call.id == CALL_ID
    assert lead.last_call.summary == SUMMARY
    assert [i.name for i in lead.last_call.collected_info] == ["Interested"]


def test_v1_and_v2_bodies_of_the_same_change_are_the_same_event() -> None:
    v2, v1 = lead_change(v2_lead()), lead_change(v1_lead())

    assert v2.dedupe_key == v1.dedupe_key
    assert lead_key(v2) == lead_key(v1) == PHONE


# Call webhooks


@pytest.mark.parametrize("body", [v2_call_end(), v1_call_end()], ids=["v2", "v1"])
def test_a_call_webhook_is_read_in_either_casing(body: dict[str, Any]) -> None:
    event = call_update(body)

    assert event.kind == "call"
    assert event.phase == "end"
    call = event.call
    assert call.id == CALL_ID
    assert call.to == PHONE
    assert call.from_number == "+12125550100"
    assert call.status == 4
    assert call.conversation_status == 100
    assert call.duration == 142
    assert call.summary == SUMMARY
    assert call.recording_url == RECORDING
    first = call.collected_info[0]
    assert (first.id, first.name, first.value) == ("interested", "Interested", True)
    assert [m.content for m in call.transcript] == [
        "Hi Maria, is now a good time?",
        "Sure, go ahead.",
    ]


def test_a_v1_call_names_its_lead() -> None:
    assert call_update(v1_call_end()).call.lead_id == LEAD_ID


@pytest.mark.parametrize("body", [v2_call_start(), v1_call_start()], ids=["v2", "v1"])
def test_the_first_delivery_of_a_call_is_its_start(body: dict[str, Any]) -> None:
    assert call_update(body).phase == "start"


@pytest.mark.parametrize(
    ("status", "conversation_status", "phase"),
    [
        (3, "absent", "start"),
        (3, None, "start"),
        ("3", None, "start"),
        (3, 40, "end"),
        (3, 100, "end"),
        (4, None, "end"),
        (4, 100, "end"),
        (7, 150, "end"),
        (None, None, "end"),
        ("absent", "absent", "end"),
    ],
)
def test_a_call_is_starting_only_while_in_progress_without_an_outcome(
    status: Any, conversation_status: Any, phase: str
) -> None:
    body = v2_call_end()
    for key, value in (("status", status), ("conversationStatus", conversation_status)):
        if value == "absent":
            del body[key]
        else:
            body[key] = value

    assert call_update(body).phase == phase


# Telling Lead from Call by shape


@pytest.mark.parametrize(
    "body",
    [
        {"id": CALL_ID, "to": PHONE},
        {"id": CALL_ID, "conversationStatus": 100},
        {"Id": CALL_ID, "To": PHONE},
        {"ID": CALL_ID, "CONVERSATIONSTATUS": 110},
        # `to` wins even when a lead-looking key comes along.
        {"id": CALL_ID, "to": PHONE, "phoneNumber": PHONE, "status": 4},
    ],
)
def test_a_body_with_to_or_conversation_status_is_a_call(body: dict[str, Any]) -> None:
    assert isinstance(parse_webhook(body), CallUpdate)


@pytest.mark.parametrize(
    "body",
    [
        {"id": LEAD_ID, "phoneNumber": PHONE, "status": 20},
        {"id": LEAD_ID, "externalId": "crm-1", "status": 20},
        {"id": LEAD_ID, "callsId": [], "status": 1},
        {"id": LEAD_ID, "callData": {"firstName": "Ann"}},
        {"Id": LEAD_ID, "PhoneNumber": PHONE, "Status": 110},
        {"phonenumber": PHONE},
    ],
)
def test_a_body_with_lead_fields_and_no_call_fields_is_a_lead(body: dict[str, Any]) -> None:
    assert isinstance(parse_webhook(body), LeadChange)


# Dedupe keys


def test_a_redelivered_lead_change_has_the_same_key() -> None:
    assert lead_change(v2_lead()).dedupe_key == lead_change(v2_lead()).dedupe_key


def test_a_lead_change_with_other_details_but_the_same_status_and_calls_is_a_redelivery() -> None:
    first = lead_change(v2_lead())
    again = lead_change(v2_lead(collectedData={"interested": False}, timeZone="-5.0"))

    assert first.dedupe_key == again.dedupe_key


def test_a_new_status_is_a_new_event() -> None:
    assert lead_change(v2_lead(status=40)).dedupe_key != lead_change(v2_lead()).dedupe_key


def test_a_different_number_of_calls_is_a_new_event() -> None:
    one_call = lead_change(v2_lead(callsId=[FIRST_CALL_ID]))
    two_calls = lead_change(v2_lead(callsId=[FIRST_CALL_ID, CALL_ID]))

    assert one_call.dedupe_key != two_calls.dedupe_key


def test_without_call_ids_the_last_call_tells_events_apart() -> None:
    first = lead_change(v2_lead(callsId=None, lastCall={"id": FIRST_CALL_ID}))
    second = lead_change(v2_lead(callsId=None, lastCall={"id": CALL_ID}))
    again = lead_change(v2_lead(callsId=None, lastCall={"id": CALL_ID}))

    assert first.dedupe_key != second.dedupe_key
    assert second.dedupe_key == again.dedupe_key


def test_different_leads_with_the_same_status_are_different_events() -> None:
    other = lead_change(v2_lead(id="6650f1c2a9e4b27d3c8e41b0", phoneNumber="+13125550188"))

    assert other.dedupe_key != lead_change(v2_lead()).dedupe_key


def test_a_lead_without_an_id_is_keyed_by_its_phone() -> None:
    a = lead_change({"phoneNumber": PHONE, "status": 100})
    b = lead_change({"phoneNumber": "+13125550188", "status": 100})

    assert a.dedupe_key != b.dedupe_key
    assert a.dedupe_key == lead_change({"phoneNumber": "(415) 555-0137", "status": 100}).dedupe_key


def test_a_redelivered_call_phase_has_the_same_key() -> None:
    assert call_update(v2_call_end()).dedupe_key == call_update(v1_call_end()).dedupe_key
    assert call_update(v2_call_start()).dedupe_key == call_update(v1_call_start()).dedupe_key


def test_the_start_and_end_of_a_call_are_different_events() -> None:
    assert call_update(v2_call_start()).dedupe_key != call_update(v2_call_end()).dedupe_key


def test_different_calls_are_different_events() -> None:
    other = call_update(v2_call_end(id=FIRST_CALL_ID))

    assert other.dedupe_key != call_update(v2_call_end()).dedupe_key


def test_lead_and_call_keys_never_collide() -> None:
    # A lead and a call that happen to share an ID are still two events.
    lead = lead_change({"id": CALL_ID, "phoneNumber": PHONE, "status": 100})
    call = call_update(v2_call_end())

    assert lead.dedupe_key != call.dedupe_key


# Lead keys


@pytest.mark.parametrize(
    "phone", [PHONE, "+1 (415) 555-0137", "+1 415-555-0137", "4155550137", "0014155550137"]
)
def test_the_lead_key_is_the_leads_phone_in_e164(phone: str) -> None:
    assert lead_key(lead_change(v2_lead(phoneNumber=phone))) == PHONE


@pytest.mark.parametrize("to", [PHONE, "+1 (415) 555-0137", "4155550137"])
def test_the_lead_key_of_a_call_is_the_number_called(to: str) -> None:
    assert lead_key(call_update(v2_call_end(to=to))) == PHONE


def test_a_lead_and_its_calls_share_a_lead_key() -> None:
    keys = {
        lead_key(parse_webhook(body))
        for body in (v2_lead(), v1_lead(), v2_call_start(), v2_call_end(), v1_call_end())
    }

    assert keys == {PHONE}


def test_a_lead_without_a_phone_is_keyed_by_its_id() -> None:
    assert lead_key(lead_change(v2_lead(phoneNumber=None))) == f"lead:{LEAD_ID}"


def test_a_lead_with_an_unreadable_phone_is_keyed_by_its_id() -> None:
    assert lead_key(lead_change(v2_lead(phoneNumber="n/a"))) == f"lead:{LEAD_ID}"


def test_a_call_without_a_number_is_keyed_by_its_lead_id() -> None:
    body = v1_call_end()
    del body["To"]

    assert lead_key(call_update(body)) == f"lead:{LEAD_ID}"


def test_a_call_with_neither_number_nor_lead_is_threaded_on_its_own() -> None:
    body = v2_call_end()
    del body["to"]

    assert lead_key(call_update(body)) == f"call:{CALL_ID}"


# Bodies we cannot read


@pytest.mark.parametrize(
    "body",
    [None, "text", 42, 4.2, True, [], [v2_lead()], b"{}"],
    ids=["null", "string", "int", "float", "bool", "empty-list", "list", "bytes"],
)
def test_a_body_that_is_not_an_object_is_refused(body: Any) -> None:
    with pytest.raises(BadPayload):
        parse_webhook(body)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"id": LEAD_ID, "status": 100},
        {"pearlId": CAMPAIGN_ID, "summary": SUMMARY},
        {"event": "lead.updated", "data": v2_lead()},
    ],
    ids=["empty", "id-and-status", "unrelated", "wrapped"],
)
def test_a_body_of_neither_shape_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(BadPayload, match="neither"):
        parse_webhook(body)


@pytest.mark.parametrize(
    "body",
    [
        {"externalId": "crm-004512", "status": 100},
        {"id": None, "phoneNumber": None, "callsId": []},
        {"id": "   ", "phoneNumber": "", "status": 100},
        {"id": {"$oid": LEAD_ID}, "phoneNumber": [PHONE], "status": 100},
        {"Id": None, "PhoneNumber": None, "CallData": {"firstName": "Maria"}},
    ],
)
def test_a_lead_without_id_or_phone_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(BadPayload, match="neither an id nor a phone"):
        parse_webhook(body)


@pytest.mark.parametrize("call_id", ["absent", None, "", "   ", [], {}])
def test_a_call_without_an_id_is_refused(call_id: Any) -> None:
    body = v2_call_end()
    if call_id == "absent":
        del body["id"]
    else:
        body["id"] = call_id

    with pytest.raises(BadPayload, match="no id"):
        parse_webhook(body)


# Garbage values


LEAD_FIELDS = ["status", "created", "callsId", "lastCall", "callData", "collectedData", "timeZone"]
CALL_FIELDS = [
    "status",
    "conversationStatus",
    "startTime",
    "duration",
    "recording",
    "transcript",
    "summary",
    "collectedInfo",
    "tags",
    "isCallTransferred",
    "overallSentiment",
    "name",
    "from",
]


@pytest.mark.parametrize("field", LEAD_FIELDS)
@pytest.mark.parametrize("value", GARBAGE, ids=repr)
def test_garbage_in_a_lead_field_does_not_break_reading(field: str, value: Any) -> None:
    event = lead_change(v2_lead(**{field: value}))

    assert event.lead.id == LEAD_ID
    assert isinstance(event.dedupe_key, str)
    assert event.dedupe_key.startswith(f"lead:{LEAD_ID}:")
    assert lead_key(event) == PHONE


@pytest.mark.parametrize("field", CALL_FIELDS)
@pytest.mark.parametrize("value", GARBAGE, ids=repr)
def test_garbage_in_a_call_field_does_not_break_reading(field: str, value: Any) -> None:
    event = call_update(v2_call_end(**{field: value}))

    assert event.call.id == CALL_ID
    assert event.phase in ("start", "end")
    assert event.dedupe_key == f"call:{CALL_ID}:{event.phase}"
    assert lead_key(event) == PHONE


@pytest.mark.parametrize("value", GARBAGE, ids=repr)
def test_garbage_in_identifying_fields_is_read_or_refused_never_crashes(value: Any) -> None:
    for body in (
        v2_lead(id=value),
        v2_lead(phoneNumber=value),
        v2_lead(id=value, phoneNumber=value),
        v2_call_end(id=value),
        v2_call_end(to=value),
        v1_call_end(LeadId=value, To=value),
    ):
        try:
            event = parse_webhook(body)
        except BadPayload:
            continue
        assert isinstance(event.dedupe_key, str)
        assert lead_key(event)


def test_garbage_collected_info_items_are_skipped() -> None:
    event = call_update(
        v2_call_end(collectedInfo=["text", 3, None, {"id": "ok", "name": "Ok", "value": 1}])
    )

    assert [(i.id, i.value) for i in event.call.collected_info] == [("ok", 1)]


def test_a_status_given_as_text_is_read_as_a_number() -> None:
    assert lead_change(v2_lead(status="110")).lead.status == 110
    assert lead_change(v2_lead(status="Success")).lead.status is None
