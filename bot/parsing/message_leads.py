"""What a Slack message offers the Add lead form: its phone numbers, a name, an ID; pure.

Names are guessed only where the message makes them plain ("Name: Maria Gonzalez", or two
capitalised words right beside the number): a form left empty is better than a wrong name.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from bot.parsing.finder import find_leads, message_text
from bot.parsing.grammar import OBJECT_ID, looks_like_phone, normalize_phone

MAX_PHONES = 10
NEAR = 120
# Where a number sits in a line, to look beside it; find_leads decides what is a phone number.
_NUMBER = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d\s().\-]{5,20}\d(?!\w)")
_NAME_LABEL = re.compile(r"\b(?:name|contact|customer|client|lead)\s*[:=]\s*", re.IGNORECASE)
_FIRST_LABEL = re.compile(r"\bfirst\s*name\s*[:=]\s*", re.IGNORECASE)
_LAST_LABEL = re.compile(r"\b(?:last\s*name|surname|family\s+name)\s*[:=]\s*", re.IGNORECASE)
# Labels of a name that is not the person's: `Campaign name:`, `Last name:` (read on its own).
_OTHER_NAMES = (
    "campaign",
    "company",
    "business",
    "file",
    "user",
    "pearl",
    "last",
    "first",
    "nick",
    "family",
    "middle",
    "display",
    "channel",
    "team",
    "product",
    "account",
)
_ID_LABEL = re.compile(
    r"(?:\b(ext):\s*|\b(?:external|crm|customer|client)\s+id\s*[:#]\s*|\bcrm\s*[:#]\s*)"
    r"([^\W_][\w.\-/]{0,63})(?![\w\-/])",
    re.IGNORECASE,
)
# A name word: letters, with O'Brien- and Smith-Jones-like joins.
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['’\-][^\W\d_]+)*$")
_PUNCTUATION = ",:;-–—()|·•."
# Words that sit beside numbers but are not names, in the capitalised form they take there.
_COMMON_WORDS = """
    call ring phone mobile cell tel telephone number contact customer client lead name new
    please hi hello hey thanks thank dear mr mrs ms miss dr sir madam re fwd fw urgent office
    home work main direct fax support sales team inc llc ltd corp company the this that my our
    your his her their from to for at on in and or with via by is was today tomorrow yesterday
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december san los las santa saint st fort
    port mount north south east west city county beach valley park street avenue road lake
    united states kingdom america canada mexico england london york texas california florida
    spring summer autumn fall winter campaign pearl outbound ext id crm note notes ok yes no
"""
_NOT_NAMES = frozenset(_COMMON_WORDS.split())
# What stands between a name and its number: "Maria Gonzalez at +1…", "…'s number is +1…".
_CONNECTORS = frozenset({"at", "on", "is", "number", "phone", "mobile", "cell", "tel", "via"})


@dataclass(frozen=True)
class AddPrefill:
    """What the Add lead form starts with."""

    phone: str | None = None
    other_phones: tuple[str, ...] = ()
    first_name: str | None = None
    last_name: str | None = None
    external_id: str | None = None


def prefill_from_message(message: dict[str, Any]) -> AddPrefill:
    """The numbers (E.164) a message mentions, and the person's name and ID when it is plain."""
    raw = message_text(message if isinstance(message, dict) else {})
    phones = [key.value for key in find_leads(raw).keys if key.kind == "phone"][:MAX_PHONES]
    text = html.unescape(raw)
    name = labelled_name(text) or (name_beside(text, phones[0]) if phones else None)
    first, last = name or (None, None)
    return AddPrefill(
        phone=phones[0] if phones else None,
        other_phones=tuple(phones[1:]),
        first_name=first,
        last_name=last,
        external_id=external_id_in(text),
    )


