"""Channel feed messages: the lead's parent message and the replies in its thread."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.blocks.ids import ActionId, ActRef, CallRef, CallsRef
from bot.blocks.notifications import (
    ANSWERS_ON_REPLY,
    CALLS_PER_REPLY,
    StatusChange,
    parent_message,
    thread_reply,
)
from bot.nlpearl.models import Call
from bot.records import LeadSnapshot
from tests.blocks.slack_limits import (
    all_strings,
    assert_no_injection,
    assert_valid_message,
    text_objects,
)
from tests.feed.samples import CAMPAIGN_ID, LEAD_ID, PHONE, RECORDING, v2_call_end

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
    assert not [b for b in message["blocks"] if "accessory" in b], "buttons go in actions blocks"


def footer(message: dict[str, Any]) -> str:
    """The parent's footer: its last context block, followed by nothing but buttons."""
    blocks = message["blocks"]
    at = max(i for i, block in enumerate(blocks) if block["type"] == "context")
    assert [b["type"] for b in blocks[at + 1 :]] in ([], ["actions"]), blocks[at + 1 :]
    (element,) = blocks[at]["elements"]
    return str(element["text"])


def parent_buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The parent's buttons by action_id: the actions block after its footer, if any."""
    blocks = message["blocks"]
    actions = [b for b in blocks if b["type"] == "actions"]
    if not actions:
        return {}
    (block,) = actions
    assert block is blocks[-1], "the parent's buttons come last"
    found = {button["action_id"]: button for button in block["elements"]}
    assert len(found) == len(block["elements"])
    return found


CALL_ACTIONS = (ActionId.TRANSCRIPT, ActionId.OPEN_RECORDING)


