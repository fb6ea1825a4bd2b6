"""Help, usage problems and failure notices: valid Block Kit with a fallback text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.blocks import messages
from bot.parsing.grammar import Invalid, LeadKey, Lookup, parse_command
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message

HOSTILE = "<!channel> <@U123> <#C999> <https://evil.example|click> &lt;b&gt; *bold* `tick`"


def all_text(message: dict[str, Any]) -> str:
    return "\n".join(
        obj["text"]
        for block in message["blocks"]
        for obj in [block.get("text"), *block.get("elements", [])]
        if isinstance(obj, dict) and "text" in obj
    )


NOTICES: list[Callable[[], dict[str, Any]]] = [
    messages.help_message,
    lambda: messages.help_message("/lead-staging"),
    lambda: messages.usage_problem("The first word should be the campaign ID."),
    lambda: messages.lead_not_found(messages.EXAMPLE_CAMPAIGN, "crm-004512"),
    messages.nlpearl_rejected_key,
    messages.nlpearl_unavailable,
    messages.nlpearl_bad_answer,
    lambda: messages.unexpected_error("err-7f3a9c"),
    lambda: messages.notice("⚠️", "Couldn't share", "Try again."),
    lambda: messages.notice("⚠️", "Title only"),
]


@pytest.mark.parametrize("build", NOTICES)
def test_every_notice_is_valid_with_a_fallback_text(build: Callable[[], dict[str, Any]]) -> None:
    message = build()
    assert_valid_message(message)
    assert_no_injection(message)
    assert message["text"].strip()


def test_help_lists_every_form_of_the_command() -> None:
    message = messages.help_message()
    assert message["text"] == "How to use /lead"
    text = all_text(message)
    for form in [
        "`/lead CAMPAIGN_ID LEAD_ID`",
        "`/lead CAMPAIGN_ID +14155550137`",
        "`/lead CAMPAIGN_ID crm-004512`",
        "`id:`",
        "`phone:`",
        "`ext:`",
        "`/lead subscribe CAMPAIGN_ID [STATUS…]`",
        "`/lead unsubscribe CAMPAIGN_ID`",
        "`/lead subscriptions`",
        f"`/lead {messages.EXAMPLE_CAMPAIGN} {messages.EXAMPLE_LEAD}`",
    ]:
        assert form in text


def test_help_examples_parse_as_the_contract_says() -> None:
    example = parse_command(f"{messages.EXAMPLE_CAMPAIGN} {messages.EXAMPLE_LEAD}")
    assert example == Lookup(messages.EXAMPLE_CAMPAIGN, LeadKey("id", messages.EXAMPLE_LEAD))
    assert parse_command("CAMPAIGN_ID +14155550137") == Lookup(
        "CAMPAIGN_ID", LeadKey("phone", "+14155550137")
    )
    assert parse_command("CAMPAIGN_ID crm-004512") == Lookup(
        "CAMPAIGN_ID", LeadKey("external", "crm-004512")
    )


def test_help_uses_the_command_name_it_was_invoked_with() -> None:
    message = messages.help_message("/lead-staging")
    assert message["text"] == "How to use /lead-staging"
    assert "`/lead-staging subscriptions`" in all_text(message)
    assert "`/lead " not in all_text(message)


def test_usage_problem_says_why_and_the_right_form() -> None:
    message = messages.usage_problem("That looks like only one ID.", "/lead")
    text = all_text(message)
    assert "That looks like only one ID." in text
    assert "`/lead CAMPAIGN_ID LEAD_ID`" in text
    assert "`/lead help`" in text
    assert "That looks like only one ID." in message["text"]


@pytest.mark.parametrize(
    "text", ["subscribe", "unsubscribe", "664e9a77f0e1d2c3b4a59687", "664e9a77f0e1d2c3b4a59687 id:"]
)
def test_usage_problem_for_each_grammar_problem_is_valid(text: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, Invalid)
    message = messages.usage_problem(parsed.problem)
    assert_valid_message(message)
    assert_no_injection(message)


def test_lead_not_found_escapes_the_key_and_campaign() -> None:
    message = messages.lead_not_found(HOSTILE, HOSTILE)
    assert_valid_message(message)
    assert_no_injection(message)
    text = all_text(message)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
    assert "&amp;lt;b&amp;gt;" in text
    assert "<!channel>" not in message["text"]


def test_lead_not_found_names_the_key_and_campaign() -> None:
    message = messages.lead_not_found("664e9a77f0e1d2c3b4a59687", "+14155550137")
    text = all_text(message)
    assert "`+14155550137`" in text
    assert "`664e9a77f0e1d2c3b4a59687`" in text


@pytest.mark.parametrize("size", [100, 101, 3000, 10_000])
def test_lead_not_found_with_huge_keys_stays_within_limits(size: int) -> None:
    message = messages.lead_not_found("&" * size, "<" * size)
    assert_valid_message(message)
    assert_no_injection(message)


def test_a_notice_with_huge_detail_is_cut_to_fit() -> None:
    message = messages.notice("⚠️", "T" * 200, "d" * 5000)
    assert_valid_message(message)
    assert message["blocks"][0]["text"]["text"].endswith("…")


def test_unexpected_error_gives_the_reference() -> None:
    message = messages.unexpected_error("err-7f3a9c")
    assert "`err-7f3a9c`" in all_text(message)
    assert "err-7f3a9c" in message["text"]
