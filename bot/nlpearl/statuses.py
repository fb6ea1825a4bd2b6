"""Labels and emoji for NLPearl's numeric status codes; unknown codes never fail."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Status:
    """A status code as people read it."""

    code: int | None
    label: str
    emoji: str

    @property
    def text(self) -> str:
        """Emoji and label together, e.g. `✅ Success`."""
        return f"{self.emoji} {self.label}"


# Lead status (reference §4.1); the lead's status mirrors its latest conversation.
LEAD_STATUSES: dict[int, tuple[str, str]] = {
    1: ("New", "🆕"),
    10: ("Needs retry", "🔁"),
    20: ("In call queue", "⏳"),
    30: ("Wrong country code", "🌐"),
    40: ("On a call", "📞"),
    70: ("Voicemail left", "📼"),
    100: ("Success", "✅"),
    110: ("Not successful", "❌"),
    130: ("Completed", "☑️"),
    150: ("Unreachable", "📵"),
    220: ("Blacklisted", "⛔"),
    300: ("Left the queue", "🚪"),
    500: ("Error", "⚠️"),
}

# Conversation status of a call (§4.2): the business outcome. 200 is Error on old V1 pages.
CONVERSATION_STATUSES: dict[int, tuple[str, str]] = {
    10: ("Needs retry", "🔁"),
    20: ("In call queue", "⏳"),
    40: ("On a call", "📞"),
    70: ("Voicemail left", "📼"),
    100: ("Success", "✅"),
    110: ("Not successful", "❌"),
    130: ("Completed", "☑️"),
    150: ("Unreachable", "📵"),
    200: ("Error", "⚠️"),
    220: ("Blacklisted", "⛔"),
    300: ("Left the queue", "🚪"),
    500: ("Error", "⚠️"),
}

# Call status (§4.3): what happened on the phone line.
CALL_STATUSES: dict[int, tuple[str, str]] = {
    3: ("In progress", "📞"),
    4: ("Answered", "🟢"),
    5: ("Busy", "🔴"),
    6: ("Failed", "⚠️"),
    7: ("No answer", "🔕"),
    8: ("Canceled", "⛔"),
}

IN_PROGRESS_CALL = 3
UNANSWERED_CALLS = frozenset({5, 6, 7, 8})

# Activity status of a campaign (§4.4), also the answer to Set Active.
ACTIVITY_STATUSES: dict[int, tuple[str, str]] = {
    1: ("Running", "🟢"),
    2: ("Paused", "⏸️"),
    3: ("Suspended", "⛔"),
    10: ("Maintenance", "🛠️"),
}

# Account status (§4.5): whether the account may place calls.
ACCOUNT_STATUSES: dict[int, tuple[str, str]] = {
    1: ("Full access", "✅"),
    2: ("Limited access", "⚠️"),
    3: ("No credits", "🪫"),
    4: ("Suspended", "⛔"),
    5: ("Debt limit reached", "🚫"),
}

CAMPAIGN_RUNNING, CAMPAIGN_PAUSED = 1, 2
# Account statuses (§4.5): out of credit, and locked out (suspended, or past its debt limit).
ACCOUNT_NO_CREDITS = 3
ACCOUNT_LOCKED = frozenset({4, 5})
# Leads NLPearl can't get through to: Error, WrongCountryCode, Unreachable.
NEEDING_ATTENTION = (500, 30, 150)

# Account statuses that still let campaigns place calls; limited access is reduced, not stopped.
ACCOUNT_CAN_CALL = frozenset({1, 2})


def _lookup(table: dict[int, tuple[str, str]], code: int | None) -> Status:
    if code is None:
        return Status(None, "Unknown", "❔")
    label, emoji = table.get(code, (f"Unknown ({code})", "❔"))
    return Status(code, label, emoji)


def lead_status(code: int | None) -> Status:
    """The lead status for a code, or `Unknown (code)`."""
    return _lookup(LEAD_STATUSES, code)


def conversation_status(code: int | None) -> Status:
    """The conversation outcome for a code, or `Unknown (code)`."""
    return _lookup(CONVERSATION_STATUSES, code)


def call_status(code: int | None) -> Status:
    """The telephony result for a code, or `Unknown (code)`."""
    return _lookup(CALL_STATUSES, code)


def activity_status(code: int | None) -> Status:
    """The campaign's activity state for a code, or `Unknown (code)`."""
    return _lookup(ACTIVITY_STATUSES, code)


def account_status(code: int | None) -> Status:
    """The account's access level for a code, or `Unknown (code)`."""
    return _lookup(ACCOUNT_STATUSES, code)


def lead_status_by_name(name: str) -> int | None:
    """The lead status code for a name such as `success` or `NotSuccessful`, or a known code."""
    text = name.strip()
    if text.isascii() and text.isdigit():
        # Only codes a lead can have: a filter on any other would never match anything.
        code = int(text)
        return code if code in LEAD_STATUSES else None
    wanted = _squash(text)
    if wanted in _STATUS_ALIASES:
        return _STATUS_ALIASES[wanted]
    for code, (label, _) in LEAD_STATUSES.items():
        if _squash(label) == wanted:
            return code
    return None


# NLPearl's own enum names, where they differ from our labels.
_STATUS_ALIASES = {
    "needretry": 10,
    "oncall": 40,
    "notsuccessfull": 110,
    "complete": 130,
    "voicemail": 70,
    "retry": 10,
    "queueabandon": 300,
}


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())
