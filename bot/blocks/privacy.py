"""Who sees a message, and masking the phone numbers a channel must not see; pure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from bot.blocks.ids import CardRef
from bot.blocks.values import MASK, format_phone, format_value, mask_phone

Surface = Literal["message", "modal"]

# Invisible format characters (Unicode category Cf: zero-width spaces and joiners, bidi marks,
# the soft hyphen…). Hostile text can hide them between a number's digits, so they separate
# digits like a space does. tests/blocks/test_privacy.py checks this list against unicodedata.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
# What people (and pasted text) put between a phone number's digits.
_SEP = rf"[\s\-.()/\u2010-\u2015\u2212\uff08\uff09\uff0d\uff0e\uff0f{_FORMAT}]"
# A run of digits joined by up to three separators, with an optional + and opening parenthesis.
_RUN = re.compile(rf"(?:[+\uff0b]{_SEP}{{0,3}})?(?:[(\uff08]{_SEP}{{0,2}})?\d(?:{_SEP}{{0,3}}\d)*")
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_YEAR = r"(?:19|20)\d\d"
# Dates are never phone numbers: 2025-03-04, 2025/3/4, 04.03.2025, 3/4/2025.
_DATE = re.compile(
    rf"(?<!\d)(?:{_YEAR}([-./]){_DAY}\1{_DAY}|{_DAY}([-./]){_DAY}\2{_YEAR})(?!\d)", re.ASCII
)
# Nor are a span of years (2019-2024), a decimal number (12500.50), or an amount written with
# thousands groups right after a currency sign ($1 250 000).
_YEARS = re.compile(rf"{_YEAR}\s*[-\u2013/ ]\s*{_YEAR}", re.ASCII)
_DECIMAL = re.compile(r"\d+\.\d{1,2}", re.ASCII)
_THOUSANDS = re.compile(r"\d{1,3}(?:[ .\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?")
MIN_PHONE_DIGITS = 7
_PLUS = "+\uff0b"
_OPENING = "(\uff08"
_CLOSING = ")\uff09"


def mask_phones(text: str) -> str:
    """Text with every run that may be a phone number (7+ digits) cut to `•••• 0137`."""
    # Numbers that are clearly something else (dates, spans of years, decimals, amounts after a
    # currency sign) stay; anything in doubt is masked, since a leaked number cannot be unsent.
    return _RUN.sub(lambda match: _masked_run(text[: match.start()], match.group()), text)


def _masked_run(before: str, run: str) -> str:
    """One run of digits and separators, masked unless it is plainly not a phone number."""
    if run[0] in _PLUS:
        return _masked_piece(run)
    if run[0] in _OPENING and sum(ch in _OPENING for ch in run) > sum(ch in _CLOSING for ch in run):
        # An opening parenthesis without its partner in the run belongs to the sentence.
        digit = next(i for i, ch in enumerate(run) if ch.isdecimal())
        return run[:digit] + _masked_run(before + run[:digit], run[digit:])
    if _is_other_number(before, run):
        return run
    # Dates inside a run stay readable: "call 555 0137 on 2025-03-04".
    out: list[str] = []
    last = 0
    for date in _DATE.finditer(run):
        out += [_masked_piece(run[last : date.start()]), date.group()]
        last = date.end()
    out.append(_masked_piece(run[last:]))
    return "".join(out)


def _is_other_number(before: str, run: str) -> bool:
    if _YEARS.fullmatch(run) or _DECIMAL.fullmatch(run):
        return True
    lead_in = before[-2:].rstrip()
    after_currency = bool(lead_in) and unicodedata.category(lead_in[-1]) == "Sc"
    return after_currency and _THOUSANDS.fullmatch(run) is not None


def _masked_piece(piece: str) -> str:
    """A piece of a run, masked if it holds enough digits; the separators at its ends stay."""
    digits = [ch for ch in piece if ch.isdecimal()]
    if len(digits) < MIN_PHONE_DIGITS:
        return piece
    start = next(i for i, ch in enumerate(piece) if ch.isdecimal() or ch in _PLUS + _OPENING)
    end = max(i for i, ch in enumerate(piece) if ch.isdecimal()) + 1
    last_four = "".join(str(unicodedata.decimal(ch)) for ch in digits[-4:])
    return f"{piece[:start]}{MASK} {last_four}{piece[end:]}"


@dataclass(frozen=True)
class Audience:
    """Who will see a message: with `masked`, no phone number in it is shown in full."""

    masked: bool

    def phone(self, number: str | None) -> str | None:
        """The lead's phone number: its last four digits, or formatted for people."""
        return mask_phone(number) if self.masked else format_phone(number)

    def text(self, text: str) -> str:
        """Outside free text (answers, summaries, names), with any phone number in it masked."""
        return mask_phones(text) if self.masked else text

    def value(self, value: Any) -> str:
        """An answer of any JSON type as text, masked like free text."""
        return self.text(format_value(value))


PRIVATE = Audience(masked=False)


def channel_audience(mask_shared: bool) -> Audience:
    """A channel's members: masked when the workspace masks shared numbers (the default)."""
    return Audience(masked=mask_shared)


def card_audience(ref: CardRef, surface: Surface, *, mask_shared: bool) -> Audience:
    """A card is the viewer's own until someone shares it; a modal is never shared."""
    shared = surface == "message" and ref.shared_by is not None
    return channel_audience(mask_shared) if shared else PRIVATE
