"""The lead card: what it shows for the sample lead, and that any data keeps it valid and safe."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app.sample import SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID, sample_report
from bot.blocks.ids import ActionId, ActRef, CallRef, CallsRef, CardRef
from bot.blocks.lead_card import lead_card
from bot.nlpearl.models import Call, Lead, Pearl
from bot.records import CallSlot, LeadReport
from tests.blocks.slack_limits import (
    all_strings,
    assert_no_injection,
    assert_valid_message,
    total_text,
)

# A Friday, 18:42 UTC: 10:42 AM for the sample lead at UTC−8.
NOW = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)
CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
LEAD_ID = "6650f1c2a9e4b27d3c8e41a7"
PHONE = "+14155550137"
HOSTILE = (
    "<!channel> <!here> <!everyone> <@U123> <#C42> <!subteam^S1> "
    "<https://evil.example|click> <mailto:x@evil.example|mail> &lt;b&gt; &amp; *bold* `x` > q"
)
LONG = "Lorem ipsum <dolor> & sit amet, " * 125  # 4,000 characters


# builders


def make_lead(**fields: Any) -> Lead:
    data: dict[str, Any] = {
        "id": LEAD_ID,
        "phoneNumber": PHONE,
        "timeZone": "-8.0",
        "status": 100,
        "created": "2025-03-04T15:22:10Z",
    }
    data.update(fields)
    return Lead.model_validate(data)


def make_call(number: int = 0, **fields: Any) -> Call:
    data: dict[str, Any] = {
        "id": f"call{number:020d}",
        "startTime": f"2025-03-{(number % 28) + 1:02d}T17:03:44Z",
        "status": 4,
        "conversationStatus": 100,
        "duration": 142,
        "summary": "Agreed to a site survey.",
        "recording": f"https://recordings.example-cdn.net/{number}.mp3",
    }
    data.update(fields)
    return Call.model_validate(data)


def slots(calls: Iterable[Call]) -> tuple[CallSlot, ...]:
    return tuple(CallSlot(call.id or "?", call) for call in calls)


def make_report(
    lead: Lead | None = None,
    calls: tuple[CallSlot, ...] = (),
    *,
    campaign_name: str | None = "Spring",
    campaign_id: str = CAMPAIGN_ID,
) -> LeadReport:
    campaign = Pearl(id=campaign_id, name=campaign_name) if campaign_name is not None else None
    return LeadReport(campaign_id, campaign, lead or make_lead(), calls)


def ref_for(report: LeadReport, shared_by: str | None = None) -> CardRef:
    """The ref the lookup use case gives the card: the lead by its NLPearl ID when it has one."""
    if report.lead.id:
        return CardRef(
            campaign_id=report.campaign_id, kind="id", key=report.lead.id, shared_by=shared_by
        )
    return CardRef(
        campaign_id=report.campaign_id, kind="external", key="crm-1", shared_by=shared_by
    )


def render(
    report: LeadReport,
    *,
    mask: bool = False,
    shared_by: str | None = None,
    now: datetime = NOW,
) -> dict[str, Any]:
    return lead_card(report, ref_for(report, shared_by), now=now, mask=mask)


def checked(report: LeadReport, **kwargs: Any) -> dict[str, Any]:
    """The card, after checking it is valid and injection-free."""
    message = render(report, **kwargs)
    assert_valid_message(message)
    assert_no_injection(message, shared_by=kwargs.get("shared_by"))
    return message


# reading a card


def blocks_of(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in message["blocks"] if b["type"] == kind]


def header(message: dict[str, Any]) -> str:
    (block,) = blocks_of(message, "header")
    assert message["blocks"][0] is block
    return str(block["text"]["text"])


def facts(message: dict[str, Any]) -> dict[str, str]:
    """The facts section (the one right after the header) as label → value."""
    section = message["blocks"][1]
    assert section["type"] == "section"
    return dict(_label_value(f["text"]) for f in section["fields"])


def _label_value(text: str) -> tuple[str, str]:
    label, _, value = text.partition("\n")
    assert label.startswith("*")
    assert label.endswith("*")
    return label[1:-1], value


def answers(message: dict[str, Any]) -> list[tuple[str, str]]:
    """Answer fields, in order, from the sections after the `📝 Answers` heading."""
    found: list[tuple[str, str]] = []
    started = False
    for block in message["blocks"][2:]:
        if block["type"] == "section" and block.get("text", {}).get("text") == "*📝 Answers*":
            started = True
        elif started and (block["type"] != "section" or "fields" not in block):
            break
        if started:
            found += [_label_value(f["text"]) for f in block["fields"]]
    return found


def call_sections(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        b
        for b in blocks_of(message, "section")
        if b.get("text", {}).get("text", "").startswith("*📞")
    ]


def context_texts(message: dict[str, Any]) -> list[str]:
    return [e["text"] for b in blocks_of(message, "context") for e in b["elements"]]


def inputs_block(message: dict[str, Any]) -> dict[str, Any] | None:
    for block in blocks_of(message, "context"):
        if block["elements"][0]["text"] == "📋 *Inputs*":
            return block
    return None


def footer(message: dict[str, Any]) -> str:
    block = message["blocks"][-2]
    assert block["type"] == "context"
    return str(block["elements"][0]["text"])


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    block = message["blocks"][-1]
    assert block["type"] == "actions"
    return {b["action_id"]: b for b in block["elements"]}


CALL_ACTIONS = (ActionId.TRANSCRIPT, ActionId.OPEN_RECORDING)


def call_buttons(message: dict[str, Any], section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A call's buttons, by action (`…transcript`, `…recording`): the actions block after it."""
    blocks = message["blocks"]
    (at,) = [i for i, block in enumerate(blocks) if block is section]
    assert "accessory" not in section, "a call's buttons sit in an actions block, not beside it"
    following = blocks[at + 1]
    if following["type"] != "actions" or following is blocks[-1]:
        return {}
    found = {}
    for button in following["elements"]:
        kind, _, index = button["action_id"].rpartition(".")
        assert kind in CALL_ACTIONS, button["action_id"]
        assert index.isdigit()
        found[kind] = button
    assert len(found) == len(following["elements"])
    return found


