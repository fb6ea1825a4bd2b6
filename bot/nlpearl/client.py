"""Async client for the NLPearl REST API: what Lead Bot reads and changes, on either version."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from bot.nlpearl.changes import LeadUpdate, NewLead
from bot.nlpearl.errors import (
    BadCredentials,
    BadResponse,
    NLPearlError,
    NotConnected,
    NotFound,
    RateLimited,
    Rejected,
    Unavailable,
    Unconfirmed,
)
from bot.nlpearl.models import Account, Analytics, Call, Lead, LeadPage, Pearl

logger = logging.getLogger(__name__)

_Model = TypeVar("_Model", Lead, Call, Pearl, Account, Analytics)

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
MAX_CONCURRENT_REQUESTS = 16
# NLPearl's words for refusing a change are shown to people: one line, at most this long.
REASON_LIMIT = 300
# Where an error body keeps its words, most telling first: ASP.NET's `title` is generic.
_REASON_KEYS = ("message", "error", "detail", "errors", "title")
# Deeper than this, an error body holds no message a person wrote.
_REASON_DEPTH = 4
# NLPearl documents Analytics for ranges of at most 90 days.
ANALYTICS_MAX_RANGE = timedelta(days=90)
# Failures before any of the request left: it surely did not reach NLPearl.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry a request before giving up."""

    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 2.0
    # A lookup must still answer while the user is looking at Slack.
    deadline: float = 8.0
    # An attempt with less time than this left would rarely be answered, so it is not started.
    min_attempt: float = 0.5


class _Retryable(Exception):
    def __init__(
        self, error: NLPearlError, retry_after: float | None = None, *, maybe_done: bool
    ) -> None:
        self.error = error
        self.retry_after = retry_after
        # Whether NLPearl may have acted on the request all the same.
        self.maybe_done = maybe_done


def _segment(value: str) -> str:
    return quote(value, safe="")


