"""The Edit lead and Add a lead forms, and the twin shown before adding anyway."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.app.sample import sample_report
from bot.blocks.ids import ActionId, ActRef, AddDraft, BlockId, CardRef, Pending, ViewId
from bot.blocks.lead_card import lead_card
from bot.blocks.lead_forms import (
    add_lead_view,
    duplicate_blocks,
    duplicate_view,
    edit_lead_view,
)
from bot.blocks.text import plain
from bot.blocks.views import campaign_option
from bot.demo.nlpearl_api import sample_dataset
from bot.nlpearl.models import Lead
from bot.parsing.lead_form import read_add_form, read_edit_form
from bot.parsing.message_leads import AddPrefill
from tests.blocks.hostile import PROPERTIES, any_text, hostile_text, json_values
from tests.blocks.slack_limits import (
    _check_block,
    assert_no_injection,
    assert_valid_message,
    text_objects,
    total_text,
)
from tests.blocks.test_no_io import IO_LIBRARIES

# Winter in California: the sample lead is at UTC−8.
NOW = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 18, 0, tzinfo=UTC)
CAMPAIGN = "664e9a77f0e1d2c3b4a59687"
MAX_VIEW_BYTES = 250_000
HOSTILE = "<!channel> <@U123> <#C42> <https://evil.example|click> &lt;b&gt; *bold* `x` > q"


def maria() -> Lead:
    _, leads, _ = sample_dataset()
    return Lead.model_validate(leads[0])


def pending(lead: Lead) -> Pending:
    act = ActRef(v="edit", c=CAMPAIGN, l=lead.id or "lead")
    return Pending(act=act, card=CardRef(campaign_id=CAMPAIGN, kind="id", key=act.lead_id))


def campaign_block() -> dict[str, Any]:
    """The lookup modal's campaign picker, as the listener passes it in."""
    return {
        "type": "input",
        "block_id": BlockId.CAMPAIGN,
        "label": plain("Campaign"),
        "element": {
            "type": "external_select",
            "action_id": ActionId.CAMPAIGN,
            "placeholder": plain("Search campaigns, or paste an ID"),
            "min_query_length": 0,
            "initial_option": campaign_option(CAMPAIGN, "Solar – Spring Re-engagement"),
        },
    }


def edit_view(lead: Lead, now: datetime = NOW, title: str = "Maria Gonzalez") -> dict[str, Any]:
    return checked(edit_lead_view(lead, pending(lead), now=now, title_name=title))


def card() -> dict[str, Any]:
    report = sample_report()
    ref = CardRef(campaign_id=report.campaign_id, kind="phone", key="+14155550137")
    return lead_card(report, ref, now=NOW, mask=False)


DRAFT = AddDraft(
    campaign_id=CAMPAIGN,
    phone_number="+14155550137",
    external_id="crm-004512",
    call_data={"firstName": "Maria", "lastName": "Gonzalez"},
)


# checking a form


def checked(view: dict[str, Any]) -> dict[str, Any]:
    """Fail unless Slack would accept the view, and its mrkdwn can mention or link no one."""
    assert len(json.dumps(view, ensure_ascii=False).encode()) < MAX_VIEW_BYTES
    parsed = View(**view).to_dict()
    expected = {k: v for k, v in view.items() if not (k == "private_metadata" and v == "")}
    assert parsed == expected, "the view does not survive slack_sdk"
    assert 0 < len(view["title"]["text"]) <= 24
    assert len(view.get("private_metadata", "")) <= 3000
    blocks = view["blocks"]
    assert 0 < len(blocks) <= 100, f"{len(blocks)} blocks"
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), "block_ids repeat"
    for index, block in enumerate(blocks):
        parsed_block = Block.parse(block)
        assert parsed_block is not None
        assert parsed_block.to_dict() == block, f"block {index} does not survive slack_sdk"
        _check_block(index, block)
        if block["type"] == "input":
            _check_input(block)
        # Slack wants action_ids unique within a block; every input's is `value`.
        ids = [e["action_id"] for e in block.get("elements", []) if "action_id" in e]
        assert len(ids) == len(set(ids))
    for obj in text_objects(blocks):
        assert obj["text"].strip(), "empty text object"
    # What people typed is given back in inputs as plain text, never parsed as mrkdwn; the
    # title is plain text too.
    shown = [{k: v for k, v in b.items() if k != "element"} for b in blocks]
    assert_no_injection({"text": "a form", "blocks": shown})
    return view


