"""How the sandbox's calls go: outcomes, their odds, and what was said and collected."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from bot.demo.roster import Person

COMPANY = "Brightline Solar"
AGENT = "Ava"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
INTERESTS = (["panels"], ["panels", "battery"], ["battery"], ["panels", "EV charger"])

Json = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """One way a call can end: its call and conversation statuses, and how long it lasts."""

    name: str
    call_status: int
    conversation_status: int
    weight: int
    # Simulated seconds from dialling to hanging up.
    shortest: float
    longest: float

    @property
    def answered(self) -> bool:
        """Whether someone (or a voicemail box) picked up, so there is a recording."""
        return self.call_status == COMPLETED_CALL


COMPLETED_CALL = 4
NO_ANSWER = Outcome("no answer", 7, 10, 22, 6, 10)
BUSY = Outcome("busy", 5, 10, 7, 6, 8)
FAILED = Outcome("failed", 6, 10, 3, 6, 7)
VOICEMAIL = Outcome("voicemail", COMPLETED_CALL, 70, 14, 8, 14)
SUCCESS = Outcome("success", COMPLETED_CALL, 100, 19, 12, 20)
NOT_SUCCESSFUL = Outcome("not successful", COMPLETED_CALL, 110, 20, 10, 18)
COMPLETED = Outcome("completed", COMPLETED_CALL, 130, 13, 10, 18)
ERROR = Outcome("error", 6, 500, 2, 6, 9)
OUTCOMES = (NO_ANSWER, BUSY, FAILED, VOICEMAIL, SUCCESS, NOT_SUCCESSFUL, COMPLETED, ERROR)
UNANSWERED = frozenset({NO_ANSWER, BUSY, FAILED})


def draw_outcome(rng: random.Random) -> Outcome:
    """An outcome, by the odds of a re-engagement campaign."""
    return rng.choices(OUTCOMES, weights=[o.weight for o in OUTCOMES])[0]


@dataclass(frozen=True)
class Conversation:
    """What a call's end carries beyond its statuses."""

    lines: list[tuple[int, str]]
    summary: str | None
    collected: list[tuple[str, str, Any]]
    tags: list[str]
    sentiment: int | None
    transferred: bool = False


AGENT_ROLE, LEAD_ROLE = 3, 2
LABELS = {
    "preferredDay": "Preferred Day",
    "isHomeowner": "Homeowner",
    "monthlyBill": "Monthly Bill ($)",
    "roofAge": "Roof Age (years)",
    "interestedIn": "Interested In",
    "wantsCallback": "Wants a Callback",
}


def conversation(outcome: Outcome, person: Person, rng: random.Random) -> Conversation:
    """The transcript, summary, answers, tags and sentiment of a call that ended so."""
    if outcome is VOICEMAIL:
        return _voicemail(person)
    if outcome is SUCCESS:
        return _success(person, rng)
    if outcome is NOT_SUCCESSFUL:
        return _refusal(person, rng)
    if outcome is COMPLETED:
        return _info_requested(person, rng)
    if outcome is ERROR:
        return Conversation(
            [], "The call dropped because of a technical issue.", [], ["Error"], None
        )
    return Conversation([], None, [], [], None)


def _greeting(person: Person) -> tuple[int, str]:
    return (
        AGENT_ROLE,
        f"Hi {person.first_name}, this is {AGENT} from {COMPANY}. Is now a good time?",
    )


def _voicemail(person: Person) -> Conversation:
    lines = [
        (AGENT_ROLE, f"Hi {person.first_name}, this is {AGENT} from {COMPANY}."),
        (AGENT_ROLE, "I'm calling about the solar quote you asked for. I'll try you again soon!"),
    ]
    summary = "Reached voicemail; left a short message about the solar quote."
    return Conversation(lines, summary, [], ["Voicemail"], 3)