def rendered_text(message: dict[str, Any]) -> str:
    """Everything a person could read: fallback text and every text object."""
    texts = [message["text"]]
    for string in all_strings(message["blocks"]):
        texts.append(string)
    return "\n".join(texts)


# the sample card


@pytest.fixture
def sample() -> dict[str, Any]:
    return checked(sample_report())


def test_sample_card_is_valid_and_safe(sample: dict[str, Any]) -> None:
    assert sample["blocks"][0]["type"] == "header"
    assert sample["blocks"][-1]["type"] == "actions"


def test_header_has_the_name_from_call_data(sample: dict[str, Any]) -> None:
    assert header(sample) == "👤 Maria Gonzalez"


def test_fallback_text_names_the_lead_status_and_campaign(sample: dict[str, Any]) -> None:
    assert sample["text"] == "Maria Gonzalez: ✅ Success · Solar – Spring Re-engagement"


def test_sample_facts(sample: dict[str, Any]) -> None:
    assert facts(sample) == {
        "Status": "✅ Success",
        "Phone": "+1 415-555-0137",
        "Local time": "🕘 Fri 10:42 AM (UTC−8)",
        "Calls": "3",
        "External ID": "crm-004512",
        "Added": "<!date^1741101730^{date_short_pretty} at {time}|2025-03-04 15:22 UTC>",
    }


def test_creation_time_is_a_date_token_of_the_right_moment(sample: dict[str, Any]) -> None:
    match = re.fullmatch(r"<!date\^(\d+)\^([^|]+)\|([^>]+)>", facts(sample)["Added"])
    assert match is not None
    created = datetime(2025, 3, 4, 15, 22, 10, 512000, tzinfo=UTC)
    assert int(match.group(1)) == int(created.timestamp())
    assert match.group(3) == "2025-03-04 15:22 UTC"


def test_masked_phone_shows_only_the_last_four_digits() -> None:
    message = checked(sample_report(), mask=True)
    assert facts(message)["Phone"] == "•••• 0137"


def assert_number_nowhere(message: dict[str, Any], digits: str = "4155550137") -> None:
    for string in [message["text"], *all_strings(message["blocks"])]:
        assert digits not in re.sub(r"\D", "", string), string


def test_masked_sample_has_the_number_nowhere() -> None:
    assert_number_nowhere(checked(sample_report(), mask=True))


def test_unmasked_sample_does_show_the_number(sample: dict[str, Any]) -> None:
    # The check above can fail: without the mask the number is on the card.
    with pytest.raises(AssertionError):
        assert_number_nowhere(sample)


def test_nameless_lead_is_titled_by_its_masked_phone() -> None:
    report = make_report(make_lead(callData={"plan": "Pro"}), campaign_name="Spring")
    message = checked(report, mask=True)
    assert header(message) == "👤 •••• 0137"
    assert message["text"].startswith("•••• 0137: ")
    assert_number_nowhere(message)


def test_nameless_lead_is_titled_by_its_phone_when_not_masked() -> None:
    message = checked(make_report(make_lead(callData={})))
    assert header(message) == "👤 +1 415-555-0137"
    assert message["text"] == "+1 415-555-0137: ✅ Success · Spring"


def test_masked_card_hides_the_number_echoed_in_the_inputs() -> None:
    # Campaigns often import the number into callData too; a shared card must not show it.
    lead = make_lead(callData={"firstName": "Ana", "phone": PHONE, "mobile": "+1 415-555-0137"})
    assert_number_nowhere(checked(make_report(lead), mask=True))


@pytest.mark.parametrize(
    ("fields", "title"),
    [
        ({"phoneNumber": None, "externalId": "crm-9"}, "👤 crm-9"),
        ({"phoneNumber": None, "externalId": None}, f"👤 {LEAD_ID}"),
        ({"phoneNumber": None, "externalId": None, "id": None}, "👤 Lead"),
    ],
)
def test_title_falls_back_to_external_id_then_lead_id(fields: dict[str, Any], title: str) -> None:
    message = checked(make_report(make_lead(**fields)))
    assert header(message) == title


