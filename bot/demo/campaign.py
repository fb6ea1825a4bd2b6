"""The sandbox's outbound campaign, simulated: three agents dialling leads in simulated time.

Pure: it draws only from its own seeded generator and moves only when `advance` is called, so
a seed and a sequence of times always give the same events.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.demo import call_scripts as scripts
from bot.demo.call_scripts import Outcome
from bot.demo.campaign_analytics import analytics
from bot.demo.nlpearl_api import last_call
from bot.demo.roster import Person, Roster

Json = dict[str, Any]

# Lead statuses (reference §4.1) the simulation moves leads through.
NEW, NEED_RETRY, IN_CALL_QUEUE, WRONG_COUNTRY_CODE, ON_CALL = 1, 10, 20, 30, 40
VOICEMAIL_LEFT, SUCCESS, NOT_SUCCESSFUL, COMPLETED, UNREACHABLE, ERROR = 70, 100, 110, 130, 150, 500
IN_PROGRESS_CALL = 3
STATUS_LABELS = {
    NEW: "New",
    IN_CALL_QUEUE: "Queued",
    ON_CALL: "On a call",
    NEED_RETRY: "Retry later",
    VOICEMAIL_LEFT: "Voicemail left",
    SUCCESS: "Success",
    NOT_SUCCESSFUL: "Not successful",
    COMPLETED: "Completed",
    UNREACHABLE: "Unreachable",
    WRONG_COUNTRY_CODE: "Wrong country code",
    ERROR: "Error",
}
# Every move a lead may make; a voicemail is retried once, then stays.
ALLOWED_MOVES = {
    NEW: frozenset({IN_CALL_QUEUE, WRONG_COUNTRY_CODE}),
    NEED_RETRY: frozenset({IN_CALL_QUEUE}),
    VOICEMAIL_LEFT: frozenset({IN_CALL_QUEUE}),
    IN_CALL_QUEUE: frozenset({ON_CALL}),
    ON_CALL: frozenset(
        {NEED_RETRY, VOICEMAIL_LEFT, SUCCESS, NOT_SUCCESSFUL, COMPLETED, UNREACHABLE, ERROR}
    ),
}
FINAL_STATUSES = frozenset(
    {WRONG_COUNTRY_CODE, SUCCESS, NOT_SUCCESSFUL, COMPLETED, UNREACHABLE, ERROR}
)

CAMPAIGN_NAME = f"{scripts.COMPANY} – Spring Re-engagement"
CAMPAIGN_NUMBER = "+12125550100"
AGENTS = 3
MAX_UNANSWERED = 3
MAX_VOICEMAILS = 2
DEFAULT_LEADS = 36
DEFAULT_MAX_LEADS = 400
DEFAULT_START = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
DEFAULT_RECORDINGS_URL = "https://recordings.example-cdn.net"
BUDGET_TOTAL = 1500
PRICE_PER_MINUTE = 0.12
# Simulated seconds, as (shortest, longest).
FIRST_PICK = (0.2, 1.2)
DIAL_AFTER_QUEUEING = (0.6, 1.6)
NEXT_LEAD_AFTER_CALL = (0.5, 1.5)
IDLE_LOOK_AGAIN = (1.0, 2.0)
RETRY_AFTER = (20.0, 60.0)
# No more than this passes without an event while something can happen: then the dialler
# queues a lead ahead, or the longest call ends (if it has lasted the shortest call).
QUIET_AT_MOST = (1.0, 3.0)
QUEUE_AHEAD = 3
SHORTEST_CALL = 6.0
# Before the start: leads called yesterday, a few minutes apart, for a minute or two each.
EARLIER_OUTCOMES = (scripts.SUCCESS, scripts.NOT_SUCCESSFUL, scripts.VOICEMAIL, scripts.SUCCESS)
EARLIER_HOURS = 20
EARLIER_SPACING = 420.0
EARLIER_CALL_SECONDS = (60.0, 150.0)


class EventKind(StrEnum):
    """What an event is, and so which webhook it sends."""

    LEAD = "lead"
    CALL_STARTED = "call started"
    CALL_ENDED = "call ended"


@dataclass(frozen=True)
class Event:
    """One thing that happened, with the Lead or Call Webhook body NLPearl would send for it."""

    at: datetime
    kind: EventKind
    lead_id: str
    webhook: Json

    @property
    def call_id(self) -> str | None:
        """The call's ID, for a call event."""
        return None if self.kind is EventKind.LEAD else str(self.webhook["id"])


