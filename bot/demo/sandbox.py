"""The NLPearl sandbox of `lead-bot demo`: a simulated campaign, served and sent as webhooks.

The campaign (pure) is moved on a real clock, at a chosen speed; what it becomes is put into
the NLPearl API stand-in, and each of its events is POSTed to the registered webhook URLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from bot.demo import audio
from bot.demo.campaign import STATUS_LABELS, Campaign, Event, EventKind
from bot.demo.nlpearl_api import PAUSED, RUNNING, NLPearlStandIn

logger = logging.getLogger(__name__)

TICK = 0.25  # real seconds between moves of the campaign
# A stalled event loop moves the campaign on by at most this much real time at once.
LONGEST_STEP = 1.0
# Faster than 20x, webhooks would outrun Slack's one post a second per channel.
SLOWEST, FASTEST = 0.5, 20.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
DELIVERY_ATTEMPTS = 3
FIRST_BACKOFF = 0.2  # seconds, doubled after each failed attempt
DELIVERY_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# Webhooks waiting for one URL; beyond this the oldest go, so a dead app costs no memory.
BACKLOG = 500
# The stand-in records every request it serves; past this many they are forgotten.
MOST_RECORDS = 5000
DEMO_ACCOUNT = {"name": "Brightline Solar (demo)", "totalAgents": 3, "creditBalance": 250.0}

Json = dict[str, Any]


@dataclass
class _Subscriber:
    """A webhook URL, with the bodies waiting to be POSTed to it, oldest first."""

    url: str
    backlog: deque[Json] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    overflowing: bool = False


class Sandbox:
    """A simulated NLPearl campaign behind the API stand-in, sending Lead and Call webhooks."""

    def __init__(
        self, *, seed: int = 7, leads: int = 36, api_key: str = "demo-account:demo-secret"
    ) -> None:
        self.api_key = api_key
        self.api = NLPearlStandIn(api_key)
        self.campaign = Campaign(seed=seed, leads=leads, start=datetime.now(UTC))
        self.campaign_id = self.campaign.id
        self.campaign_name = self.campaign.name
        self._speed = 1.0
        self._simulated = 0.0  # seconds the campaign has been moved on
        # Guards the campaign and the settings against status() and set_pace() from any thread.
        self._lock = threading.Lock()
        self._subscribers: dict[str, _Subscriber] = {}
        # Each lead's status as last put into the stand-in: another means the app changed it.
        self._published: dict[str, int] = {}

    # Lifecycle

    def start(self) -> Self:
        """Serves the NLPearl API (and the recordings) on a free loopback port."""
        self.api.start()
        self.campaign.recordings_url = f"{self.api.url}/recordings"
        self.api.set_account(**DEMO_ACCOUNT)
        with self._lock:
            for call in self.campaign.call_earlier():
                self.api.add_call(call)
                if call["recording"]:
                    self.api.add_recording(
                        call["id"], audio.recording(call["id"], call["duration"])
                    )
            self._publish_new_leads()
            self._publish_campaign()
        return self

    def stop(self) -> None:
        """Stops serving the API."""
        self.api.stop()

    async def run(self, stopping: asyncio.Event) -> None:
        """Moves the campaign on and sends its webhooks until `stopping` is set."""
        loop = asyncio.get_running_loop()
        workers: dict[str, asyncio.Task[None]] = {}
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT, trust_env=False) as http:
            try:
                last = loop.time()
                while not stopping.is_set():
                    self._start_deliveries(http, workers)
                    now = loop.time()
                    await self._tick(min(now - last, LONGEST_STEP))
                    last = now
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stopping.wait(), TICK)
            finally:
                for worker in workers.values():
                    worker.cancel()
                await asyncio.gather(*workers.values(), return_exceptions=True)

    # Settings

    def send_webhooks_to(self, url: str) -> bool:
        """Sends Lead and Call webhooks to a loopback URL from now on; True if it is new."""
        if not _is_loopback(url):
            return False
        with self._lock:
            if url in self._subscribers:
                return False
            self._subscribers[url] = _Subscriber(url)
        return True

    def set_pace(self, *, paused: bool | None = None, speed: float | None = None) -> None:
        """Pauses or resumes the campaign, or sets its speed (clamped to 0.5-20 times real)."""
        with self._lock:
            if paused is not None:
                self.api.set_pearl_status(self.campaign_id, PAUSED if paused else RUNNING)
            if speed is not None:
                self._speed = min(FASTEST, max(SLOWEST, speed))

    def example_lead_id(self) -> str:
        """A lead worth looking up with `/lead`: one that has been called, if any has."""
        with self._lock:
            return self.campaign.example_lead_id()

    def status(self) -> Json:
        """What a status line shows: the campaign, its pace, leads by status, webhook URLs."""
        with self._lock:
            counts = self.campaign.counts()
            return {
                "campaign_id": self.campaign_id,
                "campaign_name": self.campaign_name,
                "paused": self._paused(),
                "speed": self._speed,
                "counts": {STATUS_LABELS[code]: n for code, n in counts.items()},
                "webhooks": list(self._subscribers),
            }

    # Moving on

    async def _tick(self, seconds: float) -> None:
        """Moves the campaign on by `seconds` of real time, unless paused, and tells of it."""
        with self._lock:
            events = self._follow_lead_writes()
            if not self._paused():
                self._simulated += seconds * self._speed
                moment = self.campaign.start + timedelta(seconds=self._simulated)
                events += self.campaign.advance(moment)
        await self._record_calls(events)
        with self._lock:
            self._publish(events)
        self._send(events)

    def _paused(self) -> bool:
        """Whether the campaign is paused, as the stand-in holds it (Set Active, or the page)."""
        return self.api.pearl_status(self.campaign_id) not in (None, RUNNING)

    def _follow_lead_writes(self) -> list[Event]:
        """Takes in what the app did to leads through the API: added them, or set a status."""
        for lead in self.api.leads_of(self.campaign_id):
            published = self._published.get(lead["id"])
            if published is None:
                self.campaign.adopt(lead)
            elif lead.get("status") != published and isinstance(lead.get("status"), int):
                self.campaign.set_status(lead["id"], lead["status"])
        return self.campaign.take_events()

    async def _record_calls(self, events: list[Event]) -> None:
        """Makes the recordings of the calls that ended (in a thread: it takes a while)."""
        ended = [
            (str(event.webhook["id"]), float(event.webhook["duration"]))
            for event in events
            if event.kind is EventKind.CALL_ENDED and event.webhook["recording"]
        ]
        if not ended:
            return
        recordings = await asyncio.to_thread(
            lambda: [(call_id, audio.recording(call_id, seconds)) for call_id, seconds in ended]
        )
        for call_id, wav in recordings:
            self.api.add_recording(call_id, wav)

    def _publish(self, events: list[Event]) -> None:
        """Puts what changed into the stand-in: calls, leads (new ones too), totals."""
        for event in events:
            if event.call_id is not None:
                self.api.add_call(self.campaign.call(event.call_id))
        changed = dict.fromkeys(event.lead_id for event in events)
        for lead_id in changed:
            self._put_lead(lead_id)
        self._publish_new_leads()
        if events:
            self._publish_campaign()
        if len(self.api.requests()) > MOST_RECORDS:
            # Forgets analytics too: published again at once.
            self.api.reset()
            self._publish_campaign()

    def _publish_campaign(self) -> None:
        self.api.put_pearl_keeping_status(self.campaign.pearl())
        self.api.set_analytics(self.campaign_id, self.campaign.analytics())

    def _put_lead(self, lead_id: str) -> None:
        """Puts one lead into the stand-in, unless the app changed it meanwhile (next tick's)."""
        lead = self.campaign.lead(lead_id)
        if self.api.put_lead_unless_changed(self.campaign_id, lead, self._published.get(lead_id)):
            self._published[lead_id] = lead["status"]

    def _publish_new_leads(self) -> None:
        """Puts leads the campaign imported into the stand-in; takes out those it retired."""
        for lead_id, call_ids in self.campaign.take_retired():
            self.api.forget_lead(self.campaign_id, lead_id, call_ids)
            self._published.pop(lead_id, None)
        for lead_id in self.campaign.lead_ids():
            if lead_id not in self._published:
                self._put_lead(lead_id)

    # Webhooks

    def _send(self, events: list[Event]) -> None:
        """Queues each event's webhook for every URL, in order."""
        with self._lock:
            subscribers = list(self._subscribers.values())
        for subscriber in subscribers:
            for event in events:
                if len(subscriber.backlog) >= BACKLOG:
                    subscriber.backlog.popleft()
                    if not subscriber.overflowing:
                        logger.warning(
                            "Webhooks to %s are backing up; dropping the oldest", subscriber.url
                        )
                    subscriber.overflowing = True
                subscriber.backlog.append(event.webhook)
            if events:
                subscriber.wake.set()

    def _start_deliveries(
        self, http: httpx.AsyncClient, workers: dict[str, asyncio.Task[None]]
    ) -> None:
        with self._lock:
            subscribers = list(self._subscribers.values())
        for subscriber in subscribers:
            worker = workers.get(subscriber.url)
            if worker is not None and worker.done():
                # It only ends by failing: say why, and start it again on its backlog.
                logger.error("Webhooks to %s stopped", subscriber.url, exc_info=worker.exception())
                worker = None
            if worker is None:
                workers[subscriber.url] = asyncio.create_task(_deliver(http, subscriber))


async def _deliver(http: httpx.AsyncClient, subscriber: _Subscriber) -> None:
    """POSTs a URL's webhooks one at a time, in order, for as long as the sandbox runs."""
    while True:
        if not subscriber.backlog:
            subscriber.overflowing = False
            subscriber.wake.clear()
            await subscriber.wake.wait()
            continue
        await _post(http, subscriber.url, subscriber.backlog.popleft())


async def _post(http: httpx.AsyncClient, url: str, body: Json) -> bool:
    """POSTs one webhook, retrying with back-off; False (and a log line) if it never got in."""
    delay, problem = FIRST_BACKOFF, ""
    for attempt in range(1, DELIVERY_ATTEMPTS + 1):
        try:
            response = await http.post(url, json=body)
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        else:
            if response.is_success:
                return True
            problem = f"HTTP {response.status_code}"
        if attempt < DELIVERY_ATTEMPTS:
            await asyncio.sleep(delay)
            delay *= 2
    logger.warning(
        "Dropped a webhook to %s after %d attempts (%s)", url, DELIVERY_ATTEMPTS, problem
    )
    return False


def _is_loopback(url: str) -> bool:
    """Whether a URL is plain http to this machine's loopback address, as the demo allows."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        return False
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and not parts.username