def _check_input(block: dict[str, Any]) -> None:
    assert 0 < len(block["label"]["text"]) <= 2000
    assert len(block.get("hint", {}).get("text", "")) <= 2000
    element = block["element"]
    assert len(element.get("placeholder", {}).get("text", "")) <= 150
    if element["type"] == "plain_text_input":
        assert element["max_length"] <= 3000
        assert len(element.get("initial_value", "")) <= element["max_length"]
    if element["type"] == "static_select":
        groups = element["option_groups"]
        assert 0 < len(groups) <= 100
        for group in groups:
            assert 0 < len(group["label"]["text"]) <= 75
            assert 0 < len(group["options"]) <= 100
            for option in group["options"]:
                assert 0 < len(option["text"]["text"]) <= 75
                assert 0 < len(option["value"]) <= 150


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def submitted(view: dict[str, Any], **typed: str | None) -> dict[str, Any]:
    """The state Slack sends back: every input as it opened, but for what was `typed`."""
    values: dict[str, Any] = {}
    for block_id, block in inputs(view).items():
        element = block["element"]
        if element["type"] == "plain_text_input":
            text = typed.get(block_id.replace(".", "_"), element.get("initial_value"))
            state = {"type": element["type"], "value": text or None}
        else:
            state = {"type": element["type"], "selected_option": element.get("initial_option")}
        values[block_id] = {element["action_id"]: state}
    return values


def mrkdwn_texts(view: dict[str, Any]) -> str:
    return "\n".join(o["text"] for o in text_objects(view["blocks"]) if o["type"] == "mrkdwn")


# the edit form


def test_the_edit_form_opens_with_the_lead_as_it_is() -> None:
    lead = maria()
    view = edit_view(lead)
    assert view["callback_id"] == ViewId.EDIT_LEAD
    assert view["title"]["text"] == "Edit Maria Gonzalez"
    assert (view["submit"]["text"], view["close"]["text"]) == ("Save", "Cancel")
    assert Pending.model_validate_json(view["private_metadata"]) == pending(lead)
    fields = inputs(view)
    assert list(fields) == [
        "phone",
        "external_id",
        "time_zone",
        "data.0",
        "data.1",
        "data.2",
        "data.3",
        "new_data",
    ]
    assert fields["phone"]["element"]["initial_value"] == "+1 415-555-0137"
    assert fields["external_id"]["element"]["initial_value"] == "crm-004512"
    labels = [fields[f"data.{n}"]["label"]["text"] for n in range(4)]
    assert labels == ["First name", "Last name", "Email address", "Plan"]
    assert fields["data.2"]["element"]["initial_value"] == "maria.gonzalez@example.com"
    assert fields["new_data"]["hint"]["text"] == "One per line, like plan=Pro"
    assert fields["new_data"]["element"]["multiline"] is True
    # Only the phone is required.
    assert [b for b, block in fields.items() if not block.get("optional")] == ["phone"]


def test_the_time_zone_has_no_initial_option_and_a_hint_of_the_current_offset() -> None:
    zone = inputs(edit_view(maria()))["time_zone"]
    assert "initial_option" not in zone["element"]
    assert zone["hint"]["text"] == "Currently UTC−08:00. Leave it empty to keep it."
    labels = [
        option["text"]["text"]
        for group in zone["element"]["option_groups"]
        for option in group["options"]
    ]
    assert "(UTC−08:00) Pacific Standard Time" in labels
    summer = inputs(edit_view(maria(), SUMMER))["time_zone"]["element"]["option_groups"]
    assert "(UTC−07:00) Pacific Standard Time" in [
        option["text"]["text"] for group in summer for option in group["options"]
    ]


