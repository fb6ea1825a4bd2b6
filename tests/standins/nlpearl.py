"""A local stand-in for the NLPearl REST API (v1 and v2 read endpoints), with sample data."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote

from tests.standins import server
from tests.standins.server import JSON_CONTENT_TYPE, Answer, Request, StandIn, fault_headers

ACCOUNT: dict[str, Any] = {
    "name": "Test account",
    "totalAgents": 3,
    "creditBalance": 12.5,
    "status": 1,
}
PEARL_LIST_KEYS = ("id", "name", "type", "status")
LEAD_PATH = "/(v1|v2)/Outbound/([^/]+)/Lead"

SAMPLE_PEARL_ID = "664e9a77f0e1d2c3b4a59687"
SAMPLE_LEAD_ID = "6650f1c2a9e4b27d3c8e41a7"
SAMPLE_LEAD_EXTERNAL_ID = "crm-004512"
SAMPLE_LEAD_PHONE = "+14155550137"
SAMPLE_LEAD_MANY_CALLS_ID = "6650f1c2a9e4b27d3c8e41b0"
SAMPLE_LEAD_NO_CALLS_ID = "6650f1c2a9e4b27d3c8e41b3"

Json = dict[str, Any]


class Contact(NamedTuple):
    """Who a sample call went to."""

    phone: str
    name: str


@dataclass(frozen=True)
class RecordedRequest:
    """One request received: HTTP method, raw path (with query) and lower-cased headers."""

    method: str
    path: str
    headers: dict[str, str]


# The server and handler classes, by the names bench/common.py tunes them through.
_Server = server.LoopbackServer
_Handler = server.Handler


class NLPearlStandIn(StandIn[RecordedRequest, Answer]):
    """Serves pearls, leads, calls and the account from memory, like `https://api.nlpearl.ai`."""

    thread_name = "nlpearl-standin"
    # Only GETs have routes; the others get 404.
    http_methods = frozenset({"GET", "POST", "PUT"})

    def __init__(self, api_key: str = "acct123:secret456") -> None:
        super().__init__()
        self.api_key = api_key
        self._pearls: dict[str, Json] = {}
        self._leads: dict[str, dict[str, Json]] = {}
        self._lead_ids_by_external: dict[tuple[str, str], str] = {}
        self._lead_ids_by_phone: dict[tuple[str, str], str] = {}
        self._calls: dict[str, Json] = {}
        self._hangs: dict[str, float] = {}
        self._in_flight: list[str] = []
        self._in_flight_snapshots: list[tuple[str, ...]] = []
        self._routes: list[tuple[re.Pattern[str], Callable[..., Any]]] = [
            (re.compile(LEAD_PATH + "/External/([^/]+)"), self._lead_by_external),
            (re.compile("/(v1)/Outbound/([^/]+)/Lead/Extrenal/([^/]+)"), self._lead_by_external),
            (re.compile(LEAD_PATH + "/PhoneNumber/([^/]+)"), self._lead_by_phone),
            (re.compile(LEAD_PATH + "/([^/]+)"), self._lead_by_id),
            (re.compile("/(v1|v2)/Call/([^/]+)"), self._call),
            (re.compile("/v2/Pearl/([^/]+)"), self._pearl),
            (re.compile("/v2/Pearl"), self._pearl_list),
            (re.compile("/v1/Outbound/([^/]+)"), self._pearl),
            (re.compile("/v1/Outbound"), self._pearl_list),
            (re.compile("/(v1|v2)/Account"), self._account),
        ]

    # Data

    def add_pearl(self, pearl: Json) -> None:
        """Stores a pearl (Get Pearl shape) by its `id`."""
        with self._condition:
            self._pearls[pearl["id"]] = pearl

    def add_lead(self, pearl_id: str, lead: Json) -> None:
        """Stores a lead (LeadApiView shape) under a pearl, by id, externalId and phoneNumber."""
        with self._condition:
            self._leads.setdefault(pearl_id, {})[lead["id"]] = lead
            if lead.get("externalId"):
                self._lead_ids_by_external[pearl_id, lead["externalId"]] = lead["id"]
            if lead.get("phoneNumber"):
                self._lead_ids_by_phone[pearl_id, lead["phoneNumber"]] = lead["id"]

    def add_call(self, call: Json) -> None:
        """Stores a call (CallApiView shape) by its `id`."""
        with self._condition:
            self._calls[call["id"]] = call

    # Programming

    def fail_next(
        self,
        path: str | re.Pattern[str],
        status: int = 503,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        """Answers the next `times` requests whose path starts with (or regex-matches) `path`."""
        failure = Answer(status, body, headers=fault_headers(status, headers))
        with self._condition:
            self._faults.add(_path_matcher(path), failure, times)

    def hang(self, path: str, seconds: float) -> None:
        """Delays every answer to a path starting with `path` by a further `seconds`."""
        with self._condition:
            self._hangs[path] = seconds

    def reset(self) -> None:
        """Forgets recorded requests, programmed failures, hangs and latency; keeps the data."""
        with self._condition:
            super().reset()
            self._hangs.clear()
            self._in_flight_snapshots.clear()

    # Inspection

    def requests(self, path_contains: str | None = None) -> list[RecordedRequest]:
        """Every recorded request, or those whose raw path contains `path_contains`."""
        return self._recorded(lambda r: path_contains is None or path_contains in r.path)

    def wait_for_requests(
        self, path_contains: str, count: int = 1, timeout: float = 10
    ) -> list[RecordedRequest]:
        """Waits until `count` requests to paths containing `path_contains` arrived."""
        what = f"requests to paths containing {path_contains!r}"
        return self._wait_for(lambda: self.requests(path_contains), count, timeout, what)

    @property
    def max_in_flight(self) -> int:
        """The most requests served at the same moment since start or reset()."""
        return self.max_in_flight_for("")

    def max_in_flight_for(self, path_prefix: str) -> int:
        """The most requests whose path starts with `path_prefix` served at the same moment."""
        with self._condition:
            snapshots = list(self._in_flight_snapshots)
        counts = (sum(p.startswith(path_prefix) for p in paths) for paths in snapshots)
        return max(counts, default=0)

    # Serving

    def _answer(self, request: Request) -> Answer:
        """Serves one request, counting it as in flight until its answer is computed."""
        path = request.path
        with self._condition:
            self._in_flight.append(path)
            self._in_flight_snapshots.append(tuple(self._in_flight))
        try:
            return self._serve(request)
        finally:
            with self._condition:
                self._in_flight.remove(path)

    def _serve(self, request: Request) -> Answer:
        """Records one request, waits out any delay and computes its answer."""
        path = request.path
        with self._condition:
            self._record(RecordedRequest(request.method, request.target, request.headers))
            hangs = (seconds for prefix, seconds in self._hangs.items() if path.startswith(prefix))
            delay = self.latency + sum(hangs)
            failure = self._faults.take(path)
        if self._pause(delay):
            return Answer(503)
        if failure is not None:
            return failure
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Answer(401)
        if request.method != "GET":
            return Answer(404)
        for pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match:
                found = handler(*(unquote(group) for group in match.groups()))
                if found is None:
                    return Answer(404)
                return Answer(200, json.dumps(found).encode(), JSON_CONTENT_TYPE)
        return Answer(404)

    def _lead_by_id(self, _version: str, pearl_id: str, lead_id: str) -> Json | None:
        with self._condition:
            return self._leads.get(pearl_id, {}).get(lead_id)

    def _lead_by_external(self, version: str, pearl_id: str, external_id: str) -> Json | None:
        with self._condition:
            lead_id = self._lead_ids_by_external.get((pearl_id, external_id), "")
        return self._lead_by_id(version, pearl_id, lead_id)

    def _lead_by_phone(self, version: str, pearl_id: str, phone: str) -> Json | None:
        with self._condition:
            lead_id = self._lead_ids_by_phone.get((pearl_id, phone), "")
        return self._lead_by_id(version, pearl_id, lead_id)

    def _call(self, _version: str, call_id: str) -> Json | None:
        with self._condition:
            return self._calls.get(call_id)

    def _pearl(self, pearl_id: str) -> Json | None:
        with self._condition:
            return self._pearls.get(pearl_id)

    def _pearl_list(self) -> list[Json]:
        with self._condition:
            pearls = list(self._pearls.values())
        return [
            {**{key: pearl.get(key) for key in PEARL_LIST_KEYS}, "createdAt": pearl.get("created")}
            for pearl in pearls
        ]

    def _account(self, _version: str) -> Json:
        return dict(ACCOUNT)


def _path_matcher(path: str | re.Pattern[str]) -> Callable[[str], bool]:
    """A predicate: prefix match for a string, regex search for a compiled pattern."""
    if isinstance(path, re.Pattern):
        return lambda candidate: path.search(candidate) is not None
    return lambda candidate: candidate.startswith(path)


def sample_dataset() -> tuple[Json, list[Json], list[Json]]:
    """A pearl, its three leads (3 calls, 10 calls, none) and their calls, in NLPearl's shapes."""
    pearl = {
        "id": SAMPLE_PEARL_ID,
        "name": "Solar – Spring Re-engagement",
        "type": 2,
        "status": 1,
        "phoneNumber": "+12125550100",
        "totalAgents": 5,
        "created": "2025-02-20T09:12:00Z",
        "budgetConsumed": 312,
        "budgetTotal": 1500,
        "totalTodayCalls": 87,
        "totalOngoingCalls": 3,
        "totalOnQueue": None,
        "totalLeads": 1240,
        "totalLeadsCompleted": 402,
        "totalLeadsSuccess": 133,
    }
    maria_calls = _maria_calls()
    devon_calls = _devon_calls()
    leads = [
        {
            "id": SAMPLE_LEAD_ID,
            "externalId": SAMPLE_LEAD_EXTERNAL_ID,
            "phoneNumber": SAMPLE_LEAD_PHONE,
            "timeZone": "-8.0",
            "status": 100,
            "created": "2025-03-04T15:22:10.512Z",
            "callsId": [call["id"] for call in maria_calls],
            "lastCall": _last_call(maria_calls[-1]),
            "callData": {
                "firstName": "Maria",
                "lastName": "Gonzalez",
                "emailAddress": "maria.gonzalez@example.com",
                "plan": "Pro",
            },
            "collectedData": {
                "preferredDay": "Thursday",
                "roofAge": 12,
                "monthlyBill": 184.5,
                "isHomeowner": True,
                "interestedIn": ["panels", "battery"],
                "referralSource": None,
            },
        },
        {
            "id": SAMPLE_LEAD_MANY_CALLS_ID,
            "externalId": "crm-004530",
            "phoneNumber": "+13125550188",
            "timeZone": "-6.0",
            "status": 110,
            "created": "2025-03-04T15:22:11.020Z",
            "callsId": [call["id"] for call in devon_calls],
            "lastCall": _last_call(devon_calls[-1]),
            "callData": {"firstName": "Devon", "lastName": "Clarke"},
            "collectedData": {"isHomeowner": False},
        },
        {
            "id": SAMPLE_LEAD_NO_CALLS_ID,
            "externalId": "crm-004533",
            "phoneNumber": "+16175550121",
            "timeZone": "-5.0",
            "status": 1,
            "created": "2025-03-04T15:22:11.311Z",
            "callsId": [],
            "lastCall": None,
            "callData": {"firstName": "Priya", "lastName": "Raman"},
            "collectedData": None,
        },
    ]
    return pearl, leads, maria_calls + devon_calls


