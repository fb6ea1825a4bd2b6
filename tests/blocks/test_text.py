"""Escaping, cutting to length, links and date tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.blocks.text import (
    ELLIPSIS,
    date_token,
    escape,
    link,
    mrkdwn,
    one_line,
    plain,
    safe,
    truncate,
)

ENTITY = re.compile(r"&(?:amp|lt|gt);")


def unescape(text: str) -> str:
    """Slack's reading of escaped text: the three entities, `&amp;` last."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# escape


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain words", "plain words"),
        ("a & b", "a &amp; b"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<https://evil.example|click>", "&lt;https://evil.example|click&gt;"),
        ("&lt;", "&amp;lt;"),
        ("&amp;", "&amp;amp;"),
        ("", ""),
        ("*bold* _it_ `code`", "*bold* _it_ `code`"),
        ("\"quotes\" and 'apostrophes'", "\"quotes\" and 'apostrophes'"),
    ],
)
def test_escape_replaces_exactly_the_three_control_characters(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


@pytest.mark.parametrize("raw", ["<&>", "&lt;&gt;&amp;", "a<<>>&&b", "&&lt;;", "مرحبا <@U1> 🙂"])
def test_escape_leaves_no_angle_bracket_and_reads_back_as_the_original(raw: str) -> None:
    escaped = escape(raw)
    assert "<" not in escaped
    assert ">" not in escaped
    # Every & left is the start of one of our entities.
    assert escaped.count("&") == len(ENTITY.findall(escaped))
    assert unescape(escaped) == raw


# truncate


def test_truncate_keeps_short_text() -> None:
    assert truncate("hello", 5) == "hello"
    assert truncate("", 3) == ""


def test_truncate_cuts_long_text_and_marks_the_cut() -> None:
    assert truncate("hello world", 6) == "hello" + ELLIPSIS
    # Trailing space before the cut is dropped.
    assert truncate("abc def", 5) == "abc" + ELLIPSIS


@pytest.mark.parametrize("limit", [1, 2, 10, 75, 150, 3000])
def test_truncate_never_exceeds_the_limit(limit: int) -> None:
    result = truncate("x" * 5000, limit)
    assert len(result) == limit
    assert result.endswith(ELLIPSIS)


# safe


def test_safe_escapes_short_text() -> None:
    assert safe("<!here> & co", 100) == "&lt;!here&gt; &amp; co"


@pytest.mark.parametrize("limit", range(1, 40))
def test_safe_never_cuts_an_entity_in_half(limit: int) -> None:
    text = "a&b<c>d" * 10
    result = safe(text, limit)
    assert len(result) <= limit
    assert "<" not in result
    assert ">" not in result
    body = result.removesuffix(ELLIPSIS)
    # Every & in the result starts a whole entity.
    assert body.count("&") == len(ENTITY.findall(body)), result
    assert text.startswith(unescape(body).rstrip())


@pytest.mark.parametrize("limit", [1, 5, 6, 7, 99, 100, 101, 3000])
def test_safe_of_only_ampersands_stays_within_the_limit(limit: int) -> None:
    result = safe("&" * 2000, limit)
    assert len(result) <= limit
    body = result.removesuffix(ELLIPSIS)
    assert body == "&amp;" * (len(body) // 5)


def test_safe_cuts_escaped_length_not_raw_length() -> None:
    # 100 raw characters become 400 escaped ones; the limit applies to what Slack receives.
    result = safe("<" * 100, 50)
    assert len(result) <= 50
    assert result.endswith(ELLIPSIS)


def test_safe_keeps_text_that_fits_exactly() -> None:
    assert safe("&" * 4, 20) == "&amp;" * 4


# link


def test_link_builds_a_mrkdwn_link() -> None:
    assert link("https://example.com/a", "Open") == "<https://example.com/a|Open>"


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://example.com/x|<!channel>", "ok"),
        ("https://example.com/x>|fake", "ok"),
        ("https://example.com/a b c", "ok"),
        ("https://example.com/<@U123>", "ok"),
        ("https://example.com/", "label | with > pipe and <!here> & more"),
        ("https://example.com/", "><https://evil.example|click>"),
        ("https://a.example/x|y>z w<v", "a|b>c<d&e"),
    ],
)
def test_link_cannot_be_broken_out_of(url: str, label: str) -> None:
    result = link(url, label)
    # Exactly one link: one opening and one closing bracket, at the ends.
    assert result.startswith("<")
    assert result.endswith(">")
    assert result.count("<") == 1
    assert result.count(">") == 1
    target, sep, shown = result[1:-1].partition("|")
    assert sep == "|"
    assert not re.search(r"[\s|<>]", target), target
    # The URL is the one asked for, percent-encoded.
    assert (
        target.replace("%7C", "|").replace("%3E", ">").replace("%3C", "<").replace("%20", " ")
        == url
    )
    assert unescape(shown) == label


# date_token


def test_date_token_has_timestamp_token_and_utc_fallback() -> None:
    moment = datetime(2025, 3, 4, 15, 22, 10, tzinfo=UTC)
    assert date_token(moment) == (
        "<!date^1741101730^{date_short_pretty} at {time}|2025-03-04 15:22 UTC>"
    )


def test_date_token_with_custom_token() -> None:
    moment = datetime(2025, 3, 4, 15, 22, 10, tzinfo=UTC)
    assert date_token(moment, "{ago}") == "<!date^1741101730^{ago}|2025-03-04 15:22 UTC>"


def test_date_token_fallback_is_in_utc_for_other_offsets() -> None:
    # NLPearl times may carry an offset (`2025-03-04T17:22:10+02:00`); the models keep it.
    moment = datetime(2025, 3, 4, 17, 22, 10, tzinfo=timezone(timedelta(hours=2)))
    token = date_token(moment)
    assert token.startswith("<!date^1741101730^")
    assert token.endswith("|2025-03-04 15:22 UTC>")


# small helpers


def test_one_line_collapses_whitespace_and_newlines() -> None:
    assert one_line("  a\n\n b\t\tc \r\n") == "a b c"


def test_mrkdwn_is_verbatim() -> None:
    assert mrkdwn("x") == {"type": "mrkdwn", "text": "x", "verbatim": True}


def test_plain_is_never_empty_and_is_cut() -> None:
    assert plain("")["text"] == " "
    assert plain("x" * 200, 150)["text"] == "x" * 149 + ELLIPSIS
    assert plain("hi") == {"type": "plain_text", "text": "hi", "emoji": True}