def test_local_time_late_at_night_says_outside_calling_hours() -> None:
    message = checked(make_report(make_lead(timeZone="+9")))
    assert facts(message)["Local time"] == "🌙 Sat 3:42 AM (UTC+9) · outside calling hours"


def test_local_time_uses_the_injected_now() -> None:
    morning = datetime(2026, 11, 27, 6, 5, tzinfo=UTC)
    message = checked(make_report(make_lead(timeZone="-8.0")), now=morning)
    assert facts(message)["Local time"] == "🌙 Thu 10:05 PM (UTC−8) · outside calling hours"


@pytest.mark.parametrize("time_zone", [None, "garbage", "+20"])
def test_unreadable_time_zone_leaves_local_time_out(time_zone: str | None) -> None:
    message = checked(make_report(make_lead(timeZone=time_zone)))
    assert "Local time" not in facts(message)


def test_calls_newest_first_with_duration_outcome_summary_and_recording(
    sample: dict[str, Any],
) -> None:
    sections = call_sections(sample)
    assert len(sections) == 3
    stamps = [re.findall(r"<!date\^(\d+)\^", s["text"]["text"]) for s in sections]
    assert all(len(found) == 1 for found in stamps)
    assert stamps == sorted(stamps, key=lambda found: -int(found[0]))
    first = sections[0]["text"]["text"].split("\n")
    assert first[0] == (
        "*📞 <!date^1741194224^{date_short_pretty} at {time}|2025-03-05 17:03 UTC>*"
        " · 2m 22s · ✅ Success"
    )
    assert first[1].startswith("> Maria agreed to a site survey on Thursday morning.")
    assert first[2] == "🏷️ Survey booked, Battery interest"
    # The sample's latest call has a transcript and a recording.
    found = call_buttons(sample, sections[0])
    assert set(found) == {ActionId.TRANSCRIPT, ActionId.OPEN_RECORDING}
    assert CallRef.model_validate_json(found[ActionId.TRANSCRIPT]["value"]).call_id == (
        "66523b11c2d3e4f5a6b7c8d9"
    )
    button = found[ActionId.OPEN_RECORDING]
    assert button["type"] == "button"
    assert button["url"] == "https://recordings.example-cdn.net/66523b11c2d3e4f5a6b7c8d9.mp3"
    assert button["action_id"].startswith(ActionId.OPEN_RECORDING + ".")
    assert "Recording" in button["text"]["text"]


def test_unanswered_call_shows_what_happened_on_the_line(sample: dict[str, Any]) -> None:
    second = call_sections(sample)[1]
    assert second["text"]["text"].endswith(" · 🔁 Needs retry (no answer)")
    # No duration for a zero-second call, and no recording to play.
    assert " · 0s" not in second["text"]["text"]
    assert call_buttons(sample, second) == {}


def test_voicemail_call(sample: dict[str, Any]) -> None:
    third = call_sections(sample)[2]["text"]["text"]
    assert " · 31s · 📼 Voicemail left" in third
    assert "> Reached voicemail; left the spring offer message" in third


def test_a_call_in_progress_says_so() -> None:
    call = make_call(status=3, conversationStatus=None, duration=None)
    message = checked(make_report(calls=slots([call])))
    first_line = call_sections(message)[0]["text"]["text"].split("\n")[0]
    assert first_line.endswith(" · 📞 On the call now")


def test_recording_buttons_have_distinct_action_ids() -> None:
    calls = [make_call(n) for n in range(5)]
    message = checked(make_report(make_lead(callsId=[c.id for c in calls]), slots(calls)))
    ids = [
        call_buttons(message, s)[ActionId.OPEN_RECORDING]["action_id"]
        for s in call_sections(message)
    ]
    assert len(set(ids)) == 5
    assert all(re.fullmatch(r"lead_card\.recording\.\d+", i) for i in ids)


def test_no_earlier_calls_line_when_all_calls_are_shown(sample: dict[str, Any]) -> None:
    assert not [t for t in context_texts(sample) if "earlier" in t]


@pytest.mark.parametrize(("total", "line"), [(6, "+ 1 earlier call"), (8, "+ 3 earlier calls")])
def test_earlier_calls_are_counted(total: int, line: str) -> None:
    calls = [make_call(n) for n in range(5)]
    lead = make_lead(callsId=[f"c{n}" for n in range(total)])
    message = checked(make_report(lead, slots(calls)))
    assert line in context_texts(message)
    assert facts(message)["Calls"] == str(total)


def test_answers_are_label_value_pairs(sample: dict[str, Any]) -> None:
    assert answers(sample) == [
        ("Preferred day", "Thursday"),
        ("Roof age (years)", "12"),
        ("Wants battery", "✅ Yes"),
        ("Monthly bill ($)", "182.5"),
    ]


def test_answer_values_of_every_type() -> None:
    lead = make_lead(
        collectedData={
            "wantsBattery": True,
            "hasHoa": False,
            "roofAge": 12,
            "monthlyBill": 182.5,
            "panels": 3.0,
            "slots": {"day": "Thu", "hours": [9, 10]},
            "tags": ["a", "b"],
            "notes": None,
            "empty": "",
        }
    )
    assert answers(checked(make_report(lead))) == [
        ("Wants battery", "✅ Yes"),
        ("Has hoa", "❌ No"),
        ("Roof age", "12"),
        ("Monthly bill", "182.5"),
        ("Panels", "3"),
        ("Slots", '{"day": "Thu", "hours": [9, 10]}'),
        ("Tags", '["a", "b"]'),
        ("Notes", "—"),
        ("Empty", "—"),
    ]


