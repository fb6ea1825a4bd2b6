"""Parse the text of `/lead` into a command; pure, and tolerant of pasted links and punctuation."""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import takewhile
from typing import Literal

import phonenumbers

from bot.parsing.look_alikes import MARKERS
from bot.parsing.schedule import DEFAULT_AT, parse_time_of_day

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
_OBJECT_ID_IN_TEXT = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{24}(?![0-9a-fA-F])")
# Slack sends links as <url> or <url|label>; mailto/tel links the same way.
_SLACK_LINK = re.compile(r"<((?:https?|tel|mailto):[^|>\s]+)(?:\|[^>]*)?>")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-]+$")
_SURROUNDING = "\"'`“”‘’«»()[]{},;.!?*_~"
# Straight and curly double quotes (Slack clients may curl them); an apostrophe is in names.
_QUOTES = '"“”„'
# A call-data name: letters and digits of any alphabet, `_`, `-` and `.`.
CALL_DATA_KEY = re.compile(r"^[\w.\-]{1,64}$")
ADD_FORM = "add CAMPAIGN_ID +14155550137"
CAMPAIGN_FORM = "campaign CAMPAIGN_ID"
DIGEST_FORM = "digest CAMPAIGN_ID 09:00"
_DIGEST_NEEDS_CAMPAIGN = (
    "`digest` needs the campaign ID first, like `/lead digest CAMPAIGN_ID 09:00`."
)
# The digests table keeps campaign IDs up to 100 characters; NLPearl's are 24.
MAX_CAMPAIGN_ID = 100
_ADD_USAGE = f"`/lead {ADD_FORM}`"

# The look-alikes blocks/text.py uses, for the same reason: mrkdwn markers that format nothing.

LeadKeyKind = Literal["id", "phone", "external"]
PairProblem = Literal["not_a_pair", "no_name", "bad_name", "no_value"]
_PREFIXES: dict[str, LeadKeyKind] = {
    "id": "id",
    "phone": "phone",
    "tel": "phone",
    "ext": "external",
}


@dataclass(frozen=True)
class LeadKey:
    """What identifies a lead within a campaign."""

    kind: LeadKeyKind
    value: str


@dataclass(frozen=True)
class Help:
    """Show usage."""


@dataclass(frozen=True)
class Lookup:
    """Show the card of one lead."""

    campaign_id: str
    key: LeadKey


@dataclass(frozen=True)
class Subscribe:
    """Subscribe the channel to a campaign's feed, optionally to some statuses."""

    campaign_id: str
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unsubscribe:
    """End the channel's subscription to a campaign."""

    campaign_id: str


@dataclass(frozen=True)
class ListSubscriptions:
    """List the subscriptions of the channel and workspace."""


@dataclass(frozen=True)
class AddLead:
    """Add a lead to a campaign: its number (E.164), external ID and call data."""

    campaign_id: str
    phone: str
    external_id: str | None = None
    call_data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Invalid:
    """The text is not a command; `problem` says why in a sentence."""

    problem: str
    # The form to suggest instead, after the command's name.
    usage: str = "CAMPAIGN_ID LEAD_ID"


@dataclass(frozen=True)
class ShowCampaign:
    """Show a campaign's card: its state, today's calls, totals and budget."""

    campaign_id: str


@dataclass(frozen=True)
class Digest:
    """A daily digest of a campaign in the channel at `at_time`, "HH:MM" in the person's zone."""

    campaign_id: str
    at_time: str = DEFAULT_AT


@dataclass(frozen=True)
class StopDigest:
    """Stop the channel's daily digest of a campaign."""

    campaign_id: str


Command = (
    Help
    | Lookup
    | Subscribe
    | Unsubscribe
    | ListSubscriptions
    | AddLead
    | ShowCampaign
    | Digest
    | StopDigest
    | Invalid
)


