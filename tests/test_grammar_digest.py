"""`/lead digest CAMPAIGN [HH:MM | off]`: every time people write, off, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import example, given

from bot.blocks.messages import help_message, usage_problem
from bot.parsing.grammar import (
    DIGEST_FORM,
    Digest,
    Invalid,
    StopDigest,
    parse_command,
)
from tests.blocks.hostile import PROPERTIES, any_text, hostile_text
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message
from tests.harness.slack_requests import blocks_text

CAMPAIGN = "664e9a77f0e1d2c3b4a59687"
MAX_PROBLEM = 150


@pytest.mark.parametrize(
    ("text", "at"),
    [
        (f"digest {CAMPAIGN}", "09:00"),
        (f"digest {CAMPAIGN} 9", "09:00"),
        (f"digest {CAMPAIGN} 9:30", "09:30"),
        (f"digest {CAMPAIGN} 09:30", "09:30"),
        (f"digest {CAMPAIGN} 9am", "09:00"),
        (f"digest {CAMPAIGN} 9 am", "09:00"),
        (f"digest {CAMPAIGN} 5:30PM", "17:30"),
        (f"digest {CAMPAIGN} 12am", "00:00"),
        (f"digest {CAMPAIGN} 21:00", "21:00"),
        (f"digest {CAMPAIGN} 2100", "21:00"),
        (f"digest {CAMPAIGN} 0:00", "00:00"),
        (f"digest {CAMPAIGN} 23:59", "23:59"),
        (f"digest {CAMPAIGN} at 17:30", "17:30"),
        (f"DIGEST {CAMPAIGN} 17:30.", "17:30"),
        (f"  digest   {CAMPAIGN}   17:30  ", "17:30"),
    ],
)
def test_a_time_of_day_however_written(text: str, at: str) -> None:
    assert parse_command(text) == Digest(CAMPAIGN, at)


@pytest.mark.parametrize("off", ["off", "OFF", "Off", "off."])
def test_off_stops_the_digest(off: str) -> None:
    assert parse_command(f"digest {CAMPAIGN} {off}") == StopDigest(CAMPAIGN)


@pytest.mark.parametrize(
    "campaign",
    [
        f"`{CAMPAIGN}`",
        f"“{CAMPAIGN}”",
        f"({CAMPAIGN}),",
        f"<https://platform.nlpearl.ai/pearls/{CAMPAIGN}/settings>",
        f"<https://platform.nlpearl.ai/pearls/{CAMPAIGN.upper()}|Spring>",
        f"https://platform.nlpearl.ai/pearls/{CAMPAIGN}",
    ],
)
def test_campaign_ids_are_tolerated_as_subscribe_tolerates_them(campaign: str) -> None:
    assert parse_command(f"digest {campaign} 17:30") == Digest(CAMPAIGN, "17:30")
    assert parse_command(f"digest {campaign} off") == StopDigest(CAMPAIGN)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            f"digest {CAMPAIGN} 25:00",
            "“25:00” isn't a time of day. Use HH:MM, like 09:00 or 17:30.",
        ),
        (
            f"digest {CAMPAIGN} 9:60",
            "“9:60” isn't a time of day. Use HH:MM, like 09:00 or 17:30.",
        ),
        (
            f"digest {CAMPAIGN} 13pm",
            "“13pm” isn't a time of day. Use HH:MM, like 09:00 or 17:30.",
        ),
        (
            f"digest {CAMPAIGN} noonish",
            "“noonish” isn't a time of day. Use HH:MM, like 09:00 or 17:30.",
        ),
        (
            f"digest {CAMPAIGN} 9:00 daily",
            "“9:00 daily” isn't a time of day. Use HH:MM, like 09:00 or 17:30.",
        ),
        (f"digest {CAMPAIGN} at", "“at” isn't a time of day. Use HH:MM, like 09:00 or 17:30."),
        ("digest", "`digest` needs the campaign ID first, like `/lead digest CAMPAIGN_ID 09:00`."),
        (
            "digest off",
            "`digest` needs the campaign ID first, like `/lead digest CAMPAIGN_ID 09:00`.",
        ),
        (
            "digest 17:30",
            "`digest` needs the campaign ID first, like `/lead digest CAMPAIGN_ID 09:00`.",
        ),
        (
            "digest 9am",
            "`digest` needs the campaign ID first, like `/lead digest CAMPAIGN_ID 09:00`.",
        ),
        (f"digest {'f' * 101} 9:00", "“fffffffffffffff…” is too long for a campaign ID."),
    ],
)
def test_wrong_forms_say_why_and_suggest_the_right_one(text: str, problem: str) -> None:
    assert parse_command(text) == Invalid(problem, DIGEST_FORM)


def test_the_usage_problem_shows_the_form_to_try() -> None:
    parsed = parse_command(f"digest {CAMPAIGN} 25:00")
    assert isinstance(parsed, Invalid)

    shown = blocks_text(usage_problem(parsed.problem, "/lead", parsed.usage))

    assert "“25:00” isn't a time of day. Use HH:MM, like 09:00 or 17:30." in shown
    assert "Try `/lead digest CAMPAIGN_ID 09:00`, or `/lead help` for every form." in shown


def test_a_bad_time_is_quoted_inert() -> None:
    parsed = parse_command(f"digest {CAMPAIGN} <!channel> *bold* _it_ ~s~ &&&&&&&")
    assert isinstance(parsed, Invalid)

    message = usage_problem(parsed.problem, "/lead", parsed.usage)

    assert_valid_message(message)
    assert_no_injection(message)
    assert "<!channel>" not in parsed.problem
    assert "*" not in parsed.problem.partition("”")[0]


def test_bare_digits_stay_a_campaign_id() -> None:
    assert parse_command("digest 1730") == Digest("1730", "09:00")


def test_help_shows_the_digest_form() -> None:
    shown = blocks_text(help_message())
    assert "`/lead digest CAMPAIGN_ID [HH:MM | off]`" in shown
    assert "`/lead subscriptions` — list this channel's subscriptions and digests" in shown


@PROPERTIES
@given(any_text)
@example("25:00")
@example("off off")
@example("at")
@example("&" * 200)
@example("<!channel> " * 50)
def test_any_text_after_digest_never_raises(rest: str) -> None:
    for text in (f"digest {rest}", f"digest {CAMPAIGN} {rest}", f"digest {rest} {CAMPAIGN}"):
        parsed = parse_command(text[:4000])
        assert isinstance(parsed, (Digest, StopDigest, Invalid)), parsed
        if isinstance(parsed, Invalid):
            assert parsed.problem.endswith(".")
            assert len(parsed.problem) <= MAX_PROBLEM, parsed.problem
            assert parsed.usage == DIGEST_FORM
        else:
            assert parsed.campaign_id
            assert not any(ch.isspace() for ch in parsed.campaign_id)
            assert len(parsed.campaign_id) <= 100
        if isinstance(parsed, Digest):
            hours, minutes = parsed.at_time.split(":")
            assert 0 <= int(hours) <= 23
            assert 0 <= int(minutes) <= 59


@PROPERTIES
@given(hostile_text)
def test_any_bad_time_reads_as_a_short_inert_problem(rest: str) -> None:
    parsed = parse_command(f"digest {CAMPAIGN} {rest}")
    if isinstance(parsed, Invalid):
        message = usage_problem(parsed.problem, "/lead", parsed.usage)
        assert_valid_message(message)
        assert_no_injection(message)