def test_an_unreadable_zone_gives_a_plain_hint() -> None:
    lead = maria().model_copy(update={"time_zone": "somewhere"})
    hint = inputs(edit_view(lead))["time_zone"]["hint"]["text"]
    assert hint == "Leave it empty to keep the lead's time zone."


def test_the_edit_form_submitted_as_it_opened_changes_nothing() -> None:
    lead = maria()
    result = read_edit_form(submitted(edit_view(lead)), lead)
    assert result.errors == {}
    assert result.value is not None
    assert result.value.empty


def test_what_is_typed_in_the_edit_form_is_what_is_sent() -> None:
    lead = maria()
    values = submitted(edit_view(lead), phone="+44 20 7183 8750", data_3="", new_data="tier=Gold")
    result = read_edit_form(values, lead)
    assert result.value is not None
    assert result.value.body() == {
        "phoneNumber": "+442071838750",
        "callData": {
            "firstName": "Maria",
            "lastName": "Gonzalez",
            "emailAddress": "maria.gonzalez@example.com",
            "tier": "Gold",
        },
    }


def test_values_that_are_not_text_say_how_to_write_them() -> None:
    lead = maria().model_copy(
        update={"call_data": {"age": 41, "vip": False, "tags": ["a"], "note": "x" * 100}}
    )
    fields = inputs(edit_view(lead))
    assert fields["data.0"]["hint"]["text"] == "A number"
    assert fields["data.1"]["element"]["initial_value"] == "false"
    assert fields["data.1"]["hint"]["text"] == "true or false"
    assert fields["data.2"]["element"]["initial_value"] == '["a"]'
    assert fields["data.3"]["element"]["multiline"] is True
    untouched = read_edit_form(submitted(edit_view(lead)), lead).value
    assert untouched is not None
    assert untouched.empty


def test_keys_that_humanise_alike_are_told_apart() -> None:
    lead = maria().model_copy(update={"call_data": {"first_name": "a", "firstName": "b"}})
    labels = [
        b["label"]["text"] for b in inputs(edit_view(lead)).values() if "data." in b["block_id"]
    ]
    assert labels == ["First name (first_name)", "First name (firstName)"]


def test_two_hundred_keys_still_fit_and_say_how_many_are_left_out() -> None:
    lead = maria().model_copy(update={"call_data": {f"key{i}": f"v{i}" for i in range(200)}})
    view = edit_view(lead)
    assert len(view["blocks"]) <= 100
    assert sum(b.startswith("data.") for b in inputs(view)) == 40
    assert "160 more call-data fields aren't shown here; kept as they are." in mrkdwn_texts(view)
    result = read_edit_form(submitted(view), lead)
    assert result.value is not None
    assert result.value.empty


def test_a_lead_without_data_or_details_still_makes_a_form() -> None:
    lead = Lead.model_validate({"id": "x"})
    view = edit_view(lead, title="")
    assert "initial_value" not in inputs(view)["phone"]["element"]
    assert list(inputs(view)) == ["phone", "external_id", "time_zone", "new_data"]


def test_an_external_id_too_long_for_its_input_is_not_offered_and_is_kept() -> None:
    lead = maria().model_copy(update={"external_id": "x" * 300})
    view = edit_view(lead)
    assert "external_id" not in inputs(view)
    result = read_edit_form(submitted(view), lead)
    assert result.value is not None
    assert result.value.empty


