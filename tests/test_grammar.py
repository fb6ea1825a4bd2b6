"""The `/lead` grammar of the interface contract (DESIGN.md), read by `parse_command`."""

from __future__ import annotations

import re

import pytest

from bot.parsing.grammar import (
    Command,
    Help,
    Invalid,
    LeadKey,
    ListSubscriptions,
    Lookup,
    ShowCampaign,
    Subscribe,
    Unsubscribe,
    looks_like_phone,
    normalize_phone,
    parse_command,
    parse_lead_key,
)

CAMPAIGN = "664e9a77f0e1d2c3b4a59687"
LEAD = "6650f1c2a9e4b27d3c8e41a7"
LINK = f"https://platform.nlpearl.ai/outbound/{CAMPAIGN}/leads/{LEAD}"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def lookup(text: str) -> Lookup:
    command = parse_command(text)
    assert isinstance(command, Lookup), command
    return command


def key_of(text: str) -> LeadKey:
    command = lookup(f"{CAMPAIGN} {text}")
    assert command.campaign_id == CAMPAIGN
    return command.key


# help


@pytest.mark.parametrize("text", ["", "   ", "\n", "help", "HELP", "Help", "?", "--help", "-h"])
def test_empty_and_help_show_help(text: str) -> None:
    assert parse_command(text) == Help()


def test_help_with_more_words_is_still_help() -> None:
    assert parse_command("help me please") == Help()


# lookups by lead ID


def test_campaign_and_lead_id() -> None:
    assert parse_command(f"{CAMPAIGN} {LEAD}") == Lookup(CAMPAIGN, LeadKey("id", LEAD))


def test_lead_id_is_lower_cased() -> None:
    assert key_of(LEAD.upper()) == LeadKey("id", LEAD)


def test_extra_spaces_are_ignored() -> None:
    assert parse_command(f"  {CAMPAIGN}\t  {LEAD}  \n") == Lookup(CAMPAIGN, LeadKey("id", LEAD))


# lookups by phone


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("+15551234567", "+15551234567"),
        ("+1 (415) 555-0137", "+14155550137"),
        ("+1 415 555 0137", "+14155550137"),
        ("+1-415-555-0137", "+14155550137"),
        ("+1.415.555.0137", "+14155550137"),
        ("4155550137", "+14155550137"),
        ("(415) 555-0137", "+14155550137"),
        ("415-555-0137", "+14155550137"),
        ("+44 20 7183 8750", "+442071838750"),
        ("+442071838750", "+442071838750"),
        ("<tel:+14155550137|+1 415 555 0137>", "+14155550137"),
        ("<tel:+14155550137>", "+14155550137"),
        ("tel:+14155550137", "+14155550137"),
        ("phone:4155550137", "+14155550137"),
        ("phone: +1 415 555 0137", "+14155550137"),
        ("PHONE:+14155550137", "+14155550137"),
    ],
)
def test_phone_numbers_are_read_in_e164(text: str, phone: str) -> None:
    assert key_of(text) == LeadKey("phone", phone)


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("+1234567", "+1234567"),
        # 00 is the international call prefix across most of the world: 00 44… is +44….
        ("001 415 555 0137", "+14155550137"),
        ("0044 20 7183 8750", "+442071838750"),
    ],
)
def test_a_phone_key_is_always_valid_e164(text: str, phone: str) -> None:
    key = key_of(text)
    assert E164.match(key.value), key
    assert key == LeadKey("phone", phone)


# lookups by external ID


@pytest.mark.parametrize(
    ("text", "external"),
    [
        ("crm-123", "crm-123"),
        ("crm-004512", "crm-004512"),
        ("12345", "12345"),
        ("ABC_99", "ABC_99"),
        ("crm:1", "crm:1"),
        ("'crm 123'", "crm 123"),
        ("a&amp;b", "a&b"),
        ("6650f1c2a9e4b27d3c8e41a", "6650f1c2a9e4b27d3c8e41a"),  # 23 hex digits
        ("6650f1c2a9e4b27d3c8e41a7f", "6650f1c2a9e4b27d3c8e41a7f"),  # 25
    ],
)
def test_other_keys_are_external_ids(text: str, external: str) -> None:
    assert key_of(text) == LeadKey("external", external)


