"""Hypothesis strategies for hostile outside text: mentions, links, entities, markers, huge
strings, right-to-left and zero-width characters, and phone numbers written every which way.

Shared by the property tests of the text helpers, the message builders, the `/lead` grammar and
the message finder.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Modest, so the property tests stay a few seconds on a shared two-core machine.
PROPERTIES = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Whole messages from whole leads take far longer to draw: fewer of them.
MESSAGE_PROPERTIES = settings(PROPERTIES, max_examples=100)

PIECES = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<@W0ABC|bob>",
    "<#C42|general>",
    "<!subteam^S1|team>",
    "<http://x|y>",
    "<https://evil.example|click>",
    "<mailto:a@evil.example|mail>",
    "<tel:+14155550137|call>",
    "<!date^1741101730^{time}|x>",
    "&",
    "&amp;",
    "&lt;",
    "&gt;",
    "&#60;",
    "<",
    ">",
    "|",
    "^",
    "*",
    "_",
    "~",
    "`",
    "```",
    "*bold*",
    "_it_",
    "~gone~",
    "`code`",
    ">>>",
    "> ",
    "\n",
    "\r\n",
    "\t",
    " ",
    "\u00a0",
    "\u202e",  # right-to-left override
    "\u202d",
    "\u2066",  # left-to-right isolate
    "\u2069",
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\u2060",
    "\ufeff",
    "مرحبا",
    "שלום",
    "👨\u200d👩\u200d👧",
    "🇺🇸",
    "e\u0301",
    "•••• ",
    "…",
    ":rotating_light:",
    "https://",
    "campaign",
    "lead",
    "phone:",
    "ext:",
    "id:",
    "+",
    "(",
    ")",
    "-",
    ".",
    "/",
    ",",
    ":",
    "\"'",
)


def pieces_and_runs(
    pieces: list[str], runs: st.SearchStrategy[str], *, max_size: int
) -> st.SearchStrategy[str]:
    """Up to `max_size` parts joined, each part one of `pieces` or a run drawn from `runs`, as
    often one as the other: `st.lists(st.sampled_from(pieces) | runs, max_size=max_size)`,
    joined.

    The same texts as that list, as often (as many parts on average, each as likely), in about
    a fifth of the choices: which part comes where is one string of marks, drawn whole, one
    mark per piece and as many again meaning "a run here", rather than three choices per part.
    Hypothesis spends its time per choice, and these texts fill every field of the leads,
    calls and messages the property tests build.
    """
    marks = {chr(0xE000 + i): piece for i, piece in enumerate(pieces)}
    run_marks = "".join(chr(0xE000 + len(pieces) + i) for i in range(len(pieces)))
    # At most 256 marks, so Hypothesis draws each one evenly (see its `draw_string`).
    assert len(marks) + len(run_marks) <= 256
    layouts = st.text(alphabet="".join(marks) + run_marks, max_size=max_size)

    @st.composite
    def joined(draw: st.DrawFn) -> str:
        return "".join(marks[mark] if mark in marks else draw(runs) for mark in draw(layouts))

    return joined()


# Anything, with the pieces above much more likely than chance would make them.
hostile_text = pieces_and_runs(list(PIECES), st.text(max_size=12), max_size=30)

# Up to some 50,000 characters.
huge_text = st.builds(lambda text, times: text * times, hostile_text, st.integers(1, 400)).map(
    lambda text: text[:50_000]
)

any_text = st.one_of(hostile_text, hostile_text, huge_text)


def _has_no_digits(text: str) -> bool:
    return not any(ch.isdecimal() for ch in text)


# Hostile text without digits (and without currency signs, after which an amount such as
# "$1 250 000" is left alone on purpose): what surrounds a phone number in the masking tests.
digit_free_text = pieces_and_runs(
    [p for p in PIECES if _has_no_digits(p)],
    st.text(alphabet=st.characters(exclude_categories=("Nd", "Sc", "Cs")), max_size=8),
    max_size=6,
)

_SEPARATORS = ["", " ", "-", ".", " - ", "/", "\u00a0", "\u200b", "\u2011", "\u2013", "\ufeff"]
_DIGIT_SETS = {
    "ascii": "0123456789",
    "fullwidth": "０１２３４５６７８９",
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
}
# Shapes that the masker reads as something else, so a generated number must not take them.
_DATE_LIKE = re.compile(r"(?<!\d)\d{1,4}\D{1,3}\d{1,2}\D{1,3}\d{1,4}(?!\d)")
_YEARS_LIKE = re.compile(r"(?<!\d)(?:19|20)\d\d\D{1,3}(?:19|20)\d\d(?!\d)")
_DECIMAL_LIKE = re.compile(r"\d+\.\d{1,2}")


def ascii_digits(text: str) -> str:
    """The digits of a text, as ASCII."""
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    """A phone number of 7 to 15 digits, as people and CRMs write them."""
    count = draw(st.integers(7, 15))
    digits = draw(st.text(alphabet="0123456789", min_size=count, max_size=count))
    groups: list[str] = []
    rest = digits
    while rest:
        size = draw(st.integers(2, 5))
        groups.append(rest[:size])
        rest = rest[size:]
    if len(groups) > 1 and len(groups[-1]) < 2:
        groups[-2:] = [groups[-2] + groups[-1]]
    separator = draw(st.sampled_from(_SEPARATORS))
    mixed = draw(st.booleans())
    written = groups[0]
    for group in groups[1:]:
        written += (draw(st.sampled_from(_SEPARATORS)) if mixed else separator) + group
    style = draw(st.sampled_from(["plain", "plus", "plus space", "parens", "00"]))
    if style == "plus":
        written = "+" + written
    elif style == "plus space":
        written = "+ " + written
    elif style == "00":
        written = "00" + written
    elif style == "parens" and len(groups) > 1:
        written = f"({groups[0]}) " + written[len(groups[0]) :].lstrip(" -./\u00a0\u200b")
    digit_set = _DIGIT_SETS[draw(st.sampled_from(sorted(_DIGIT_SETS)))]
    return written.translate(str.maketrans("0123456789", digit_set))


def _masker_reads_it_as_a_number(written: str) -> bool:
    text = written.translate(
        {ord(ch): str(unicodedata.decimal(ch)) for ch in written if ch.isdecimal()}
    )
    if text.lstrip().startswith("+"):
        return False
    return bool(
        _DATE_LIKE.search(text) or _YEARS_LIKE.search(text) or _DECIMAL_LIKE.fullmatch(text)
    )


phones = phone_numbers().filter(lambda written: not _masker_reads_it_as_a_number(written))


@st.composite
def text_with_phones(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Digit-free hostile text with phone numbers in it, and those numbers as written."""
    numbers = draw(st.lists(phones, min_size=1, max_size=3))
    parts = [draw(digit_free_text)]
    for number in numbers:
        parts += [number, draw(digit_free_text)]
    return "".join(parts), numbers


def json_values(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Any JSON value, its strings drawn from `text`."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=True, allow_infinity=True),
        text,
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)
        ),
        max_leaves=5,
    )