def retry_after_seconds(header: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date), if readable."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class NLPearlClient:
    """Reads NLPearl, changes leads, runs and pauses campaigns; failures are `NLPearlError`s."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str | None,
        key_fix: str | None = None,
        base_url: str = "https://api.nlpearl.ai",
        version: str = "v2",
        retry: RetryPolicy | None = None,
        campaign_cache_seconds: float = 600.0,
        max_concurrent_requests: int = MAX_CONCURRENT_REQUESTS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        # None: the workspace has connected no account, and every call says so at once.
        self._connected = api_key is not None
        # How a person mends a rejected key: it depends on where the key came from.
        self._key_fix = key_fix
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._base = f"{base_url.rstrip('/')}/{version}"
        self.version = version
        self._retry = retry or RetryPolicy()
        self._campaign_ttl = campaign_cache_seconds
        self._campaigns: dict[str, tuple[float, Pearl]] = {}
        self._sleep = sleep
        self._clock = clock
        # Requests queue here, not in the connection pool, whose bookkeeping grows with its queue.
        self._slots = asyncio.Semaphore(max_concurrent_requests)

    async def get_lead(self, campaign_id: str, lead_id: str) -> Lead:
        """The lead with this NLPearl ID in the campaign."""
        path = f"/Outbound/{_segment(campaign_id)}/Lead/{_segment(lead_id)}"
        return _parse(Lead, await self._get(path))

    async def get_lead_by_external_id(self, campaign_id: str, external_id: str) -> Lead:
        """The lead with this external (CRM) ID in the campaign."""
        base = f"/Outbound/{_segment(campaign_id)}/Lead"
        try:
            body = await self._get(f"{base}/External/{_segment(external_id)}")
        except NotFound:
            if self.version != "v1":
                raise
            # Old V1 docs spell the path "Extrenal"; accept whichever the server knows.
            body = await self._get(f"{base}/Extrenal/{_segment(external_id)}")
        return _parse(Lead, body)

    async def get_lead_by_phone(self, campaign_id: str, phone_number: str) -> Lead:
        """The lead with this phone number (E.164) in the campaign."""
        path = f"/Outbound/{_segment(campaign_id)}/Lead/PhoneNumber/{_segment(phone_number)}"
        return _parse(Lead, await self._get(path))

    async def search_leads(
        self,
        campaign_id: str,
        *,
        statuses: Sequence[int],
        skip: int = 0,
        limit: int = 10,
        oldest_first: bool = False,
    ) -> LeadPage:
        """A page of the campaign's leads with these statuses (none: every lead), newest first."""
        path = f"/Outbound/{_segment(campaign_id)}/Leads"
        body = {
            "skip": skip,
            "limit": limit,
            "sortProp": "created",
            "isAscending": oldest_first,
            "statuses": list(statuses),
            "searchInput": None,
        }
        # A POST only because the search has a body: it changes nothing, so it retries as a GET.
        return _lead_page(_read(await self._request("POST", path, body, reads=True)))

    async def get_analytics(self, campaign_id: str, *, start: datetime, end: datetime) -> Analytics:
        """The campaign's call outcomes, daily rates, costs and events from `start` to `end`."""
        body = _analytics_range(start, end)
        path = f"{self._campaign_path(campaign_id)}/Analytics"
        # Like a search, a POST only for its body: it changes nothing, so it retries as a GET.
        return _parse(Analytics, _read(await self._request("POST", path, body, reads=True)))

    async def get_call(self, call_id: str) -> Call:
        """One call with its transcript, summary, recording and answers."""
        return _parse(Call, await self._get(f"/Call/{_segment(call_id)}"))

    async def get_campaign(self, campaign_id: str, *, fresh: bool = False) -> Pearl:
        """The campaign (a V2 Pearl or V1 Outbound), cached for a few minutes unless `fresh`."""
        cached = self._campaigns.get(campaign_id)
        if cached and cached[0] > self._clock() and not fresh:
            return cached[1]
        campaign = _parse(Pearl, await self._get(self._campaign_path(campaign_id)))
        self._campaigns[campaign_id] = (self._clock() + self._campaign_ttl, campaign)
        return campaign

    async def list_campaigns(self) -> list[Pearl]:
        """Every campaign of the account."""
        resource = "Pearl" if self.version == "v2" else "Outbound"
        body = await self._get(f"/{resource}")
        if not isinstance(body, list):
            raise BadResponse("NLPearl's campaign list was not a list")
        return [Pearl.model_validate(item) for item in body if isinstance(item, dict)]

    async def get_account(self) -> Account:
        """The account: its name, credit and whether it may place calls."""
        return _parse(Account, await self._get("/Account"))

    @property
    def connected(self) -> bool:
        """Whether the client has an API key to send (multi-workspace: the workspace connected)."""
        return self._connected

    async def check_credentials(self) -> None:
        """Raise `BadCredentials` unless NLPearl accepts the API key."""
        await self._get("/Account")

    async def set_active(self, campaign_id: str, active: bool) -> int | None:
        """Run or pause the campaign; its new activity status, if NLPearl answers with one."""
        # Set Active is PUT on V2 but POST on V1.
        method = "PUT" if self.version == "v2" else "POST"
        path = f"{self._campaign_path(campaign_id)}/Active"
        try:
            # Setting a state twice leaves it as once: safe to send again.
            body = await self._write(method, path, {"isActive": active}, idempotent=True)
        finally:
            # Even a refusal or an unconfirmed change may mean the cached state is stale.
            self._campaigns.pop(campaign_id, None)
        return _activity_status(body)

    async def update_lead(self, campaign_id: str, lead_id: str, update: LeadUpdate) -> Lead | None:
        """Change the fields set in `update`; the updated lead, if NLPearl answers with it."""
        path = f"/Outbound/{_segment(campaign_id)}/Lead/{_segment(lead_id)}"
        body = await self._write("PUT", path, update.body(), idempotent=True)
        return _lead_or_none(body)

    async def add_lead(self, campaign_id: str, lead: NewLead) -> str | None:
        """Add a lead to the campaign, to be called; its new ID, if NLPearl answers with it."""
        # The same path on both versions, but V1 adds with PUT.
        method = "POST" if self.version == "v2" else "PUT"
        path = f"/Outbound/{_segment(campaign_id)}/Lead"
        # Sent twice, an add makes two leads.
        body = await self._write(method, path, lead.body(), idempotent=False)
        return _new_lead_id(body)

    def _campaign_path(self, campaign_id: str) -> str:
        """The campaign's path: a Pearl on V2, an Outbound on V1."""
        resource = "Pearl" if self.version == "v2" else "Outbound"
        return f"/{resource}/{_segment(campaign_id)}"

    async def _get(self, path: str) -> Any:
        """GET a path: its JSON body, or the error the answer means."""
        return _read(await self._request("GET", path))

    async def _write(
        self, method: str, path: str, body: dict[str, Any], *, idempotent: bool
    ) -> Any:
        """Send a change: NLPearl's JSON answer (None if it sent none), or the error it means."""
        return _written(await self._request(method, path, body, idempotent=idempotent))

    async def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        idempotent: bool = True,
        reads: bool = False,
    ) -> httpx.Response:
        """Send a request unless no key is connected; a rejected key says how to mend it."""
        if not self._connected:
            raise NotConnected()
        response = await self._retried(method, path, body, idempotent=idempotent, reads=reads)
        if response.status_code in (401, 403):
            rejected = BadCredentials(f"NLPearl rejected the API key (HTTP {response.status_code})")
            rejected.fix = self._key_fix
            raise rejected
        return response

    async def _retried(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        idempotent: bool,
        reads: bool,
    ) -> httpx.Response:
        """Send a request, retrying passing failures with jittered back-off, within the deadline."""
        # `reads`: whatever its method, the request changes nothing, so a failure leaves no doubt.
        changes = method != "GET" and not reads
        policy = self._retry
        deadline = self._clock() + policy.deadline
        content = None if body is None else json.dumps(body).encode()
        unsure = False
        for attempt in range(1, policy.attempts + 1):
            try:
                response = await self._send(method, path, content, deadline - self._clock())
            except _Retryable as failure:
                # Once a change may have reached NLPearl, it may have happened, whatever follows.
                unsure = unsure or (failure.maybe_done and changes)
                delay = _backoff(policy, attempt, failure.retry_after)
                left = deadline - self._clock() - delay
                # Only a request that surely did not reach NLPearl may be sent again unasked.
                if (
                    attempt == policy.attempts
                    or left < policy.min_attempt
                    or (unsure and not idempotent)
                ):
                    _give_up(method, path, failure, unsure=unsure)
                logger.info(
                    "NLPearl %s %s failed (%s); retry in %.2fs", method, path, failure.error, delay
                )
                await self._sleep(delay)
                continue
            if unsure and not response.is_success:
                # A refusal now may answer a change an earlier attempt already made.
                logger.warning(
                    "NLPearl did not confirm %s %s (then HTTP %s)",
                    method,
                    path,
                    response.status_code,
                )
                raise Unconfirmed()
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self, method: str, path: str, content: bytes | None, seconds: float
    ) -> httpx.Response:
        """One request that gives up after `seconds`; a 429 or 5xx raises `_Retryable`."""
        timeout = _capped(self._http.timeout, seconds)
        headers = self._headers
        if content is not None:
            headers = {**headers, "Content-Type": "application/json"}
        # Nothing leaves while the request waits for a slot, so timing out there is no doubt.
        started = False
        try:
            # httpx's timeouts bound each phase; this bounds the queue and a trickling answer too.
            async with asyncio.timeout(seconds), self._slots:
                started = True
                response = await self._http.request(
                    method, self._base + path, content=content, headers=headers, timeout=timeout
                )
        except _UNSENT as exc:
            raise _Retryable(_unreachable(exc), maybe_done=False) from exc
        except (httpx.TimeoutException, TimeoutError) as exc:
            late = Unavailable("NLPearl did not answer in time")
            raise _Retryable(late, maybe_done=started) from exc
        except httpx.TransportError as exc:
            raise _Retryable(_unreachable(exc), maybe_done=True) from exc
        _raise_if_passing(response)
        return response