def reply_calls(reply: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Each call's blocks in a reply: its section, then answers and buttons when it has them."""
    calls: list[list[dict[str, Any]]] = []
    for block in reply["blocks"]:
        if block["type"] == "section" and block.get("text", {}).get("text", "").startswith(
            "*📞 Call ended*"
        ):
            calls.append([block])
        elif calls and block["type"] in {"section", "actions"} and "text" not in block:
            calls[-1].append(block)
    for blocks in calls:
        kinds = [("fields" if "fields" in b else b["type"]) for b in blocks[1:]]
        assert kinds in ([], ["fields"], ["actions"], ["fields", "actions"]), kinds
    return calls


def call_buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A call's buttons by kind (`…transcript`, `…recording`), Transcript first."""
    actions = [b for b in blocks if b["type"] == "actions"]
    if not actions:
        return {}
    (block,) = actions
    found: dict[str, dict[str, Any]] = {}
    indexes = set()
    for button in block["elements"]:
        kind, _, index = button["action_id"].rpartition(".")
        assert kind in CALL_ACTIONS, button["action_id"]
        assert index.isdigit(), button["action_id"]
        indexes.add(index)
        found[kind] = button
    assert len(found) == len(block["elements"]), "one button of each kind"
    assert len(indexes) == 1, "a call's buttons share its index"
    assert list(found) == [k for k in CALL_ACTIONS if k in found], "Transcript before Recording"
    return found


def action_ids(message: dict[str, Any]) -> list[str]:
    """Every button's action_id in the message, in order."""
    return [
        e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]


# The parent message


def test_the_parent_shows_who_the_status_and_the_campaign() -> None:
    message = parent_message(snapshot(), mask=True)

    assert_sound(message)
    headline = message["blocks"][0]["text"]["text"]
    assert headline.startswith("*Maria Gonzalez*")
    assert "✅ Success" in headline
    assert message["text"] == "Maria Gonzalez: ✅ Success"
    assert "📣 Brightline Solar" in footer(message)
    assert f"Lead `{LEAD_ID}`" in footer(message)
    assert [b["type"] for b in message["blocks"]] == ["section", "section", "context", "actions"]


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
    assert f"Campaign `{CAMPAIGN_ID}`" in footer(message)
    assert "📣" not in footer(message)


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
    assert [b["type"] for b in message["blocks"]] == ["section", "context", "actions"]
    assert list(parent_buttons(message)) == [ActionId.LEAD_PRIMARY, ActionId.LEAD_MENU]


def test_the_parent_says_when_it_was_updated_in_each_viewers_zone() -> None:
    message = parent_message(snapshot(), mask=True)

    assert f"Updated <!date^{EPOCH}^{{date_short_pretty}} at {{time}}|2026-11-27 18:42 UTC>" in (
        footer(message)
    )


def test_a_parent_with_calls_ends_with_an_all_calls_button_for_its_lead() -> None:
    message = parent_message(snapshot(), mask=True)

    assert_sound(message)
    button = parent_buttons(message)[ActionId.ALL_CALLS]
    # All calls first, then the lead's actions (a success: no primary, only the menu).
    assert list(parent_buttons(message)) == [ActionId.ALL_CALLS, ActionId.LEAD_MENU]
    assert button["text"]["type"] == "plain_text"
    assert button["text"]["text"] == "📞 All calls"
    assert "url" not in button
    ref = CallsRef.model_validate_json(button["value"])
    assert ref == CallsRef(campaign_id=CAMPAIGN_ID, lead_id=LEAD_ID, page=0)


@pytest.mark.parametrize(
    "fields",
    [{"calls": 0}, {"lead_id": None}, {"lead_id": ""}, {"lead_id": None, "calls": 0}],
    ids=["no calls", "no lead id", "empty lead id", "neither"],
)
def test_no_all_calls_button_without_a_lead_id_and_calls(fields: dict[str, Any]) -> None:
    lead = snapshot(**fields)
    message = parent_message(lead, mask=True)

    assert_sound(message)
    assert ActionId.ALL_CALLS not in parent_buttons(message)
    assert ActionId.ALL_CALLS not in everything(message)
    if lead.lead_id:
        # A lead without calls can still be acted on: its actions alone end the message.
        assert list(parent_buttons(message)) == [ActionId.LEAD_MENU]
    else:
        assert parent_buttons(message) == {}
        assert message["blocks"][-1]["type"] == "context"


def test_the_all_calls_button_carries_each_leads_own_ids() -> None:
    other = parent_message(snapshot(campaign_id="c" * 24, lead_id="d" * 24, calls=1), mask=False)

    assert_sound(other)
    ref = CallsRef.model_validate_json(parent_buttons(other)[ActionId.ALL_CALLS]["value"])
    assert ref == CallsRef(campaign_id="c" * 24, lead_id="d" * 24)


def test_an_all_calls_value_over_slacks_limit_is_left_out() -> None:
    message = parent_message(snapshot(lead_id="a" * 2000), mask=True)

    assert_sound(message)
    # The lead's actions carry the same ID, over an option's 150 characters: none either.
    assert parent_buttons(message) == {}


def test_a_parent_offers_the_leads_actions_from_the_feed() -> None:
    message = parent_message(snapshot(status=40), mask=True)

    assert_sound(message)
    found = parent_buttons(message)
    assert list(found) == [ActionId.ALL_CALLS, ActionId.LEAD_PRIMARY, ActionId.LEAD_MENU]
    stop = ActRef.model_validate_json(found[ActionId.LEAD_PRIMARY]["value"])
    assert stop == ActRef(
        verb="stop", campaign_id=CAMPAIGN_ID, lead_id=LEAD_ID, seen_status=40, origin="feed"
    )
    assert found[ActionId.LEAD_PRIMARY]["text"]["text"] == "✋ Stop calling"
    options = [ActRef.model_validate_json(o["value"]) for o in found[ActionId.LEAD_MENU]["options"]]
    assert [o.verb for o in options] == ["won", "lost", "edit"]
    assert {o.origin for o in options} == {"feed"}


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
    section, answers, actions = reply["blocks"]
    assert [b["type"] for b in reply["blocks"]] == ["section", "section", "actions"]
    text = section["text"]["text"]
    assert text.startswith("*📞 Call ended* · 2m 22s · ✅ Success")
    assert "\n> Maria wants a site survey next Tuesday morning" in text
    assert [b["action_id"] for b in actions["elements"]] == [
        f"{ActionId.TRANSCRIPT}.0",
        f"{ActionId.OPEN_RECORDING}.0",
    ]
    recording = call_buttons(reply["blocks"])[ActionId.OPEN_RECORDING]
    assert recording["url"] == RECORDING
    assert recording["text"]["text"] == "▶️ Recording"
    assert "value" not in recording
    assert [f["text"] for f in answers["fields"]] == [
        "*Interested*\n✅ Yes",
        "*Roof age*\n12",
        "*Preferred day*\nTuesday",
    ]
    assert reply["text"] == "Call ended"


def test_an_unanswered_call_says_how_it_went() -> None:
    # Nobody answered: nothing was said, collected or recorded, so there are no buttons either.
    unanswered = call(
        status=7,
        conversationStatus=150,
        duration=0,
        summary=None,
        collectedInfo=[],
        transcript=[],
        recording=None,
    )

    reply = thread_reply([], [unanswered])

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
    no_transcript = thread_reply([], [call(recording=recording, transcript=[])])

    assert reply is not None
    assert no_transcript is not None
    assert_sound(reply)
    assert_sound(no_transcript)
    ((*_, actions),) = reply_calls(reply)
    assert [b["action_id"] for b in actions["elements"]] == [f"{ActionId.TRANSCRIPT}.0"]
    assert "Recording" not in everything(reply)
    # With neither button the call has no actions block at all (Slack refuses an empty one).
    assert [b["type"] for b in no_transcript["blocks"]] == ["section", "section"]


TRANSCRIPT = [{"role": 3, "content": "Hi Maria, is now a good time?", "startTime": 0}]


def test_a_call_with_a_transcript_has_a_transcript_button_for_that_call() -> None:
    reply = thread_reply([], [call(id="call-one", transcript=TRANSCRIPT, recording=None)])

    assert reply is not None
    assert_sound(reply)
    (blocks,) = reply_calls(reply)
    buttons = call_buttons(blocks)
    assert list(buttons) == [ActionId.TRANSCRIPT]
    transcript = buttons[ActionId.TRANSCRIPT]
    assert transcript["action_id"] == f"{ActionId.TRANSCRIPT}.0"
    assert transcript["text"]["text"] == "📝 Transcript"
    assert "url" not in transcript
    ref = CallRef.model_validate_json(transcript["value"])
    assert ref == CallRef(call_id="call-one", page=0)


@pytest.mark.parametrize(
    "fields",
    [{"transcript": []}, {"transcript": None}, {"id": None}, {"id": ""}, {"id": "c" * 2000}],
    ids=["empty transcript", "no transcript", "no call id", "empty call id", "id too long"],
)
def test_no_transcript_button_without_a_transcript_and_a_usable_call_id(
    fields: dict[str, Any],
) -> None:
    reply = thread_reply([], [call(**fields)])

    assert reply is not None
    assert_sound(reply, allowed_urls=(RECORDING,))
    (blocks,) = reply_calls(reply)
    assert list(call_buttons(blocks)) == [ActionId.OPEN_RECORDING]
    assert "Transcript" not in everything(reply)


def test_each_call_in_a_reply_gets_its_own_buttons() -> None:
    calls = [
        call(id="with-both"),
        call(id="no-transcript", transcript=[]),
        call(id="no-recording", recording=None),
        call(id="neither", transcript=[], recording=None),
    ]

    reply = thread_reply([StatusChange(40, 100, AT)], calls)

    assert reply is not None
    assert_sound(reply)
    found = [call_buttons(blocks) for blocks in reply_calls(reply)]
    assert [list(f) for f in found] == [
        [ActionId.TRANSCRIPT, ActionId.OPEN_RECORDING],
        [ActionId.OPEN_RECORDING],
        [ActionId.TRANSCRIPT],
        [],
    ]
    refs = [CallRef.model_validate_json(f[ActionId.TRANSCRIPT]["value"]) for f in found[::2]]
    assert refs == [CallRef(call_id="with-both"), CallRef(call_id="no-recording")]
    ids = action_ids(reply)
    assert len(ids) == len(set(ids)) == 4


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
    shown = reply_calls(reply)
    assert len(shown) == CALLS_PER_REPLY
    found = [call_buttons(blocks) for blocks in shown]
    ids = action_ids(reply)
    assert len(ids) == len(set(ids)) == 2 * CALLS_PER_REPLY
    assert [sorted(b["action_id"] for b in f.values()) for f in found] == [
        [f"{ActionId.OPEN_RECORDING}.{i}", f"{ActionId.TRANSCRIPT}.{i}"] for i in range(4)
    ]
    refs = [CallRef.model_validate_json(f[ActionId.TRANSCRIPT]["value"]) for f in found]
    assert refs == [CallRef(call_id=f"call{i}") for i in range(3, 7)]


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
    assert "Lead `" in footer(message)
    button = parent_buttons(message).get(ActionId.ALL_CALLS)
    value = CallsRef(campaign_id=text, lead_id=text).model_dump_json()
    if len(value) <= 2000:
        assert button is not None
        assert CallsRef.model_validate_json(button["value"]) == CallsRef(
            campaign_id=text, lead_id=text
        )
    else:
        assert button is None


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
    (blocks,) = reply_calls(reply)
    buttons = call_buttons(blocks)
    assert buttons[ActionId.OPEN_RECORDING]["url"].startswith("https://recordings.example-cdn")
    transcript = buttons.get(ActionId.TRANSCRIPT)
    if len(CallRef(call_id=f"{text} 0").model_dump_json()) <= 2000:
        assert transcript is not None
        assert CallRef.model_validate_json(transcript["value"]) == CallRef(call_id=f"{text} 0")
    else:
        assert transcript is None


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
    assert len(reply_calls(reply)) == CALLS_PER_REPLY
