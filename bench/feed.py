"""What the channel-feed benchmarks share: subscribed channels, databases, the outbox's state.

Channels are subscribed exactly as the end-to-end tests do it (`tests/e2e/feed.py`): a signed
`/lead subscribe CAMPAIGN` whose reply, posted to the Slack stand-in's response_url, shows the
webhook URL. Each channel gets its own campaign (the sample Pearl first, then campaigns added
to the NLPearl stand-in), so each webhook queues exactly one delivery and channels never share
Slack's per-channel pacing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import pytest

from bench.common import BenchEnvironment
from bot.demo.nlpearl_api import SAMPLE_PEARL_ID
from tests.harness.feed import (
    add_campaign,
    bot_environment,
    campaign_id,
    open_deliveries,
    run_migrate,
    subscribe,
)
from tests.harness.processes import ServerProcess
from tests.postgres import temporary_database

POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Feed:
    """Subscribed channels: channel `i` follows campaign `campaigns[i]` through `paths[i]`."""

    channels: list[str]
    campaigns: list[str]
    paths: list[str]


def subscribe_channels(
    env: BenchEnvironment, server: ServerProcess, count: int, prefix: str
) -> Feed:
    """Subscribes `count` channels, each to a campaign of its own, with signed commands."""
    channels, campaigns, paths = [], [], []
    for number in range(count):
        campaign = SAMPLE_PEARL_ID if number == 0 else campaign_id(number)
        if number:
            add_campaign(env.nlpearl, campaign)
        channel = f"C0{prefix.upper()}{number:04d}"
        paths.append(subscribe(server, env.slack, channel, campaign))
        channels.append(channel)
        campaigns.append(campaign)
    return Feed(channels, campaigns, paths)


@contextlib.contextmanager
def postgres_database(env: BenchEnvironment) -> Iterator[str]:
    """A fresh PostgreSQL database (tests/postgres.py), migrated with `python -m bot migrate`."""
    try:
        with temporary_database() as url:
            migrate_env = bot_environment(
                {"DATABASE_URL": url}, env.slack, env.nlpearl, env.workdir
            )
            run_migrate(migrate_env, env.workdir)
            yield url
    except (pytest.skip.Exception, pytest.fail.Exception) as error:
        # temporary_database() skips (or fails, in CI) like a test; here that is an error.
        raise RuntimeError(str(error)) from None


def sqlite_url(env: BenchEnvironment) -> str:
    """The SQLite database every app started by `env.start_app()` uses by default."""
    return f"sqlite+aiosqlite:///{env.workdir / 'e2e.db'}"


def wait_drained(database_url: str, timeout: float) -> tuple[float, int]:
    """Polls until no delivery is pending or claimed: (seconds waited, rows still open)."""
    started = time.perf_counter()
    remaining = open_deliveries(database_url)
    while remaining and time.perf_counter() - started < timeout:
        time.sleep(POLL_SECONDS)
        remaining = open_deliveries(database_url)
    return time.perf_counter() - started, remaining


def posts(env: BenchEnvironment, channels: set[str] | None = None) -> int:
    """Successful chat.postMessage calls the Slack stand-in answered (to `channels` if given)."""
    return sum(
        1
        for record in env.slack.records("chat.postMessage")
        if record.ok and (channels is None or str(record.body.get("channel")) in channels)
    )


class SessionSampler:
    """Samples what a PostgreSQL database's other sessions are doing, in a thread, bounded.

    Every POLL of pg_stat_activity counts each session of the database (but its own) as
    waiting on a lock, idle in a transaction (waiting for its client, the app), running, or
    idle; `shares()` gives each as a share of all samples of non-idle sessions.
    """

    POLL = 0.02  # seconds between samples
    MAX_SECONDS = 120.0  # stops by itself after this long
    QUERY = (
        "SELECT CASE WHEN wait_event_type = 'Lock' THEN 'waiting on a lock' "
        "WHEN state = 'idle in transaction' THEN 'idle in transaction' "
        "WHEN state = 'active' THEN 'running' ELSE 'idle' END, count(*) "
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "GROUP BY 1"
    )

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._stop = threading.Event()
        self._counts: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._run, name="pg-sampler", daemon=True)

    def __enter__(self) -> SessionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._sample())

    async def _sample(self) -> None:
        connection = await asyncpg.connect(self._url, timeout=10)
        deadline = time.monotonic() + self.MAX_SECONDS
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                for kind, count in await connection.fetch(self.QUERY):
                    self._counts[str(kind)] += int(count)
                await asyncio.sleep(self.POLL)
        finally:
            await connection.close()

    def shares(self) -> dict[str, float]:
        """Each kind of busy session's share of all busy-session samples."""
        busy = {kind: n for kind, n in self._counts.items() if kind != "idle"}
        total = sum(busy.values())
        return {kind: n / total for kind, n in busy.items()} if total else {}