def parse_command(text: str) -> Command:
    """Read the text typed after `/lead`."""
    words = _words(text)
    if not words or words[0].lower() in {"help", "-h", "--help", "?"}:
        return Help()
    verb = words[0].lower()
    if verb == "subscriptions":
        return ListSubscriptions()
    if verb in {"subscribe", "unsubscribe"}:
        return _parse_subscription(verb, words[1:])
    if verb == "campaign":
        # A campaign whose ID is literally "campaign" can no longer be looked up this way.
        if len(words) != 2:
            problem = "`campaign` takes one campaign ID, like `/lead campaign CAMPAIGN_ID`."
            return Invalid(problem, CAMPAIGN_FORM)
        return ShowCampaign(_campaign_id(words[1]))
    if verb == "digest":
        # A campaign whose ID is literally "digest" can no longer be looked up this way.
        return _parse_digest(words[1:])
    if verb == "add":
        # A campaign whose ID is literally "add" can no longer be looked up this way.
        added = parse_add(text)
        return Invalid(added.problem, ADD_FORM) if isinstance(added, Invalid) else added
    return _parse_lookup(words)


def _parse_subscription(verb: str, args: list[str]) -> Command:
    if not args:
        return Invalid(f"`{verb}` needs the campaign ID, like `/lead {verb} CAMPAIGN_ID`.")
    campaign = _campaign_id(args[0])
    if verb == "unsubscribe":
        return Unsubscribe(campaign)
    return Subscribe(campaign, tuple(_strip(s) for s in args[1:] if _strip(s)))


def _parse_digest(args: list[str]) -> Digest | StopDigest | Invalid:
    """`digest CAMPAIGN [HH:MM | off]`; "at" before the time is tolerated, as in "at 9am"."""
    if not args or args[0].lower() == "off" or _is_clock_time(args[0], alone=len(args) == 1):
        return Invalid(_DIGEST_NEEDS_CAMPAIGN, DIGEST_FORM)
    campaign = _campaign_id(args[0])
    if len(campaign) > MAX_CAMPAIGN_ID:
        problem = f"“{_quoted(campaign)}” is too long for a campaign ID."
        return Invalid(problem, DIGEST_FORM)
    rest = args[1:]
    if len(rest) > 1 and rest[0].lower() == "at":
        rest = rest[1:]
    if not rest:
        return Digest(campaign)
    when = " ".join(rest)
    if when.lower() == "off":
        return StopDigest(campaign)
    at_time = parse_time_of_day(when)
    if at_time is None:
        problem = f"“{_quoted(when)}” isn't a time of day. Use HH:MM, like 09:00 or 17:30."
        return Invalid(problem, DIGEST_FORM)
    return Digest(campaign, at_time)


def _is_clock_time(word: str, *, alone: bool) -> bool:
    """A lone "09:00" where the campaign should be: the campaign was left out."""
    # Bare digits stay a campaign ID: "1730" could be one, "17:30" or "5pm" could not.
    return alone and not word.isdigit() and parse_time_of_day(word) is not None


def _parse_lookup(words: list[str]) -> Command:
    ids_in_links = [i for w in words if "://" in w for i in _OBJECT_ID_IN_TEXT.findall(w)]
    if len(words) == 1 and len(ids_in_links) >= 2:
        # A pasted platform link that names both the campaign and the lead.
        return Lookup(ids_in_links[0].lower(), LeadKey("id", ids_in_links[1].lower()))
    if len(words) == 1:
        return Invalid(
            "That looks like only one ID. Give the campaign and then the lead, "
            "like `/lead CAMPAIGN_ID LEAD_ID`."
        )
    campaign = _campaign_id(words[0])
    if not campaign:
        return Invalid("The first word should be the campaign ID.")
    key = parse_lead_key(" ".join(words[1:]))
    if key is None:
        return Invalid("The second part should be a lead ID, a phone number or an external ID.")
    return Lookup(campaign, key)