def load_sample(standin: NLPearlStandIn) -> None:
    """Adds the sample pearl, leads and calls to `standin`."""
    pearl, leads, calls = sample_dataset()
    standin.add_pearl(pearl)
    for lead in leads:
        standin.add_lead(pearl["id"], lead)
    for call in calls:
        standin.add_call(call)


def _maria_calls() -> list[Json]:
    """No answer, then a voicemail, then a booked survey."""
    maria = Contact(SAMPLE_LEAD_PHONE, "Maria Gonzalez")
    no_answer = _sample_call("6651a0e4b1c2d3e4f5a6b7c8", maria, "2025-03-04T18:10:02Z", 7, 10, 0)
    voicemail = _sample_call(
        "66521c03b1c2d3e4f5a6b7c9",
        maria,
        "2025-03-04T23:45:10Z",
        4,
        70,
        31,
        transcript=[
            (3, "Hi Maria, this is Ava from Brightline Solar, calling about your solar quote."),
            (3, "I'll try you again tomorrow. Have a great evening!"),
        ],
        summary="Reached voicemail; left a short message about the solar quote.",
        tags=["Voicemail"],
        sentiment=3,
    )
    survey = _sample_call(
        "66523b11c2d3e4f5a6b7c8d9",
        maria,
        "2025-03-05T17:03:44Z",
        4,
        100,
        142,
        transcript=[
            (3, "Hi Maria, this is Ava from Brightline Solar. Is now a good time?"),
            (2, "Sure, go ahead."),
            (3, "Great! Do you own your home, and roughly how old is the roof?"),
            (2, "Yes, we own it. The roof is about 12 years old."),
            (3, "Would a site survey on Thursday morning work for you?"),
            (2, "Thursday works. We are mostly interested in panels and a battery."),
        ],
        summary="Maria agreed to a site survey on Thursday morning; roof is about 12 years old.",
        collected=[
            ("preferredDay", "Preferred Day", "Thursday"),
            ("roofAge", "Roof Age (years)", 12),
            ("monthlyBill", "Monthly Bill ($)", 184.5),
            ("isHomeowner", "Homeowner", True),
            ("interestedIn", "Interested In", ["panels", "battery"]),
        ],
        tags=["Survey booked"],
        sentiment=4,
    )
    return [no_answer, voicemail, survey]


