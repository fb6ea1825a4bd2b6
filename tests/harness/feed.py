"""Helpers for end-to-end tests of the channel feed: subscribe, send lead webhooks, read threads.

A *plan* is the list of Lead Webhooks to send, each lead's statuses in the order NLPearl
would send them. What reached "Slack" is read back from the Slack stand-in's kept messages:
each lead's parent message (recognised by its metadata and the lead ID in its footer) and
the status lines of the replies in its thread.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bot.nlpearl.statuses import LEAD_STATUSES, lead_status
from tests.harness.log_scan import remember_webhook_token, watch
from tests.harness.processes import (
    STARTUP_TIMEOUT,
    LoggedProcess,
    ServerProcess,
    free_port,
    server_environment,
)
from tests.harness.slack_requests import blocks_text, send_command
from tests.standins import NLPearlStandIn, SlackStandIn

PARENT_EVENT = "lead_bot_parent"
REPLY_EVENT = "lead_bot_reply"
WEBHOOK_PATH = re.compile(r"/nlpearl/webhooks/[A-Za-z0-9_-]{16,128}")
LEAD_IN_FOOTER = re.compile(r"Lead `([0-9a-f]{24})`")
POLL_SECONDS = 0.25
OPEN_STATES = ("pending", "claimed")
FIRST_NAMES = ("Ana", "Ben", "Chen", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jae")


# Campaigns and subscriptions


def campaign_id(number: int) -> str:
    """A campaign (Pearl) ID in NLPearl's 24-hex-digit form."""
    return f"{0xC0FFEE00 + number:024x}"


def add_campaign(nlpearl: NLPearlStandIn, campaign: str) -> None:
    """Makes the NLPearl stand-in know a campaign, so subscribing to it works."""
    nlpearl.add_pearl({"id": campaign, "name": f"Campaign {campaign[-4:]}", "type": 2, "status": 1})


def subscribe(server: ServerProcess, slack: SlackStandIn, channel: str, campaign: str) -> str:
    """Subscribes `channel` with a signed `/lead subscribe`; returns the webhook URL's path."""
    name = f"subscribe-{channel}-{campaign}"
    acked = send_command(
        server.events_url, f"subscribe {campaign}", slack.response_url(name), channel_id=channel
    )
    assert acked.status_code == 200, acked.text
    reply = slack.wait_for_responses(1, name, timeout=15)[0]
    found = WEBHOOK_PATH.search(blocks_text(reply))
    assert found, f"no webhook URL in the subscribe reply: {reply}"
    remember_webhook_token(found.group(0).rsplit("/", 1)[1])
    return found.group(0)


# What to send


@dataclass(frozen=True)
class Lead:
    """A lead of a campaign, as its webhooks describe it."""

    id: str
    phone: str
    first_name: str
    campaign: str


@dataclass(frozen=True)
class Event:
    """One Lead Webhook: `lead` moved to `status`; `seq` is its place among the lead's events."""

    lead: Lead
    status: int
    seq: int

    def payload(self) -> dict[str, Any]:
        """The V2 Lead Webhook body."""
        return {
            "id": self.lead.id,
            "externalId": f"crm-{self.lead.id[-6:]}",
            "phoneNumber": self.lead.phone,
            "status": self.status,
            "callsId": [f"{self.lead.id[:20]}{n:04x}" for n in range(self.seq)],
            "callData": {"firstName": self.lead.first_name, "lastName": f"#{self.lead.id[-4:]}"},
            "collectedData": {"step": self.seq},
        }


def make_leads(count: int, campaigns: Sequence[str], *, first: int = 0) -> list[Lead]:
    """`count` distinct leads, spread round-robin over `campaigns`."""
    return [
        Lead(
            id=f"{0x66AA0000 + first + n:024x}",
            phone=f"+1415555{first + n:04d}",
            first_name=FIRST_NAMES[n % len(FIRST_NAMES)],
            campaign=campaigns[n % len(campaigns)],
        )
        for n in range(count)
    ]