@dataclass
class _Lead:
    id: str
    person: Person
    created: str
    wrong_country: bool
    status: int = NEW
    calls_id: list[str] = field(default_factory=list)
    last_call: Json | None = None
    collected: Json | None = None
    unanswered: int = 0
    voicemails: int = 0
    retry_at: float = 0.0
    # A lead added through the API keeps the callData it was given.
    call_data: Json | None = None
    # A status the app set while the lead was on a call, applied when the call ends.
    set_by_app: int | None = None

    def body(self) -> Json:
        """The lead as Get Lead answers (`LeadApiView`), as a new dict."""
        return {
            "id": self.id,
            "externalId": self.person.external_id,
            "phoneNumber": self.person.phone,
            "timeZone": self.person.time_zone,
            "status": self.status,
            "created": self.created,
            "callsId": list(self.calls_id),
            "lastCall": self.last_call,
            "callData": self.person.call_data() if self.call_data is None else self.call_data,
            "collectedData": None if self.collected is None else dict(self.collected),
        }


@dataclass
class _Call:
    id: str
    lead: _Lead
    agent: int
    started: float
    outcome: Outcome


class Campaign:
    """A solar re-engagement campaign: leads, calls and their webhooks, in simulated time."""

    def __init__(
        self,
        *,
        seed: int = 7,
        leads: int = DEFAULT_LEADS,
        start: datetime = DEFAULT_START,
        max_leads: int = DEFAULT_MAX_LEADS,
        recordings_url: str = DEFAULT_RECORDINGS_URL,
    ) -> None:
        self._rng = random.Random(seed)
        self._roster = Roster(self._rng)
        self._batch = max(1, leads)
        self._max_leads = max(self._batch, max_leads)
        self.start = start
        # Where recordings are linked to: `{recordings_url}/{call_id}.wav`.
        self.recordings_url = recordings_url
        self._ids: set[str] = set()
        self.id = self._new_id()
        self.name = CAMPAIGN_NAME
        self.phone_number = CAMPAIGN_NUMBER
        self._clock = 0.0
        self._leads: dict[str, _Lead] = {}
        self._calls: dict[str, Json] = {}
        self._queue: deque[_Lead] = deque()
        self._on_calls: dict[int, _Call] = {}
        self._plan: list[tuple[float, int, str, int, str]] = []
        self._sequence = 0
        self._events: list[Event] = []
        self._retired: list[tuple[str, list[str]]] = []
        self._import_batch()
        for agent in range(AGENTS):
            self._schedule(self._rng.uniform(*FIRST_PICK), "pick", agent)
        self._quiet_until = self._rng.uniform(*QUIET_AT_MOST)

    # Moving on

    @property
    def now(self) -> datetime:
        """The simulated time reached."""
        return self._at(self._clock)

    def advance(self, now: datetime) -> list[Event]:
        """Moves the campaign to `now` (an earlier time is ignored); what happened, in order."""
        target = (now - self.start).total_seconds()
        while True:
            planned = self._plan[0][0] if self._plan else float("inf")
            moment = min(planned, self._quiet_until)
            if moment > target:
                break
            self._clock = max(self._clock, moment)
            if planned <= self._quiet_until:
                _, _, action, agent, call_id = heapq.heappop(self._plan)
                self._act(action, agent, call_id)
            else:
                self._liven_up()
        self._clock = max(self._clock, target)
        return self.take_events()

    def take_events(self) -> list[Event]:
        """What happened since the last call, in order (advance returns it too)."""
        events, self._events = self._events, []
        return events

    def _act(self, action: str, agent: int, call_id: str) -> None:
        if action == "pick":
            self._pick(agent)
        else:
            call = self._on_calls.get(agent)
            # A call the dialler ended early has left its planned end behind.
            if call is not None and call.id == call_id:
                self._hang_up(call)

    def _pick(self, agent: int) -> None:
        """A free agent dials the next queued lead, or queues one, or looks again later."""
        if agent in self._on_calls:
            return
        if self._queue:
            self._dial(agent, self._queue.popleft())
            return
        lead = self._next_lead()
        if lead is None:
            self._schedule(self._clock + self._rng.uniform(*IDLE_LOOK_AGAIN), "pick", agent)
            return
        self._enqueue(lead)
        self._schedule(self._clock + self._rng.uniform(*DIAL_AFTER_QUEUEING), "pick", agent)

    def _liven_up(self) -> None:
        """Nothing happened for a while: queue a lead ahead, or end the longest call."""
        lead = self._next_lead() if len(self._queue) < QUEUE_AHEAD else None
        if lead is not None:
            self._enqueue(lead)
            return
        longest = min(self._on_calls.values(), key=lambda c: c.started, default=None)
        if longest is not None and self._clock - longest.started >= SHORTEST_CALL:
            self._hang_up(longest)
            return
        self._quiet_until = self._clock + self._rng.uniform(*QUIET_AT_MOST)

    def _next_lead(self) -> _Lead | None:
        """A lead whose retry is due, else the next new one; a new batch when none is left."""
        due = [
            lead
            for lead in self._leads.values()
            if lead.status in (NEED_RETRY, VOICEMAIL_LEFT)
            and not self._is_final(lead)
            and lead.retry_at <= self._clock
        ]
        if due:
            return min(due, key=lambda lead: lead.retry_at)
        fresh = next((lead for lead in self._leads.values() if lead.status == NEW), None)
        if fresh is None and self._import_batch():
            fresh = next(lead for lead in self._leads.values() if lead.status == NEW)
        return fresh

    def _enqueue(self, lead: _Lead) -> None:
        """Queues a lead for the next free agent; a number with a wrong country code never is."""
        if lead.wrong_country:
            self._move(lead, WRONG_COUNTRY_CODE)
            return
        self._move(lead, IN_CALL_QUEUE)
        self._queue.append(lead)

    def _dial(self, agent: int, lead: _Lead) -> None:
        """An agent calls a queued lead: the Call Webhook's start, then the lead is on a call."""
        rng = self._rng
        outcome = scripts.draw_outcome(rng)
        call = _Call(self._new_id(), lead, agent, self._clock, outcome)
        self._on_calls[agent] = call
        body = self._started_call(call)
        self._calls[call.id] = body
        lead.calls_id.append(call.id)
        lead.last_call = last_call(body)
        self._emit(EventKind.CALL_STARTED, lead, body)
        self._move(lead, ON_CALL)
        ends = self._clock + rng.uniform(outcome.shortest, outcome.longest)
        self._schedule(ends, "hang up", agent, call.id)

    def _hang_up(self, call: _Call) -> None:
        """A call ends: the Call Webhook's end, then the lead's outcome; the agent moves on."""
        del self._on_calls[call.agent]
        lead = call.lead
        status = self._outcome_status(lead, call.outcome)
        if lead.set_by_app is not None:
            status, lead.set_by_app = lead.set_by_app, None
        conversation = scripts.conversation(call.outcome, lead.person, self._rng)
        body = self._ended_call(call, conversation, status)
        self._calls[call.id] = body
        lead.last_call = last_call(body)
        answers = {variable: value for variable, _, value in conversation.collected}
        if answers:
            lead.collected = {**(lead.collected or {}), **answers}
        if status in (NEED_RETRY, VOICEMAIL_LEFT):
            lead.retry_at = self._clock + self._rng.uniform(*RETRY_AFTER)
        self._emit(EventKind.CALL_ENDED, lead, body)
        self._move(lead, status)
        pause = self._rng.uniform(*NEXT_LEAD_AFTER_CALL)
        self._schedule(self._clock + pause, "pick", call.agent)

    def _outcome_status(self, lead: _Lead, outcome: Outcome) -> int:
        """The lead's status after a call that ended so: retried, or done."""
        if outcome in scripts.UNANSWERED:
            lead.unanswered += 1
            return UNREACHABLE if lead.unanswered >= MAX_UNANSWERED else NEED_RETRY
        if outcome is scripts.VOICEMAIL:
            lead.voicemails += 1
            return VOICEMAIL_LEFT
        return outcome.conversation_status

    def _move(self, lead: _Lead, status: int) -> None:
        lead.status = status
        self._emit(EventKind.LEAD, lead, {**lead.body(), "pearlId": self.id})

    def _emit(self, kind: EventKind, lead: _Lead, body: Json) -> None:
        self._events.append(Event(self.now, kind, lead.id, body))
        self._quiet_until = self._clock + self._rng.uniform(*QUIET_AT_MOST)

    def _schedule(self, at: float, action: str, agent: int, call_id: str = "") -> None:
        self._sequence += 1
        heapq.heappush(self._plan, (at, self._sequence, action, agent, call_id))

    def _is_final(self, lead: _Lead) -> bool:
        """Whether the lead will not be called again."""
        return lead.status in FINAL_STATUSES or (
            lead.status == VOICEMAIL_LEFT and lead.voicemails >= MAX_VOICEMAILS
        )

    def call_earlier(self, outcomes: tuple[Outcome, ...] = EARLIER_OUTCOMES) -> list[Json]:
        """Calls a few leads before the start (yesterday's work), so there is history to see.

        Nothing is told of them: they happened before anyone subscribed. Returns the calls.
        """
        leads = [lead for lead in self._leads.values() if lead.status == NEW]
        callable_ = [lead for lead in leads if not lead.wrong_country]
        made = []
        for index, (lead, outcome) in enumerate(zip(callable_, outcomes, strict=False)):
            started = -EARLIER_HOURS * 3600 + index * EARLIER_SPACING
            call = _Call(self._new_id(), lead, -1, started, outcome)
            talked = self._rng.uniform(*EARLIER_CALL_SECONDS) if outcome.answered else 0.0
            status = self._outcome_status(lead, outcome)
            said = scripts.conversation(outcome, lead.person, self._rng)
            now, self._clock = self._clock, started + talked
            body = self._ended_call(call, said, status)
            self._clock = now
            self._calls[call.id] = body
            lead.calls_id.append(call.id)
            lead.last_call = last_call(body)
            answers = {variable: value for variable, _, value in said.collected}
            if answers:
                lead.collected = {**(lead.collected or {}), **answers}
            lead.status = status
            lead.retry_at = self._rng.uniform(*RETRY_AFTER)
            made.append(body)
        return made

    # What the app changed through the API

    def adopt(self, lead: Json) -> bool:
        """A lead the app added (Add Lead): called like the others from now on; False if not."""
        lead_id = lead.get("id")
        if not isinstance(lead_id, str) or lead_id in self._leads:
            return False
        given = lead.get("callData")
        data: Json = given if isinstance(given, dict) else {}
        person = Person(
            first_name=str(data.get("firstName") or ""),
            last_name=str(data.get("lastName") or ""),
            phone=str(lead.get("phoneNumber") or ""),
            time_zone=str(lead.get("timeZone") or "0"),
            external_id=str(lead.get("externalId") or ""),
            plan=str(data.get("plan") or ""),
        )
        created = str(lead.get("created") or _timestamp(self.now, milliseconds=True))
        adopted = _Lead(lead_id, person, created, False, call_data=dict(data))
        self._leads[lead_id] = adopted
        self._ids.add(lead_id)
        # Whoever added it is watching: it goes to the front of the line.
        self._enqueue(adopted)
        return True

    def set_status(self, lead_id: str, status: int) -> None:
        """The app changed a lead's status (Update Lead): stop calling, call again, won, lost.

        A lead on a call takes it when the call ends; one queued leaves the queue. NLPearl
        tells of the change with a Lead Webhook, as of any other.
        """
        lead = self._leads.get(lead_id)
        if lead is None or lead.status == status:
            return
        if any(call.lead is lead for call in self._on_calls.values()):
            lead.set_by_app = status
            return
        if lead in self._queue:
            self._queue.remove(lead)
        self._move(lead, status)
        if status in (NEW, NEED_RETRY):
            # Called again: a fresh set of attempts, from the front of the line.
            lead.unanswered = lead.voicemails = 0
            self._enqueue(lead)

    # Leads and calls

    def _import_batch(self) -> bool:
        """Adds a batch of new leads (1-2 with a wrong country code); False if none fits.

        At the cap, the oldest finished leads are retired first, so a demo left running
        keeps moving in bounded memory.
        """
        self._retire(self._batch - (self._max_leads - len(self._leads)))
        size = min(self._batch, self._max_leads - len(self._leads))
        if size <= 0:
            return False
        created = _timestamp(self.now, milliseconds=True)
        wrong = self._rng.sample(range(size), k=min(size // 4, self._rng.randint(1, 2)))
        for index in range(size):
            lead = _Lead(self._new_id(), self._roster.person(), created, index in wrong)
            self._leads[lead.id] = lead
        return True

    def _retire(self, count: int) -> None:
        """Forgets up to `count` of the oldest finished leads, with their calls."""
        finished = [lead for lead in self._leads.values() if self._is_final(lead)][:count]
        for lead in finished:
            del self._leads[lead.id]
            for call_id in lead.calls_id:
                self._calls.pop(call_id, None)
            self._retired.append((lead.id, list(lead.calls_id)))

    def take_retired(self) -> list[tuple[str, list[str]]]:
        """The leads retired since the last call, each with its calls' IDs."""
        retired, self._retired = self._retired, []
        return retired

    def _started_call(self, call: _Call) -> Json:
        """The Call Webhook body at a call's start: in progress, no outcome yet."""
        return {
            **self._call_head(call),
            "conversationStatus": None,
            "status": IN_PROGRESS_CALL,
            "duration": 0,
            "recording": None,
            "transcript": None,
            "summary": None,
            "collectedInfo": None,
            "tags": [],
            "isCallTransferred": False,
            "overallSentiment": None,
        }

    def _ended_call(self, call: _Call, said: scripts.Conversation, lead_status: int) -> Json:
        """The Call Webhook body at a call's end (also Get Call's answer from then on)."""
        outcome = call.outcome
        answered = outcome.answered
        seconds = self._clock - call.started if answered else 0.0
        conversation_status = (
            UNREACHABLE if lead_status == UNREACHABLE else outcome.conversation_status
        )
        return {
            **self._call_head(call),
            "conversationStatus": conversation_status,
            "status": outcome.call_status,
            "duration": round(seconds),
            "recording": f"{self.recordings_url}/{call.id}.wav" if answered else None,
            "transcript": scripts.transcript(said.lines, seconds),
            "summary": said.summary,
            "collectedInfo": [
                {"id": variable, "name": label, "value": value}
                for variable, label, value in said.collected
            ]
            or None,
            "tags": said.tags,
            "isCallTransferred": said.transferred,
            "overallSentiment": said.sentiment,
        }

    def _call_head(self, call: _Call) -> Json:
        return {
            "id": call.id,
            "pearlId": self.id,
            "relatedId": self.id,
            "startTime": _timestamp(self._at(call.started)),
            "from": self.phone_number,
            "to": call.lead.person.phone,
            "name": call.lead.person.name,
        }

    def _new_id(self) -> str:
        """A new ObjectId-like ID: 24 hex digits, unique in the campaign."""
        while True:
            candidate = f"66{self._rng.getrandbits(88):022x}"
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def _at(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=seconds)

    # What the sandbox shows

    def lead(self, lead_id: str) -> Json:
        """One lead as Get Lead answers."""
        return self._leads[lead_id].body()

    def lead_ids(self) -> list[str]:
        """Every lead's ID, oldest first: a new batch's come last."""
        return list(self._leads)

    def leads(self) -> list[Json]:
        """Every lead as Get Lead answers, oldest first."""
        return [lead.body() for lead in self._leads.values()]

    def call(self, call_id: str) -> Json:
        """One call as Get Call answers (never changed afterwards: a new dict each time)."""
        return self._calls[call_id]

    def calls(self) -> list[Json]:
        """Every call placed, as Get Call answers, oldest first."""
        return list(self._calls.values())

    def counts(self) -> dict[int, int]:
        """How many leads have each status, in `STATUS_LABELS` order (zeros included)."""
        counts = dict.fromkeys(STATUS_LABELS, 0)
        for lead in self._leads.values():
            counts[lead.status] = counts.get(lead.status, 0) + 1
        return counts

    def is_done(self, lead_id: str) -> bool:
        """Whether the lead will not be called again."""
        return self._is_final(self._leads[lead_id])

    def example_lead_id(self) -> str:
        """A lead worth looking up: a success, else one called, else the first that will be."""
        leads = list(self._leads.values())
        success = [lead for lead in leads if lead.status == SUCCESS]
        called = [lead for lead in leads if lead.calls_id]
        callable_ = [lead for lead in leads if not lead.wrong_country]
        return next(iter(success or called or callable_ or leads)).id

    def pearl(self) -> Json:
        """The campaign as Get Pearl answers, with live totals (running; the sandbox pauses)."""
        leads = list(self._leads.values())
        return {
            "id": self.id,
            "name": self.name,
            "type": 2,
            "status": 1,
            "phoneNumber": self.phone_number,
            "totalAgents": AGENTS,
            "created": _timestamp(self.start),
            "budgetConsumed": round(self._spent()),
            "budgetTotal": BUDGET_TOTAL,
            "totalTodayCalls": len(self._calls),
            "totalOngoingCalls": len(self._on_calls),
            "totalOnQueue": None,
            "totalLeads": len(leads),
            "totalLeadsCompleted": sum(self._is_final(lead) for lead in leads),
            "totalLeadsSuccess": sum(lead.status == SUCCESS for lead in leads),
        }

    def analytics(self) -> Json:
        """The Analytics answer: today's counts so far, and one entry per timeline for today."""
        ended = [c for c in self._calls.values() if c["status"] != IN_PROGRESS_CALL]
        return analytics(self.now, ended, self.counts(), self._spent())

    def _spent(self) -> float:
        """What the calls cost so far: every started minute of every call."""
        durations: list[int] = [call["duration"] for call in self._calls.values()]
        minutes = sum(-(-max(seconds, 1) // 60) for seconds in durations)
        return minutes * PRICE_PER_MINUTE


def _timestamp(moment: datetime, *, milliseconds: bool = False) -> str:
    """ISO-8601 in UTC with a `Z`, as NLPearl writes its times."""
    spec = "milliseconds" if milliseconds else "seconds"
    return moment.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")