# prefixes force the kind


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("ext:4155550137", LeadKey("external", "4155550137")),
        ("ext:+14155550137", LeadKey("external", "+14155550137")),
        (f"ext:{LEAD}", LeadKey("external", LEAD)),
        ("EXT:crm-1", LeadKey("external", "crm-1")),
        ("ext: crm-1", LeadKey("external", "crm-1")),
        ("ext:crm:1", LeadKey("external", "crm:1")),
        (f"id:{LEAD}", LeadKey("id", LEAD)),
        ("id:crm-123", LeadKey("id", "crm-123")),
        ("id:4155550137", LeadKey("id", "4155550137")),
        ("phone:4155550137", LeadKey("phone", "+14155550137")),
    ],
)
def test_prefixes_force_the_kind(text: str, key: LeadKey) -> None:
    assert key_of(text) == key


def test_id_prefix_lower_cases_a_hex_id_like_a_bare_one() -> None:
    assert key_of(f"id:{LEAD.upper()}") == key_of(LEAD.upper()) == LeadKey("id", LEAD)


@pytest.mark.parametrize("text", ["ext:", "id:", "phone:", "phone:abc", "phone:12"])
def test_a_prefix_without_a_usable_value_is_invalid(text: str) -> None:
    assert isinstance(parse_command(f"{CAMPAIGN} {text}"), Invalid)


# pasted links


@pytest.mark.parametrize(
    "text", [f"<{LINK}|link>", f"<{LINK}>", LINK, f"<{LINK}|{LINK}>", f"<{LINK}?tab=calls|x>"]
)
def test_a_pasted_link_alone_gives_both_ids(text: str) -> None:
    assert parse_command(text) == Lookup(CAMPAIGN, LeadKey("id", LEAD))


@pytest.mark.parametrize("text", [f"<{LINK}|link>", f"<{LINK}>", LINK])
def test_a_link_as_the_lead_key(text: str) -> None:
    assert parse_command(f"{CAMPAIGN} {text}") == Lookup(CAMPAIGN, LeadKey("id", LEAD))


def test_a_campaign_link_then_a_lead_id() -> None:
    text = f"<https://platform.nlpearl.ai/outbound/{CAMPAIGN}|campaign> {LEAD}"
    assert parse_command(text) == Lookup(CAMPAIGN, LeadKey("id", LEAD))


def test_a_link_after_the_id_prefix_gives_the_lead_id() -> None:
    assert key_of(f"id:<{LINK}|lead>") == LeadKey("id", LEAD)


def test_a_link_without_two_ids_alone_is_invalid() -> None:
    command = parse_command(f"<https://platform.nlpearl.ai/outbound/{CAMPAIGN}|campaign>")
    assert isinstance(command, Invalid)


# punctuation and escaping


@pytest.mark.parametrize(
    "text",
    [
        f'"{CAMPAIGN}", {LEAD}.',
        f"`{CAMPAIGN}` `{LEAD}`",
        f"'{CAMPAIGN}' '{LEAD}'",
        f"“{CAMPAIGN}” ‘{LEAD}’",
        f"({CAMPAIGN}) [{LEAD}]",
        f"*{CAMPAIGN}* _{LEAD}_",
        f"{CAMPAIGN}, {LEAD}!",
        f"<{CAMPAIGN}> <{LEAD}>",
        f"«{CAMPAIGN}» {{{LEAD}}}",
    ],
)
def test_surrounding_punctuation_is_stripped(text: str) -> None:
    assert parse_command(text) == Lookup(CAMPAIGN, LeadKey("id", LEAD))


def test_slack_html_entities_are_unescaped() -> None:
    assert key_of("R&amp;D-7") == LeadKey("external", "R&D-7")
    assert key_of("&quot;crm-9&quot;") == LeadKey("external", "crm-9")


# subscriptions


def test_subscribe_with_statuses() -> None:
    assert parse_command(f"subscribe {CAMPAIGN} success notsuccessful") == Subscribe(
        CAMPAIGN, ("success", "notsuccessful")
    )


def test_subscribe_without_statuses() -> None:
    assert parse_command(f"subscribe {CAMPAIGN}") == Subscribe(CAMPAIGN, ())


def test_subscribe_verb_in_any_case_and_with_punctuation() -> None:
    assert parse_command(f"Subscribe `{CAMPAIGN}`, success,") == Subscribe(CAMPAIGN, ("success",))


def test_subscribe_alone_is_invalid_and_says_what_is_missing() -> None:
    command = parse_command("subscribe")
    assert isinstance(command, Invalid)
    assert "campaign ID" in command.problem
    assert "subscribe" in command.problem


def test_subscribe_to_a_pasted_campaign_link_takes_its_id() -> None:
    command = parse_command(f"subscribe <https://platform.nlpearl.ai/outbound/{CAMPAIGN}|x>")
    assert command == Subscribe(CAMPAIGN, ())