def test_answers_come_from_the_latest_call_when_the_lead_has_none() -> None:
    call = make_call(
        collectedInfo=[
            {"id": "preferredDay", "name": "Preferred day", "value": "Monday"},
            {"id": "roof_age", "value": 7},
        ]
    )
    message = checked(make_report(make_lead(collectedData={}), slots([call])))
    assert answers(message) == [("Preferred day", "Monday"), ("Roof age", "7")]


def test_no_answers_no_answers_section() -> None:
    message = checked(make_report(make_lead(collectedData={})))
    assert answers(message) == []
    assert "*📝 Answers*" not in rendered_text(message)


def test_inputs_are_shown_in_a_context_block(sample: dict[str, Any]) -> None:
    block = inputs_block(sample)
    assert block is not None
    assert [e["text"] for e in block["elements"]] == [
        "📋 *Inputs*",
        "*First name:* Maria",
        "*Last name:* Gonzalez",
        "*Plan:* Pro",
        "*Source:* Web form",
    ]


def test_footer_has_campaign_name_and_ids(sample: dict[str, Any]) -> None:
    assert footer(sample) == (
        f"📣 Solar – Spring Re-engagement · Campaign `{SAMPLE_CAMPAIGN_ID}`"
        f" · Lead `{SAMPLE_LEAD_ID}`"
    )


def test_footer_without_campaign_name() -> None:
    message = checked(make_report(campaign_name=None))
    assert footer(message) == f"Campaign `{CAMPAIGN_ID}` · Lead `{LEAD_ID}`"
    assert message["text"] == "+1 415-555-0137: ✅ Success"


def test_refresh_and_share_buttons_carry_the_card_ref(sample: dict[str, Any]) -> None:
    found = buttons(sample)
    # The sample lead is a success: no primary action, the rest in the menu after Share.
    assert list(found) == [
        ActionId.REFRESH_CARD,
        ActionId.ALL_CALLS,
        ActionId.SHARE_CARD,
        ActionId.LEAD_MENU,
    ]
    expected = CardRef(campaign_id=SAMPLE_CAMPAIGN_ID, kind="id", key=SAMPLE_LEAD_ID)
    for action in (ActionId.REFRESH_CARD, ActionId.SHARE_CARD):
        assert CardRef.model_validate_json(found[action]["value"]) == expected
    assert "Refresh" in found[ActionId.REFRESH_CARD]["text"]["text"]
    assert "Share" in found[ActionId.SHARE_CARD]["text"]["text"]
    assert found[ActionId.SHARE_CARD]["style"] == "primary"


def test_buttons_carry_whatever_ref_they_are_given() -> None:
    ref = CardRef(campaign_id=CAMPAIGN_ID, kind="phone", key=PHONE)
    message = lead_card(make_report(), ref, now=NOW, mask=False)
    assert_valid_message(message)
    found = buttons(message)
    assert list(found) == [ActionId.REFRESH_CARD, ActionId.SHARE_CARD, ActionId.LEAD_MENU]
    for action in (ActionId.REFRESH_CARD, ActionId.SHARE_CARD):
        assert CardRef.model_validate_json(found[action]["value"]) == ref
    # The lead's actions name the lead by its NLPearl ID, whatever key the card was found by.
    for option in found[ActionId.LEAD_MENU]["options"]:
        act = ActRef.model_validate_json(option["value"])
        assert (act.campaign_id, act.lead_id) == (CAMPAIGN_ID, LEAD_ID)


def test_shared_card_has_no_share_button_and_says_who_shared_it() -> None:
    message = checked(sample_report(), shared_by="U123ABC")
    found = buttons(message)
    # Shared cards keep the lead's actions: acting is checked per person, not per card.
    assert set(found) == {ActionId.REFRESH_CARD, ActionId.ALL_CALLS, ActionId.LEAD_MENU}
    ref = CardRef.model_validate_json(found[ActionId.REFRESH_CARD]["value"])
    assert ref.shared_by == "U123ABC"
    assert footer(message).endswith(" · Shared by <@U123ABC>")
    # The mention appears in the footer only.
    assert rendered_text(message).count("<@U123ABC>") == 1


def test_shared_by_mention_is_only_allowed_when_asked_for() -> None:
    message = render(sample_report(), shared_by="U123ABC")
    with pytest.raises(AssertionError):
        assert_no_injection(message)


@pytest.mark.parametrize(
    "shared_by", ["<!channel>", "!here", "U1 <!channel>", "<@U123>", "u123abc", "C0123", ""]
)
def test_bogus_shared_by_is_not_rendered(shared_by: str) -> None:
    message = render(sample_report(), shared_by=shared_by)
    assert_valid_message(message)
    assert_no_injection(message)
    assert "Shared by" not in footer(message)


# robustness: every card below must be valid and injection-free whatever the data