def parse_add(text: str) -> AddLead | Invalid:
    """Read `add CAMPAIGN PHONE [ext:ID] [key=value …]`; values may be "quoted with spaces"."""
    tokens = tokenize(_unlink(text))
    if isinstance(tokens, Invalid):
        return tokens
    args = tokens[1:] if tokens and _strip(tokens[0]).lower() == "add" else tokens
    campaign = _campaign_id(args[0]) if args else ""
    phone_words = list(takewhile(lambda word: not _is_option(word), args[1:]))
    if not campaign or not phone_words:
        return Invalid(f"`add` needs a campaign and a phone number, like {_ADD_USAGE}.")
    if any(ch.isspace() for ch in campaign):
        return Invalid(f"`{_shown(campaign)}` isn't a campaign ID: campaign IDs have no spaces.")
    phone_text = " ".join(phone_words)
    phone = read_phone(phone_text)
    if phone is None:
        return Invalid(
            f"`{_shown(phone_text)}` isn't a phone number Lead Bot can call; "
            "write it with its country code, like +14155550137."
        )
    options = _read_options(args[1 + len(phone_words) :])
    if isinstance(options, Invalid):
        return options
    external_id, pairs = options
    return AddLead(campaign, phone, external_id, pairs)


def tokenize(text: str) -> list[str] | Invalid:
    """Split on spaces, except inside double quotes, which are dropped; never raises."""
    tokens: list[str] = []
    current: list[str] = []
    quoted = started = False
    for ch in text:
        if ch in _QUOTES:
            quoted, started = not quoted, True
        elif ch.isspace() and not quoted:
            if started:
                tokens.append("".join(current))
            current, started = [], False
        else:
            current.append(ch)
            started = True
    if quoted:
        return Invalid('A quote isn\'t closed: end the value with ", like name="Maria Gonzalez".')
    if started:
        tokens.append("".join(current))
    return tokens


def read_phone(text: str) -> str | None:
    """A phone number as typed (any separators, `tel:` or `phone:` first) in E.164, or None."""
    raw = _strip(text.strip())
    prefix, sep, rest = raw.partition(":")
    if sep and prefix.strip().lower() in {"tel", "phone"}:
        raw = _strip(rest.strip())
    return normalize_phone(raw) if looks_like_phone(raw) else None


def split_pair(text: str) -> tuple[str, str] | PairProblem:
    """A `key=value` pair of call data, both stripped, or what is wrong with it."""
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep:
        return "not_a_pair"
    if not key:
        return "no_name"
    if not CALL_DATA_KEY.match(key):
        return "bad_name"
    return (key, value) if value else "no_value"


def _read_options(words: list[str]) -> tuple[str | None, tuple[tuple[str, str], ...]] | Invalid:
    """The external ID and call-data pairs after the phone number."""
    external_id: str | None = None
    pairs: dict[str, str] = {}
    rest = iter(words)
    for word in rest:
        if word.lower().startswith("ext:"):
            value = word[4:].strip() or _next_value(rest)
            if not value or external_id is not None:
                return Invalid("Give one external ID after `ext:`, like `ext:crm-004512`.")
            external_id = value
            continue
        pair = split_pair(word)
        if isinstance(pair, str):
            return Invalid(_pair_problem(word, pair))
        if pair[0] in pairs:
            return Invalid(f"`{_shown(pair[0])}` is given twice; give each name once.")
        pairs[pair[0]] = pair[1]
    return external_id, tuple(pairs.items())


def _next_value(words: Iterator[str]) -> str:
    """The word after a bare `ext:`, unless it is a pair (then the ID is missing)."""
    word = next(words, "").strip()
    return "" if "=" in word else word


def _pair_problem(word: str, problem: PairProblem) -> str:
    key = _shown(word.partition("=")[0].strip())
    return {
        "not_a_pair": f"`{_shown(word)}` isn't a `key=value` pair; write it like `plan=Pro`.",
        "no_name": f"`{_shown(word)}` needs a name before the `=`, like `plan=Pro`.",
        "bad_name": f"`{key}` can't be a call-data name; use letters, digits, _, - or ., "
        "like `firstName`.",
        "no_value": f"`{key}` has no value; write it like `{key}=Pro`.",
    }[problem]


def _is_option(word: str) -> bool:
    return word.lower().startswith("ext:") or "=" in word


def _shown(text: str, limit: int = 40) -> str:
    """Outside text quoted in a problem (mrkdwn): one short line that can't mention or break out."""
    flat = " ".join(text.split()).replace("`", "'")
    cut = flat if len(flat) <= limit else flat[: limit - 1] + "…"
    return cut.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quoted(text: str) -> str:
    """Outside text between quotes (not a code span), so its `*`, `_` and `~` can't format."""
    return _shown(text, 16).translate(MARKERS)


