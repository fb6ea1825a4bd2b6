"""Who sees a message and which phone numbers it masks: the one place that decides, and the
masker on numbers as people write them."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from bot.blocks.ids import CardRef
from bot.blocks.notifications import parent_message, thread_reply
from bot.blocks.privacy import PRIVATE, Audience, card_audience, channel_audience, mask_phones
from bot.nlpearl.models import Call
from bot.records import LeadSnapshot
from tests.blocks.slack_limits import all_strings

CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
LEAD_ID = "6650f1c2a9e4b27d3c8e41a7"


def ref(shared_by: str | None = None) -> CardRef:
    return CardRef(campaign_id=CAMPAIGN_ID, kind="id", key=LEAD_ID, shared_by=shared_by)


# the one place that decides


@pytest.mark.parametrize(
    ("where", "card_ref", "surface", "mask_shared", "masked"),
    [
        ("/lead, message shortcut: private card", ref(), "message", True, False),
        ("Refresh on a private card", ref(), "message", True, False),
        ("Refresh on a shared card", ref("U1"), "message", True, True),
        ("Share in channel", ref("U1"), "message", True, True),
        ("Post to channel from the card modal", ref("U1"), "message", True, True),
        ("the card modal", ref(), "modal", True, False),
        ("a modal never has a channel", ref("U1"), "modal", True, False),
        ("masking turned off", ref("U1"), "message", False, False),
    ],
)
def test_a_card_is_masked_only_where_a_channel_sees_it(
    where: str, card_ref: CardRef, surface: str, mask_shared: bool, masked: bool
) -> None:
    audience = card_audience(card_ref, surface, mask_shared=mask_shared)  # type: ignore[arg-type]
    assert audience.masked is masked, where


def test_the_feed_is_masked_as_the_workspace_says() -> None:
    assert channel_audience(True).masked
    assert not channel_audience(False).masked
    assert not PRIVATE.masked


def test_an_audience_masks_the_phone_and_free_text_alike() -> None:
    channel = Audience(masked=True)
    assert channel.phone("+14155550137") == "•••• 0137"
    assert channel.text("call +1 (415) 555-0123 now") == "call •••• 0123 now"
    assert channel.value({"alt": 4155550188}) == '{"alt": •••• 0188}'
    assert PRIVATE.phone("+14155550137") == "+1 415-555-0137"
    assert PRIVATE.text("call +1 (415) 555-0123 now") == "call +1 (415) 555-0123 now"


# the feed (the example: "•••• 0137" next to "+1 (415) 555-0123")


def test_a_masked_parent_masks_numbers_in_answers_too() -> None:
    snapshot = LeadSnapshot(
        campaign_id=CAMPAIGN_ID,
        lead_id=LEAD_ID,
        name="Dana Whitfield",
        phone="+14155550137",
        answers={"Callback number": "+1 (415) 555-0123", "Best time": "2025-03-04 17:30"},
    )
    text = "\n".join(all_strings(parent_message(snapshot, mask=True)))
    assert "•••• 0137" in text
    assert "•••• 0123" in text
    assert "555-0123" not in text
    assert "2025-03-04 17:30" in text
    unmasked = "\n".join(all_strings(parent_message(snapshot, mask=False)))
    assert "+1 (415) 555-0123" in unmasked


def test_a_masked_reply_masks_summaries_and_answers() -> None:
    call = Call.model_validate(
        {
            "id": "call1",
            "status": 4,
            "conversationStatus": 100,
            "summary": "Asked us to call her husband on 020 7946 0958 after 6pm.",
            "collectedInfo": [{"id": "cb", "name": "Callback", "value": "415.555.0199"}],
        }
    )
    reply = thread_reply([], [call], mask=True)
    assert reply is not None
    text = "\n".join(all_strings(reply))
    assert "on •••• 0958 after 6pm" in text
    assert "•••• 0199" in text
    assert "7946" not in text
    unmasked = thread_reply([], [call], mask=False)
    assert unmasked is not None
    assert "020 7946 0958" in "\n".join(all_strings(unmasked))


# the masker


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+14155550137", "•••• 0137"),
        ("+1 (415) 555-0123", "•••• 0123"),
        ("call (415) 555-0137 now", "call •••• 0137 now"),
        ("415.555.0199 or 0044 20 7946 0958", "•••• 0199 or •••• 0958"),
        ("+33 1 23 45 67 89", "•••• 6789"),
        ("4155550137", "•••• 0137"),
        ("tel:4155550137", "tel:•••• 0137"),
        ("(4155550137 is mine)", "(•••• 0137 is mine)"),
        ("415\u200b555\u200b0137", "•••• 0137"),
        ("＋１ ４１５ ５５５ ０１３７", "•••• 0137"),
        ("+٤١٥٥٥٥٠١٣٧", "•••• 0137"),
        ('{"phone": "4155550137", "n": 3}', '{"phone": "•••• 0137", "n": 3}'),
        ("ref 2025/03/04 4155550137", "ref 2025/03/04 •••• 0137"),
        # In doubt, masked: a bare seven-digit number may well be a local phone number.
        ("order 1234567", "order •••• 4567"),
    ],
)
def test_phone_numbers_in_text_are_masked(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "roof age 12",
        "123456",
        "born 1999, worked 2019-2024",
        "2025-03-04",
        "2025-03-04 17:30",
        "2025-03-04T17:30:00Z",
        "04.03.2025",
        "3/4/2025",
        "17:03:44",
        "$1,250,000",
        "$1 250 000",
        "€ 1.250.000",
        "budget 12500.50",
        "version 1.2.3",
        "•••• 0137",
    ],
)
def test_ordinary_numbers_are_not_masked(text: str) -> None:
    assert mask_phones(text) == text


def test_every_invisible_format_character_separates_digits() -> None:
    format_characters = {
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"
    }
    for ch in sorted(format_characters):
        assert mask_phones(f"415{ch}555{ch}0137") == "•••• 0137", f"U+{ord(ch):04X}"