def _give_up(method: str, path: str, failure: _Retryable, *, unsure: bool) -> NoReturn:
    """Raise the last failure's error, or `Unconfirmed` for a change that may have happened."""
    if not unsure:
        raise failure.error from None
    logger.warning("NLPearl did not confirm %s %s (%s)", method, path, failure.error)
    raise Unconfirmed() from failure.error


def _unreachable(exc: httpx.TransportError) -> Unavailable:
    return Unavailable(f"could not reach NLPearl ({type(exc).__name__})")


def _backoff(policy: RetryPolicy, attempt: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: what NLPearl asked for, else a jittered back-off."""
    if retry_after is not None:
        return retry_after
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    return random.uniform(0, ceiling)


def _capped(timeout: httpx.Timeout, seconds: float) -> httpx.Timeout:
    """`timeout` with no phase allowed longer than `seconds`."""

    def cap(phase: float | None) -> float:
        return seconds if phase is None else min(phase, seconds)

    return httpx.Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )


def _raise_if_passing(response: httpx.Response) -> None:
    """Raise `_Retryable` for an answer that need not be NLPearl's last word (429, 5xx)."""
    status = response.status_code
    if status == 429:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        limited = RateLimited("NLPearl is rate limiting requests")
        # A rate limit turns the request away before NLPearl acts on it.
        raise _Retryable(limited, wait, maybe_done=False)
    if status >= 500:
        failed = Unavailable(f"NLPearl had a server error (HTTP {status})")
        raise _Retryable(failed, maybe_done=True)


def _read(response: httpx.Response) -> Any:
    """The JSON body of the answer to a read, or the error its status means."""
    status = response.status_code
    # A GET carries nothing but IDs in its path, so a 400 means NLPearl knows no such thing.
    if status in (400, 404):
        raise NotFound(f"NLPearl has no such record (HTTP {status})")
    if not 200 <= status < 300:
        raise BadResponse(f"NLPearl answered HTTP {status}")
    if not response.content.strip():
        raise NotFound("NLPearl answered with an empty body")
    try:
        body = _decoded(response)
    except ValueError:
        raise BadResponse("NLPearl answered with something that is not JSON") from None
    if body is None:
        raise NotFound("NLPearl answered null")
    return body


def _written(response: httpx.Response) -> Any:
    """The JSON answer to a change (None if there is none to read), or the error it means."""
    status = response.status_code
    if status == 404:
        raise NotFound(f"NLPearl has no such lead or campaign (HTTP {status})")
    if status in (400, 409, 422):
        raise Rejected(f"NLPearl refused the change (HTTP {status})", rejection_reason(response))
    if not 200 <= status < 300:
        raise BadResponse(f"NLPearl answered HTTP {status}")
    body = _json_or_none(response)
    if body is False:
        raise Rejected("NLPearl answered false to the change")
    return body


def _decoded(response: httpx.Response) -> Any:
    """The JSON body; ValueError if it is not JSON, or nests too deeply to read."""
    try:
        return response.json()
    except RecursionError:
        raise ValueError("NLPearl's JSON nests too deeply") from None


def _json_or_none(response: httpx.Response) -> Any:
    """The JSON body of a 2xx, or None: the answer's shape for a change is not documented."""
    if not response.content.strip():
        return None
    try:
        return _decoded(response)
    except ValueError:
        logger.warning("NLPearl took a change but answered with something that is not JSON")
        return None


def _analytics_range(start: datetime, end: datetime) -> dict[str, Any]:
    """The Analytics body for a range; ValueError for one NLPearl would refuse, or naive times."""
    if start.tzinfo is None or end.tzinfo is None:
        # A naive time could be any zone's: guessing would shift the range by hours.
        raise ValueError("analytics times must be timezone-aware")
    start, end = _to_millisecond(start), _to_millisecond(end)
    # Checked as sent, so that no two times a microsecond apart go out as the same instant.
    if end <= start:
        raise ValueError(f"analytics range ends ({end}) before it starts ({start})")
    if end - start > ANALYTICS_MAX_RANGE:
        raise ValueError(f"analytics range is longer than {ANALYTICS_MAX_RANGE.days} days")
    return {"from": _utc_timestamp(start), "to": _utc_timestamp(end)}


def _to_millisecond(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _utc_timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and `Z`, the shape the `nlpearl` package sends."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _lead_page(body: Any) -> LeadPage:
    """A Search Leads answer: `{count, results}`, or the bare list of rows some servers send."""
    if isinstance(body, list):
        # A bare list says nothing of how many match in all: the count stays unknown.
        body = {"results": [row for row in body if isinstance(row, dict)]}
    if not isinstance(body, dict):
        raise BadResponse("NLPearl's lead search was not a JSON object or list")
    try:
        return LeadPage.model_validate(body)
    except ValidationError as exc:
        raise BadResponse("NLPearl's lead search could not be read") from exc


def _lead_or_none(body: Any) -> Lead | None:
    """The lead in an answer to a change, if it is one (a lead always has an ID)."""
    if not isinstance(body, dict):
        return None
    try:
        lead = Lead.model_validate(body)
    except ValidationError:
        return None
    return lead if lead.id else None


def _new_lead_id(body: Any) -> str | None:
    """The ID in an answer to Add Lead: `{"leadId": ...}` in any casing, or a bare string."""
    if isinstance(body, dict):
        by_key = {str(key).lower().replace("_", ""): value for key, value in body.items()}
        body = by_key.get("leadid") or by_key.get("id")
    if isinstance(body, str) and body.strip():
        return body.strip()
    return None


def _activity_status(body: Any) -> int | None:
    """The status in an answer to Set Active: a bare integer, digits, or an object holding one."""
    if isinstance(body, dict):
        by_key = {str(key).lower().replace("_", ""): value for key, value in body.items()}
        found = (by_key.get(key) for key in ("activitystatus", "status"))
        body = next((value for value in found if value is not None), None)
    # JSON true is a bool, which Python would otherwise read as 1.
    if isinstance(body, int) and not isinstance(body, bool):
        return body
    if isinstance(body, str) and body.strip().isascii() and body.strip().isdigit():
        return int(body.strip())
    return None


def rejection_reason(response: httpx.Response) -> str | None:
    """NLPearl's own words for refusing a change, on one line of at most `REASON_LIMIT`."""
    try:
        body = _decoded(response)
    except ValueError:
        text = response.text
        # Markup or broken JSON is a proxy's page or a fault, not words for a person.
        return None if text.lstrip().startswith(("<", "{", "[")) else _one_line(text)
    return _one_line(_words(body))


def _words(body: Any, depth: int = 0) -> str | None:
    """The first message in a JSON error body: a string, or under the keys messages go."""
    if isinstance(body, str):
        return body if body.strip() else None
    if depth >= _REASON_DEPTH:
        return None
    if isinstance(body, list):
        return next(filter(None, (_words(item, depth + 1) for item in body)), None)
    if not isinstance(body, dict):
        return None
    by_key = {str(key).lower(): value for key, value in body.items()}
    found = (
        _words(_messages(key, by_key[key]), depth + 1) for key in _REASON_KEYS if key in by_key
    )
    return next(filter(None, found), None)


def _messages(key: str, value: Any) -> Any:
    # ASP.NET's `errors` maps each field to its messages; any field's will do.
    if key == "errors" and isinstance(value, dict):
        return list(value.values())
    return value


def _one_line(text: str | None) -> str | None:
    """`text` as one line of printable characters, cut to `REASON_LIMIT`; None if blank."""
    if text is None:
        return None
    # Collapsed and cut first, a huge body is not walked character by character.
    short = " ".join(text.split())[: 2 * REASON_LIMIT]
    printable = "".join(char if char.isprintable() else " " for char in short)
    line = " ".join(printable.split())
    if len(line) > REASON_LIMIT:
        return line[: REASON_LIMIT - 1].rstrip() + "…"
    return line or None


def _parse(model: type[_Model], body: Any) -> _Model:
    if not isinstance(body, dict):
        raise BadResponse(f"NLPearl's {model.__name__.lower()} was not a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BadResponse(f"NLPearl's {model.__name__.lower()} could not be read") from exc