def _unlink(text: str) -> str:
    """Slack's links as their address (tel: and mailto: dropped), entities unescaped."""
    return html.unescape(_SLACK_LINK.sub(_address, text or ""))


def _address(match: re.Match[str]) -> str:
    scheme, _, rest = match.group(1).partition(":")
    return rest if scheme in {"tel", "mailto"} else match.group(1)


def parse_lead_key(text: str) -> LeadKey | None:
    """Classify a lead key: a 24-hex ID, a phone number, else an external ID; prefixes force it."""
    raw = _strip(text.strip())
    prefix, sep, rest = raw.partition(":")
    forced = _PREFIXES.get(prefix.strip().lower()) if sep else None
    if forced:
        value = _strip(rest.strip())
        if forced == "phone":
            phone = normalize_phone(value)
            return LeadKey("phone", phone) if phone else None
        if forced == "id":
            value = _id_in_link(value) or value.lower()
        return LeadKey(forced, value) if value else None
    if not raw:
        return None
    if link_id := _id_in_link(raw):
        return LeadKey("id", link_id)
    if OBJECT_ID.match(raw):
        return LeadKey("id", raw.lower())
    if looks_like_phone(raw) and (phone := normalize_phone(raw)):
        return LeadKey("phone", phone)
    return LeadKey("external", raw)


def looks_like_phone(text: str) -> bool:
    """True for `+…` numbers of 7 to 15 digits, and 10 to 15 digits written any other way."""
    if not _PHONE_CHARS.match(text):
        return False
    digits = sum(ch.isdigit() for ch in text)
    # Without a country code, a number is only usable with its area code: 10 digits or more.
    return 7 <= digits <= 15 if text.startswith("+") else 10 <= digits <= 15


def normalize_phone(text: str) -> str | None:
    """The number in E.164 form; 10 bare digits are read as a North American number."""
    # A lead's webhooks carry its number again and again; only short texts are remembered, so
    # hostile ones cannot fill the memory.
    return _normalize_remembered(text) if len(text) <= 40 else _normalize(text)


@functools.lru_cache(maxsize=4096)
def _normalize_remembered(text: str) -> str | None:
    return _normalize(text)


def _normalize(text: str) -> str | None:
    # Any script's decimal digits, as ASCII; superscripts and the like are not digits here.
    digits = "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())
    international = text.strip().startswith("+")
    if not international and digits.startswith("00"):
        # 00 is the international dialling prefix in most of the world.
        digits, international = digits[2:], True
    if not 7 <= len(digits) <= 15:
        return None
    if not international and len(digits) == 10:
        return f"+1{digits}"
    if digits.startswith("0"):
        # No country code starts with 0: this is a national number without its country.
        return None
    try:
        number = phonenumbers.parse(f"+{digits}", None)
    except phonenumbers.NumberParseException:
        return f"+{digits}"
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # phonenumbers drops a national trunk 0 after the country code (+44 020 -> +4420), but
    # can also shorten a number below E.164's seven digits (+98 then zeros): keep it as typed.
    return formatted if len(formatted) > 7 else f"+{digits}"


def _campaign_id(word: str) -> str:
    if "://" in word and (ids := _OBJECT_ID_IN_TEXT.findall(word)):
        return str(ids[0]).lower()
    return _strip(word)


def _id_in_link(text: str) -> str | None:
    """The last 24-hex ID in a pasted link: a lead link names the lead after the campaign."""
    ids = _OBJECT_ID_IN_TEXT.findall(text) if "://" in text else []
    return str(ids[-1]).lower() if ids else None


def _words(text: str) -> list[str]:
    unescaped = html.unescape(_SLACK_LINK.sub(_link_target, text or ""))
    return [w for w in (_strip(w) for w in unescaped.split()) if w]


def _link_target(match: re.Match[str]) -> str:
    target = match.group(1)
    return target[4:] if target.startswith("tel:") else target


def _strip(word: str) -> str:
    word = word.strip(_SURROUNDING)
    # Keep a leading + (phone numbers) but drop stray angle brackets from half-pasted links.
    return word.strip("<>").strip()
