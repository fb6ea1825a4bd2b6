"""What a person may do to a lead from Slack, and which of it makes sense for its status; pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verb(StrEnum):
    """An action on a lead."""

    STOP = "stop"
    RETRY = "retry"
    WON = "won"
    LOST = "lost"
    EDIT = "edit"


@dataclass(frozen=True)
class Effect:
    """A status change as people read it: the button, the status it sets, what it did."""

    verb: Verb
    # The lead status Update Lead is sent (reference §3.1.7 accepts 1, 10, 100, 110, 130).
    status: int | None
    label: str
    emoji: str
    done: str


EFFECTS: dict[Verb, Effect] = {
    Verb.STOP: Effect(Verb.STOP, 130, "Stop calling", "✋", "Stopped calling"),
    Verb.RETRY: Effect(Verb.RETRY, 10, "Call again", "🔁", "Set to call again"),
    Verb.WON: Effect(Verb.WON, 100, "Mark won", "🏆", "Marked won"),
    Verb.LOST: Effect(Verb.LOST, 110, "Mark lost", "🚫", "Marked lost"),
    Verb.EDIT: Effect(Verb.EDIT, None, "Edit lead", "✏️", "Edited the lead"),
}

# Statuses after which the campaign still calls the lead (new, retrying, queued, on a call,
# voicemail left): stopping makes sense, calling again does not.
STILL_CALLING = frozenset({1, 10, 20, 40, 70})
# Statuses after which the campaign will not call again (wrong country code, success, not
# successful, completed, unreachable, blacklisted).
DONE_CALLING = frozenset({30, 100, 110, 130, 150, 220})
# Calling again cannot help a number NLPearl will not dial (wrong country code, blacklisted).
UNDIALLABLE = frozenset({30, 220})
# Where one action helps most, it is the card's primary button; the rest go in its menu.
_PRIMARY_WHEN_CALLING = Verb.STOP
_PRIMARY_WHEN_ENDED_UNWON = frozenset({110, 130, 150, 500})


def offered(status: int | None) -> tuple[Verb, ...]:
    """The actions that make sense for a lead in this status, in the order a menu shows them."""
    # An unknown or missing status is not a reason to hide what NLPearl would accept.
    verbs = []
    if status not in DONE_CALLING:
        verbs.append(Verb.STOP)
    if status not in STILL_CALLING and status not in UNDIALLABLE:
        verbs.append(Verb.RETRY)
    if status != 100:
        verbs.append(Verb.WON)
    if status != 110:
        verbs.append(Verb.LOST)
    verbs.append(Verb.EDIT)
    return tuple(verbs)


def primary(status: int | None) -> Verb | None:
    """The one action worth a button of its own for this status, if any."""
    if status in STILL_CALLING:
        return _PRIMARY_WHEN_CALLING
    if status in _PRIMARY_WHEN_ENDED_UNWON:
        return Verb.RETRY
    return None


def changes_status(verb: Verb) -> bool:
    """Whether the action sets the lead's status (and so asks for confirmation first)."""
    return EFFECTS[verb].status is not None
