"""Channel feed messages: the lead's parent message and the replies in its thread."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.blocks.notifications import (
    ANSWERS_ON_REPLY,
    CALLS_PER_REPLY,
    StatusChange,
    parent_message,
    thread_reply,
)
from bot.ids import ActionId
from bot.nlpearl import Call
from bot.notify.snapshot import LeadSnapshot
from tests.blocks.slack_limits import (
    all_strings,
    assert_no_injection,
    assert_valid_message,
    text_objects,
)
from tests.notify.samples import CAMPAIGN_ID, LEAD_ID, PHONE, RECORDING, v2_call_end

AT = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)
EPOCH = int(AT.timestamp())
HOSTILE = (
    "<!channel> <!here> <!everyone> <@U123> <#C42> <!subteam^S1> "
    "<https://evil.example|click> <mailto:x@evil.example|mail> &lt;b&gt; &amp; *bold* `x` > q"
)
LONG = "Lorem ipsum <dolor> & sit amet, " * 157  # about 5,000 characters


def snapshot(**fields: Any) -> LeadSnapshot:
    data: dict[str, Any] = {
        "campaign_id": CAMPAIGN_ID,
        "campaign_name": "Brightline Solar",
        "lead_id": LEAD_ID,
        "name": "Maria Gonzalez",
        "phone": PHONE,
        "external_id": "crm-004512",
        "status": 100,
        "on_call": False,
        "calls": 2,
        "answers": {"Interested": True, "Roof age": 12, "Preferred day": "Tuesday"},
        "updated_at": AT,
    }
    data.update(fields)
    return LeadSnapshot(**data)


def call(**fields: Any) -> Call:
    return Call.model_validate(v2_call_end(**fields))


def everything(message: dict[str, Any]) -> str:
    return "\n".join(all_strings(message))


def rendered(message: dict[str, Any]) -> str:
    """The fallback text and every text object, as Slack would render them."""
    return "\n".join([message["text"], *(o["text"] for o in text_objects(message["blocks"]))])


def assert_sound(message: dict[str, Any], allowed_urls: tuple[str, ...] = ()) -> None:
    assert_valid_message(message)
    assert_no_injection(message, allowed_urls=allowed_urls)


# The parent message


def test_the_parent_shows_who_the_status_and_the_campaign() -> None:
    message = parent_message(snapshot(), mask=True)

    assert_sound(message)
    headline = message["blocks"][0]["text"]["text"]
    assert headline.startswith("*Maria Gonzalez*")
    assert "✅ Success" in headline
    assert message["text"] == "Maria Gonzalez: ✅ Success"
    footer = message["blocks"][-1]
    assert footer["type"] == "context"
    assert "📣 Brightline Solar" in footer["elements"][0]["text"]
    assert f"Lead `{LEAD_ID}`" in footer["elements"][0]["text"]


def test_a_masked_parent_shows_only_the_last_four_digits() -> None:
    message = parent_message(snapshot(), mask=True)

    text = everything(message)
    assert "•••• 0137" in text
    assert "555" not in text
    assert "415" not in text


def test_an_unmasked_parent_shows_the_whole_number() -> None:
    message = parent_message(snapshot(), mask=False)

    assert_sound(message)
    assert "+1 415-555-0137" in everything(message)
    assert "••••" not in everything(message)


@pytest.mark.parametrize(("mask", "shown"), [(True, "•••• 0137"), (False, "+1 415-555-0137")])
def test_a_lead_without_a_name_is_named_by_its_phone(mask: bool, shown: str) -> None:
    message = parent_message(snapshot(name=None), mask=mask)

    assert_sound(message)
    assert message["blocks"][0]["text"]["text"].startswith(f"*{shown}*")
    assert message["text"].startswith(shown)
    if mask:
        assert "555" not in everything(message)


def test_a_lead_with_neither_name_nor_phone_is_named_by_an_id() -> None:
    by_external = parent_message(snapshot(name=None, phone=None), mask=True)
    by_lead = parent_message(snapshot(name=None, phone=None, external_id=None), mask=True)
    anonymous = parent_message(
        snapshot(name=None, phone=None, external_id=None, lead_id=None), mask=True
    )

    assert by_external["text"].startswith("crm-004512")
    assert by_lead["text"].startswith(LEAD_ID)
    assert anonymous["text"].startswith("A lead")
    for message in (by_external, by_lead, anonymous):
        assert_sound(message)


def test_on_a_call_is_shown_while_the_lead_is_on_one() -> None:
    on_call = parent_message(snapshot(on_call=True, status=40), mask=True)
    off_call = parent_message(snapshot(on_call=False), mask=True)

    assert_sound(on_call)
    assert "On a call now" in on_call["blocks"][0]["text"]["text"]
    assert "On a call now" not in everything(off_call)


def test_without_a_campaign_name_the_parent_shows_its_id() -> None:
    message = parent_message(snapshot(campaign_name=None), mask=True)

    assert_sound(message)
    assert f"Campaign `{CAMPAIGN_ID}`" in message["blocks"][-1]["elements"][0]["text"]


def test_the_parent_shows_the_latest_key_answers_and_the_call_count() -> None:
    answers = {"Budget": 9000, "Interested": True, "Roof age": 12.5, "Preferred day": "Tuesday"}
    message = parent_message(snapshot(answers={"Oldest": "x", **answers}), mask=True)

    assert_sound(message)
    fields = [f["text"] for f in message["blocks"][1]["fields"]]
    assert fields == [
        "*Phone*\n•••• 0137",
        "*Calls*\n2",
        "*Budget*\n9000",
        "*Interested*\n✅ Yes",
        "*Roof age*\n12.5",
        "*Preferred day*\nTuesday",
    ]


def test_a_parent_with_nothing_to_list_has_no_fields_block() -> None:
    message = parent_message(
        LeadSnapshot(campaign_id=CAMPAIGN_ID, lead_id=LEAD_ID, status=1), mask=True
    )

    assert_sound(message)
    assert [b["type"] for b in message["blocks"]] == ["section", "context"]


def test_the_parent_says_when_it_was_updated_in_each_viewers_zone() -> None:
    message = parent_message(snapshot(), mask=True)

    footer = message["blocks"][-1]["elements"][0]["text"]
    assert f"Updated <!date^{EPOCH}^{{date_short_pretty}} at {{time}}|2026-11-27 18:42 UTC>" in (
        footer
    )


@pytest.mark.parametrize("status", [None, 1, 40, 999, -5])
def test_any_status_code_gives_a_parent(status: int | None) -> None:
    message = parent_message(snapshot(status=status), mask=True)

    assert_sound(message)
    if status == 999:
        assert "Unknown (999)" in message["text"]


# Thread replies: status changes


def test_a_status_change_reads_before_arrow_after_with_its_time() -> None:
    reply = thread_reply([StatusChange(130, 100, AT)], [])

    assert reply is not None
    assert_sound(reply)
    assert reply["blocks"][0]["text"]["text"] == (
        f"☑️ Completed → ✅ Success · <!date^{EPOCH}^{{time}}|2026-11-27 18:42 UTC>"
    )
    assert reply["text"] == "☑️ Completed → ✅ Success"


def test_a_first_status_has_no_arrow() -> None:
    reply = thread_reply([StatusChange(None, 20, AT)], [])

    assert reply is not None
    assert reply["text"] == "⏳ In call queue"
    assert "→" not in reply["blocks"][0]["text"]["text"]


def test_several_changes_are_one_line_each_in_order() -> None:
    changes = [
        StatusChange(None, 20, AT),
        StatusChange(20, 40, AT + timedelta(minutes=1)),
        StatusChange(40, 100, AT + timedelta(minutes=3)),
    ]

    reply = thread_reply(changes, [])

    assert reply is not None
    assert_sound(reply)
    lines = reply["blocks"][0]["text"]["text"].split("\n")
    assert [line.split(" · ")[0] for line in lines] == [
        "⏳ In call queue",
        "⏳ In call queue → 📞 On a call",
        "📞 On a call → ✅ Success",
    ]
    assert reply["text"] == "📞 On a call → ✅ Success"


def test_500_status_changes_stay_within_limits_and_keep_the_newest() -> None:
    codes = [20, 40, 10, 130, 110, 100]
    changes = [
        StatusChange(codes[i % len(codes)], codes[(i + 1) % len(codes)], AT + timedelta(seconds=i))
        for i in range(500)
    ]

    reply = thread_reply(changes, [])

    assert reply is not None
    assert_sound(reply)
    text = reply["blocks"][0]["text"]["text"]
    assert text.endswith(changes[-1].line)
    match = re.match(r"… (\d+) earlier changes\n", text)
    assert match, text[:80]
    shown = text.count("\n")
    assert int(match.group(1)) + shown == 500


def test_nothing_to_say_is_no_reply() -> None:
    assert thread_reply([], []) is None


# Thread replies: calls


def test_an_ended_call_shows_duration_outcome_summary_answers_and_recording() -> None:
    reply = thread_reply([], [call()])

    assert reply is not None
    assert_sound(reply)
    section, answers = reply["blocks"]
    text = section["text"]["text"]
    assert text.startswith("*📞 Call ended* · 2m 22s · ✅ Success")
    assert "\n> Maria wants a site survey next Tuesday morning" in text
    assert section["accessory"]["url"] == RECORDING
    assert section["accessory"]["action_id"] == f"{ActionId.OPEN_RECORDING}.0"
    assert section["accessory"]["text"]["text"] == "▶️ Recording"
    assert [f["text"] for f in answers["fields"]] == [
        "*Interested*\n✅ Yes",
        "*Roof age*\n12",
        "*Preferred day*\nTuesday",
    ]
    assert reply["text"] == "Call ended"


def test_an_unanswered_call_says_how_it_went() -> None:
    reply = thread_reply(
        [],
        [call(status=7, conversationStatus=150, duration=0, summary=None, collectedInfo=[])],
    )

    assert reply is not None
    assert_sound(reply)
    assert [b["type"] for b in reply["blocks"]] == ["section"]
    assert reply["blocks"][0]["text"]["text"] == "*📞 Call ended* · 📵 Unreachable (no answer)"


@pytest.mark.parametrize(
    "recording",
    [
        None,
        "",
        "ftp://files.example/r.mp3",
        "javascript:alert(1)",
        "https://x.example/" + "a" * 3000,
    ],
)
def test_no_recording_button_without_a_usable_link(recording: str | None) -> None:
    reply = thread_reply([], [call(recording=recording)])

    assert reply is not None
    assert_sound(reply)
    assert "accessory" not in reply["blocks"][0]


def test_changes_and_calls_share_one_reply() -> None:
    reply = thread_reply([StatusChange(40, 100, AT)], [call()])

    assert reply is not None
    assert_sound(reply, allowed_urls=(RECORDING,))
    assert reply["blocks"][0]["text"]["text"].startswith("📞 On a call → ✅ Success")
    assert reply["blocks"][1]["text"]["text"].startswith("*📞 Call ended*")
    assert reply["text"] == "📞 On a call → ✅ Success"


def test_more_calls_than_a_reply_holds_show_the_latest_and_count_the_rest() -> None:
    calls = [call(id=f"call{i}", summary=f"Call number {i}.") for i in range(7)]

    reply = thread_reply([], calls)

    assert reply is not None
    assert_sound(reply)
    summaries = re.findall(r"> Call number (\d)\.", rendered(reply))
    assert summaries == ["3", "4", "5", "6"]
    assert reply["blocks"][-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "+ 3 earlier calls", "verbatim": True}],
    }
    buttons = [b["accessory"]["action_id"] for b in reply["blocks"] if "accessory" in b]
    assert len(set(buttons)) == 4


def test_a_full_reply_of_calls_needs_no_earlier_note() -> None:
    reply = thread_reply([], [call(id=f"call{i}") for i in range(CALLS_PER_REPLY)])

    assert reply is not None
    assert "earlier calls" not in everything(reply)


def test_answers_on_a_call_are_cut_to_the_reply_budget() -> None:
    info = [{"id": f"q{i}", "name": f"Question {i}", "value": i} for i in range(14)]

    reply = thread_reply([], [call(collectedInfo=info)])

    assert reply is not None
    assert_sound(reply)
    assert len(reply["blocks"][1]["fields"]) == ANSWERS_ON_REPLY


# Hostile and oversized data


def hostile_snapshot(text: str) -> LeadSnapshot:
    return LeadSnapshot(
        campaign_id=text,
        campaign_name=text,
        lead_id=text,
        name=text,
        phone=text,
        external_id=text,
        status=100,
        on_call=True,
        calls=3,
        answers={f"{text} {i}": text for i in range(8)},
        updated_at=AT,
    )


def hostile_call(text: str, index: int = 0) -> Call:
    return call(
        id=f"{text} {index}",
        name=text,
        summary=text,
        to=text,
        recording=f"https://recordings.example-cdn.net/{index}.mp3?q=<!channel>",
        collectedInfo=[{"id": text, "name": text, "value": text} for _ in range(10)]
        + [{"id": text, "value": {"nested": [text, 1, None]}}],
    )


@pytest.mark.parametrize("text", [HOSTILE, LONG, HOSTILE * 40, "<@U1>", "*" * 5000])
@pytest.mark.parametrize("mask", [True, False])
def test_a_parent_from_hostile_data_is_valid_and_mentions_no_one(text: str, mask: bool) -> None:
    message = parent_message(hostile_snapshot(text), mask=mask)

    assert_sound(message)


@pytest.mark.parametrize("text", [HOSTILE, "<!channel>", "<@U1> <https://evil.example|x>"])
def test_hostile_names_and_answers_are_shown_escaped(text: str) -> None:
    message = parent_message(hostile_snapshot(text), mask=True)

    shown = rendered(message)
    assert "&lt;" in shown
    assert "<!channel>" not in shown
    assert "<@U1>" not in shown


@pytest.mark.parametrize("text", [HOSTILE, LONG, HOSTILE * 40])
def test_a_reply_from_hostile_data_is_valid_and_mentions_no_one(text: str) -> None:
    reply = thread_reply([StatusChange(130, 100, AT)], [hostile_call(text)])

    assert reply is not None
    assert_sound(reply)
    assert "<!channel>" not in rendered(reply)


def test_a_5000_character_summary_is_cut() -> None:
    reply = thread_reply([], [call(summary=LONG)])

    assert reply is not None
    assert_sound(reply)
    quoted = reply["blocks"][0]["text"]["text"].split("\n> ", 1)[1]
    assert len(quoted) <= 700
    assert quoted.endswith("…")


def test_the_fullest_possible_reply_fits_in_one_slack_message() -> None:
    # A long outage lets a lead pile up: hundreds of status changes and seven calls, each
    # with a long summary and the most answers shown, all of it as long as it can be.
    changes = [StatusChange(130, 100, AT + timedelta(seconds=i)) for i in range(500)]
    calls = [hostile_call(LONG, index) for index in range(7)]

    reply = thread_reply(changes, calls)

    assert reply is not None
    assert_sound(reply)