def test_300_answers_show_twenty_and_say_how_many_are_left_out() -> None:
    lead = make_lead(collectedData={f"question{n}": f"answer {n}" for n in range(300)})
    message = checked(make_report(lead))
    shown = answers(message)
    assert len(shown) == 20
    assert shown[0] == ("Question0", "answer 0")
    assert "+ 280 more answers not shown" in context_texts(message)


def test_21_answers_say_one_more() -> None:
    lead = make_lead(collectedData={f"q{n}": n for n in range(21)})
    assert "+ 1 more answer not shown" in context_texts(checked(make_report(lead)))


def test_60_calls_show_five_and_count_the_rest() -> None:
    ids = [f"c{n:02d}" for n in range(60)]
    calls = [make_call(n, id=ids[-1 - n]) for n in range(5)]
    message = checked(make_report(make_lead(callsId=ids), slots(calls)))
    assert len(call_sections(message)) == 5
    assert "+ 55 earlier calls" in context_texts(message)
    assert facts(message)["Calls"] == "60"


def test_more_call_slots_than_fit_still_make_a_valid_card() -> None:
    # `look_up_lead(..., calls_on_card=N)` hands the card however many calls it was asked for.
    calls = [make_call(n, summary=LONG, tags=[LONG] * 5) for n in range(60)]
    report = make_report(make_lead(callsId=[c.id for c in calls]), slots(calls))
    message = render(report)
    assert_valid_message(message)


def test_4000_character_everything() -> None:
    lead = make_lead(
        externalId=LONG,
        callData={"firstName": LONG, "lastName": LONG, LONG: LONG, "notes": LONG},
        collectedData={LONG: LONG, "summary": LONG, "nested": {"text": [LONG, LONG]}},
        timeZone=LONG,
        phoneNumber=LONG,
    )
    call = make_call(summary=LONG, tags=[LONG] * 8, name=LONG)
    # A campaign ID as long as a slash command allows (its text is cut at 1,000 characters).
    report = make_report(lead, slots([call]), campaign_name=LONG, campaign_id=LONG[:990])
    for mask in (False, True):
        message = checked(report, mask=mask)
        title = header(message)
        assert len(title) <= 150
        assert title.startswith("👤 Lorem ipsum")
        assert title.endswith("…")
        assert len(message["text"]) <= 3000
        assert facts(message)["External ID"].endswith("…")


def test_the_worst_card_of_all_stays_under_the_whole_message_cap() -> None:
    wide = "<&>" * 1400
    calls = [
        make_call(
            n,
            duration=99_999,
            status=999,
            conversationStatus=999_999,
            summary=wide,
            tags=[wide] * 10,
            recording="https://x.example/" + "a" * 2900,
            collectedInfo=[{"id": f"k{j}{wide}", "name": wide, "value": wide} for j in range(30)],
        )
        for n in range(5)
    ]
    lead = make_lead(
        id=wide,
        externalId=wide,
        phoneNumber=wide,
        status=999_999,
        callsId=[f"c{n}" for n in range(60)],
        callData={f"{wide}{n}": wide for n in range(40)},
        collectedData={f"{wide}{n}": {"a": [wide]} for n in range(300)},
    )
    report = make_report(lead, slots(calls), campaign_name=wide, campaign_id=wide)
    ref = CardRef(campaign_id=CAMPAIGN_ID, kind="id", key=LEAD_ID, shared_by="U123ABC")
    message = lead_card(report, ref, now=NOW, mask=False)
    assert_valid_message(message)
    assert_no_injection(message, shared_by="U123ABC")
    assert total_text(message) < 12_000


@pytest.mark.parametrize(
    "name",
    [
        ("مريم", "الحسيني"),
        ("שלום", "עליכם"),
        ("José 🙂", "Nguyễn 👨‍👩‍👧‍👦"),
        ("\u202eevil", "\u200fname\u200e"),
    ],
)
def test_emoji_and_right_to_left_text(name: tuple[str, str]) -> None:
    first, last = name
    lead = make_lead(
        callData={"firstName": first, "lastName": last, "city": "תל אביב 🏙️"},
        collectedData={"ملاحظة": "نعم 👍", "הערה": "כן"},
    )
    call = make_call(summary=f"{first} {last} said yes 🎉", tags=["عربي", "עברית"])
    message = checked(make_report(lead, slots([call]), campaign_name="حملة 🌞"))
    assert header(message) == f"👤 {first} {last}"
    assert ("ملاحظة", "نعم 👍") in answers(message)
    assert "حملة 🌞" in footer(message)


def test_a_lead_where_every_field_is_null() -> None:
    keys = [
        "id",
        "pearlId",
        "externalId",
        "phoneNumber",
        "timeZone",
        "status",
        "created",
        "callsId",
        "lastCall",
        "callData",
        "collectedData",
    ]
    lead = Lead.model_validate(dict.fromkeys(keys))
    message = checked(make_report(lead, campaign_name=None))
    assert header(message) == "👤 Lead"
    assert facts(message) == {"Status": "❔ Unknown", "Calls": "0"}
    assert "No calls yet." in context_texts(message)
    assert answers(message) == []
    assert inputs_block(message) is None
    assert footer(message) == f"Campaign `{CAMPAIGN_ID}`"
    assert message["text"] == "Lead: ❔ Unknown"


