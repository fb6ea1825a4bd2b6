"""Modals: the lookup form, the picker, the card, transcripts, call lists, help and notices."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.app.sample import SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID, sample_report
from bot.blocks import messages, views
from bot.blocks.ids import ActionId, BlockId, CallRef, CallsRef, CardRef, ViewId
from bot.blocks.lead_card import lead_card
from bot.blocks.views import (
    CALLS_PER_PAGE,
    MAX_PICK,
    TURN_CHARS,
    TURNS_PER_PAGE,
    calls_modal,
    card_modal,
    help_modal,
    loading_modal,
    lookup_modal,
    notice_modal,
    pick_modal,
    transcript_modal,
)
from bot.nlpearl.models import Call, Lead, Pearl
from bot.parsing.grammar import LeadKey
from bot.records import CallSlot, LeadReport
from tests.blocks.slack_limits import _check_block, assert_no_injection, text_objects

CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
LEAD_ID = "6650f1c2a9e4b27d3c8e41a7"
CALL_ID = "66523b11c2d3e4f5a6b7c8d9"
NOW = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)
HOSTILE = (
    "<!channel> <!here> <@U123> <#C42> <!subteam^S1> <https://evil.example|click> "
    "<mailto:x@evil.example|mail> &lt;b&gt; &amp; *bold* `x` > q"
)
MAX_VIEW_BYTES = 250_000


# checking a view


def assert_valid_view(view: dict[str, Any], *, channels: Iterable[str] = ()) -> None:
    """Fail unless Slack would accept the view: slack_sdk's validators plus the view limits.

    Also fails if its mrkdwn could mention or link by itself; `<#ID>` mentions of the given
    `channels` are allowed (the Home tab names subscribed channels on purpose).
    """
    assert len(json.dumps(view, ensure_ascii=False).encode()) < MAX_VIEW_BYTES
    assert view["type"] in {"modal", "home"}
    # Constructing and serialising runs slack_sdk's validators (title, blocks, metadata...).
    parsed = View(**view).to_dict()
    expected = {k: v for k, v in view.items() if not (k == "private_metadata" and v == "")}
    assert parsed == expected, "the view does not survive slack_sdk"
    blocks = view["blocks"]
    assert 0 < len(blocks) <= 100, f"{len(blocks)} blocks"
    for key in ("title", "close", "submit"):
        if key in view:
            assert view[key]["type"] == "plain_text"
            assert 0 < len(view[key]["text"]) <= 24, f"{key} too long"
    assert len(view.get("private_metadata", "")) <= 3000
    for index, block in enumerate(blocks):
        block_object = Block.parse(block)
        assert block_object is not None, f"block {index} has an unknown type"
        assert block_object.to_dict() == block, f"block {index} does not survive slack_sdk"
        _check_block(index, block)
    ids = action_ids(view)
    assert len(ids) == len(set(ids)), f"action_ids repeat: {ids}"
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"block_ids repeat: {block_ids}"
    for obj in text_objects(blocks):
        assert obj["text"], "empty text object"
    # What people type into inputs is shown back as plain text, never parsed as mrkdwn.
    shown = [{k: v for k, v in b.items() if k != "element"} for b in blocks]
    for channel in channels:
        shown = json.loads(json.dumps(shown).replace(f"<#{channel}>", "#channel"))
    assert_no_injection({"text": view.get("title", {}).get("text", "Home"), "blocks": shown})


def action_ids(view: dict[str, Any]) -> list[str]:
    return [
        element["action_id"]
        for block in view["blocks"]
        for element in [*block.get("elements", []), block.get("element"), block.get("accessory")]
        if isinstance(element, dict) and "action_id" in element
    ]


def checked(view: dict[str, Any]) -> dict[str, Any]:
    assert_valid_view(view)
    return view


def mrkdwn_texts(view: dict[str, Any]) -> list[str]:
    return [obj["text"] for obj in text_objects(view["blocks"]) if obj["type"] == "mrkdwn"]


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "button"
    ]


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


# builders


def make_call(number: int = 0, **fields: Any) -> Call:
    data: dict[str, Any] = {
        "id": f"{number:024x}",
        "startTime": "2025-03-05T17:03:44Z",
        "status": 4,
        "conversationStatus": 100,
        "duration": 142,
        "summary": "Agreed to a site survey.",
        "recording": f"https://recordings.example-cdn.net/{number}.mp3",
        "transcript": [
            {"role": 3, "content": "Hi, this is Pearl from Sunrise Solar.", "startTime": 0.4},
            {"role": 2, "content": "Oh hi, yes.", "startTime": 3.2},
        ],
    }
    data.update(fields)
    return Call.model_validate(data)


def turns(count: int, content: str = "Turn {n}") -> list[dict[str, Any]]:
    return [
        {"role": 3 if n % 2 == 0 else 2, "content": content.format(n=n), "startTime": n * 5.0}
        for n in range(count)
    ]


# the lookup form


def test_lookup_modal_without_anything_given() -> None:
    view = checked(lookup_modal())
    assert view["callback_id"] == ViewId.LOOKUP
    assert view["submit"]["text"] == "Look up"
    assert [b["type"] for b in view["blocks"]] == ["input", "actions", "input"]
    (show,) = view["blocks"][1]["elements"]
    assert show["action_id"] == ActionId.LOOKUP_SHOW_CAMPAIGN
    assert show["text"]["text"] == "📣 Show campaign"
    found = inputs(view)
    assert set(found) == {BlockId.CAMPAIGN.value, BlockId.LEAD_KEY.value}
    picker = found[BlockId.CAMPAIGN]["element"]
    assert picker["type"] == "external_select"
    assert picker["action_id"] == ActionId.CAMPAIGN
    assert picker["min_query_length"] == 0
    assert "initial_option" not in picker
    field = found[BlockId.LEAD_KEY]["element"]
    assert field["type"] == "plain_text_input"
    assert field["action_id"] == ActionId.LEAD_KEY
    assert "initial_value" not in field


def test_lookup_modal_with_a_campaign_key_and_note() -> None:
    note = "I found part of a lead in that message; fill in the rest."
    view = checked(lookup_modal(campaign=(CAMPAIGN_ID, "Spring"), key="+14155550137", note=note))
    assert view["blocks"][0] == {"type": "context", "elements": [views.mrkdwn(note)]}
    found = inputs(view)
    option = found[BlockId.CAMPAIGN]["element"]["initial_option"]
    assert option["value"] == CAMPAIGN_ID
    assert option["text"]["text"] == "Spring (a59687)"
    assert found[BlockId.LEAD_KEY]["element"]["initial_value"] == "+14155550137"


def test_lookup_modal_with_a_nameless_campaign_shows_its_id() -> None:
    view = checked(lookup_modal(campaign=(CAMPAIGN_ID, None)))
    option = inputs(view)[BlockId.CAMPAIGN]["element"]["initial_option"]
    assert option == {"text": views.plain(CAMPAIGN_ID, 75), "value": CAMPAIGN_ID}


def test_lookup_modal_with_huge_and_hostile_initial_values() -> None:
    view = checked(
        lookup_modal(campaign=("f" * 400, HOSTILE * 10), key=HOSTILE * 20, note="Check this.")
    )
    found = inputs(view)
    option = found[BlockId.CAMPAIGN]["element"]["initial_option"]
    assert len(option["text"]["text"]) <= 75
    assert len(option["value"]) <= 150
    field = found[BlockId.LEAD_KEY]["element"]
    assert len(field["initial_value"]) <= field["max_length"]


# the picker


def test_pick_modal_options_index_into_the_metadata() -> None:
    leads = [
        (CAMPAIGN_ID, LeadKey("id", LEAD_ID)),
        (CAMPAIGN_ID, LeadKey("phone", "+14155550137")),
        ("664e9a77f0e1d2c3b4a59688", LeadKey("id", "6650f1c2a9e4b27d3c8e41a8")),
    ]
    view = checked(pick_modal(leads))
    assert view["callback_id"] == ViewId.PICK
    (block,) = view["blocks"]
    assert block["block_id"] == BlockId.PICK_LEAD
    element = block["element"]
    assert element["action_id"] == ActionId.PICK_LEAD
    assert element["initial_option"] == element["options"][0]
    assert [o["value"] for o in element["options"]] == ["0", "1", "2"]
    assert "+14155550137" in element["options"][1]["text"]["text"]
    assert "Lead 6650f1c2a9e4b27d3c8e41a7" in element["options"][0]["text"]["text"]
    assert resolve(view) == [(c, k.kind, k.value) for c, k in leads]


def resolve(view: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Each option's lead, read back from private_metadata as the submission handler does."""
    entries = view["private_metadata"].split("|")
    found = []
    for option in view["blocks"][0]["element"]["options"]:
        campaign, kind, value = entries[int(option["value"])].split(":", 2)
        found.append((campaign, kind, value))
    return found


