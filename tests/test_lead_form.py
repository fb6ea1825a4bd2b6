"""Reading the Edit lead and Add lead forms' submitted state into NLPearl changes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.blocks.ids import ActionId, BlockId
from bot.nlpearl.changes import LeadUpdate, NewLead
from bot.nlpearl.models import Lead
from bot.parsing import lead_form
from bot.parsing.grammar import normalize_phone
from bot.parsing.lead_form import (
    CLEAR_EXTERNAL_ERROR,
    MAX_ERROR,
    MAX_INPUT,
    MAX_SHOWN_KEYS,
    PHONE_ERROR,
    ZONE_ERROR,
    data_block,
    editable_keys,
    fingerprint,
    form_text,
    read_add_form,
    read_edit_form,
)
from tests.blocks.hostile import PROPERTIES, hostile_text, json_values

CAMPAIGN = "664e9a77f0e1d2c3b4a59687"
MARIA = Lead.model_validate(
    {
        "id": "6650f1c2a9e4b27d3c8e41a7",
        "externalId": "crm-004512",
        "phoneNumber": "+14155550137",
        "timeZone": "-8.0",
        "status": 100,
        "callData": {
            "firstName": "Maria",
            "lastName": "Gonzalez",
            "roofAge": 12,
            "monthlyBill": 184.5,
            "isHomeowner": True,
            "interestedIn": ["panels", "battery"],
            "referral": None,
        },
    }
)


def text_input(value: str | None) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def select(value: str | None) -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": value}, "value": value} if value else None
    return {"value": {"type": "static_select", "selected_option": option}}


def untouched(lead: Lead) -> dict[str, Any]:
    """The state Slack sends for the edit form submitted as it opened."""
    values = {
        BlockId.PHONE: text_input(lead.phone_number),
        BlockId.EXTERNAL_ID: text_input(lead.external_id),
        BlockId.TIME_ZONE: select(None),
        BlockId.NEW_DATA: text_input(None),
    }
    for index, key in enumerate(editable_keys(lead)):
        values[data_block(index)] = text_input(form_text(lead.call_data[key]) or None)
    return {str(block): state for block, state in values.items()}


def edited(lead: Lead = MARIA, **changes: dict[str, Any]) -> lead_form.FormResult[LeadUpdate]:
    values = untouched(lead)
    values.update({block.replace("__", "."): state for block, state in changes.items()})
    return read_edit_form(values, lead)


def update(lead: Lead = MARIA, **changes: dict[str, Any]) -> LeadUpdate:
    result = edited(lead, **changes)
    assert not result.errors, result.errors
    assert result.value is not None
    return result.value


def key_index(key: str, lead: Lead = MARIA) -> str:
    return f"data__{editable_keys(lead).index(key)}"


# the ids shared with the builders


def test_block_and_action_ids_are_the_builders() -> None:
    assert lead_form.PHONE == BlockId.PHONE
    assert lead_form.EXTERNAL_ID == BlockId.EXTERNAL_ID
    assert lead_form.TIME_ZONE == BlockId.TIME_ZONE
    assert lead_form.CALL_DATA == BlockId.CALL_DATA
    assert lead_form.NEW_DATA == BlockId.NEW_DATA
    assert lead_form.CAMPAIGN == BlockId.CAMPAIGN
    assert lead_form.CAMPAIGN_ACTION == ActionId.CAMPAIGN
    assert data_block(3) == f"{BlockId.CALL_DATA}.3"


# edit: nothing changed


def test_the_form_as_it_opened_changes_nothing() -> None:
    result = edited()
    assert result.errors == {}
    assert result.value == LeadUpdate()
    assert result.value.empty


def test_a_number_spelled_differently_is_not_a_change() -> None:
    assert update(phone=text_input("+1 415-555-0137")).empty
    assert update(phone=text_input("(415) 555-0137")).empty


def test_a_stored_number_nlpearl_cannot_call_may_stay_as_it_is() -> None:
    odd = MARIA.model_copy(update={"phone_number": "12345"})
    assert update(odd, phone=text_input("12-345")).empty


def test_values_that_are_not_text_compare_as_the_form_showed_them() -> None:
    assert form_text(12) == "12"
    assert form_text(184.5) == "184.5"
    assert form_text(True) == "true"
    assert form_text(["panels", "battery"]) == '["panels", "battery"]'
    assert form_text(None) == ""
    changes = {
        key_index("roofAge"): text_input(" 12 "),
        key_index("isHomeowner"): text_input("true"),
    }
    assert update(**changes).empty


def test_an_input_missing_from_the_state_is_left_alone() -> None:
    values = untouched(MARIA)
    for block in (BlockId.EXTERNAL_ID, BlockId.TIME_ZONE, BlockId.NEW_DATA, data_block(0)):
        del values[block]
    assert read_edit_form(values, MARIA).value == LeadUpdate()


# edit: changes


def test_a_new_phone_is_sent_in_e164() -> None:
    assert update(phone=text_input("+44 20 7183 8750")) == LeadUpdate(phone_number="+442071838750")


@pytest.mark.parametrize("typed", [None, "", "call me", "12345", "0207 183 8750"])
def test_a_bad_phone_is_an_error_under_the_field(typed: str | None) -> None:
    result = edited(phone=text_input(typed))
    assert result.value is None
    assert result.errors == {BlockId.PHONE: PHONE_ERROR}


def test_a_new_external_id_is_sent_stripped() -> None:
    assert update(external_id=text_input(" crm-9 ")) == LeadUpdate(external_id="crm-9")


def test_clearing_the_external_id_is_refused() -> None:
    result = edited(external_id=text_input(None))
    assert result.errors == {BlockId.EXTERNAL_ID: CLEAR_EXTERNAL_ERROR}


def test_an_external_id_may_be_given_to_a_lead_without_one() -> None:
    bare = MARIA.model_copy(update={"external_id": None})
    assert update(bare).empty
    assert update(bare, external_id=text_input("crm-1")) == LeadUpdate(external_id="crm-1")


def test_a_chosen_time_zone_is_sent() -> None:
    assert update(time_zone=select("Eastern Standard Time")) == LeadUpdate(
        time_zone_id="Eastern Standard Time"
    )


def test_a_time_zone_not_in_the_list_is_an_error() -> None:
    assert edited(time_zone=select("America/New_York")).errors == {BlockId.TIME_ZONE: ZONE_ERROR}


def test_call_data_is_sent_whole_with_edits_removals_and_new_pairs() -> None:
    result = update(
        **{
            key_index("firstName"): text_input("María"),
            key_index("roofAge"): text_input("13"),
            key_index("isHomeowner"): text_input("no"),
            key_index("interestedIn"): text_input('["panels"]'),
            key_index("lastName"): text_input(None),
            "new_data": text_input("plan=Pro\n\n  source = Web form  \n"),
        }
    )
    assert result.call_data == {
        "firstName": "María",
        "roofAge": 13,
        "monthlyBill": 184.5,
        # Not true or false: kept as the text typed.
        "isHomeowner": "no",
        "interestedIn": ["panels"],
        "referral": None,
        "plan": "Pro",
        "source": "Web form",
    }
    assert result.body().keys() == {"callData"}


def test_a_null_value_can_be_filled_in() -> None:
    result = update(**{key_index("referral"): text_input("Neighbour")})
    assert result.call_data is not None
    assert result.call_data["referral"] == "Neighbour"


def test_a_new_pair_for_an_existing_key_replaces_it() -> None:
    result = update(new_data=text_input("firstName=Mary"))
    assert result.call_data is not None
    assert result.call_data["firstName"] == "Mary"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("plan=Pro\nPro", "Line 2: “Pro” isn't name=value"),
        ("=Pro", "Line 1: needs a name before the ="),
        ("first name=Maria", "Line 1: “first name” can't be a name"),
        ("plan=", "Line 1: “plan” has no value"),
        ("plan=Pro\nplan=Max", "Line 2: “plan” is on line 1 too."),
    ],
)
def test_a_bad_line_is_named_in_the_error(text: str, says: str) -> None:
    result = edited(new_data=text_input(text))
    assert result.value is None
    assert result.errors[BlockId.NEW_DATA].startswith(says)


def test_errors_are_collected_for_every_field_at_once() -> None:
    result = edited(phone=text_input("nope"), external_id=text_input(""), new_data=text_input("x"))
    assert set(result.errors) == {BlockId.PHONE, BlockId.EXTERNAL_ID, BlockId.NEW_DATA}


# edit: keys the form does not show


def test_at_most_forty_keys_are_editable_and_the_rest_are_kept() -> None:
    many = MARIA.model_copy(update={"call_data": {f"k{i}": f"v{i}" for i in range(200)}})
    keys = editable_keys(many)
    assert keys == [f"k{i}" for i in range(MAX_SHOWN_KEYS)]
    values = untouched(many)
    values[data_block(0)] = text_input(None)
    result = read_edit_form(values, many)
    assert result.value is not None
    assert result.value.call_data == {f"k{i}": f"v{i}" for i in range(1, 200)}


def test_a_value_too_long_for_an_input_is_skipped_and_kept() -> None:
    long = MARIA.model_copy(
        update={"call_data": {"a": "1", "notes": "x" * (MAX_INPUT + 1), "b": 2}}
    )
    assert editable_keys(long) == ["a", "b"]
    values = untouched(long)
    values[data_block(1)] = text_input("3")
    result = read_edit_form(values, long)
    assert result.value is not None
    assert result.value.call_data == {"a": "1", "notes": "x" * (MAX_INPUT + 1), "b": 3}


def test_shown_values_stay_within_a_view_s_size() -> None:
    wide = MARIA.model_copy(update={"call_data": {f"k{i}": "漢" * 3000 for i in range(40)}})
    shown = editable_keys(wide)
    assert 0 < len(shown) < 40
    assert sum(len(form_text(wide.call_data[k]).encode()) for k in shown) <= 120_000


# add


def add_values(**blocks: dict[str, Any]) -> dict[str, Any]:
    return {str(block): state for block, state in blocks.items()}


def picked(campaign: str) -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": "Solar"}, "value": campaign}
    return {ActionId.CAMPAIGN: {"type": "external_select", "selected_option": option}}


def test_the_add_form_gives_the_campaign_and_the_new_lead() -> None:
    result = read_add_form(
        add_values(
            campaign=picked(CAMPAIGN),
            phone=text_input("+1 (415) 555-0137"),
            external_id=text_input(" crm-004512 "),
            time_zone=select("Pacific Standard Time"),
            new_data=text_input("firstName=Maria\nlastName=Gonzalez"),
        )
    )
    assert result.errors == {}
    assert result.value == (
        CAMPAIGN,
        NewLead(
            phone_number="+14155550137",
            external_id="crm-004512",
            time_zone_id="Pacific Standard Time",
            call_data={"firstName": "Maria", "lastName": "Gonzalez"},
        ),
    )


def test_the_add_form_with_only_a_phone_sends_only_the_phone() -> None:
    result = read_add_form(add_values(phone=text_input("4155550137")), campaign_id=CAMPAIGN)
    assert result.value is not None
    assert result.value[0] == CAMPAIGN
    assert result.value[1].body() == {"phoneNumber": "+14155550137"}


def test_the_picker_wins_over_the_campaign_the_form_was_opened_for() -> None:
    values = add_values(campaign=picked("other"), phone=text_input("+14155550137"))
    result = read_add_form(values, campaign_id=CAMPAIGN)
    assert result.value is not None
    assert result.value[0] == "other"


def test_the_add_form_says_everything_that_is_missing() -> None:
    result = read_add_form(
        add_values(phone=text_input(None), time_zone=select("Mars"), new_data=text_input("oops"))
    )
    assert result.value is None
    assert set(result.errors) == {"campaign", "phone", "time_zone", "new_data"}


# fingerprint


def test_the_fingerprint_is_short_stable_and_sees_the_editable_fields() -> None:
    print_ = fingerprint(MARIA)
    assert len(print_) == 16
    assert int(print_, 16) >= 0
    assert fingerprint(Lead.model_validate(MARIA.model_dump())) == print_
    for change in (
        {"status": 1},
        {"phone_number": "+14155550138"},
        {"external_id": "crm-9"},
        {"call_data": {**MARIA.call_data, "roofAge": 13}},
        {"call_data": dict(reversed(MARIA.call_data.items()))},
    ):
        assert fingerprint(MARIA.model_copy(update=change)) != print_, change
    assert fingerprint(MARIA.model_copy(update={"collected_data": {"x": 1}})) == print_


def test_the_fingerprint_never_raises_on_odd_values() -> None:
    odd = MARIA.model_copy(update={"call_data": {"a": {1: "x", "1": "y"}, "b": {(1, 2): 3}}})
    assert len(fingerprint(odd)) == 16


# properties

BLOCKS = [str(b) for b in BlockId] + [data_block(i) for i in range(5)] + ["data.x", ""]
shapes = st.one_of(
    json_values(hostile_text),
    st.fixed_dictionaries(
        {},
        optional={
            "value": json_values(hostile_text),
            "selected_option": json_values(hostile_text)
            | st.fixed_dictionaries({"value": hostile_text | json_values(hostile_text)}),
            "type": st.sampled_from(["plain_text_input", "static_select", "external_select"]),
        },
    ),
)
states = st.dictionaries(
    st.sampled_from(BLOCKS) | hostile_text,
    st.one_of(
        json_values(hostile_text),
        st.dictionaries(st.sampled_from(["value", str(ActionId.CAMPAIGN)]) | hostile_text, shapes),
    ),
    max_size=8,
)
leads = st.builds(
    lambda phone, external, data: Lead.model_validate(
        {"phoneNumber": phone, "externalId": external, "callData": data}
    ),
    st.none() | hostile_text | st.just("+14155550137"),
    st.none() | hostile_text,
    st.dictionaries(hostile_text, json_values(hostile_text), max_size=6),
)


@PROPERTIES
@given(st.one_of(states, json_values(hostile_text)), leads)
def test_any_state_is_read_without_raising(values: Any, lead: Lead) -> None:
    for result in (read_edit_form(values, lead), read_add_form(values)):
        assert (result.value is None) == bool(result.errors)
        for block, message in result.errors.items():
            assert block in {"phone", "external_id", "time_zone", "new_data", "campaign"}
            assert 0 < len(message) <= MAX_ERROR


@PROPERTIES
@given(leads, st.data())
def test_only_what_changed_is_set(lead: Lead, data: st.DataObject) -> None:
    values = untouched(lead)
    keys = editable_keys(lead)
    for index in range(len(keys)):
        if data.draw(st.booleans()):
            values[data_block(index)] = text_input(data.draw(st.none() | hostile_text))
    if data.draw(st.booleans()):
        values["phone"] = text_input(
            data.draw(st.sampled_from(["+14155550137", "+1 415 555 0137", "+442071838750"]))
        )
    if data.draw(st.booleans()):
        values["external_id"] = text_input(data.draw(hostile_text))
    result = read_edit_form(values, lead)
    if result.value is None:
        return
    change = result.value
    if change.phone_number is not None:
        assert change.phone_number != normalize_phone(lead.phone_number or "")
    if change.external_id is not None:
        assert change.external_id != (lead.external_id or "")
    if change.call_data is not None:
        assert change.call_data != lead.call_data
    assert change.time_zone_id is None
    assert change.status is None
    # Keys the form did not show are never touched.
    if change.call_data is not None:
        for key in set(lead.call_data) - set(keys):
            assert change.call_data[key] == lead.call_data[key]


@PROPERTIES
@given(leads)
def test_the_form_as_it_opened_never_changes_anything(lead: Lead) -> None:
    values = untouched(lead)
    if lead.phone_number is None:
        values["phone"] = text_input("+14155550137")
    result = read_edit_form(values, lead)
    if lead.phone_number is not None and result.errors:
        # Only a stored number Lead Bot can't read can stop the form, and only under the phone.
        assert set(result.errors) == {"phone"}
        return
    assert result.value is not None
    assert result.value.body().keys() <= {"phoneNumber"}