def test_a_lead_with_no_calls() -> None:
    message = checked(make_report(make_lead(callsId=[])))
    assert call_sections(message) == []
    assert "No calls yet." in context_texts(message)
    assert facts(message)["Calls"] == "0"


def test_calls_that_failed_to_load() -> None:
    loaded = make_call(1)
    report = make_report(
        make_lead(callsId=["a", "b", "c"]),
        (CallSlot("a", None), CallSlot(loaded.id or "", loaded), CallSlot("c", None)),
    )
    message = checked(report)
    unavailable = [
        s for s in blocks_of(message, "section") if "Call unavailable" in str(s.get("text"))
    ]
    assert len(unavailable) == 2
    assert all(call_buttons(message, s) == {} for s in unavailable)
    assert len(call_sections(message)) == 3
    assert facts(message)["Calls"] == "3"


def test_hostile_text_everywhere_is_escaped() -> None:
    lead = make_lead(
        id=HOSTILE,
        externalId=HOSTILE,
        phoneNumber=HOSTILE,
        timeZone=HOSTILE,
        callData={"firstName": HOSTILE, HOSTILE: HOSTILE},
        collectedData={HOSTILE: HOSTILE, "list": [HOSTILE], "obj": {HOSTILE: HOSTILE}},
    )
    call = make_call(
        summary=HOSTILE,
        tags=[HOSTILE, "ok"],
        recording=f"https://rec.example/a|{HOSTILE}",
        collectedInfo=[{"id": HOSTILE, "name": HOSTILE, "value": HOSTILE}],
    )
    report = make_report(lead, slots([call]), campaign_name=HOSTILE, campaign_id=HOSTILE)
    for mask in (False, True):
        for shared_by in (None, "U123ABC"):
            message = checked(report, mask=mask, shared_by=shared_by)
            text = "\n".join([message["text"], *context_texts(message)])
            assert "&lt;!channel&gt;" in text
            assert "&amp;lt;b&amp;gt;" in text
            assert "&lt;@U123&gt;" in text
            # The name reaches the header only as plain_text, which Slack never parses.
            assert message["blocks"][0]["text"]["type"] == "plain_text"
    # The checker is not blind: the same hostile text unescaped in mrkdwn is caught.
    message = render(report)
    message["blocks"][1]["fields"][0]["text"] = HOSTILE
    with pytest.raises(AssertionError):
        assert_no_injection(message)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://files.example/a.mp3",
        "//evil.example/a.mp3",
        "https://recordings.example/" + "a" * 3000,
    ],
)
def test_unusable_recording_url_gets_no_button(url: str) -> None:
    message = checked(make_report(calls=slots([make_call(recording=url)])))
    (section,) = call_sections(message)
    assert call_buttons(message, section) == {}
    assert url not in rendered_text(message)


def test_recording_url_of_exactly_3000_characters_keeps_its_button() -> None:
    url = "https://recordings.example/" + "a" * (3000 - 27)
    assert len(url) == 3000
    message = checked(make_report(calls=slots([make_call(recording=url)])))
    (section,) = call_sections(message)
    assert call_buttons(message, section)[ActionId.OPEN_RECORDING]["url"] == url


def test_40_inputs_fit_one_context_block() -> None:
    lead = make_lead(callData={f"field{n}": f"value {n}" for n in range(40)})
    message = checked(make_report(lead))
    block = inputs_block(message)
    assert block is not None
    elements = [e["text"] for e in block["elements"]]
    assert len(elements) == 10
    assert elements[1] == "*Field0:* value 0"
    assert elements[-1] == "+ 32 more inputs"
    # What is shown plus what is counted is every input.
    assert len(elements) - 2 + 32 == 40


@pytest.mark.parametrize(("count", "shown"), [(9, 9), (10, 8)])
def test_inputs_at_the_edge_of_the_context_limit(count: int, shown: int) -> None:
    lead = make_lead(callData={f"field{n}": n for n in range(count)})
    block = inputs_block(checked(make_report(lead)))
    assert block is not None
    texts = [e["text"] for e in block["elements"][1:]]
    assert len([t for t in texts if t.startswith("*Field")]) == shown
    if shown < count:
        assert texts[-1] == f"+ {count - shown} more inputs"


def test_unknown_status_codes() -> None:
    call = make_call(status=77, conversationStatus=999)
    message = checked(make_report(make_lead(status=999), slots([call])))
    assert facts(message)["Status"] == "❔ Unknown (999)"
    assert call_sections(message)[0]["text"]["text"].split("\n")[0].endswith(" · ❔ Unknown (999)")
    assert message["text"] == "+1 415-555-0137: ❔ Unknown (999) · Spring"


def test_unknown_call_status_without_outcome() -> None:
    call = make_call(status=77, conversationStatus=None)
    message = checked(make_report(calls=slots([call])))
    assert call_sections(message)[0]["text"]["text"].split("\n")[0].endswith(" · ❔ Unknown (77)")


def test_a_call_without_start_time_or_duration() -> None:
    call = make_call(startTime=None, duration=None)
    message = checked(make_report(calls=slots([call])))
    assert call_sections(message)[0]["text"]["text"].startswith("*📞 Call* · ✅ Success")