def test_pick_modal_for_200_leads_stays_within_limits() -> None:
    leads = [
        (f"{c:024x}", LeadKey("phone", f"+1415555{n:04d}") if n % 2 else LeadKey("id", f"{n:024x}"))
        for c in range(2)
        for n in range(100)
    ]
    assert len(leads) == 200
    view = checked(pick_modal(leads))
    options = view["blocks"][0]["element"]["options"]
    assert 0 < len(options) <= 100
    assert len(options) == MAX_PICK
    assert len(view["private_metadata"]) <= 3000
    assert resolve(view) == [(c, k.kind, k.value) for c, k in leads[: len(options)]]


def test_pick_modal_metadata_fits_for_the_longest_keys() -> None:
    leads = [(f"{n:024x}", LeadKey("external", "x" * 40)) for n in range(200)]
    view = checked(pick_modal(leads))
    assert len(view["private_metadata"]) <= 3000
    assert resolve(view) == [(c, k.kind, k.value) for c, k in leads[:MAX_PICK]]


# the card


def card_and_ref() -> tuple[dict[str, Any], CardRef]:
    ref = CardRef(campaign_id=SAMPLE_CAMPAIGN_ID, kind="id", key=SAMPLE_LEAD_ID)
    return lead_card(sample_report(), ref, now=NOW, mask=False, surface="modal"), ref