def labelled_name(text: str) -> tuple[str, str | None] | None:
    """A name after a label: `Name: Maria Gonzalez`, or `First name:` and `Last name:`."""
    if (found := _FIRST_LABEL.search(text)) and (first := _name_words(text, found.end(), 1)):
        found = _LAST_LABEL.search(text)
        last = _name_words(text, found.end(), 2) if found else []
        return first[0], " ".join(last) or None
    for match in _NAME_LABEL.finditer(text):
        before = text[max(0, match.start() - 12) : match.start()].lower()
        if any(word in before for word in _OTHER_NAMES):
            continue
        if words := _name_words(text, match.end(), 2):
            return words[0], " ".join(words[1:]) or None
    return None


def name_beside(text: str, phone: str) -> tuple[str, str] | None:
    """Two capitalised words right before or after the number: `Maria Gonzalez +1 415…`."""
    for line in text.splitlines():
        for match in _NUMBER.finditer(line):
            if normalize_phone(match.group()) != phone:
                continue
            # A name is right beside its number: look no further than a short span either side.
            before = line[max(0, match.start() - NEAR) : match.start()]
            name = _name_before(before) or _name_after(line[match.end() : match.end() + NEAR])
            if name:
                return name
    return None


def external_id_in(text: str) -> str | None:
    """An ID after `ext:`, `External ID:` or `CRM ID:`; not a lead ID, a phone or an extension."""
    for match in _ID_LABEL.finditer(text):
        value = match.group(2).rstrip(".-/")
        if OBJECT_ID.match(value) or looks_like_phone(value):
            continue
        # "ext: 12" after a number is a phone extension, not an ID.
        if match.group(1) and value.isdigit() and len(value) <= 5:
            continue
        if any(ch.isdigit() for ch in value):
            return value
    return None


def _name_before(before: str) -> tuple[str, str] | None:
    """The name words that end right before the number, read backwards."""
    words = before.split()
    while words and (
        not words[-1].strip(_PUNCTUATION) or words[-1].strip(_PUNCTUATION).lower() in _CONNECTORS
    ):
        words.pop()
    if not words:
        return None
    # The word next to the number may end in punctuation ("Gonzalez:"); the others may not.
    nearest = _possessive(words[-1].rstrip(_PUNCTUATION))
    run = _name_run([nearest, *reversed(words[:-1])])
    return _two(list(reversed(run)))


def _name_after(after: str) -> tuple[str, str] | None:
    """The name words that start right after the number, up to punctuation or other words."""
    words = after.lstrip(_PUNCTUATION + " \t").split()
    if words and words[0].lower() in {"for", "from"}:
        words = words[1:]
    run: list[str] = []
    for word in words[:3]:
        clean = word.rstrip(_PUNCTUATION)
        if not _is_name_word(clean):
            break
        run.append(clean)
        if clean != word:
            break
    return _two(run)


def _two(run: list[str]) -> tuple[str, str] | None:
    """A first and last name, when a run of name words is exactly two, neither a common word."""
    while run and run[0].lower() in _NOT_NAMES:
        run = run[1:]
    if len(run) != 2 or any(word.lower() in _NOT_NAMES for word in run):
        return None
    return run[0], run[1]


def _name_run(words: list[str]) -> list[str]:
    """The leading words that look like parts of a name."""
    run: list[str] = []
    for word in words:
        if not _is_name_word(word):
            break
        run.append(word)
    return run


def _is_name_word(word: str) -> bool:
    """Capitalised letters (Maria, O'Brien, Smith-Jones), not an acronym such as USA."""
    return (
        2 <= len(word) <= 30
        and word[0].isupper()
        and not word.isupper()
        and bool(_NAME_WORD.match(word))
    )


def _possessive(word: str) -> str:
    return word[:-2] if word.endswith(("'s", "’s")) else word


def _name_words(text: str, start: int, most: int) -> list[str]:
    """Up to `most` name words right after a label at `start`, to the line's end or punctuation."""
    words = text[start : start + 200].split("\n", 1)[0].split()
    run: list[str] = []
    for word in words:
        clean = word.rstrip(_PUNCTUATION)
        if not _is_name_word(clean) or clean.lower() in _NOT_NAMES:
            break
        run.append(clean)
        if clean != word:
            break
    # More name words than expected ("Maria Gonzalez Called …") may have swallowed others.
    return run if 1 <= len(run) <= most else []