def test_hostile_call_data_makes_no_live_mention() -> None:
    lead = maria().model_copy(
        update={"call_data": {HOSTILE: HOSTILE, "x" * 300: "y" * 5000}, "time_zone": HOSTILE}
    )
    view = edit_view(lead, title=HOSTILE)
    assert "1 more call-data field isn't shown here" in mrkdwn_texts(view)


# the add form


def test_the_add_form_is_filled_in_from_the_message() -> None:
    prefill = AddPrefill(
        phone="+14155550137",
        other_phones=("+14155550199", "+442071838750"),
        first_name="Maria",
        last_name="Gonzalez",
        external_id="crm-004512",
    )
    view = checked(add_lead_view(campaign_block(), prefill=prefill, private_metadata="m", now=NOW))
    assert view["callback_id"] == ViewId.ADD_LEAD
    assert (view["title"]["text"], view["submit"]["text"]) == ("Add a lead", "Add lead")
    assert view["private_metadata"] == "m"
    assert list(inputs(view)) == ["campaign", "phone", "external_id", "time_zone", "new_data"]
    assert "Also in the message: +1 415-555-0199, +44 20 7183 8750" in mrkdwn_texts(view)
    new_data = inputs(view)["new_data"]["element"]["initial_value"]
    assert new_data == "firstName=Maria\nlastName=Gonzalez"
    result = read_add_form(submitted(view))
    assert result.value is not None
    campaign, lead = result.value
    assert campaign == CAMPAIGN
    assert lead.body() == {
        "phoneNumber": "+14155550137",
        "externalId": "crm-004512",
        "callData": {"firstName": "Maria", "lastName": "Gonzalez"},
    }


def test_an_empty_add_form_without_a_picker() -> None:
    view = checked(add_lead_view(None, prefill=AddPrefill(), private_metadata="", now=NOW))
    assert list(inputs(view)) == ["phone", "external_id", "time_zone", "new_data"]
    assert "Also in the message" not in mrkdwn_texts(view)
    values = submitted(view, phone="415 555 0137")
    result = read_add_form(values, campaign_id=CAMPAIGN)
    assert result.value is not None
    assert result.value[1].body() == {"phoneNumber": "+14155550137"}


def test_only_a_first_name_prefills_only_the_first_name() -> None:
    prefill = AddPrefill(phone="+14155550137", first_name="Zoë")
    view = checked(add_lead_view(None, prefill=prefill, private_metadata="", now=NOW))
    assert inputs(view)["new_data"]["element"]["initial_value"] == "firstName=Zoë"


def test_many_other_numbers_are_summed_up() -> None:
    others = tuple(f"+1415555{n:04d}" for n in range(9))
    prefill = AddPrefill(phone="+14155550137", other_phones=others)
    view = checked(add_lead_view(None, prefill=prefill, private_metadata="", now=NOW))
    assert mrkdwn_texts(view).endswith("and 4 more")


# the twin


def test_the_twin_message_shows_the_card_and_add_anyway() -> None:
    message = duplicate_blocks(card(), DRAFT)
    assert_valid_message(message)
    assert_no_injection(message)
    first = message["blocks"][0]["text"]["text"]
    assert "This number is already a lead in that campaign." in first
    assert "add it again anyway?" in first
    assert message["blocks"][1:-2] == card()["blocks"]
    button = message["blocks"][-1]["elements"][0]
    assert button["action_id"] == ActionId.ADD_ANYWAY
    assert button["text"]["text"] == "➕ Add anyway"
    assert AddDraft.model_validate_json(button["value"]) == DRAFT


def test_a_draft_too_long_for_a_button_says_so_instead() -> None:
    big = DRAFT.model_copy(update={"call_data": {"notes": "x" * 2500}})
    message = duplicate_blocks(card(), big)
    assert_valid_message(message)
    assert not [
        b
        for b in message["blocks"]
        if b["type"] == "actions"
        and any(e.get("action_id") == ActionId.ADD_ANYWAY for e in b["elements"])
    ]
    assert "too long for a button" in message["blocks"][-1]["elements"][0]["text"]