def _success(person: Person, rng: random.Random) -> Conversation:
    day, roof = rng.choice(WEEKDAYS), rng.randint(3, 22)
    bill = round(rng.uniform(90, 320), 2)
    interest = rng.choice(INTERESTS)
    wants = " and ".join(f"a {i}" if i != "panels" else i for i in interest)
    lines = [
        _greeting(person),
        (LEAD_ROLE, rng.choice(["Sure, go ahead.", "Yes, I have a few minutes.", "Okay, sure."])),
        (AGENT_ROLE, "Great! Do you own your home, and roughly how old is the roof?"),
        (LEAD_ROLE, f"We own it. The roof is about {roof} years old."),
        (AGENT_ROLE, "And what does your electricity bill come to in a typical month?"),
        (LEAD_ROLE, f"Around {bill:.0f} dollars, more in summer."),
        (AGENT_ROLE, f"Would a free site survey on {day} morning work for you?"),
        (LEAD_ROLE, f"{day} works. We're mostly interested in {wants}."),
    ]
    summary = (
        f"{person.first_name} agreed to a site survey on {day} morning; "
        f"homeowner, roof about {roof} years old, bill around ${bill:.0f} a month."
    )
    collected = _answers(
        preferredDay=day, isHomeowner=True, monthlyBill=bill, roofAge=roof, interestedIn=interest
    )
    transferred = rng.random() < 0.15
    tags = ["Survey booked", *(["Transferred"] if transferred else [])]
    return Conversation(lines, summary, collected, tags, rng.choice([4, 4, 5]), transferred)


def _refusal(person: Person, rng: random.Random) -> Conversation:
    if rng.random() < 0.5:
        lines = [
            _greeting(person),
            (LEAD_ROLE, "Not really. I rent, so solar isn't something I can decide on."),
            (AGENT_ROLE, "Understood, thanks for letting me know. Have a good day!"),
        ]
        summary = f"{person.first_name} rents the home and can't decide on solar."
        return Conversation(
            lines, summary, _answers(isHomeowner=False), ["Not homeowner"], rng.choice([2, 3])
        )
    lines = [
        _greeting(person),
        (LEAD_ROLE, "I already went with another installer, thanks."),
        (AGENT_ROLE, "No problem at all. Enjoy the new panels!"),
    ]
    summary = f"{person.first_name} has already chosen another installer and is not interested."
    answers = _answers(isHomeowner=True, wantsCallback=False)
    return Conversation(lines, summary, answers, ["Not interested"], rng.choice([1, 2, 3]))


def _info_requested(person: Person, rng: random.Random) -> Conversation:
    bill = round(rng.uniform(70, 260), 2)
    lines = [
        _greeting(person),
        (LEAD_ROLE, "I'm busy right now. Can you just email me some information?"),
        (AGENT_ROLE, f"Of course. Is {person.email} still the best address?"),
        (LEAD_ROLE, f"Yes. Our bill is around {bill:.0f} dollars, if that helps."),
        (AGENT_ROLE, "It does. I'll send a short estimate today. Thanks!"),
    ]
    summary = f"{person.first_name} asked for information by email instead of a survey."
    return Conversation(lines, summary, _answers(monthlyBill=bill), ["Info requested"], 3)


def _answers(**values: Any) -> list[tuple[str, str, Any]]:
    return [(variable, LABELS[variable], value) for variable, value in values.items()]


def transcript(lines: list[tuple[int, str]], seconds: float) -> list[Json] | None:
    """Transcript turns spread over the call by length, with a short pause between them."""
    if not lines:
        return None
    words = [len(text.split()) + 2 for _, text in lines]
    pause = 0.4
    per_word = max(0.0, seconds - pause * len(lines)) / sum(words)
    turns, at = [], 0.0
    for (role, text), length in zip(lines, words, strict=True):
        end = at + length * per_word
        turns.append(
            {"role": role, "content": text, "startTime": round(at, 1), "endTime": round(end, 1)}
        )
        at = end + pause
    return turns
