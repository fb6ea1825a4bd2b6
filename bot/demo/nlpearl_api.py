"""NLPearl's REST API served from memory (reads, lead changes, Set Active), with data.

One thing for two users: the demo's sandbox serves its simulated campaign through it, and the
tests use it as their NLPearl stand-in, programming its data, faults and delays.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, Self
from urllib.parse import unquote

from bot.demo import loopback as server
from bot.demo.loopback import JSON_CONTENT_TYPE, Answer, Request, StandIn, fault_headers

ACCOUNT: dict[str, Any] = {
    "name": "Test account",
    "totalAgents": 3,
    "creditBalance": 12.5,
    "status": 1,
}
PEARL_LIST_KEYS = ("id", "name", "type", "status")
LEAD_PATH = "/(v1|v2)/Outbound/([^/]+)/Lead"
# The lead statuses Update Lead accepts (reference §3.1.7).
UPDATABLE_STATUSES = frozenset({1, 10, 100, 110, 130})
# Update Lead body keys the stand-in applies as given; phoneNumber and externalId are indexed too.
UPDATABLE_FIELDS = ("phoneNumber", "externalId", "timeZoneId", "callData", "status")
# Activity statuses (reference §4.4) Set Active moves a pearl between; a suspended one stays.
RUNNING, PAUSED, SUSPENDED = 1, 2, 3
# Search Leads rows carry these keys only; Get Lead has the rest (reference §3.1.4).
SLIM_LEAD_KEYS = ("id", "externalId", "phoneNumber", "timeZone", "status", "created", "callData")
# Search Leads' page size when the body gives none: the wrapper's default.
DEFAULT_SEARCH_LIMIT = 100
# The longest range Analytics answers for (reference §3.4).
ANALYTICS_MAX_RANGE = timedelta(days=90)
# Analytics' outcome counts (callsStatusOverview and each day of callsStatusTimeLine).
ANALYTICS_STATUS_KEYS = (
    "totalCalls",
    "totalLeads",
    "needRetry",
    "wrongCountryCode",
    "needFollowUp",
    "voiceMailLeft",
    "successful",
    "unsuccessful",
    "wrongNumber",
    "completed",
    "unreachable",
    "error",
)
ANALYTICS_SENTIMENT_KEYS = (
    "negative",
    "slightlyNegative",
    "neutral",
    "slightlyPositive",
    "positive",
)
ANALYTICS_EVENT_KEYS = (
    "takeMessageCount",
    "smsSentCount",
    "callTransferredCount",
    "calendarBookedCount",
    "emailSentCount",
)
# POSTs that only read, for their bodies: Search Leads and Analytics.
READING_POSTS = ("/Leads", "/Analytics")
# Recording links (a CDN's in production) are served without an API key, as WAV.
RECORDING_PATH = re.compile("/recordings/([^/]+)\\.wav")
WAV_CONTENT_TYPE = "audio/wav"
# Added leads get IDs counting up from here: 24 hex digits, unlike any sample ID.
FIRST_NEW_LEAD_ID = 0x6700_0000_0000_0000_0000_0000

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
    """One request received: HTTP method, raw path (with query), lower-cased headers, body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    # When its answer was ready to send, by time.perf_counter() (the clock the benchmarks'
    # response_url receiver stamps arrivals with). None while it is being served: the record
    # is replaced by a stamped copy then, so one read earlier keeps None.
    answered_at: float | None = field(default=None, compare=False)

    @property
    def api_key(self) -> str | None:
        """The `AccountId:SecretKey` the request carried as its bearer token, if any."""
        return _bearer_key(self.headers)

    def json(self) -> Any:
        """The body parsed as JSON, or None if it is empty or not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


# The server and handler classes, by the names bench/common.py tunes them through.
_Server = server.LoopbackServer
_Handler = server.Handler


class NLPearlStandIn(StandIn[RecordedRequest, Answer]):
    """Serves pearls, leads, calls and the account from memory, like `https://api.nlpearl.ai`.

    More accounts (`add_account`) share its URL: each request is served by the account whose
    API key it carries, with that account's data, records, faults and delays.
    """

    thread_name = "nlpearl-standin"
    # GETs read; PUT and POST add, update and search leads, run or pause pearls and read
    # analytics. Else 404.
    http_methods = frozenset({"GET", "POST", "PUT"})

    def __init__(self, api_key: str = "acct123:secret456") -> None:
        super().__init__()
        self.api_key = api_key
        self._pearls: dict[str, Json] = {}
        self._account_fields: Json = dict(ACCOUNT)
        self._leads: dict[str, dict[str, Json]] = {}
        self._lead_ids_by_external: dict[tuple[str, str], str] = {}
        self._lead_ids_by_phone: dict[tuple[str, str], str] = {}
        self._calls: dict[str, Json] = {}
        self._recordings: dict[str, bytes] = {}
        self._analytics: dict[str, Json] = {}
        self._hangs: dict[str, float] = {}
        self._in_flight: list[str] = []
        self._in_flight_snapshots: list[tuple[str, ...]] = []
        self._new_lead_ids = itertools.count(FIRST_NEW_LEAD_ID)
        # Other accounts served from this one's URL, by API key; and, for one of those, the
        # stand-in whose server serves it (None for one that serves itself).
        self._accounts: dict[str, NLPearlStandIn] = {}
        self._host: NLPearlStandIn | None = None
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
        # Add Lead is POST on V2 but PUT on V1, to the path Update Lead extends with a lead ID.
        self._write_routes: list[tuple[str, re.Pattern[str], Callable[..., Answer]]] = [
            ("PUT", re.compile(LEAD_PATH + "/([^/]+)"), self._update_lead),
            ("POST", re.compile("/(v2)/Outbound/([^/]+)/Lead"), self._create_lead),
            ("PUT", re.compile("/(v1)/Outbound/([^/]+)/Lead"), self._create_lead),
            # Search Leads is a POST on both versions, for its body.
            ("POST", re.compile("/(v1|v2)/Outbound/([^/]+)/Leads"), self._search_leads),
            # Set Active is PUT on V2 but POST on V1.
            ("PUT", re.compile("/v2/Pearl/([^/]+)/Active"), self._set_active),
            ("POST", re.compile("/v1/Outbound/([^/]+)/Active"), self._set_active),
            # Analytics is a POST on both versions, for its body, to the pearl or the outbound.
            ("POST", re.compile("/v2/Pearl/([^/]+)/Analytics"), self._get_analytics),
            ("POST", re.compile("/v1/Outbound/([^/]+)/Analytics"), self._get_analytics),
        ]

    def start(self) -> Self:
        """Binds a free loopback port and serves in a daemon thread (not an added account)."""
        if self._host is not None:
            raise RuntimeError("an added account is served by the stand-in it was added to")
        return super().start()

    @property
    def url(self) -> str:
        """Base URL without a trailing slash; an added account's is its host's."""
        if self._host is not None:
            return self._host.url
        return super().url

    # Data

    def add_account(self, api_key: str) -> NLPearlStandIn:
        """Another account, served from this URL to requests carrying `api_key`.

        It starts with no pearls, leads or calls and the default account fields; program and
        inspect it as a stand-in of its own (add_pearl, set_account, fail_next, requests…).
        """
        account = NLPearlStandIn(api_key)
        account._host = self
        # So that stop() cuts short its delays too.
        account._stopping = self._stopping
        with self._condition:
            if api_key == self.api_key or api_key in self._accounts:
                raise ValueError(f"an account with API key {api_key!r} is already served")
            self._accounts[api_key] = account
        return account

    def add_pearl(self, pearl: Json) -> None:
        """Stores a pearl (Get Pearl shape) by its `id`."""
        with self._condition:
            self._pearls[pearl["id"]] = pearl

    def set_account(self, **fields: Any) -> None:
        """Changes the account's fields (Get Account shape, camelCase keys), keeping the others."""
        with self._condition:
            self._account_fields = {**self._account_fields, **fields}

    def add_lead(self, pearl_id: str, lead: Json) -> None:
        """Stores a lead (LeadApiView shape) under a pearl, by id, externalId and phoneNumber."""
        with self._condition:
            self._leads.setdefault(pearl_id, {})[lead["id"]] = lead
            if lead.get("externalId"):
                self._lead_ids_by_external[pearl_id, lead["externalId"]] = lead["id"]
            if lead.get("phoneNumber"):
                self._lead_ids_by_phone[pearl_id, lead["phoneNumber"]] = lead["id"]

    def pearl_status(self, pearl_id: str) -> int | None:
        """The pearl's activity status now (Set Active changes it), or None if unknown."""
        with self._condition:
            status = self._pearls.get(pearl_id, {}).get("status")
        return status if isinstance(status, int) else None

    def set_pearl_status(self, pearl_id: str, status: int) -> None:
        """Runs or pauses a known pearl, as Set Active does."""
        with self._condition:
            pearl = self._pearls.get(pearl_id)
            if pearl is not None:
                self._pearls[pearl_id] = {**pearl, "status": status}

    def put_pearl_keeping_status(self, pearl: Json) -> None:
        """Stores a pearl's new figures, keeping the status Set Active may have just changed."""
        with self._condition:
            kept = self._pearls.get(pearl["id"], {}).get("status")
            self._pearls[pearl["id"]] = pearl if kept is None else {**pearl, "status": kept}

    def put_lead_unless_changed(self, pearl_id: str, lead: Json, last_status: int | None) -> bool:
        """Stores a lead unless an Update Lead changed its status since `last_status` was put.

        At once, so that a change the app makes meanwhile is never overwritten.
        """
        with self._condition:
            stored = self._leads.get(pearl_id, {}).get(lead["id"])
            if stored is not None and last_status is not None:
                if stored.get("status") != last_status:
                    return False
                self._unindex(pearl_id, stored)
            self.add_lead(pearl_id, lead)
        return True

    def forget_lead(self, pearl_id: str, lead_id: str, call_ids: list[str]) -> None:
        """Removes a lead with its calls and their recordings (the sandbox's oldest go)."""
        with self._condition:
            lead = self._leads.get(pearl_id, {}).pop(lead_id, None)
            if lead is not None:
                self._unindex(pearl_id, lead)
            for call_id in call_ids:
                self._calls.pop(call_id, None)
                self._recordings.pop(call_id, None)

    def leads_of(self, pearl_id: str) -> list[Json]:
        """The pearl's leads as they are now (after any Add Lead or Update Lead)."""
        with self._condition:
            return list(self._leads.get(pearl_id, {}).values())

    def add_call(self, call: Json) -> None:
        """Stores a call (CallApiView shape) by its `id`."""
        with self._condition:
            self._calls[call["id"]] = call

    def add_recording(self, call_id: str, wav: bytes) -> None:
        """Serves `wav` at `/recordings/{call_id}.wav`, to anyone: a recording link needs no key."""
        with self._condition:
            self._recordings[call_id] = wav

    # Programming

    def set_analytics(self, pearl_id: str, body: Json) -> None:
        """Answers Analytics for `pearl_id` with `body`, whatever the range, until reset()."""
        with self._condition:
            self._analytics[pearl_id] = body

    def fail_next(
        self,
        path: str | re.Pattern[str],
        status: int = 503,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        method: str | None = None,
    ) -> None:
        """Answers the next `times` requests whose path starts with (or regex-matches) `path`.

        With `method`, only requests of that HTTP method count.
        """
        failure = Answer(status, body, headers=fault_headers(status, headers))
        with self._condition:
            self._faults.add(_fault_matcher(path, method), failure, times)

    def hang(self, path: str, seconds: float) -> None:
        """Delays every answer to a path starting with `path` by a further `seconds`."""
        with self._condition:
            self._hangs[path] = seconds

    def reset(self) -> None:
        """Forgets records, programmed failures and analytics, hangs and latency; keeps the data.

        Resets the added accounts too, which stay, like data.
        """
        with self._condition:
            super().reset()
            self._hangs.clear()
            self._analytics.clear()
            self._in_flight_snapshots.clear()
            accounts = list(self._accounts.values())
        for account in accounts:
            account.reset()

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

    def writes(self, path_contains: str | None = None) -> list[RecordedRequest]:
        """The recorded changes (not GETs, nor lead searches and analytics, which POST to read)."""
        return [r for r in self.requests(path_contains) if _is_write(r)]

    def wait_for_writes(
        self, path_contains: str | None = None, count: int = 1, timeout: float = 10
    ) -> list[RecordedRequest]:
        """Waits until `count` writes (not GETs) to paths containing `path_contains` arrived."""
        what = f"writes to paths containing {path_contains!r}"
        return self._wait_for(
            lambda: self.writes(path_contains), count, timeout, what, _show_writes
        )

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
        """Serves one request, counting it as in flight until its answer is computed.

        A request with an added account's key is that account's to record and serve; any
        other (this account's key, a wrong one or none) is this one's, as before accounts.
        """
        with self._condition:
            account = self._accounts.get(_bearer_key(request.headers) or "")
        if account is not None:
            return account._answer(request)
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
        """Records one request, answers it and stamps the record with when it was answered."""
        recorded = RecordedRequest(request.method, request.target, request.headers, request.body)
        answer = self._serve_recorded(request, recorded)
        self._stamp(recorded, time.perf_counter())
        return answer

    def _stamp(self, recorded: RecordedRequest, answered_at: float) -> None:
        """Replaces the record (if reset() has not dropped it) with a copy saying when."""
        with self._condition:
            for index in range(len(self._records) - 1, -1, -1):
                if self._records[index] is recorded:
                    self._records[index] = replace(recorded, answered_at=answered_at)
                    self._condition.notify_all()
                    return

    def _serve_recorded(self, request: Request, recorded: RecordedRequest) -> Answer:
        """Records one request, waits out any delay and computes its answer."""
        path = request.path
        with self._condition:
            self._record(recorded)
            hangs = (seconds for prefix, seconds in self._hangs.items() if path.startswith(prefix))
            delay = self.latency + sum(hangs)
            failure = self._faults.take(_fault_key(request.method, path))
        if self._pause(delay):
            return Answer(503)
        if failure is not None:
            return failure
        recording = RECORDING_PATH.fullmatch(path) if request.method == "GET" else None
        if recording is not None:
            return self._recording(unquote(recording.group(1)))
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Answer(401)
        if request.method != "GET":
            return self._write(request.method, path, request.body)
        for pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match:
                found = handler(*(unquote(group) for group in match.groups()))
                if found is None:
                    return Answer(404)
                return _json_answer(found)
        return Answer(404)

    def _write(self, method: str, path: str, body: bytes) -> Answer:
        """Serves a PUT or POST: Add Lead or Update Lead."""
        for route_method, pattern, handler in self._write_routes:
            match = pattern.fullmatch(path)
            if match and method == route_method:
                return handler(body, *(unquote(group) for group in match.groups()))
        return Answer(404)

    def _update_lead(self, body: bytes, _version: str, pearl_id: str, lead_id: str) -> Answer:
        """Update Lead: applies the fields given (null ones are left alone) to a known lead."""
        changes = _json_object(body)
        with self._condition:
            lead = self._leads.get(pearl_id, {}).get(lead_id)
            if lead is None:
                return Answer(404)
            if changes is None:
                return _bad_request("The request body must be a JSON object.")
            status = changes.get("status")
            if status is not None and not _updatable_status(status):
                return _bad_request(f"The status {status!r} cannot be set on a lead.")
            given = {key: changes[key] for key in UPDATABLE_FIELDS if changes.get(key) is not None}
            # A new dict, so that an answer being written from the old one stays whole.
            updated = {**lead, **given}
            self._unindex(pearl_id, lead)
            self.add_lead(pearl_id, updated)
        return _json_answer(updated)

    def _create_lead(self, body: bytes, _version: str, pearl_id: str) -> Answer:
        """Add Lead: a new lead, not yet called, even if another has the same phone number."""
        fields = _json_object(body)
        with self._condition:
            if pearl_id not in self._pearls and pearl_id not in self._leads:
                return Answer(404)
            if fields is None:
                return _bad_request("The request body must be a JSON object.")
            phone = fields.get("phoneNumber")
            if not isinstance(phone, str) or not phone:
                return _bad_request("The PhoneNumber field is required.")
            lead = self._new_lead(pearl_id, fields)
            self.add_lead(pearl_id, lead)
        return _json_answer({"leadId": lead["id"]})

    def _search_leads(self, body: bytes, _version: str, pearl_id: str) -> Answer:
        """Search Leads: the pearl's leads with the given statuses, by creation, one page."""
        search = _json_object(body)
        with self._condition:
            if pearl_id not in self._pearls and pearl_id not in self._leads:
                return Answer(404)
            if search is None:
                return _bad_request("The request body must be a JSON object.")
            leads = list(self._leads.get(pearl_id, {}).values())
        statuses = search.get("statuses") or []
        skip = 0 if search.get("skip") is None else search["skip"]
        limit = DEFAULT_SEARCH_LIMIT if search.get("limit") is None else search["limit"]
        if not isinstance(statuses, list) or not all(_is_int(s) for s in statuses):
            return _bad_request("The statuses field must be a list of integers.")
        if not (_is_int(skip) and _is_int(limit)) or skip < 0 or limit < 0:
            return _bad_request("The skip and limit fields must be integers of 0 or more.")
        matching = [lead for lead in leads if not statuses or lead.get("status") in statuses]
        ascending = search.get("isAscending") is True
        matching.sort(key=lambda lead: lead.get("created") or "", reverse=not ascending)
        rows = [{key: lead.get(key) for key in SLIM_LEAD_KEYS} for lead in matching]
        return _json_answer({"count": len(matching), "results": rows[skip : skip + limit]})

    def _set_active(self, body: bytes, pearl_id: str) -> Answer:
        """Set Active: runs (isActive true) or pauses a known, unsuspended pearl; the new status."""
        fields = _json_object(body)
        with self._condition:
            pearl = self._pearls.get(pearl_id)
            if pearl is None:
                return Answer(404)
            active = None if fields is None else fields.get("isActive")
            if not isinstance(active, bool):
                return _bad_request("The isActive field must be true or false.")
            if pearl.get("status") == SUSPENDED:
                return _bad_request("The Pearl is suspended")
            status = RUNNING if active else PAUSED
            # A new dict, so that an answer being written from the old one stays whole.
            self._pearls[pearl_id] = {**pearl, "status": status}
        return _json_answer(status)

    def _get_analytics(self, body: bytes, pearl_id: str) -> Answer:
        """Analytics: the programmed answer (its timelines cut to the range), else all zeros."""
        fields = _json_object(body)
        with self._condition:
            programmed = self._analytics.get(pearl_id)
            if programmed is None and pearl_id not in self._pearls:
                return Answer(404)
        if fields is None:
            return _bad_request("The request body must be a JSON object.")
        start, end = _analytics_time(fields.get("from")), _analytics_time(fields.get("to"))
        if start is None or end is None:
            return _bad_request("The From and To fields must be date-times.")
        if end <= start or end - start > ANALYTICS_MAX_RANGE:
            return _bad_request("The date range must be positive and at most 90 days.")
        if programmed is not None:
            return _json_answer(_within(programmed, start, end))
        return _json_answer(_empty_analytics(start, end))

    def _new_lead(self, pearl_id: str, fields: Json) -> Json:
        """A lead as Add Lead creates it from `fields`, with an ID no lead of the pearl has."""
        with self._condition:
            taken = self._leads.get(pearl_id, {})
            lead_id = next(i for i in map("{:024x}".format, self._new_lead_ids) if i not in taken)
        created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lead = {
            "id": lead_id,
            "externalId": fields.get("externalId"),
            "phoneNumber": fields["phoneNumber"],
            "timeZone": None,
            "status": 1,
            "created": created,
            "callsId": [],
            "lastCall": None,
            "callData": fields.get("callData"),
            "collectedData": None,
        }
        if fields.get("timeZoneId") is not None:
            lead["timeZoneId"] = fields["timeZoneId"]
        return lead

    def _unindex(self, pearl_id: str, lead: Json) -> None:
        """Forgets the external ID and phone number lookups that lead to `lead`."""
        with self._condition:
            for index, key in (
                (self._lead_ids_by_external, lead.get("externalId")),
                (self._lead_ids_by_phone, lead.get("phoneNumber")),
            ):
                if key and index.get((pearl_id, key)) == lead["id"]:
                    del index[pearl_id, key]

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

    def _recording(self, call_id: str) -> Answer:
        with self._condition:
            wav = self._recordings.get(call_id)
        return Answer(404) if wav is None else Answer(200, wav, WAV_CONTENT_TYPE)

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
        with self._condition:
            return dict(self._account_fields)


