"""Finding leads in Slack messages: IDs, NLPearl links, our own cards, phone numbers; and noise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app.sample import SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID, sample_report
from bot.blocks.ids import CardRef
from bot.blocks.lead_card import lead_card
from bot.parsing.finder import MAX_TEXT, Found, find_leads, message_text
from bot.parsing.grammar import LeadKey

CAMPAIGN = "664e9a77f0e1d2c3b4a59687"
OTHER_CAMPAIGN = "664e9a77f0e1d2c3b4a59688"
LEAD = "6650f1c2a9e4b27d3c8e41a7"
LEAD_2 = "6650f1c2a9e4b27d3c8e41a8"
LEAD_3 = "6650f1c2a9e4b27d3c8e41a9"
CALL = "66523b11c2d3e4f5a6b7c8d9"
PHONE = "+14155550137"
LINK = f"https://platform.nlpearl.ai/outbound/{CAMPAIGN}/leads/{LEAD}"
DATE_TOKEN = "<!date^1741101730^{date_short_pretty} at {time}|2025-03-04 15:22 UTC>"


def lead_id(value: str) -> LeadKey:
    return LeadKey("id", value)


def phone(value: str) -> LeadKey:
    return LeadKey("phone", value)


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def user_message(text: str, **extra: Any) -> dict[str, Any]:
    """A message a person typed, as Slack hands it to a message shortcut."""
    return {
        "type": "message",
        "user": "U07ABCD1234",
        "ts": "1741194224.000200",
        "client_msg_id": "3f2e1d4c-5b6a-4789-9abc-def012345678",
        "team": "T0001",
        "text": text,
        **extra,
    }


def bot_message(text: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """A message Lead Bot posted, as Slack gives it back (block_ids filled in by Slack)."""
    for index, block in enumerate(blocks):
        block.setdefault("block_id", f"b{index}Xy")
    return {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B07LEADBOT",
        "app_id": "A07LEADBOT",
        "ts": "1741194224.000200",
        "thread_ts": "1741194224.000200",
        "team": "T0001",
        "text": text,
        "blocks": blocks,
        "bot_profile": {
            "id": "B07LEADBOT",
            "app_id": "A07LEADBOT",
            "name": "Lead Bot",
            "icons": {
                "image_36": "https://avatars.slack-edge.com/2025-03-04/7051234567890_5f3a2b1c0d9e8f7a6b5c_36.png"
            },
            "deleted": False,
            "updated": 1741101730,
            "team_id": "T0001",
        },
    }


def found_in(message: dict[str, Any]) -> Found:
    return find_leads(message_text(message))


# campaign and lead together


def test_lead_in_campaign_in_plain_text() -> None:
    found = find_leads(f"Lead {LEAD} in campaign {CAMPAIGN}")
    assert found.campaigns == (CAMPAIGN,)
    assert found.keys == (lead_id(LEAD),)
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_labels_beat_order_in_plain_text() -> None:
    # The lead comes first, but the words say which ID is which.
    found = find_leads(f"lead {LEAD}, campaign {CAMPAIGN}")
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_a_typed_message_with_rich_text_blocks() -> None:
    message = user_message(
        f"Can someone check lead `{LEAD}` in campaign `{CAMPAIGN}`? She says nobody called.",
        blocks=[
            {
                "type": "rich_text",
                "block_id": "kq8Lz",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "Can someone check lead "},
                            {"type": "text", "text": LEAD, "style": {"code": True}},
                            {"type": "text", "text": " in campaign "},
                            {"type": "text", "text": CAMPAIGN, "style": {"code": True}},
                            {"type": "text", "text": "? She says nobody called."},
                        ],
                    }
                ],
            }
        ],
    )
    assert found_in(message).leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_two_bare_ids_read_campaign_first_as_in_the_command() -> None:
    found = find_leads(f"{CAMPAIGN} {LEAD}")
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)),)


@pytest.mark.parametrize(
    "text",
    [
        f"<{LINK}|View lead in NLPearl>",
        f"<{LINK}>",
        f"See <{LINK}?tab=calls&amp;from=slack|this lead> please",
        f"<https://platform.nlpearl.ai/outbound/{CAMPAIGN.upper()}/leads/{LEAD.upper()}|x>",
        f"look: {LINK}.",
    ],
)
def test_nlpearl_link_names_campaign_then_lead(text: str) -> None:
    found = find_leads(text)
    assert found.campaigns == (CAMPAIGN,)
    assert found.keys == (lead_id(LEAD),)


def test_link_in_an_attachment_unfurl() -> None:
    message = user_message(
        f"<{LINK}>",
        attachments=[
            {
                "id": 1,
                "fallback": "NLPearl: Maria Gonzalez",
                "title": "Maria Gonzalez · NLPearl",
                "title_link": LINK,
                "from_url": LINK,
                "text": "Lead of Solar – Spring Re-engagement",
            }
        ],
    )
    assert found_in(message).leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_campaign_link_and_labelled_lead() -> None:
    found = find_leads(
        f"In <https://platform.nlpearl.ai/outbound/{CAMPAIGN}|Spring>, lead `{LEAD}`"
    )
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_campaign_link_and_bare_lead() -> None:
    found = find_leads(f"<https://platform.nlpearl.ai/outbound/{CAMPAIGN}|Spring> {LEAD}")
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)),)


# Lead Bot's own messages


def test_our_card_footer_names_one_lead() -> None:
    footer = f"📣 Solar – Spring Re-engagement · Campaign `{CAMPAIGN}` · Lead `{LEAD}`"
    message = bot_message(
        "Maria Gonzalez: ✅ Success · Solar – Spring Re-engagement",
        [
            {"type": "header", "text": {"type": "plain_text", "text": "👤 Maria Gonzalez"}},
            {"type": "context", "elements": [mrkdwn(footer)]},
        ],
    )
    found = found_in(message)
    assert found.campaigns == (CAMPAIGN,)
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_our_footer_shared_by_someone() -> None:
    footer = f"Campaign `{CAMPAIGN}` · Lead `{LEAD}` · Shared by <@U07ABCD1234>"
    message = bot_message(
        "Maria Gonzalez: ✅ Success", [{"type": "context", "elements": [mrkdwn(footer)]}]
    )
    assert found_in(message).leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_our_feed_parent_names_one_lead() -> None:
    # As bot/blocks/notifications.parent_message writes it for a campaign with no known name.
    footer = (
        f"Campaign `{CAMPAIGN}` · Lead `{LEAD}` · Updated "
        "<!date^1741101720^{date_short_pretty} at {time}|2025-03-04 15:22 UTC>"
    )
    message = bot_message(
        "Maria: ✅ Success",
        [
            {"type": "section", "text": mrkdwn("*Maria*  ·  ✅ Success")},
            {
                "type": "section",
                "fields": [
                    mrkdwn("*Phone*\n•••• 0137"),
                    mrkdwn("*Calls*\n2"),
                    mrkdwn("*Roof age*\n12"),
                ],
            },
            {"type": "context", "elements": [mrkdwn(footer)]},
        ],
    )
    assert found_in(message).leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_button_values_are_not_content() -> None:
    message = bot_message(
        "Maria Gonzalez: ✅ Success",
        [
            {"type": "context", "elements": [mrkdwn(f"Campaign `{CAMPAIGN}` · Lead `{LEAD}`")]},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "lead_card.transcript.0",
                        "text": {"type": "plain_text", "text": "📝 Transcript", "emoji": True},
                        "value": f'{{"call_id":"{CALL}","page":0}}',
                    }
                ],
            },
        ],
    )
    assert found_in(message).leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_our_whole_card_names_one_lead() -> None:
    ref = CardRef(campaign_id=SAMPLE_CAMPAIGN_ID, kind="id", key=SAMPLE_LEAD_ID)
    card = lead_card(sample_report(), ref, now=datetime(2026, 1, 5, tzinfo=UTC), mask=True)
    found = found_in(bot_message(card["text"], card["blocks"]))
    assert found.leads == ((SAMPLE_CAMPAIGN_ID, lead_id(SAMPLE_LEAD_ID)),)


# IDs written every which way


@pytest.mark.parametrize(
    "text",
    [
        f"`{LEAD}`",
        f"```{LEAD}```",
        f"({LEAD})",
        f"{LEAD}.",
        f"{LEAD},",
        f"{LEAD}!",
        f"{LEAD}?",
        f'"{LEAD}"',
        f"*{LEAD}*",
        f"_{LEAD}_",
        f"~{LEAD}~",
        f"{LEAD}:",
        f"> {LEAD}",
        f"🔥{LEAD}🔥",
        f"lead: {LEAD}",
        f"Lead #{LEAD}",
        f"id {LEAD.upper()}",
    ],
)
def test_a_lone_lead_id_in_any_wrapping(text: str) -> None:
    found = find_leads(text)
    assert found.campaigns == ()
    assert found.keys == (lead_id(LEAD),)
    assert found.leads == ()


def test_ids_in_code_spans_with_punctuation() -> None:
    found = find_leads(f"campaign `{CAMPAIGN}`, lead `{LEAD}`.")
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_a_labelled_campaign_alone_is_no_lead() -> None:
    found = find_leads(f"Anyone know what's up with campaign {CAMPAIGN}?")
    assert found.campaigns == (CAMPAIGN,)
    assert found.keys == ()
    assert found.leads == ()


def test_the_same_lead_twice_counts_once() -> None:
    found = find_leads(f"Lead `{LEAD}` in campaign `{CAMPAIGN}` (<{LINK}|link>) — {LEAD} again")
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)),)


# several leads


def test_several_leads_in_one_campaign() -> None:
    found = find_leads(
        f"Campaign `{CAMPAIGN}`: leads {LEAD}, {LEAD_2} and {LEAD_3} never picked up."
    )
    assert found.campaigns == (CAMPAIGN,)
    assert found.leads == (
        (CAMPAIGN, lead_id(LEAD)),
        (CAMPAIGN, lead_id(LEAD_2)),
        (CAMPAIGN, lead_id(LEAD_3)),
    )


def test_several_of_our_footers_in_one_message() -> None:
    text = f"Campaign `{CAMPAIGN}` · Lead `{LEAD}`\nCampaign `{CAMPAIGN}` · Lead `{LEAD_2}`"
    assert find_leads(text).leads == ((CAMPAIGN, lead_id(LEAD)), (CAMPAIGN, lead_id(LEAD_2)))


def test_several_links() -> None:
    second = f"https://platform.nlpearl.ai/outbound/{CAMPAIGN}/leads/{LEAD_2}"
    found = find_leads(f"<{LINK}|Maria> and <{second}|Ana>")
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)), (CAMPAIGN, lead_id(LEAD_2)))


def test_a_lead_id_and_a_phone_in_one_campaign() -> None:
    found = find_leads(f"Campaign {CAMPAIGN}: lead {LEAD}, and the one at +1 (415) 555-0137")
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)), (CAMPAIGN, phone(PHONE)))


def test_two_campaigns_make_no_complete_lead() -> None:
    found = find_leads(f"campaign {CAMPAIGN} and outbound {OTHER_CAMPAIGN}, lead {LEAD}")
    assert found.campaigns == (CAMPAIGN, OTHER_CAMPAIGN)
    assert found.keys == (lead_id(LEAD),)
    assert found.leads == ()


# phone numbers


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Call +1 (415) 555-0137 please", PHONE),
        ("Call 415-555-0137.", PHONE),
        ("(415) 555-0137", PHONE),
        ("415.555.0137", PHONE),
        ("Call Maria at 415 555 0137 tomorrow", PHONE),
        ("<tel:+14155550137|+1 415-555-0137>", PHONE),
        ("UK office: +44 20 7183 8750", "+442071838750"),
        ("00 44 20 7183 8750", "+442071838750"),
        ("Paris +33 1 42 68 53 00.", "+33142685300"),
        ("number: `+14155550137`", PHONE),
    ],
)
def test_phone_numbers_in_various_formats(text: str, number: str) -> None:
    found = find_leads(text)
    assert found.keys == (phone(number),)
    assert found.campaigns == ()


def test_a_phone_in_a_campaign_is_a_lead() -> None:
    found = find_leads(f"Campaign `{CAMPAIGN}` — lead at +1 (415) 555-0137")
    assert found.leads == ((CAMPAIGN, phone(PHONE)),)


def test_two_phones_in_different_formats() -> None:
    found = find_leads("+1 (415) 555-0137 and 415.555.0199, and again 415-555-0137")
    assert found.keys == (phone(PHONE), phone("+14155550199"))


# nothing to find


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "Let's sync on 2025-03-04",
        "from 2024-01-01 to 2024-12-31",
        "Standup at 14:30",
        "2025-03-04T15:22:10Z",
        "03/04/2025",
        "4 Mar 2025, 2:30 PM",
        "Call 3 of 5 at 10:30",
        "room 12, ext 345",
        "order #98765 shipped",
        "Revenue 1,234,567 USD",
        "6650f1c2a9e4b27d3c8e41a",  # 23 hex
        "6650f1c2a9e4",  # 12 hex
        "d41d8cd98f00b204e9800998ecf8427e",  # an MD5, 32 hex
        "6650f1c2a9e4b27d3c8e41a7f",  # 25 hex
        "x6650f1c2a9e4b27d3c8e41a7",
        "3f2e1d4c-5b6a-4789-9abc-def012345678",
        "1741194224.000200",
    ],
)
def test_nothing_that_names_a_lead(text: str) -> None:
    assert find_leads(text) == Found((), ())


@pytest.mark.parametrize("text", [f"Lead {LEAD}f", f"lead {LEAD}0 please", f"campaign {CAMPAIGN}a"])
def test_a_labelled_25_hex_string_is_no_id(text: str) -> None:
    assert find_leads(text) == Found((), ())


@pytest.mark.parametrize(
    "text",
    [
        "Meeting 2025-03-04 14:30",
        "2025-03-04 10:00 - 11:00",
        "Deployed 2025-03-04 09:15 UTC",
        "at 12:30 2025-03-04",
    ],
)
def test_a_date_and_time_is_no_phone(text: str) -> None:
    assert find_leads(text) == Found((), ())


def test_a_date_token_is_no_phone() -> None:
    assert find_leads(f"Updated {DATE_TOKEN}") == Found((), ())


# message_text: what of a message counts


def test_message_text_reads_text_blocks_fields_and_attachments() -> None:
    message = user_message(
        "top text",
        blocks=[
            {"type": "section", "block_id": "a1", "text": mrkdwn("section text")},
            {
                "type": "section",
                "block_id": "a2",
                "fields": [mrkdwn("field one"), mrkdwn("field two")],
            },
            {"type": "context", "block_id": "a3", "elements": [mrkdwn("context text")]},
        ],
        attachments=[{"fallback": "attachment fallback", "text": "attachment text"}],
    )
    text = message_text(message)
    for part in [
        "top text",
        "section text",
        "field one",
        "field two",
        "context text",
        "attachment fallback",
        "attachment text",
    ]:
        assert part in text
    assert text.index("top text") < text.index("section text") < text.index("attachment text")


def test_message_text_skips_ids_and_timestamps() -> None:
    message = {
        "type": "message",
        "user": LEAD,
        "bot_id": LEAD_2,
        "team": LEAD_3,
        "ts": "4155550137",
        "text": "hello",
        "blocks": [
            {
                "type": "actions",
                "block_id": CAMPAIGN,
                "elements": [
                    {
                        "type": "button",
                        "action_id": OTHER_CAMPAIGN,
                        "text": {"type": "plain_text", "text": "Open"},
                    }
                ],
            }
        ],
    }
    text = message_text(message)
    for skipped in [LEAD, LEAD_2, LEAD_3, "4155550137", CAMPAIGN, OTHER_CAMPAIGN]:
        assert skipped not in text
    assert "hello" in text
    assert found_in(message) == Found((), ())


def test_lead_only_in_an_attachment_fallback() -> None:
    message = user_message("fyi", attachments=[{"fallback": f"Lead {LEAD} in campaign {CAMPAIGN}"}])
    assert found_in(message).leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_lead_only_in_section_fields() -> None:
    message = user_message(
        "",
        blocks=[
            {
                "type": "section",
                "fields": [mrkdwn(f"*Campaign*\n`{CAMPAIGN}`"), mrkdwn(f"*Lead*\n`{LEAD}`")],
            }
        ],
    )
    assert found_in(message).leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_entities_are_unescaped() -> None:
    message = user_message(f"R&amp;D asked: &lt;lead&gt; {LEAD} &amp; campaign {CAMPAIGN}")
    assert found_in(message).leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_an_empty_message() -> None:
    assert message_text({}) == ""
    assert found_in({}) == Found((), ())


def test_message_text_with_odd_values() -> None:
    message = {"text": None, "blocks": [None, 3, 4.5, True, [], {}], "attachments": "nope"}
    assert message_text(message) == "nope"


# hostile and huge input


def test_100_kb_of_text_is_cut_and_does_not_crash() -> None:
    noise = "🙂 שלום مرحبا \u202e<!channel> &amp; 12:30 · 2025-03-04 " * 2100
    assert len(noise) > 100_000
    message = user_message(f"Lead {LEAD} in campaign {CAMPAIGN} " + noise + f" lead {LEAD_2}")
    text = message_text(message)
    assert len(text) == MAX_TEXT
    found = find_leads(text)
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)),)
    # The lead past the cut is not read.
    assert lead_id(LEAD_2) not in found.keys


def test_find_leads_on_100_kb_directly() -> None:
    text = ("+1 (4" * 10_000) + ("-1" * 20_000) + ("zz " * 10_000)
    assert len(text) > 100_000
    found = find_leads(text)
    assert found.campaigns == ()
    assert all(key.kind == "phone" for key in found.keys)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 50_000,
        "<" * 50_000 + "https://" * 5_000,
        "0" * 100_000,
        "0-" * 50_000,
        "\x00\x01\x02" * 10_000,
        "\ud800 lone surrogate",
        "👨‍👩‍👧‍👦" * 10_000,
    ],
)
def test_pathological_text_does_not_crash(text: str) -> None:
    found = find_leads(text)
    assert found.leads == ()


def test_right_to_left_and_emoji_around_ids() -> None:
    text = f"\u202eקמפיין\u202c campaign 🌞{CAMPAIGN}🌞 — ليد lead: «{LEAD}» 👍"
    found = find_leads(text)
    assert found.leads == ((CAMPAIGN, lead_id(LEAD)),)


def test_hostile_markup_around_a_lead() -> None:
    message = user_message(
        f"<!channel> <@U123> <#C42|general> <https://evil.example/{'9' * 30}|click> "
        f"campaign {CAMPAIGN} lead {LEAD} <!subteam^S1|@team>"
    )
    assert found_in(message).leads == ((CAMPAIGN, lead_id(LEAD)),)