def make_plan(leads: Sequence[Lead], per_lead: int, rng: random.Random) -> list[Event]:
    """`per_lead` events per lead, distinct statuses each, the leads interleaved at random.

    Statuses of one lead never repeat, so each (lead, status) pair names one webhook.
    """
    codes = sorted(LEAD_STATUSES)
    assert per_lead <= len(codes)
    queues = {
        lead.id: [Event(lead, code, seq) for seq, code in enumerate(rng.sample(codes, per_lead))]
        for lead in leads
    }
    order = [lead_id for lead_id, queue in queues.items() for _ in queue]
    rng.shuffle(order)
    return [queues[lead_id].pop(0) for lead_id in order]


@dataclass
class Sent:
    """What was sent and acknowledged, and when sending started and ended."""

    events: list[Event] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0


def post_webhook(client: httpx.Client, url: str, event: Event) -> None:
    """POSTs one webhook and checks the app stored it."""
    response = client.post(url, json=event.payload(), timeout=30)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text}"
    assert response.json().get("status") == "stored", response.text


def send_in_order(plan: Sequence[Event], url_of: Callable[[int, Event], str]) -> Sent:
    """Sends the plan one webhook at a time, in order; `url_of(index, event)` says where."""
    sent = Sent(started=time.monotonic())
    with httpx.Client() as client:
        for index, event in enumerate(plan):
            post_webhook(client, url_of(index, event), event)
            sent.events.append(event)
    sent.finished = time.monotonic()
    return sent


def send_concurrently(
    plan: Sequence[Event], url_of: Callable[[int, Event], str], *, workers: int = 16
) -> Sent:
    """Sends the plan with a pool of senders: each lead's webhooks in order, leads in parallel.

    A lead's events go out one after another (each acknowledged before the next), so the
    order the app must keep is well defined; different leads race each other freely.
    """
    by_lead: dict[str, list[tuple[int, Event]]] = {}
    for index, event in enumerate(plan):
        by_lead.setdefault(event.lead.id, []).append((index, event))
    sent = Sent(events=list(plan), started=time.monotonic())
    with httpx.Client(limits=httpx.Limits(max_connections=workers)) as client:

        def send_lead(items: list[tuple[int, Event]]) -> None:
            for index, event in items:
                post_webhook(client, url_of(index, event), event)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(send_lead, items) for items in by_lead.values()]:
                future.result()
    sent.finished = time.monotonic()
    return sent


# What reached Slack


def status_text(code: int) -> str:
    """How a reply names a status, e.g. `✅ Success`."""
    return lead_status(code).text


def reply_statuses(message: dict[str, Any]) -> list[str]:
    """The new status of each change line of a thread reply, in order.

    A line reads `☑️ Completed → ✅ Success · <!date^…>` (or only the new status).
    """
    blocks = message.get("blocks") or []
    if not blocks or blocks[0].get("type") != "section" or "text" not in blocks[0]:
        return []
    lines = str(blocks[0]["text"].get("text", "")).splitlines()
    return [line.rsplit(" · ", 1)[0].split(" → ")[-1] for line in lines]


def _event_of(message: dict[str, Any]) -> tuple[str | None, str | None]:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type"), payload.get("marker")


@dataclass
class ChannelFeed:
    """A channel's feed as Slack shows it, read from the stand-in's kept messages."""

    channel: str
    parents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    replies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    strays: list[dict[str, Any]] = field(default_factory=list)

    def statuses(self, lead_id: str) -> list[str]:
        """The statuses the lead's thread replies announce, oldest first."""
        return [s for reply in self.replies.get(lead_id, []) for s in reply_statuses(reply)]

    def delivered(self) -> int:
        """How many status changes all threads announce."""
        return sum(len(self.statuses(lead_id)) for lead_id in self.replies)

    def reply_count(self) -> int:
        """How many thread replies there are."""
        return sum(len(replies) for replies in self.replies.values())

    def markers(self, event_type: str) -> Counter[str | None]:
        """How often each metadata marker occurs on messages of one event type."""
        messages = [m for group in (*self.parents.values(), *self.replies.values()) for m in group]
        return Counter(marker for kind, marker in map(_event_of, messages) if kind == event_type)