def _devon_calls() -> list[Json]:
    """Nine daily attempts (no answer, busy, failed, voicemail), then a refusal on the tenth."""
    devon = Contact("+13125550188", "Devon Clarke")
    attempts = [(7, 10, 0), (5, 10, 0), (4, 70, 28), (7, 10, 0), (6, 500, 0)]
    attempts += [(7, 10, 0), (4, 70, 26), (5, 10, 0), (7, 10, 0)]
    calls = [
        _sample_call(
            f"66530000c2d3e4f5a6b7c9{index:02x}",
            devon,
            f"2025-03-{6 + index:02d}T16:00:00Z",
            *attempt,
        )
        for index, attempt in enumerate(attempts)
    ]
    refusal = _sample_call(
        f"66530000c2d3e4f5a6b7c9{len(calls):02x}",
        devon,
        "2025-03-15T16:00:00Z",
        4,
        110,
        64,
        transcript=[
            (3, "Hi Devon, this is Ava from Brightline Solar. Is now a good time?"),
            (2, "Not really. I rent, so solar isn't something I can decide on."),
            (3, "Understood, thanks for letting me know. Have a good day!"),
        ],
        summary="Devon rents his home and is not interested in solar.",
        collected=[("isHomeowner", "Homeowner", False)],
        tags=["Not homeowner"],
        sentiment=2,
    )
    return [*calls, refusal]


