"""Properties of the `/lead` grammar on generated hostile text: it never raises and every
command it reads is well formed."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from bot.blocks.ids import CardRef
from bot.parsing.grammar import (
    AddLead,
    Digest,
    Help,
    Invalid,
    LeadKey,
    ListSubscriptions,
    Lookup,
    ShowCampaign,
    StopDigest,
    Subscribe,
    Unsubscribe,
    normalize_phone,
    parse_command,
    parse_lead_key,
)
from tests.blocks.hostile import PROPERTIES, any_text, hostile_text, phones

CAMPAIGN = "664e9a77f0e1d2c3b4a59687"
E164 = re.compile(r"\+[1-9]\d{6,14}", re.ASCII)
# Lead IDs: exactly the strings [0-9a-f]{24} matches, drawn as one string, not char by char.
object_ids = st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)
# Slack cuts a slash command's text at 4,000 characters.
commands = st.one_of(
    any_text.map(lambda text: text[:4000]),
    st.tuples(
        st.sampled_from(
            [
                "",
                "subscribe ",
                "unsubscribe ",
                f"{CAMPAIGN} ",
                "help ",
                "campaign ",
                "add ",
                "digest ",
            ]
        ),
        hostile_text,
    ).map("".join),
)


def assert_well_formed_key(key: LeadKey, text: str) -> None:
    assert key.value
    assert key.value == key.value.strip()
    assert len(key.value) <= len(text)
    if key.kind == "phone":
        assert E164.fullmatch(key.value), key
    if key.kind == "id":
        assert key.value == key.value.lower()


@PROPERTIES
@given(commands)
@example("x phone:²²²²²²²")
@example("x phone:+0123456789")
@example("x +١٢٣٤٥٦٧٨٩٠")
def test_any_text_reads_as_a_well_formed_command(text: str) -> None:
    command = parse_command(text)
    match command:
        case Help() | ListSubscriptions():
            pass
        case Invalid(problem=problem):
            assert problem.strip()
            assert problem.endswith(".")
        case Lookup(campaign_id=campaign_id, key=key):
            assert campaign_id
            assert not any(ch.isspace() for ch in campaign_id)
            assert_well_formed_key(key, text)
            # The card's buttons carry the lookup; it must make a valid reference.
            CardRef(campaign_id=campaign_id, kind=key.kind, key=key.value)
        case Subscribe(campaign_id=campaign_id, statuses=statuses):
            assert campaign_id
            assert not any(ch.isspace() for ch in campaign_id)
            assert all(status and not any(ch.isspace() for ch in status) for status in statuses)
        case (
            Unsubscribe(campaign_id=campaign_id)
            | ShowCampaign(campaign_id=campaign_id)
            | Digest(campaign_id=campaign_id)
            | StopDigest(campaign_id=campaign_id)
        ):
            assert campaign_id
            assert not any(ch.isspace() for ch in campaign_id)
        case AddLead(campaign_id=campaign_id, phone=phone):
            assert campaign_id
            assert E164.fullmatch(phone), phone
        case _:
            raise AssertionError(f"not a command: {command!r}")


@PROPERTIES
@given(any_text)
@example("> <!channel>")
def test_any_key_is_none_or_well_formed(text: str) -> None:
    key = parse_lead_key(text)
    if key is not None:
        assert_well_formed_key(key, text)


@PROPERTIES
@given(any_text)
@example("²²²²²²²")
@example("0123456789")
@example("+0000000")
def test_a_normalized_phone_is_e164_or_nothing(text: str) -> None:
    phone = normalize_phone(text)
    assert phone is None or E164.fullmatch(phone), phone


@PROPERTIES
@given(phones)
# Found by this property: +98 then zeros, which phonenumbers shortens to six digits.
@example("9800000")
def test_a_phone_number_written_any_way_finds_the_lead_by_phone(number: str) -> None:
    command = parse_command(f"{CAMPAIGN} phone:{number}")
    assert isinstance(command, (Lookup, Invalid)), command
    if isinstance(command, Lookup):
        assert command.key.kind == "phone"
        assert E164.fullmatch(command.key.value)


@PROPERTIES
@given(object_ids, st.sampled_from(["", "'", "`", "*", "(", "<"]))
def test_a_lead_id_round_trips_through_any_wrapping(lead_id: str, wrap: str) -> None:
    closing = {"(": ")", "<": ">"}.get(wrap, wrap)
    command = parse_command(f"{CAMPAIGN} {wrap}{lead_id.upper()}{closing}")
    assert command == Lookup(CAMPAIGN, LeadKey("id", lead_id))
