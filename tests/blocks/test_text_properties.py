"""Properties of the text helpers and the phone masker, on generated hostile text."""

from __future__ import annotations

import re
from datetime import date, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from bot.blocks.privacy import PRIVATE, Audience, mask_phones
from bot.blocks.text import (
    ELLIPSIS,
    MAX_SECTION_TEXT,
    escape,
    link,
    mrkdwn,
    one_line,
    plain,
    prose,
    safe,
    truncate,
)
from tests.blocks.hostile import (
    PROPERTIES,
    any_text,
    ascii_digits,
    digit_free_text,
    hostile_text,
    phones,
    text_with_phones,
)

ENTITY = re.compile(r"&(?:amp|lt|gt);")
LIVE = re.compile(r"<[!@#]|<https?:|<mailto:|<tel:", re.IGNORECASE)
MARKERS = "*_~`"
# What prose shows for each marker. Outside text may hold the look-alikes themselves too, so
# what is shown is compared with the typed text with its markers swapped, never the reverse.
AS_LOOK_ALIKES = str.maketrans(MARKERS, "\u2217\u02cd\u223c\u02cb")
BIDI_CONTROLS = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
MASKED = re.compile(r"•••• \d{4}")
limits = st.integers(1, 3500)


def unescape(text: str) -> str:
    """Slack's reading of escaped text: the three entities, `&amp;` last."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def without_bidi(text: str) -> str:
    return "".join(ch for ch in text if ch not in BIDI_CONTROLS)


def assert_whole_entities(text: str) -> None:
    assert "<" not in text
    assert ">" not in text
    assert text.count("&") == len(ENTITY.findall(text)), text[-40:]


# escape


@PROPERTIES
@given(any_text)
def test_escape_round_trips_and_leaves_nothing_live(text: str) -> None:
    escaped = escape(text)
    assert_whole_entities(escaped)
    assert LIVE.search(escaped) is None
    assert unescape(escaped) == text


# truncate


@PROPERTIES
@given(any_text, limits)
def test_truncate_keeps_what_fits_and_marks_a_cut(text: str, limit: int) -> None:
    cut = truncate(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
    else:
        assert cut.endswith(ELLIPSIS)
        assert text.startswith(cut.removesuffix(ELLIPSIS))


# prose: outside text in mrkdwn


@PROPERTIES
@given(any_text, limits)
@example("a *b* _c_ ~d~ `e`", 100)
@example("x" * 10 + "*bold*", 12)
@example("&" * 50, 7)
@example("\u02cb", 1)
@example("*a* and \u2217a\u2217 `b` \u02cbb\u02cb", 100)
def test_prose_is_inert_whole_and_within_the_limit(text: str, limit: int) -> None:
    shown = prose(text, limit)
    assert len(shown) <= limit
    assert_whole_entities(shown)
    assert LIVE.search(shown) is None
    # No marker at all is left, so none can pair with another or with ours, whatever the cut.
    assert not any(marker in shown for marker in MARKERS)
    assert not any(control in shown for control in BIDI_CONTROLS)
    # What is shown is the text as typed (its start, when cut), markers as look-alikes.
    body = unescape(shown.removesuffix(ELLIPSIS))
    typed = without_bidi(text).translate(AS_LOOK_ALIKES)
    assert typed.startswith(body.rstrip()) if shown.endswith(ELLIPSIS) else body == typed


@PROPERTIES
@given(any_text, limits)
@example("`a` \u02cbb\u02cb", 100)
def test_safe_keeps_ids_copyable_and_code_spans_closed(text: str, limit: int) -> None:
    shown = safe(text, limit)
    assert len(shown) <= limit
    assert_whole_entities(shown)
    # Only a backtick could end a code span; * _ ~ show as typed inside one.
    assert "`" not in shown
    body = unescape(shown.removesuffix(ELLIPSIS))
    typed = without_bidi(text).replace("`", "\u02cb")
    assert typed.startswith(body.rstrip()) if shown.endswith(ELLIPSIS) else body == typed


@PROPERTIES
@given(any_text)
def test_prose_in_our_markers_stays_ours(text: str) -> None:
    # `*{label}*`: exactly our two asterisks, at the ends.
    line = f"*{prose(one_line(text), 60)}*"
    assert line.count("*") == 2
    assert line.startswith("*")
    assert line.endswith("*")


# small helpers


@PROPERTIES
@given(any_text)
def test_one_line_is_one_line_and_idempotent(text: str) -> None:
    line = one_line(text)
    assert "\n" not in line
    assert "\r" not in line
    assert one_line(line) == line


@PROPERTIES
@given(any_text, st.integers(1, 3000))
def test_plain_is_never_empty_and_within_the_limit(text: str, limit: int) -> None:
    obj = plain(text, limit)
    assert 0 < len(obj["text"]) <= limit


@PROPERTIES
@given(any_text)
def test_mrkdwn_of_prose_fits_a_section(text: str) -> None:
    obj = mrkdwn(prose(text, MAX_SECTION_TEXT))
    assert len(obj["text"]) <= MAX_SECTION_TEXT
    assert obj["verbatim"] is True


@PROPERTIES
@given(hostile_text, hostile_text)
def test_link_is_one_link_whatever_its_parts(url: str, label: str) -> None:
    result = link(url, label)
    assert result.startswith("<")
    assert result.endswith(">")
    assert result.count("<") == 1
    assert result.count(">") == 1
    target, sep, shown = result[1:-1].partition("|")
    assert sep == "|"
    assert not re.search(r"[ |<>]", target)
    assert unescape(shown) == label


# the phone masker


@PROPERTIES
@given(text_with_phones())
@example(("feed: +1 (415) 555-0123 and 415.555.0199", ["+1 (415) 555-0123", "415.555.0199"]))
@example(("hidden 415\u200b555\u200b0137", ["415\u200b555\u200b0137"]))
def test_no_phone_number_survives_masking(case: tuple[str, list[str]]) -> None:
    text, numbers = case
    masked = mask_phones(text)
    rest = ascii_digits(MASKED.sub(" ", masked))
    for number in numbers:
        digits = ascii_digits(number)
        windows = {digits[i : i + 7] for i in range(len(digits) - 6)}
        assert not any(window in rest for window in windows), (number, masked)


@PROPERTIES
@given(phones)
def test_a_phone_number_alone_is_masked_like_the_leads_own(number: str) -> None:
    assert mask_phones(number) == f"•••• {ascii_digits(number)[-4:]}"


@PROPERTIES
@given(any_text)
def test_masking_never_raises_and_is_idempotent(text: str) -> None:
    masked = mask_phones(text)
    assert mask_phones(masked) == masked
    assert sum(ch.isdecimal() for ch in masked) <= sum(ch.isdecimal() for ch in text)


@PROPERTIES
@given(digit_free_text)
def test_text_without_digits_is_untouched(text: str) -> None:
    assert mask_phones(text) == text


ordinary_numbers = st.one_of(
    st.integers(0, 999_999).map(str),
    st.integers(1900, 2099).map(str),
    st.dates(date(1900, 1, 1), date(2099, 12, 31)).map(lambda d: d.isoformat()),
    st.datetimes(datetime(1900, 1, 1), datetime(2099, 12, 31)).map(
        lambda d: d.isoformat(sep=" ", timespec="minutes")
    ),
    st.times().map(lambda t: t.isoformat(timespec="seconds")),
    st.tuples(st.integers(1900, 2099), st.integers(1900, 2099)).map(lambda y: f"{y[0]}-{y[1]}"),
    st.decimals(0, 10**9, places=2).map(str),
    st.integers(1000, 10**9).map(lambda n: f"${n:,}"),
    st.integers(1000, 10**9).map(lambda n: f"€{n:,}".replace(",", " ")),
)


@PROPERTIES
@given(digit_free_text, ordinary_numbers, digit_free_text)
def test_ordinary_numbers_are_left_alone(before: str, number: str, after: str) -> None:
    # Amounts, years, spans of years, short counts, ISO dates and clock times are no phones.
    text = f"{before} · {number} · {after}"
    assert mask_phones(text) == text


@PROPERTIES
@given(any_text)
def test_an_unmasked_audience_changes_nothing(text: str) -> None:
    assert PRIVATE.text(text) == text
    assert Audience(masked=True).text(text) == mask_phones(text)