def test_many_tags_show_the_first_five() -> None:
    call = make_call(tags=[f"tag{n}" for n in range(12)])
    message = checked(make_report(calls=slots([call])))
    assert "🏷️ tag0, tag1, tag2, tag3, tag4\n" in call_sections(message)[0]["text"]["text"] + "\n"


def test_multi_line_values_stay_on_one_line() -> None:
    lead = make_lead(callData={"firstName": "Ana\nLi", "note": "a\n\nb"}, externalId="x\ny")
    call = make_call(summary="line one\n> quoted\n*bold*")
    message = checked(make_report(lead, slots([call])))
    assert header(message) == "👤 Ana Li"
    assert facts(message)["External ID"] == "x y"
    lines = call_sections(message)[0]["text"]["text"].split("\n")
    # The summary's own * are look-alikes: they cannot bold anything or pair with ours.
    assert lines[1] == "> line one &gt; quoted \u2217bold\u2217"


# the Transcript and All calls buttons, and the card in a modal

TRANSCRIPT = [
    {"role": 3, "content": "Hi, this is Pearl from Sunrise Solar.", "startTime": 0.4},
    {"role": 2, "content": "Oh hi, yes.", "startTime": 3.2},
]


def test_a_call_with_a_transcript_has_a_transcript_button_before_its_recording() -> None:
    call = make_call(7, transcript=TRANSCRIPT)
    message = checked(make_report(calls=slots([call])))
    (section,) = call_sections(message)
    blocks = message["blocks"]
    actions = blocks[blocks.index(section) + 1]
    assert actions["type"] == "actions"
    assert [b["action_id"] for b in actions["elements"]] == [
        f"{ActionId.TRANSCRIPT}.0",
        f"{ActionId.OPEN_RECORDING}.0",
    ]
    transcript = call_buttons(message, section)[ActionId.TRANSCRIPT]
    assert "Transcript" in transcript["text"]["text"]
    assert "url" not in transcript
    assert CallRef.model_validate_json(transcript["value"]) == CallRef(call_id=call.id or "")
    assert CallRef.model_validate_json(transcript["value"]).page == 0


def test_transcript_buttons_only_for_calls_with_a_transcript() -> None:
    calls = [
        make_call(0, transcript=TRANSCRIPT),
        make_call(1, transcript=[]),
        make_call(2, transcript=TRANSCRIPT, recording=None),
        make_call(3),
    ]
    message = checked(make_report(make_lead(callsId=[c.id for c in calls]), slots(calls)))
    found = [call_buttons(message, s) for s in call_sections(message)]
    assert [set(f) for f in found] == [
        {ActionId.TRANSCRIPT, ActionId.OPEN_RECORDING},
        {ActionId.OPEN_RECORDING},
        {ActionId.TRANSCRIPT},
        {ActionId.OPEN_RECORDING},
    ]
    refs = [CallRef.model_validate_json(f[ActionId.TRANSCRIPT]["value"]) for f in found[::2]]
    assert refs == [CallRef(call_id=calls[0].id or ""), CallRef(call_id=calls[2].id or "")]
    transcript_ids = [f[ActionId.TRANSCRIPT]["action_id"] for f in found[::2]]
    assert len(set(transcript_ids)) == 2


def test_a_call_without_an_id_gets_no_transcript_button() -> None:
    call = make_call(1, id=None, transcript=TRANSCRIPT)
    message = checked(make_report(calls=(CallSlot("c1", call),)))
    (section,) = call_sections(message)
    assert set(call_buttons(message, section)) == {ActionId.OPEN_RECORDING}


def test_a_transcript_button_whose_value_is_too_long_is_left_out() -> None:
    call = make_call(1, id="c" * 2000, transcript=TRANSCRIPT)
    message = checked(make_report(calls=(CallSlot("c", call),)))
    (section,) = call_sections(message)
    assert set(call_buttons(message, section)) == {ActionId.OPEN_RECORDING}


def test_all_calls_button_carries_the_lead_and_campaign(sample: dict[str, Any]) -> None:
    button = buttons(sample)[ActionId.ALL_CALLS]
    assert "All calls" in button["text"]["text"]
    assert CallsRef.model_validate_json(button["value"]) == CallsRef(
        campaign_id=SAMPLE_CAMPAIGN_ID, lead_id=SAMPLE_LEAD_ID, page=0
    )


def test_all_calls_counts_calls_not_yet_loaded() -> None:
    # The lead has calls NLPearl could not load: the list can still show what it has.
    message = checked(make_report(make_lead(callsId=["a", "b"])))
    assert ActionId.ALL_CALLS in buttons(message)


@pytest.mark.parametrize(
    "lead",
    [
        make_lead(callsId=[]),
        make_lead(id=None, callsId=["a", "b"]),
    ],
    ids=["no calls", "no lead id"],
)
def test_no_all_calls_button_without_calls_or_lead_id(lead: Lead) -> None:
    message = checked(make_report(lead))
    assert ActionId.ALL_CALLS not in buttons(message)
    assert ActionId.REFRESH_CARD in buttons(message)