def _bearer_key(headers: dict[str, str]) -> str | None:
    """The API key of an `Authorization: Bearer AccountId:SecretKey` header, if any."""
    scheme, _, key = headers.get("authorization", "").partition(" ")
    return key if scheme == "Bearer" and key else None


def _fault_key(method: str, path: str) -> str:
    """What programmed faults are matched against: the method, a space, the path."""
    return f"{method} {path}"


def _fault_matcher(path: str | re.Pattern[str], method: str | None) -> Callable[[str], bool]:
    """A predicate on fault keys: the method, if given, and the path as `_path_matcher` says."""
    matches_path = _path_matcher(path)

    def matches(key: str) -> bool:
        key_method, _, key_path = key.partition(" ")
        return (method is None or key_method == method.upper()) and matches_path(key_path)

    return matches


def _is_write(request: RecordedRequest) -> bool:
    """Whether a request may change NLPearl: Search Leads and Analytics are POSTs that read."""
    return request.method != "GET" and not request.path.split("?")[0].endswith(READING_POSTS)


def _path_matcher(path: str | re.Pattern[str]) -> Callable[[str], bool]:
    """A predicate: prefix match for a string, regex search for a compiled pattern."""
    if isinstance(path, re.Pattern):
        return lambda candidate: path.search(candidate) is not None
    return lambda candidate: candidate.startswith(path)