def _sample_call(
    call_id: str,
    contact: Contact,
    start_time: str,
    status: int,
    conversation_status: int,
    duration: int,
    *,
    transcript: list[tuple[int, str]] | None = None,
    summary: str | None = None,
    collected: list[tuple[str, str, Any]] | None = None,
    tags: list[str] | None = None,
    sentiment: int | None = None,
) -> Json:
    """A call in the V2 Get Call shape; transcript lines are 4 s long, 1 s apart."""
    return {
        "id": call_id,
        "pearlId": SAMPLE_PEARL_ID,
        "relatedId": SAMPLE_PEARL_ID,
        "startTime": start_time,
        "conversationStatus": conversation_status,
        "status": status,
        "from": "+12125550100",
        "to": contact.phone,
        "name": contact.name,
        "duration": duration,
        "recording": f"https://recordings.example-cdn.net/{call_id}.mp3" if duration else None,
        "transcript": [
            {"role": role, "content": content, "startTime": 5 * line, "endTime": 5 * line + 4}
            for line, (role, content) in enumerate(transcript)
        ]
        if transcript
        else None,
        "summary": summary,
        "collectedInfo": [
            {"id": variable_id, "name": label, "value": value}
            for variable_id, label, value in collected
        ]
        if collected
        else None,
        "tags": tags or [],
        "isCallTransferred": False,
        "overallSentiment": sentiment,
    }


def _last_call(call: Json) -> Json:
    """The `lastCall` summary a lead carries for `call`."""
    return {
        "id": call["id"],
        "startTime": call["startTime"],
        "pearlId": call["pearlId"],
        "status": call["status"],
        "from": call["from"],
        "name": call["name"],
        "collectedData": {
            "transcript": call["transcript"] or [],
            "collectedInfos": call["collectedInfo"] or [],
        },
        "summary": call["summary"],
        "duration": call["duration"],
        "recording": call["recording"],
        "tags": call["tags"],
    }
