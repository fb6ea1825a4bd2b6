"""`/lead add CAMPAIGN PHONE [ext:ID] [key=value …]`, read by `parse_command`."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.parsing.grammar import (
    AddLead,
    Command,
    Help,
    Invalid,
    LeadKey,
    ListSubscriptions,
    Lookup,
    Subscribe,
    Unsubscribe,
    parse_add,
    parse_command,
    read_phone,
    split_pair,
    tokenize,
)
from tests.blocks.hostile import PROPERTIES, any_text, hostile_text, phones

CAMPAIGN = "664e9a77f0e1d2c3b4a59687"
E164 = re.compile(r"\+[1-9]\d{6,14}", re.ASCII)
# Anything a person could type that mentions a live mention or link, in a problem sentence.
LIVE = re.compile(r"<\s*(?:[!@#]|[a-z][a-z0-9+.\-]*:)", re.IGNORECASE)


def added(text: str) -> AddLead:
    command = parse_command(text)
    assert isinstance(command, AddLead), command
    return command


def problem(text: str) -> str:
    command = parse_command(text)
    assert isinstance(command, Invalid), command
    return command.problem


# what it reads


def test_campaign_and_phone() -> None:
    assert parse_command(f"add {CAMPAIGN} +14155550137") == AddLead(CAMPAIGN, "+14155550137")


@pytest.mark.parametrize(
    "written",
    [
        "+1 (415) 555-0137",
        "+1 415 555 0137",
        "+1.415.555.0137",
        "(415) 555-0137",
        "415-555-0137",
        "4155550137",
        "tel:+14155550137",
        "phone:+14155550137",
        "<tel:+14155550137|+1 415 555 0137>",
        "+14155550137,",
    ],
)
def test_the_phone_is_every_word_before_the_options(written: str) -> None:
    command = added(f"add {CAMPAIGN} {written} plan=Pro")
    assert command.phone == "+14155550137"
    assert command.call_data == (("plan", "Pro"),)


def test_external_id_and_call_data_in_any_order() -> None:
    command = added(
        f'add {CAMPAIGN} +44 20 7183 8750 plan=Pro ext:crm-004512 name="Maria Gonzalez"'
    )
    assert command == AddLead(
        CAMPAIGN,
        "+442071838750",
        "crm-004512",
        (("plan", "Pro"), ("name", "Maria Gonzalez")),
    )


def test_external_id_after_a_space() -> None:
    assert added(f"add {CAMPAIGN} +14155550137 ext: crm-004512").external_id == "crm-004512"


def test_quoted_values_keep_spaces_and_curly_quotes_count() -> None:
    command = added(f'add {CAMPAIGN} +14155550137 name=“Maria  Gonzalez” note="a = b"')
    assert command.call_data == (("name", "Maria  Gonzalez"), ("note", "a = b"))


def test_an_apostrophe_is_part_of_a_value() -> None:
    command = added(f"add {CAMPAIGN} +14155550137 lastName=O'Brien")
    assert command.call_data == (("lastName", "O'Brien"),)


def test_slack_links_become_what_was_typed() -> None:
    command = added(
        f"add {CAMPAIGN} +14155550137 email=<mailto:maria@example.com|maria@example.com> "
        "site=<https://example.com/a?b=1&amp;c=2>"
    )
    assert command.call_data == (
        ("email", "maria@example.com"),
        ("site", "https://example.com/a?b=1&c=2"),
    )


def test_a_pasted_campaign_link_gives_its_id() -> None:
    link = f"<https://platform.nlpearl.ai/outbound/{CAMPAIGN}>"
    assert added(f"add {link} +14155550137").campaign_id == CAMPAIGN


def test_the_verb_is_read_in_any_case_and_with_punctuation() -> None:
    assert added(f"ADD {CAMPAIGN} +14155550137").campaign_id == CAMPAIGN
    assert added(f"add, {CAMPAIGN} +14155550137").campaign_id == CAMPAIGN


def test_a_campaign_named_add_is_now_the_verb() -> None:
    # Documented trade-off: `/lead add LEAD` was a lookup in campaign "add"; now it is the verb.
    assert isinstance(parse_command("add 6650f1c2a9e4b27d3c8e41a7"), Invalid)


def test_other_commands_are_unchanged() -> None:
    phone = LeadKey("phone", "+14155550137")
    assert parse_command(f"{CAMPAIGN} +14155550137") == Lookup(CAMPAIGN, phone)
    assert parse_command("adding +14155550137") == Lookup("adding", phone)
    assert parse_command(f"subscribe {CAMPAIGN}") == Subscribe(CAMPAIGN)


# problems, each a sentence


@pytest.mark.parametrize("text", ["add", "add   ", f"add {CAMPAIGN}", f"add {CAMPAIGN} ext:1"])
def test_a_missing_campaign_or_phone_shows_the_usage(text: str) -> None:
    assert problem(text) == (
        "`add` needs a campaign and a phone number, like `/lead add CAMPAIGN_ID +14155550137`."
    )


@pytest.mark.parametrize(
    "written", ["12345", "call me", "0415 555 0137", "415 555 0137 Maria", "+1 415 555 0137 x"]
)
def test_a_phone_that_is_not_one(written: str) -> None:
    assert problem(f"add {CAMPAIGN} {written}").endswith(
        "isn't a phone number Lead Bot can call; write it with its country code, like +14155550137."
    )


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ("=Pro", "needs a name before the `=`"),
        ("plan=", "`plan` has no value"),
        ('"first name"=Maria', "can't be a call-data name"),
        ("plan=Pro Maria", "`Maria` isn't a `key=value` pair"),
        ("plan=Pro plan=Max", "`plan` is given twice"),
        ("ext:a ext:b", "Give one external ID"),
        ("ext: plan=Pro", "Give one external ID"),
    ],
)
def test_a_bad_pair_says_what_is_wrong(options: str, says: str) -> None:
    text = problem(f"add {CAMPAIGN} +14155550137 {options}")
    assert says in text
    assert text.endswith(".")


def test_an_unbalanced_quote_is_a_sentence_not_an_exception() -> None:
    assert problem(f'add {CAMPAIGN} +14155550137 name="Maria Gonzalez') == (
        'A quote isn\'t closed: end the value with ", like name="Maria Gonzalez".'
    )


def test_a_campaign_with_spaces_is_refused() -> None:
    assert "campaign IDs have no spaces" in problem('add "my campaign" +14155550137')


def test_outside_text_in_a_problem_cannot_mention_or_break_out() -> None:
    text = problem(f"add {CAMPAIGN} <!channel> `x` <@U123>")
    assert not LIVE.search(text)
    assert text.count("`") == 2


# the pieces


def test_tokenize_splits_on_spaces_outside_quotes() -> None:
    assert tokenize('a "b c"  d=“e f” ""') == ["a", "b c", "d=e f", ""]
    assert isinstance(tokenize('a "b'), Invalid)


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("plan=Pro", ("plan", "Pro")),
        (" plan = Pro Max ", ("plan", "Pro Max")),
        ("url=a=b", ("url", "a=b")),
        ("Prénom=Zoë", ("Prénom", "Zoë")),
        ("plan", "not_a_pair"),
        ("=Pro", "no_name"),
        ("my plan=Pro", "bad_name"),
        ("plan=", "no_value"),
    ],
)
def test_split_pair(text: str, pair: tuple[str, str] | str) -> None:
    assert split_pair(text) == pair


def test_read_phone_wants_a_number_written_as_one() -> None:
    assert read_phone("+1 (415) 555-0137") == "+14155550137"
    assert read_phone("phone: 415.555.0137") == "+14155550137"
    assert read_phone("415555") is None
    assert read_phone("call 4155550137") is None
    assert read_phone("") is None


# properties


@PROPERTIES
@given(st.one_of(any_text.map(lambda t: t[:4000]), hostile_text.map(lambda t: f"add {t}")))
@example('add x +14155550137 "')
@example("add x +14155550137 ext:")
@example("add \u00a0")
def test_parse_command_never_raises_and_reads_add_well_formed(text: str) -> None:
    command: Command = parse_command(text)
    match command:
        case Invalid(problem=text_of_problem):
            assert text_of_problem.strip().endswith(".")
            assert not LIVE.search(text_of_problem)
        case AddLead(campaign_id=campaign, phone=phone, external_id=external, call_data=pairs):
            assert campaign
            assert not any(ch.isspace() for ch in campaign)
            assert E164.fullmatch(phone)
            assert external is None or external.strip()
            assert len({key for key, _ in pairs}) == len(pairs)
            assert all(split_pair(f"{key}={value}") == (key, value) for key, value in pairs)
        case Help() | ListSubscriptions() | Lookup() | Subscribe() | Unsubscribe():
            pass


@PROPERTIES
@given(phones)
def test_any_phone_written_any_way_is_read_or_refused_in_a_sentence(number: str) -> None:
    command = parse_add(f"add {CAMPAIGN} {number} plan=Pro")
    if isinstance(command, AddLead):
        assert E164.fullmatch(command.phone)
        assert command.call_data == (("plan", "Pro"),)
    else:
        assert command.problem.endswith(".")


def test_a_malformed_add_suggests_the_add_form_not_a_lookup() -> None:
    """`/lead add` with something missing points at `add CAMPAIGN_ID +PHONE`, not a lookup."""
    parsed = parse_command("add 664e9a77f0e1d2c3b4a59687")

    assert isinstance(parsed, Invalid)
    assert parsed.usage == "add CAMPAIGN_ID +14155550137"
    lookup = parse_command("just-one-word")
    assert isinstance(lookup, Invalid)
    assert lookup.usage == "CAMPAIGN_ID LEAD_ID"