def read_feed(slack: SlackStandIn, channel: str) -> ChannelFeed:
    """The channel's parents by lead, their replies by lead (in ts order), and anything else."""
    feed = ChannelFeed(channel)
    messages = slack.messages(channel)
    lead_of_parent: dict[str, str] = {}
    for message in messages:
        if message.get("thread_ts") not in (None, message["ts"]):
            continue
        found = LEAD_IN_FOOTER.search(blocks_text(message))
        if _event_of(message)[0] == PARENT_EVENT and found:
            feed.parents.setdefault(found.group(1), []).append(message)
            lead_of_parent[message["ts"]] = found.group(1)
        else:
            feed.strays.append(message)
    for message in messages:
        thread_ts = message.get("thread_ts")
        if thread_ts in (None, message["ts"]):
            continue
        lead_id = lead_of_parent.get(thread_ts)
        if lead_id is None or _event_of(message)[0] != REPLY_EVENT:
            feed.strays.append(message)
        else:
            feed.replies.setdefault(lead_id, []).append(message)
    for replies in feed.replies.values():
        replies.sort(key=lambda m: float(m["ts"]))
    return feed


def expected_statuses(events: Iterable[Event]) -> dict[str, list[str]]:
    """Each lead's statuses in the order they were sent."""
    expected: dict[str, list[str]] = {}
    for event in events:
        expected.setdefault(event.lead.id, []).append(status_text(event.status))
    return expected


def feed_problems(feed: ChannelFeed, events: Sequence[Event]) -> list[str]:
    """Everything wrong with a channel's feed for these events: lost, doubled, out of order."""
    problems: list[str] = []
    expected = expected_statuses(events)
    for lead_id, statuses in expected.items():
        parents = feed.parents.get(lead_id, [])
        if len(parents) != 1:
            problems.append(f"lead {lead_id}: {len(parents)} parent messages, expected 1")
        shown = feed.statuses(lead_id)
        if shown != statuses:
            lost = sorted((Counter(statuses) - Counter(shown)).elements())
            doubled = sorted((Counter(shown) - Counter(statuses)).elements())
            problems.append(
                f"lead {lead_id}: replies announce {shown}, sent {statuses}"
                f" (lost {lost}, extra {doubled})"
            )
    for lead_id in set(feed.parents) - set(expected):
        problems.append(f"lead {lead_id} has a thread but no events were sent for it")
    for event_type in (PARENT_EVENT, REPLY_EVENT):
        for marker, count in feed.markers(event_type).items():
            if count > 1:
                problems.append(f"{count} {event_type} messages share the marker {marker}")
    if feed.strays:
        problems.append(f"{len(feed.strays)} messages outside any lead thread: {feed.strays[:3]}")
    return problems


# The database, to know when delivery has settled


def open_deliveries(database_url: str) -> int:
    """How many deliveries are still pending or claimed."""
    query = "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'claimed')"
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
            return int(conn.execute(query).fetchone()[0])

    async def count() -> int:
        conn = await asyncpg.connect(database_url.replace("+asyncpg", ""), timeout=10)
        try:
            return int(await conn.fetchval(query))
        finally:
            await conn.close()

    return asyncio.run(count())


def delivery_states(database_url: str) -> dict[str, int]:
    """How many deliveries are in each state (for failure messages)."""
    query = "SELECT state, count(*) FROM deliveries GROUP BY state"
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
            return {str(state): int(n) for state, n in conn.execute(query)}

    async def states() -> dict[str, int]:
        conn = await asyncpg.connect(database_url.replace("+asyncpg", ""), timeout=10)
        try:
            return {str(row[0]): int(row[1]) for row in await conn.fetch(query)}
        finally:
            await conn.close()

    return asyncio.run(states())


def claims_by_worker(database_url: str) -> Counter[str]:
    """How many deliveries each delivery loop (by worker id) claimed last, on PostgreSQL."""

    async def fetch() -> Counter[str]:
        conn = await asyncpg.connect(database_url, timeout=10)
        try:
            rows = await conn.fetch("SELECT claimed_by, count(*) FROM deliveries GROUP BY 1")
        finally:
            await conn.close()
        return Counter({str(row[0]): int(row[1]) for row in rows})

    return asyncio.run(fetch())


