"""Find what identifies a lead in a Slack message: IDs, NLPearl links, phone numbers; pure."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.parsing.grammar import LeadKey, looks_like_phone, normalize_phone

_OBJECT_ID = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{24}(?![0-9A-Za-z])")
_URL = re.compile(r"https?://[^\s<>|]+")
# +1 (415) 555-0137, 415.555.0137, +442071838750: a run of digits and separators.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d\s().\-]{5,20}\d(?!\w)")
# Our own cards and feed say "Campaign `ID` · Lead `ID`".
_LABELLED = re.compile(
    r"(campaign|pearl|outbound|lead)\W{0,3}([0-9a-fA-F]{24})(?![0-9A-Za-z])", re.IGNORECASE
)
# Slack's own markup (<!date^…>, <@U…>, <#C…>), dates and clock times are never phone numbers.
_NOT_PHONES = re.compile(
    r"""<[!@#][^>]*>
    | \b\d{4}-\d{2}-\d{2}(?:[T\ ]\d{2}:\d{2}(?::\d{2})?)?\b
    | \b\d{1,2}:\d{2}(?::\d{2})?\b""",
    re.VERBOSE,
)
_CAMPAIGN_WORDS = {"campaign", "pearl", "outbound"}
MAX_TEXT = 40_000
_NOT_CONTENT = {"action_id", "block_id", "type", "ts", "user", "bot_id", "team", "value", "url"}


@dataclass(frozen=True)
class Found:
    """What a message names: campaign IDs, lead keys, and the complete leads among them."""

    campaigns: tuple[str, ...]
    keys: tuple[LeadKey, ...]

    @property
    def leads(self) -> tuple[tuple[str, LeadKey], ...]:
        """(campaign, key) pairs, when the message names exactly one campaign."""
        if len(self.campaigns) != 1:
            return ()
        return tuple((self.campaigns[0], key) for key in self.keys)


def message_text(message: dict[str, Any]) -> str:
    """All the text of a message: its text, blocks and attachments, as one string."""
    parts = list(_strings(message))
    return "\n".join(parts)[:MAX_TEXT]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            # Button values, button links and ids are ours; text, fields and fallbacks are content.
            if key not in _NOT_CONTENT:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def find_leads(text: str) -> Found:
    """The campaigns and lead keys a text mentions, in the order they appear."""
    text = html.unescape(text)
    campaigns: list[str] = []
    keys: list[LeadKey] = []
    unlabelled: list[str] = []
    for url in _URL.findall(text):
        ids = [i.lower() for i in _OBJECT_ID.findall(url)]
        if len(ids) >= 2:
            _add(campaigns, ids[0])
            _add(keys, LeadKey("id", ids[-1]))
        elif ids and (kind := _kind_in_path(url, ids[0])):
            _add(campaigns, ids[0]) if kind == "campaign" else _add(keys, LeadKey("id", ids[0]))
        elif ids:
            unlabelled.append(ids[0])
    without_urls = _URL.sub(" ", text)
    for word, object_id in _LABELLED.findall(without_urls):
        target = campaigns if word.lower() in _CAMPAIGN_WORDS else None
        if target is not None:
            _add(target, object_id.lower())
        else:
            _add(keys, LeadKey("id", object_id.lower()))
    labelled = {i.lower() for _, i in _LABELLED.findall(without_urls)}
    for object_id in _OBJECT_ID.findall(without_urls):
        if object_id.lower() not in labelled:
            unlabelled.append(object_id.lower())
    _place_unlabelled(unlabelled, campaigns, keys)
    plain_text = _NOT_PHONES.sub(" ", _OBJECT_ID.sub(" ", without_urls))
    for candidate in _PHONE.findall(plain_text):
        if _written_as_phone(candidate) and (phone := normalize_phone(candidate)):
            _add(keys, LeadKey("phone", phone))
    return Found(tuple(campaigns), tuple(keys))


def _written_as_phone(candidate: str) -> bool:
    """In running text, bare digit runs are usually IDs or timestamps: want a + or separators."""
    text = candidate.strip()
    formatted = text.startswith(("+", "00")) or any(ch in text for ch in " ()-.")
    return formatted and looks_like_phone(text)


def _kind_in_path(url: str, object_id: str) -> str | None:
    """Whether a link's path calls its one ID a campaign or a lead."""
    before = url.lower().split(object_id, 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if any(word in before for word in ("outbound", "pearl", "campaign")):
        return "campaign"
    return "lead" if "lead" in before else None


def _place_unlabelled(ids: list[str], campaigns: list[str], keys: list[LeadKey]) -> None:
    """IDs with no label: as in `/lead CAMPAIGN LEAD`, the first of two is the campaign.

    A lone ID is taken for a lead: people paste lead IDs far more often.
    """
    fresh = list(dict.fromkeys(i for i in ids if i not in campaigns))
    fresh = [i for i in fresh if LeadKey("id", i) not in keys]
    if not campaigns and len(fresh) >= 2:
        campaigns.append(fresh.pop(0))
    keys.extend(LeadKey("id", i) for i in fresh)


def _add(items: list[Any], item: Any) -> None:
    if item not in items:
        items.append(item)