def _json_object(body: bytes) -> Json | None:
    """The body as a JSON object, or None if it is not one."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _analytics_time(value: Any) -> datetime | None:
    """An Analytics `from` or `to` as an aware datetime (naive is UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _within(programmed: Json, start: datetime, end: datetime) -> Json:
    """A programmed answer with its timelines cut to the UTC days the range touches.

    The overviews are answered as programmed; entries whose date can't be read are kept.
    """
    first = start.astimezone(UTC).date()
    last = (end - timedelta(microseconds=1)).astimezone(UTC).date()

    def inside(entry: Any) -> bool:
        moment = _analytics_time(entry.get("date")) if isinstance(entry, dict) else None
        return moment is None or first <= moment.astimezone(UTC).date() <= last

    return {
        key: [e for e in value if inside(e)]
        if key.lower().endswith("timeline") and isinstance(value, list)
        else value
        for key, value in programmed.items()
    }


def _empty_analytics(start: datetime, end: datetime) -> Json:
    """An Analytics answer for a pearl with no calls: every count zero, one entry per UTC day."""
    first, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def timeline(**fields: Any) -> list[Json]:
        return [{"date": _midnight(day), **fields} for day in days]

    statuses = dict.fromkeys(ANALYTICS_STATUS_KEYS, 0)
    return {
        "callsStatusOverview": statuses,
        "callsSentimentOverview": dict.fromkeys(ANALYTICS_SENTIMENT_KEYS, 0),
        "callsStatusTimeLine": timeline(**statuses),
        "callsAverageTimeLine": timeline(averageCallDuration=0),
        "callsCostTimeLine": timeline(totalPrice=0, averageCostPerCall=0),
        "callsPickupRateTimeLine": timeline(pickupRatePercentage=0),
        "callsSuccessRateTimeLine": timeline(successRatePercentage=0),
        "callLabelCount": [],
        "callEventsCounts": dict.fromkeys(ANALYTICS_EVENT_KEYS, 0),
        "callsByHourDayOfWeeks": [],
    }


def _midnight(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _is_int(value: Any) -> bool:
    # JSON true would otherwise pass as 1.
    return type(value) is int


def _updatable_status(status: Any) -> bool:
    # JSON true would otherwise pass as 1.
    return type(status) is int and status in UPDATABLE_STATUSES


def _json_answer(body: Any) -> Answer:
    return Answer(200, json.dumps(body).encode(), JSON_CONTENT_TYPE)


def _bad_request(message: str) -> Answer:
    """A 400 with a message, as NLPearl's validation answers carry one."""
    return Answer(400, json.dumps({"message": message}).encode(), JSON_CONTENT_TYPE)


def _show_writes(writes: list[RecordedRequest]) -> str:
    return "; ".join(f"{w.method} {w.path} {w.body[:200]!r}" for w in writes) or "none"


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
            "lastCall": last_call(maria_calls[-1]),
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
            "lastCall": last_call(devon_calls[-1]),
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


def last_call(call: Json) -> Json:
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