def test_card_modal_shows_the_card_and_a_channel_picker() -> None:
    card, ref = card_and_ref()
    view = checked(card_modal(card, ref.model_dump_json()))
    assert view["callback_id"] == ViewId.CARD
    assert view["submit"]["text"] == "Post"
    assert view["blocks"][: len(card["blocks"])] == card["blocks"]
    assert view["blocks"][len(card["blocks"])] == {"type": "divider"}
    picker = view["blocks"][-1]
    assert picker["type"] == "input"
    assert picker["block_id"] == BlockId.POST_CHANNEL
    assert picker["optional"] is True
    assert picker["element"]["type"] == "conversations_select"
    assert picker["element"]["action_id"] == ActionId.POST_CHANNEL
    assert CardRef.model_validate_json(view["private_metadata"]) == ref
    assert ActionId.SHARE_CARD not in action_ids(view)


def test_card_modal_of_the_worst_card_is_valid() -> None:
    wide = "<&>" * 1400
    calls = [
        make_call(n, summary=wide, tags=[wide] * 10, transcript=turns(3, wide)) for n in range(10)
    ]
    lead = Lead.model_validate(
        {
            "id": LEAD_ID,
            "externalId": wide,
            "phoneNumber": wide,
            "callsId": [c.id for c in calls],
            "callData": {f"{wide}{n}": wide for n in range(40)},
            "collectedData": {f"{wide}{n}": wide for n in range(300)},
        }
    )
    report = LeadReport(
        CAMPAIGN_ID,
        Pearl(id=CAMPAIGN_ID, name=wide),
        lead,
        tuple(CallSlot(c.id or "", c) for c in calls),
    )
    ref = CardRef(campaign_id=CAMPAIGN_ID, kind="id", key=LEAD_ID)
    card = lead_card(report, ref, now=NOW, mask=True, surface="modal")
    checked(card_modal(card, ref.model_dump_json()))


# transcripts