def test_a_huge_card_is_cut_to_fit_a_message() -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "y" * 2900, "verbatim": True}}
    big = {"text": "card", "blocks": [section] * 60}
    message = duplicate_blocks(big, DRAFT)
    assert_valid_message(message)
    assert len(message["blocks"]) <= 50
    assert total_text(message) < 12_000
    assert message["blocks"][-1]["elements"][0]["action_id"] == ActionId.ADD_ANYWAY
    many = duplicate_blocks({"text": "card", "blocks": [{"type": "divider"}] * 80}, DRAFT)
    assert len(many["blocks"]) == 50


def test_the_twin_in_a_modal_adds_anyway_on_submit() -> None:
    view = checked(duplicate_view(card(), DRAFT))
    assert view["callback_id"] == ViewId.ADD_DUPLICATE
    assert view["submit"]["text"] == "Add anyway"
    assert AddDraft.model_validate_json(view["private_metadata"]) == DRAFT
    assert view["blocks"][1:] == card()["blocks"]
    long = duplicate_view({"text": "", "blocks": [{"type": "divider"}] * 150}, DRAFT)
    assert len(long["blocks"]) == 100


def test_a_draft_too_long_for_the_modal_cannot_be_submitted() -> None:
    big = DRAFT.model_copy(update={"call_data": {"notes": "x" * 3500}})
    view = checked(duplicate_view(card(), big))
    assert "submit" not in view
    assert view["private_metadata"] == ""
    assert "can't be added" in mrkdwn_texts(view)


# properties


hostile_leads = st.builds(
    lambda phone, external, zone, data: Lead.model_validate(
        {
            "id": "6650f1c2a9e4b27d3c8e41a7",
            "phoneNumber": phone,
            "externalId": external,
            "timeZone": zone,
            "callData": data,
        }
    ),
    st.none() | hostile_text,
    st.none() | any_text,
    st.none() | hostile_text | st.sampled_from(["-8.0", "5.5", "America/New_York", "99"]),
    st.dictionaries(hostile_text, json_values(any_text), max_size=50),
)


@PROPERTIES
@given(hostile_leads, hostile_text)
def test_any_lead_makes_a_valid_edit_form_that_changes_nothing_untouched(
    lead: Lead, title: str
) -> None:
    view = edit_view(lead, title=title)
    result = read_edit_form(submitted(view), lead)
    if result.value is None:
        # Only a stored number that can't be read blocks the form, under the phone field.
        assert set(result.errors) == {"phone"}
    else:
        assert result.value.body().keys() <= {"phoneNumber"}


@PROPERTIES
@given(
    st.builds(
        AddPrefill,
        st.none() | hostile_text,
        st.lists(hostile_text, max_size=12).map(tuple),
        st.none() | hostile_text,
        st.none() | hostile_text,
        st.none() | any_text,
    ),
    st.booleans(),
)
def test_any_prefill_makes_a_valid_add_form(prefill: AddPrefill, picker: bool) -> None:
    view = checked(
        add_lead_view(
            campaign_block() if picker else None, prefill=prefill, private_metadata="", now=NOW
        )
    )
    read_add_form(submitted(view))


@PROPERTIES
@given(st.dictionaries(hostile_text, json_values(any_text), max_size=20), hostile_text)
def test_any_draft_makes_a_valid_twin_message_and_modal(
    data: dict[str, Any], external: str
) -> None:
    draft = DRAFT.model_copy(update={"call_data": data, "external_id": external or None})
    message = duplicate_blocks(card(), draft)
    assert_valid_message(message)
    assert_no_injection(message)
    checked(duplicate_view(card(), draft))


def test_importing_the_forms_loads_no_io_library() -> None:
    script = (
        "import json, sys, bot.blocks.lead_forms\n"
        f"print(json.dumps([m for m in {IO_LIBRARIES!r} if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []
