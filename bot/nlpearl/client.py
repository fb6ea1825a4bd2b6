"""Async client for the NLPearl REST API: the reads Lead Bot needs, on either API version."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from bot.nlpearl.errors import (
    BadCredentials,
    BadResponse,
    NLPearlError,
    NotFound,
    RateLimited,
    Unavailable,
)
from bot.nlpearl.models import Call, Lead, Pearl

logger = logging.getLogger(__name__)

_Model = TypeVar("_Model", Lead, Call, Pearl)

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
MAX_CONCURRENT_REQUESTS = 16


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry an idempotent read before giving up."""

    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 2.0
    # A lookup must still answer while the user is looking at Slack.
    deadline: float = 8.0
    # An attempt with less time than this left would rarely be answered, so it is not started.
    min_attempt: float = 0.5


class _Retryable(Exception):
    def __init__(self, error: NLPearlError, retry_after: float | None = None) -> None:
        self.error = error
        self.retry_after = retry_after


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
    """Reads leads, calls and campaigns; every failure becomes an `NLPearlError`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str = "https://api.nlpearl.ai",
        version: str = "v2",
        retry: RetryPolicy | None = None,
        campaign_cache_seconds: float = 600.0,
        max_concurrent_requests: int = MAX_CONCURRENT_REQUESTS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
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

    async def get_call(self, call_id: str) -> Call:
        """One call with its transcript, summary, recording and answers."""
        return _parse(Call, await self._get(f"/Call/{_segment(call_id)}"))

    async def get_campaign(self, campaign_id: str) -> Pearl:
        """The campaign (a V2 Pearl or V1 Outbound), cached for a few minutes."""
        cached = self._campaigns.get(campaign_id)
        if cached and cached[0] > self._clock():
            return cached[1]
        resource = "Pearl" if self.version == "v2" else "Outbound"
        campaign = _parse(Pearl, await self._get(f"/{resource}/{_segment(campaign_id)}"))
        self._campaigns[campaign_id] = (self._clock() + self._campaign_ttl, campaign)
        return campaign

    async def list_campaigns(self) -> list[Pearl]:
        """Every campaign of the account."""
        resource = "Pearl" if self.version == "v2" else "Outbound"
        body = await self._get(f"/{resource}")
        if not isinstance(body, list):
            raise BadResponse("NLPearl's campaign list was not a list")
        return [Pearl.model_validate(item) for item in body if isinstance(item, dict)]

    async def check_credentials(self) -> None:
        """Raise `BadCredentials` unless NLPearl accepts the API key."""
        await self._get("/Account")

    async def _get(self, path: str) -> Any:
        """GET a path, retrying passing failures with jittered back-off, all within the deadline."""
        policy = self._retry
        deadline = self._clock() + policy.deadline
        for attempt in range(1, policy.attempts + 1):
            try:
                return await self._get_once(path, deadline - self._clock())
            except _Retryable as failure:
                delay = failure.retry_after
                if delay is None:
                    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
                    delay = random.uniform(0, ceiling)
                left = deadline - self._clock() - delay
                if attempt == policy.attempts or left < policy.min_attempt:
                    raise failure.error from None
                logger.info("NLPearl %s failed (%s); retry in %.2fs", path, failure.error, delay)
                await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _get_once(self, path: str, seconds: float) -> Any:
        """One GET that gives up after `seconds`, however slowly NLPearl answers."""
        timeout = _capped(self._http.timeout, seconds)
        try:
            # httpx's timeouts bound each phase; this bounds the queue and a trickling answer too.
            async with asyncio.timeout(seconds), self._slots:
                response = await self._http.get(
                    self._base + path, headers=self._headers, timeout=timeout
                )
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise _Retryable(Unavailable("NLPearl did not answer in time")) from exc
        except httpx.TransportError as exc:
            raise _Retryable(
                Unavailable(f"could not reach NLPearl ({type(exc).__name__})")
            ) from exc
        return _read(response)


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


def _read(response: httpx.Response) -> Any:
    """The JSON body of a response, or the error its status means."""
    status = response.status_code
    if status in (401, 403):
        raise BadCredentials(f"NLPearl rejected the API key (HTTP {status})")
    if status == 429:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        raise _Retryable(RateLimited("NLPearl is rate limiting requests"), wait)
    if status >= 500:
        raise _Retryable(Unavailable(f"NLPearl had a server error (HTTP {status})"))
    # A GET carries nothing but IDs in its path, so a 400 means NLPearl knows no such thing.
    if status in (400, 404):
        raise NotFound(f"NLPearl has no such record (HTTP {status})")
    if not 200 <= status < 300:
        raise BadResponse(f"NLPearl answered HTTP {status}")
    if not response.content.strip():
        raise NotFound("NLPearl answered with an empty body")
    try:
        body = response.json()
    except ValueError:
        raise BadResponse("NLPearl answered with something that is not JSON") from None
    if body is None:
        raise NotFound("NLPearl answered null")
    return body


def _parse(model: type[_Model], body: Any) -> _Model:
    if not isinstance(body, dict):
        raise BadResponse(f"NLPearl's {model.__name__.lower()} was not a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BadResponse(f"NLPearl's {model.__name__.lower()} could not be read") from exc