def transcript_turns(view: dict[str, Any]) -> list[str]:
    return [
        b["text"]["text"]
        for b in view["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("*")
    ]


def pager(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The pager's buttons by their label ending (prev/next), or {} without a pager."""
    last = view["blocks"][-1]
    if last["type"] != "actions":
        return {}
    return {b["action_id"].rsplit(".", 1)[1]: b for b in last["elements"]}


def test_transcript_names_each_speaker() -> None:
    transcript = [
        {"role": 3, "content": "Hi, this is Pearl.", "startTime": 0.4},
        {"role": 2, "content": "Hello?", "startTime": 75},
        {"role": 1, "content": "System note", "startTime": 80},
        {"role": None, "content": "Who knows", "startTime": None},
        {"role": 7, "content": "Someone else"},
    ]
    view = checked(transcript_modal(make_call(transcript=transcript), 0))
    assert view["callback_id"] == ViewId.TRANSCRIPT
    assert transcript_turns(view) == [
        "*🤖 Pearl* · 0:00\nHi, this is Pearl.",
        "*👤 Lead* · 1:15\nHello?",
        "*🗣️ Speaker 1* · 1:20\nSystem note",
        "*🗣️ Speaker*\nWho knows",
        "*🗣️ Speaker 7*\nSomeone else",
    ]
    assert pager(view) == {}


def test_transcript_heading_says_when_how_long_and_how_it_ended() -> None:
    view = checked(transcript_modal(make_call(), 0))
    heading = view["blocks"][0]
    assert heading["type"] == "context"
    assert heading["elements"][0]["text"] == (
        "📞 <!date^1741194224^{date_short_pretty} at {time}|2025-03-05 17:03 UTC>"
        " · 2m 22s · ✅ Success"
    )


def test_transcript_skips_empty_turns() -> None:
    transcript = [
        {"role": 3, "content": ""},
        {"role": 2, "content": "   "},
        {"role": 2, "content": "Yes"},
    ]
    view = checked(transcript_modal(make_call(transcript=transcript), 0))
    assert transcript_turns(view) == ["*👤 Lead*\nYes"]


@pytest.mark.parametrize(
    ("page", "shown", "labels"),
    [
        (0, range(0, 30), {"next": 1}),
        (1, range(30, 60), {"prev": 0, "next": 2}),
        (2, range(60, 90), {"prev": 1, "next": 3}),
        (3, range(90, 95), {"prev": 2}),
    ],
)
def test_95_turns_page_by_30(page: int, shown: range, labels: dict[str, int]) -> None:
    assert TURNS_PER_PAGE == 30
    call = make_call(transcript=turns(95))
    view = checked(transcript_modal(call, page))
    texts = transcript_turns(view)
    assert [t.split("\n")[1] for t in texts] == [f"Turn {n}" for n in shown]
    found = pager(view)
    assert {
        name: CallRef.model_validate_json(b["value"]).page for name, b in found.items()
    } == labels
    for button in found.values():
        assert CallRef.model_validate_json(button["value"]) == CallRef(
            call_id=call.id or "", page=labels[button["action_id"].rsplit(".", 1)[1]]
        )
        assert re.fullmatch(rf"{re.escape(ActionId.TRANSCRIPT_PAGE)}\.\w+", button["action_id"])
    if "prev" in found:
        assert "Previous" in found["prev"]["text"]["text"]
    if "next" in found:
        assert "Next" in found["next"]["text"]["text"]


@pytest.mark.parametrize(("asked", "shown_first"), [(-1, 0), (-50, 0), (4, 90), (999, 90)])
def test_out_of_range_transcript_pages_clamp(asked: int, shown_first: int) -> None:
    view = checked(transcript_modal(make_call(transcript=turns(95)), asked))
    assert transcript_turns(view)[0].split("\n")[1] == f"Turn {shown_first}"


def test_exactly_30_turns_need_no_pager() -> None:
    view = checked(transcript_modal(make_call(transcript=turns(30)), 0))
    assert len(transcript_turns(view)) == 30
    assert pager(view) == {}


def test_31_turns_need_a_pager() -> None:
    view = checked(transcript_modal(make_call(transcript=turns(31)), 0))
    assert set(pager(view)) == {"next"}


def test_a_call_without_an_id_gets_no_pager() -> None:
    view = checked(transcript_modal(make_call(id=None, transcript=turns(95)), 0))
    assert len(transcript_turns(view)) == TURNS_PER_PAGE
    assert pager(view) == {}


@pytest.mark.parametrize("transcript", [[], None, "garbage", [{"role": 3}]])
def test_no_transcript_says_so(transcript: Any) -> None:
    view = checked(transcript_modal(make_call(transcript=transcript), 0))
    assert "_This call has no transcript._" in mrkdwn_texts(view)
    assert pager(view) == {}


def test_a_call_with_no_details_still_has_a_heading() -> None:
    call = Call.model_validate({"id": CALL_ID})
    view = checked(transcript_modal(call, 0))
    assert view["blocks"][0]["elements"][0]["text"].startswith("📞 Call · ")


def test_long_and_hostile_turns_stay_within_limits() -> None:
    transcript = [
        {"role": 3, "content": HOSTILE * 30},
        *({"role": n % 4, "content": "<&>" * 600, "startTime": 1e12} for n in range(40)),
    ]
    call = make_call(transcript=transcript, conversationStatus=999, status=999)
    for page in (0, 1):
        view = checked(transcript_modal(call, page))
        for text in transcript_turns(view):
            _, _, content = text.partition("\n")
            assert len(content) <= TURN_CHARS
    first = transcript_turns(checked(transcript_modal(call, 0)))[0]
    assert "&lt;!channel&gt;" in first
    assert "<!channel>" not in first


def test_a_full_page_of_1500_character_turns_is_under_the_size_limit() -> None:
    call = make_call(transcript=turns(TURNS_PER_PAGE, "x" * 1500 + "{n}"))
    view = checked(transcript_modal(call, 0))
    assert len(transcript_turns(view)) == TURNS_PER_PAGE


# a lead's calls


def calls_ref(page: int = 0) -> CallsRef:
    return CallsRef(campaign_id=CAMPAIGN_ID, lead_id=LEAD_ID, page=page)


def page_slots(count: int, start: int = 0) -> list[CallSlot]:
    return [CallSlot(f"{n:024x}", make_call(n)) for n in range(start, start + count)]


def call_sections(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        b
        for b in view["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith(("📞", "*📞"))
    ]


@pytest.mark.parametrize(
    ("page", "labels"), [(0, {"next": 1}), (1, {"prev": 0, "next": 2}), (2, {"prev": 1})]
)
def test_calls_modal_pages_ten_at_a_time(page: int, labels: dict[str, int]) -> None:
    assert CALLS_PER_PAGE == 10
    count = 5 if page == 2 else 10
    view = checked(calls_modal(calls_ref(page), page_slots(count), 25, lead_label="Maria Gonzalez"))
    assert view["callback_id"] == ViewId.CALLS
    assert (
        view["blocks"][0]["text"]["text"] == f"*Maria Gonzalez* · 25 calls · page {page + 1} of 3"
    )
    assert len(call_sections(view)) == count
    last = view["blocks"][-1]
    assert last["type"] == "actions"
    found = {b["action_id"].rsplit(".", 1)[1]: b for b in last["elements"]}
    assert {k: CallsRef.model_validate_json(b["value"]) for k, b in found.items()} == {
        k: calls_ref(to) for k, to in labels.items()
    }
    for button in found.values():
        assert re.fullmatch(rf"{re.escape(ActionId.CALLS_PAGE)}\.\w+", button["action_id"])
    if "prev" in found:
        assert "Newer" in found["prev"]["text"]["text"]
    if "next" in found:
        assert "Older" in found["next"]["text"]["text"]


def test_every_call_has_transcript_and_recording_buttons() -> None:
    slots = page_slots(10)
    view = checked(calls_modal(calls_ref(), slots, 10, lead_label="Maria"))
    blocks = view["blocks"]
    at = [i for i, b in enumerate(blocks) if b in call_sections(view)]
    assert len(at) == 10
    for slot, index in zip(slots, at, strict=True):
        actions = blocks[index + 1]
        assert actions["type"] == "actions"
        kinds = [b["action_id"].rsplit(".", 1)[0] for b in actions["elements"]]
        assert kinds == [ActionId.TRANSCRIPT, ActionId.OPEN_RECORDING]
        transcript, recording = actions["elements"]
        assert CallRef.model_validate_json(transcript["value"]) == CallRef(call_id=slot.call_id)
        assert slot.call is not None
        assert recording["url"] == slot.call.recording_url
    ids = action_ids(view)
    assert len(ids) == 20
    assert len(set(ids)) == 20
    # One page: no pager.
    assert not any(i.startswith(ActionId.CALLS_PAGE) for i in ids)
    assert view["blocks"][0]["text"]["text"] == "*Maria* · 10 calls"


def test_a_call_without_transcript_or_recording_has_no_buttons() -> None:
    slots = [CallSlot("a" * 24, make_call(1, transcript=[], recording=None))]
    view = checked(calls_modal(calls_ref(), slots, 1, lead_label="Maria"))
    assert buttons(view) == []
    assert view["blocks"][0]["text"]["text"] == "*Maria* · 1 call"


def test_unavailable_calls_say_so_and_have_no_buttons() -> None:
    slots = [CallSlot("a" * 24, None), *page_slots(1), CallSlot("b" * 24, None)]
    view = checked(calls_modal(calls_ref(), slots, 3, lead_label="Maria"))
    texts = mrkdwn_texts(view)
    assert texts.count("*📞 Call unavailable*\nNLPearl could not load it.") == 2
    assert len(buttons(view)) == 2


def test_a_lead_with_no_calls() -> None:
    view = checked(calls_modal(calls_ref(), [], 0, lead_label="Maria"))
    assert "_No calls yet._" in mrkdwn_texts(view)
    assert view["blocks"][0]["text"]["text"] == "*Maria* · 0 calls"


def test_calls_modal_escapes_the_lead_label_and_summaries() -> None:
    slots = [CallSlot("a" * 24, make_call(1, summary=HOSTILE * 20, transcript=turns(2, HOSTILE)))]
    view = checked(calls_modal(calls_ref(), slots, 1, lead_label=HOSTILE * 10))
    joined = "\n".join(mrkdwn_texts(view))
    assert "&lt;!channel&gt;" in joined
    assert "<!channel>" not in joined


# help, loading, notices


def test_help_modal() -> None:
    view = checked(help_modal())
    assert view["callback_id"] == ViewId.HELP
    assert view["title"]["text"] == "Lead Bot help"
    assert view["blocks"] == messages.help_message()["blocks"]
    assert "submit" not in view


def test_loading_modal() -> None:
    view = checked(loading_modal())
    assert view["callback_id"] == ViewId.LOADING
    assert mrkdwn_texts(view) == ["⏳ Looking up the lead…"]
    custom = checked(loading_modal("Transcript of a very long call name", "Loading…"))
    assert custom["title"]["text"].endswith("…")
    assert len(custom["title"]["text"]) == 24
    assert mrkdwn_texts(custom) == ["⏳ Loading…"]


@pytest.mark.parametrize(
    "message",
    [
        messages.nlpearl_bad_answer(),
        messages.nlpearl_unavailable(),
        messages.lead_not_found(CAMPAIGN_ID, HOSTILE),
        messages.notice("⚠️", "That button didn't work", "Open the lead's card again."),
    ],
)
def test_notice_modal(message: dict[str, Any]) -> None:
    view = checked(notice_modal("Lead", message))
    assert view["callback_id"] == ViewId.LOADING
    assert view["blocks"] == message["blocks"]


def test_notice_modal_with_too_many_blocks_is_cut_to_100() -> None:
    message = {"text": "x", "blocks": [{"type": "divider"}] * 150}
    view = checked(notice_modal("Lead", message))
    assert len(view["blocks"]) == 100


# the checker itself


def test_the_view_checker_catches_problems() -> None:
    good = lookup_modal(campaign=(CAMPAIGN_ID, "Spring"))
    long_title = {**good, "title": {"type": "plain_text", "text": "x" * 25}}
    too_many = {**good, "blocks": [{"type": "divider"}] * 101}
    big_metadata = {**good, "private_metadata": "x" * 3001}
    repeated = {**good, "blocks": [*good["blocks"], *good["blocks"]]}
    hostile = {
        **good,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "<!channel>", "verbatim": True}}
        ],
    }
    for bad in (long_title, too_many, big_metadata, repeated, hostile):
        with pytest.raises(Exception):  # noqa: B017, PT011 - slack_sdk raises its own errors
            assert_valid_view(bad)
