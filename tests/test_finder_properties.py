"""Properties of the message finder on generated hostile messages: it never raises, finds only
well-formed keys, and finds the lead again in any card or feed message Lead Bot posted."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.blocks.ids import CardRef
from bot.blocks.lead_card import lead_card
from bot.blocks.notifications import parent_message
from bot.nlpearl.models import Lead, Pearl
from bot.parsing.finder import MAX_TEXT, find_leads, message_text
from bot.parsing.grammar import LeadKey
from bot.records import LeadReport, LeadSnapshot
from tests.blocks.hostile import PROPERTIES, any_text, hostile_text, json_values

E164 = re.compile(r"\+[1-9]\d{6,14}", re.ASCII)
OBJECT_ID = re.compile(r"[0-9a-f]{24}", re.ASCII)
NOW = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)
# Exactly the strings OBJECT_ID matches, drawn as one string rather than char by char.
object_ids = st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)

# Messages as Slack might hand them to the shortcut: any JSON, with text where text goes.
messages = st.dictionaries(
    st.sampled_from(["text", "blocks", "attachments", "value", "url", "fallback", "title"]),
    json_values(any_text),
    max_size=5,
)
# Lead data that cannot spell an ID or a phone number of its own: no hex digits, no digits.
plain_words = hostile_text.map(lambda text: re.sub(r"[0-9a-fA-F]|\d", "", text))


def assert_well_formed(campaigns: tuple[str, ...], keys: tuple[LeadKey, ...]) -> None:
    assert all(OBJECT_ID.fullmatch(c) for c in campaigns), campaigns
    assert len(set(campaigns)) == len(campaigns)
    assert len(set(keys)) == len(keys)
    for key in keys:
        if key.kind == "id":
            assert OBJECT_ID.fullmatch(key.value), key
        else:
            assert key.kind == "phone", key
            assert E164.fullmatch(key.value), key


@PROPERTIES
@given(any_text)
def test_any_text_gives_well_formed_campaigns_and_keys(text: str) -> None:
    found = find_leads(text)
    assert_well_formed(found.campaigns, found.keys)
    for campaign_id, key in found.leads:
        assert campaign_id in found.campaigns
        assert key in found.keys
        CardRef(campaign_id=campaign_id, kind=key.kind, key=key.value)


@PROPERTIES
@given(messages)
def test_any_message_gives_text_within_the_limit(message: dict[str, Any]) -> None:
    text = message_text(message)
    assert len(text) <= MAX_TEXT
    found = find_leads(text)
    assert_well_formed(found.campaigns, found.keys)


def _posted(message: dict[str, Any]) -> dict[str, Any]:
    """A message as Slack gives it back: its text and blocks."""
    return {"type": "message", "text": message["text"], "blocks": message["blocks"]}


@PROPERTIES
@given(object_ids, object_ids, plain_words, st.dictionaries(plain_words, plain_words, max_size=6))
def test_our_card_names_its_lead_whatever_the_lead_says(
    campaign_id: str, lead_id: str, words: str, answers: dict[str, str]
) -> None:
    lead = Lead.model_validate(
        {"id": lead_id, "externalId": words, "callData": {"name": words}, "collectedData": answers}
    )
    report = LeadReport(campaign_id, Pearl(id=campaign_id, name=words), lead, ())
    for shared_by in (None, "U0SHARER"):
        ref = CardRef(campaign_id=campaign_id, kind="id", key=lead_id, shared_by=shared_by)
        card = lead_card(report, ref, now=NOW, mask=shared_by is not None)
        found = find_leads(message_text(_posted(card)))
        if campaign_id != lead_id:
            assert found.leads == ((campaign_id, LeadKey("id", lead_id)),)


@PROPERTIES
@given(object_ids, object_ids, plain_words, st.dictionaries(plain_words, plain_words, max_size=6))
def test_our_feed_parent_names_its_lead_whatever_the_lead_says(
    campaign_id: str, lead_id: str, words: str, answers: dict[str, str]
) -> None:
    snapshot = LeadSnapshot(
        campaign_id=campaign_id,
        campaign_name=words,
        lead_id=lead_id,
        name=words,
        answers=answers,
        updated_at=NOW,
    )
    found = find_leads(message_text(_posted(parent_message(snapshot, mask=True))))
    if campaign_id != lead_id:
        assert found.leads == ((campaign_id, LeadKey("id", lead_id)),)