def test_unsubscribe() -> None:
    assert parse_command(f"unsubscribe {CAMPAIGN}") == Unsubscribe(CAMPAIGN)
    assert parse_command(f"UNSUBSCRIBE '{CAMPAIGN}'") == Unsubscribe(CAMPAIGN)


def test_unsubscribe_alone_is_invalid() -> None:
    command = parse_command("unsubscribe")
    assert isinstance(command, Invalid)
    assert "campaign ID" in command.problem


@pytest.mark.parametrize("text", ["subscriptions", "Subscriptions", "subscriptions please"])
def test_subscriptions(text: str) -> None:
    assert parse_command(text) == ListSubscriptions()


# invalid input


@pytest.mark.parametrize("text", [CAMPAIGN, LEAD, "crm-123", "+14155550137"])
def test_one_lone_id_is_invalid_with_a_helpful_sentence(text: str) -> None:
    command = parse_command(text)
    assert isinstance(command, Invalid)
    assert "campaign" in command.problem
    assert "lead" in command.problem.lower()
    assert "/lead CAMPAIGN_ID LEAD_ID" in command.problem
    assert command.problem.endswith(".")


def test_a_campaign_of_only_punctuation_is_invalid() -> None:
    # The key alone is not enough: the campaign word vanishes once punctuation is stripped.
    command = parse_command(f'"" {LEAD}')
    assert isinstance(command, Invalid)


@pytest.mark.parametrize(
    "command",
    [
        parse_command("subscribe"),
        parse_command(CAMPAIGN),
        parse_command(f"{CAMPAIGN} phone:abc"),
    ],
)
def test_every_problem_is_one_sentence(command: Command) -> None:
    assert isinstance(command, Invalid)
    assert command.problem
    assert "\n" not in command.problem


# parse_lead_key


def test_parse_lead_key_of_nothing_is_none() -> None:
    assert parse_lead_key("") is None
    assert parse_lead_key("  ") is None
    assert parse_lead_key('""') is None


def test_parse_lead_key_classifies() -> None:
    assert parse_lead_key(LEAD) == LeadKey("id", LEAD)
    assert parse_lead_key("+14155550137") == LeadKey("phone", "+14155550137")
    assert parse_lead_key("crm-1") == LeadKey("external", "crm-1")


# looks_like_phone / normalize_phone


@pytest.mark.parametrize(
    "text",
    [
        "+15551234567",
        "+1 (415) 555-0137",
        "4155550137",
        "415-555-0137",
        "(415) 555-0137",
        "415.555.0137",
        "+442071838750",
        "+1234567",
        "123456789012345",
    ],
)
def test_looks_like_phone(text: str) -> None:
    assert looks_like_phone(text)


@pytest.mark.parametrize(
    "text",
    [
        "12345",
        "123456789",  # nine bare digits
        "1234567890123456",  # sixteen
        "+123456",  # six digits
        "crm-004512",
        "crm-123",
        "abc",
        "",
        "+",
        "...",
        "+1 415 555 0137 ext 2",
        "1.5",
        LEAD,
    ],
)
def test_does_not_look_like_phone(text: str) -> None:
    assert not looks_like_phone(text)


@pytest.mark.parametrize("text", ["12345", "crm-004512", f"{CAMPAIGN[:4]}"])
def test_short_or_mixed_keys_are_not_phone_lookups(text: str) -> None:
    assert key_of(text).kind == "external"


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("+15551234567", "+15551234567"),
        ("4155550137", "+14155550137"),
        ("415-555-0137", "+14155550137"),
        ("+1 (415) 555-0137", "+14155550137"),
        ("+44 20 7183 8750", "+442071838750"),
        ("14155550137", "+14155550137"),
    ],
)
def test_normalize_phone(text: str, e164: str) -> None:
    assert normalize_phone(text) == e164


@pytest.mark.parametrize("text", ["", "abc", "12345", "123456", "1234567890123456", "+"])
def test_normalize_phone_refuses_too_few_or_too_many_digits(text: str) -> None:
    assert normalize_phone(text) is None


def test_campaign_with_one_id_is_the_campaign_card() -> None:
    """`campaign ID` shows the campaign; anything else after `campaign` says how to write it."""
    assert parse_command("campaign 664e9a77f0e1d2c3b4a59687") == ShowCampaign(
        "664e9a77f0e1d2c3b4a59687"
    )
    for text in ("campaign", "campaign crm 12"):
        wrong = parse_command(text)
        assert isinstance(wrong, Invalid)
        assert "`/lead campaign CAMPAIGN_ID`" in wrong.problem
        assert wrong.usage == "campaign CAMPAIGN_ID"