def wait_until_settled(
    slack: SlackStandIn,
    channels: Sequence[str],
    events: Sequence[Event],
    *,
    database_url: str,
    processes: Sequence[Any],
    timeout: float,
) -> dict[str, ChannelFeed]:
    """Polls (bounded) until every event is announced and nothing is left to deliver.

    Returns each channel's feed; raises with the progress so far and the processes' output
    when the deadline passes or a process dies. Callers then assert on the feeds.
    """
    deadline = time.monotonic() + timeout
    total = len(events)
    while True:
        feeds = {channel: read_feed(slack, channel) for channel in channels}
        delivered = sum(feed.delivered() for feed in feeds.values())
        remaining = open_deliveries(database_url)
        if delivered >= total and remaining == 0:
            return feeds
        dead = [p for p in processes if p.process.poll() is not None]
        if dead or time.monotonic() >= deadline:
            why = "a process exited" if dead else f"not settled within {timeout:.0f}s"
            raise AssertionError(
                f"{why}: {delivered} of {total} status changes announced, "
                f"deliveries by state {delivery_states(database_url)}\n"
                + "\n".join(tail(p) for p in processes)
            )
        time.sleep(POLL_SECONDS)


def tail(process: Any, lines: int = 40) -> str:
    """The last lines a server or worker process wrote."""
    output = process.output().splitlines()[-lines:]
    return f"--- {process.log_path.name} ---\n" + "\n".join(output)


LOG_RECORD_START = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} |(INFO|WARNING|ERROR|CRITICAL|DEBUG):\s)"
)


def log_records(process: Any) -> list[str]:
    """The process's log records, each with the traceback lines that follow it."""
    records: list[str] = []
    for line in process.output().splitlines():
        if LOG_RECORD_START.match(line) or not records:
            records.append(line)
        else:
            records[-1] += "\n" + line
    return records


def tracebacks(
    processes: Iterable[Any], *, known: Callable[[str], bool] = lambda _record: False
) -> list[str]:
    """Log records with a traceback in the processes' output, except those `known` accepts."""
    return [
        f"--- {process.log_path.name} ---\n{record}"
        for process in processes
        for record in log_records(process)
        if "Traceback (most recent call last)" in record and not known(record)
    ]


def close_replies(slack: SlackStandIn, within: float) -> list[float]:
    """Gaps under `within` seconds between replies in two threads of one channel.

    The app paces each channel to one batch per two post intervals, so with `within` well
    under that, each gap is two batches of one channel being delivered at the same time.
    """
    replies: dict[str, list[Any]] = {}
    for record in slack.records("chat.postMessage"):
        if record.ok and "thread_ts" in record.body:
            replies.setdefault(str(record.body.get("channel")), []).append(record)
    gaps = []
    for records in replies.values():
        records.sort(key=lambda r: r.at)
        for earlier, later in itertools.pairwise(records):
            gap = later.at - earlier.at
            if earlier.body["thread_ts"] != later.body["thread_ts"] and gap < within:
                gaps.append(round(gap, 3))
    return sorted(gaps)


# Processes


def kill_hard(server: ServerProcess) -> None:
    """SIGKILL: no shutdown, no finishing in-flight work, as when a dyno dies."""
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)


class WorkerProcess(LoggedProcess):
    """A running `python -m bot worker` process and where its output goes."""


def bot_environment(
    env_overrides: Mapping[str, str | None],
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    workdir: Path,
) -> dict[str, str]:
    """The environment a server of `start_server` gets (its PORT unused by other commands)."""
    return server_environment(free_port(), workdir, slack, nlpearl, env_overrides)


def run_migrate(env: Mapping[str, str], workdir: Path) -> None:
    """`python -m bot migrate`, which must succeed."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env=dict(env),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def start_worker(
    env: Mapping[str, str], workdir: Path, timeout: float = STARTUP_TIMEOUT
) -> WorkerProcess:
    """Starts `python -m bot worker` and waits until its delivery loop runs."""
    log_path = workdir / f"worker-{free_port()}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            env=dict(env),
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    watch(log_path, env)  # scanned for secrets at the end of the run
    worker = WorkerProcess(process, log_path)
    deadline = time.monotonic() + timeout
    while "Delivery loop" not in worker.output():
        if process.poll() is not None or time.monotonic() >= deadline:
            worker.terminate()
            raise RuntimeError(f"the worker did not start; output:\n{worker.output()}")
        time.sleep(0.1)
    return worker