def test_buttons_whose_value_is_too_long_are_left_out() -> None:
    long_id = "a" * 2100
    report = make_report(make_lead(id=long_id, callsId=["a"]), campaign_id=long_id)
    ref = CardRef(campaign_id=long_id, kind="id", key=long_id)
    message = lead_card(report, ref, now=NOW, mask=False)
    assert_valid_message(message)
    # Every main button carries the over-long IDs, so there is no row of buttons at all.
    assert message["blocks"][-1]["type"] == "context"
    assert not [b for b in message["blocks"] if b["type"] == "actions"]


def test_only_the_all_calls_value_too_long() -> None:
    # A CardRef fits, but the lead's long ID pushes the CallsRef past 2,000 characters.
    lead_key = "b" * 1000
    report = make_report(make_lead(id="c" * 1990, callsId=["a"]))
    ref = CardRef(campaign_id=CAMPAIGN_ID, kind="external", key=lead_key)
    message = lead_card(report, ref, now=NOW, mask=False)
    assert_valid_message(message)
    assert set(buttons(message)) == {ActionId.REFRESH_CARD, ActionId.SHARE_CARD}


def test_in_a_modal_there_is_no_share_button() -> None:
    report = sample_report()
    ref = ref_for(report)
    message = lead_card(report, ref, now=NOW, mask=False, surface="modal")
    assert_valid_message(message)
    assert_no_injection(message)
    assert list(buttons(message)) == [
        ActionId.REFRESH_CARD,
        ActionId.ALL_CALLS,
        ActionId.LEAD_MENU,
    ]
    assert CardRef.model_validate_json(buttons(message)[ActionId.REFRESH_CARD]["value"]) == ref
    # Everything but the buttons is the same card.
    in_message = lead_card(report, ref, now=NOW, mask=False)
    assert message["blocks"][:-1] == in_message["blocks"][:-1]
    assert message["text"] == in_message["text"]


def test_in_a_modal_a_card_without_calls_keeps_refresh() -> None:
    message = lead_card(
        make_report(make_lead(callsId=[])),
        ref_for(make_report()),
        now=NOW,
        mask=True,
        surface="modal",
    )
    assert_valid_message(message)
    assert list(buttons(message)) == [ActionId.REFRESH_CARD, ActionId.LEAD_MENU]


def test_many_calls_with_transcripts_keep_the_card_valid() -> None:
    calls = [make_call(n, transcript=TRANSCRIPT, summary=LONG, tags=[LONG] * 5) for n in range(10)]
    report = make_report(make_lead(callsId=[c.id for c in calls]), slots(calls))
    for surface in ("message", "modal"):
        message = lead_card(report, ref_for(report), now=NOW, mask=True, surface=surface)
        assert_valid_message(message)
        assert_no_injection(message)
        ids = [b["action_id"] for b in _all_buttons(message)]
        assert len(ids) == len(set(ids))


def _all_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


# the checkers themselves


def test_the_limit_checker_catches_an_over_long_header() -> None:
    message = copy.deepcopy(render(sample_report()))
    message["blocks"][0]["text"]["text"] = "x" * 151
    with pytest.raises(Exception, match="150"):
        assert_valid_message(message)


def test_the_limit_checker_catches_repeated_action_ids() -> None:
    message = copy.deepcopy(render(sample_report()))
    message["blocks"][-1]["elements"][1]["action_id"] = ActionId.REFRESH_CARD.value
    with pytest.raises(AssertionError, match="action_ids repeat"):
        assert_valid_message(message)


def test_the_limit_checker_catches_too_much_text_in_total() -> None:
    message = copy.deepcopy(render(sample_report()))
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900, "verbatim": True}}
    message["blocks"][2:2] = [copy.deepcopy(section) for _ in range(5)]
    with pytest.raises(AssertionError, match="characters of text"):
        assert_valid_message(message)


def test_the_limit_checker_catches_too_many_blocks() -> None:
    message = copy.deepcopy(render(sample_report()))
    message["blocks"][2:2] = [{"type": "divider"}] * 45
    with pytest.raises(AssertionError, match="blocks"):
        assert_valid_message(message)


def test_the_limit_checker_catches_an_empty_fallback() -> None:
    message = copy.deepcopy(render(sample_report()))
    message["text"] = ""
    with pytest.raises(AssertionError, match="fallback"):
        assert_valid_message(message)


@pytest.mark.parametrize(
    "token", ["<!here>", "<!everyone>", "<#C123>", "<mailto:a@b.c>", "<http://x.example|x>"]
)
def test_the_injection_checker_catches_tokens_in_the_fallback(token: str) -> None:
    message = copy.deepcopy(render(sample_report()))
    message["text"] += token
    with pytest.raises(AssertionError):
        assert_no_injection(message)


def test_the_injection_checker_requires_verbatim_mrkdwn() -> None:
    message = copy.deepcopy(render(sample_report()))
    del message["blocks"][1]["fields"][0]["verbatim"]
    with pytest.raises(AssertionError, match="verbatim"):
        assert_no_injection(message)


def test_card_json_is_serialisable() -> None:
    # What respond() sends: the card must survive a JSON round trip unchanged.
    message = render(sample_report())
    assert json.loads(json.dumps(message)) == message
