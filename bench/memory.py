"""Memory: the app's resident memory as lookups accumulate, to catch leaks.

A fresh app answers 1,000 lookups (the sample leads by ID, external ID and phone number, in
turn), CONCURRENCY at a time, each waiting for its card before the next is sent. Its RSS (psutil,
on the server's PID) is read after start and after 200, 500 and 1,000 lookups, each time once
every card of the batch has arrived and the app has had SETTLE seconds to finish the work that
follows a card (it records the lookup in its database after posting). Then, to tell a backlog
from a leak, once the app has gone idle, and after SEQUENTIAL_LOOKUPS more sent one at a time.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil

from bench.common import BenchEnvironment, Outcome, bench_environment, rss_mb, signed_command
from bot.demo.nlpearl_api import (
    SAMPLE_LEAD_EXTERNAL_ID,
    SAMPLE_LEAD_ID,
    SAMPLE_LEAD_MANY_CALLS_ID,
    SAMPLE_LEAD_NO_CALLS_ID,
    SAMPLE_LEAD_PHONE,
    SAMPLE_PEARL_ID,
)

CHECKPOINTS = (200, 500, 1000)
CONCURRENCY = 8
SEQUENTIAL_LOOKUPS = 300  # after the checkpoints, one at a time
CARD_TIMEOUT = 10.0  # seconds for one card
BATCH_TIMEOUT = 120.0  # seconds for one batch of lookups
SETTLE = 0.5  # seconds after a batch before reading RSS
IDLE_CPU = 0.05  # the app counts as idle below this share of a core over IDLE_WINDOW
IDLE_WINDOW = 0.5  # seconds
IDLE_TIMEOUT = 30.0  # seconds to wait for the app to go idle after the last lookup
MAX_RSS_MB = 150.0
# "Not growing": from 500 to 1,000 lookups RSS may rise by at most this much. A leak of even
# 10 KB per lookup (well under one lead card with its calls) would add 5 MB.
MAX_GROWTH_MB = 5.0
KEYS = (
    SAMPLE_LEAD_ID,
    SAMPLE_LEAD_MANY_CALLS_ID,
    SAMPLE_LEAD_EXTERNAL_ID,
    SAMPLE_LEAD_PHONE,
    SAMPLE_LEAD_NO_CALLS_ID,
)


class _Lookups:
    """Numbered lookups against one app; thread-safe; every wait bounded."""

    def __init__(self, env: BenchEnvironment, events_url: str) -> None:
        self._env = env
        self._url = events_url
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()
        self.cards = 0

    def _client(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(timeout=10)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def one(self, number: int) -> None:
        name = f"memory-{number}"
        text = f"{SAMPLE_PEARL_ID} {KEYS[number % len(KEYS)]}"
        body, headers = signed_command(text, self._env.receiver.url(name))
        self._client().post(self._url, content=body, headers=headers).raise_for_status()
        arrival = self._env.receiver.wait_for(name, 1, CARD_TIMEOUT)[0]
        if arrival.is_card:
            with self._lock:
                self.cards += 1

    def batch(self, pool: ThreadPoolExecutor, first: int, last: int) -> None:
        """Lookups first..last-1, CONCURRENCY at a time; raises the first failure."""
        futures = [pool.submit(self.one, number) for number in range(first, last)]
        deadline = time.monotonic() + BATCH_TIMEOUT
        try:
            for future in futures:
                future.result(timeout=max(0.1, deadline - time.monotonic()))
        except BaseException:
            for future in futures:
                future.cancel()  # the ones not started yet; the others end within their timeouts
            raise

    def close(self) -> None:
        for client in self._clients:
            client.close()


def _wait_idle(pid: int) -> float | None:
    """Seconds until the process uses < IDLE_CPU of a core over IDLE_WINDOW; None on timeout."""
    process = psutil.Process(pid)
    started = time.perf_counter()
    while time.perf_counter() - started < IDLE_TIMEOUT:
        before = sum(process.cpu_times()[:2])
        time.sleep(IDLE_WINDOW)
        if sum(process.cpu_times()[:2]) - before < IDLE_CPU * IDLE_WINDOW:
            return time.perf_counter() - started - IDLE_WINDOW
    return None


def run() -> Outcome:
    """Start, look up in batches up to each checkpoint, read RSS after each."""
    began = time.perf_counter()
    with bench_environment() as env:
        app = env.start_app()
        pid = app.process.pid
        readings: list[tuple[int, float]] = [(0, rss_mb(pid))]
        lookups = _Lookups(env, app.events_url)
        cpu_before = sum(psutil.Process(pid).cpu_times()[:2])
        done = 0
        try:
            with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="lookup") as pool:
                for checkpoint in CHECKPOINTS:
                    lookups.batch(pool, done, checkpoint)
                    done = checkpoint
                    time.sleep(SETTLE)
                    readings.append((done, rss_mb(pid)))
            idle_after = _wait_idle(pid)
            cpu_per_lookup = (sum(psutil.Process(pid).cpu_times()[:2]) - cpu_before) / done
            rest = rss_mb(pid)
            # Then lookups one at a time, which leave nothing queued behind the card: growth
            # here would be a leak, not a backlog.
            with ThreadPoolExecutor(1, thread_name_prefix="lookup") as pool:
                lookups.batch(pool, done, done + SEQUENTIAL_LOOKUPS)
            _wait_idle(pid)
            after_sequential = rss_mb(pid)
        finally:
            lookups.close()
        peak = max(mb for _, mb in readings)
    by_count = dict(readings)
    growth = by_count[1000] - by_count[500]
    cards_expected = done + SEQUENTIAL_LOOKUPS
    passed = peak < MAX_RSS_MB and growth <= MAX_GROWTH_MB and lookups.cards == cards_expected
    figures = [
        (f"RSS after {'start' if n == 0 else f'{n:,} lookups'}", f"{mb:.1f} MB")
        for n, mb in readings
    ]
    figures += [
        (
            "Growth from 500 to 1,000 lookups",
            f"{growth:+.1f} MB ({growth * 1024 / 500:+.1f} KB per lookup)",
        ),
        ("Growth from start to 1,000 lookups", f"{by_count[1000] - by_count[0]:+.1f} MB"),
        (
            "App busy after the last card (work still queued)",
            f"{idle_after:.1f} s" if idle_after is not None else f"over {IDLE_TIMEOUT:.0f} s",
        ),
        ("RSS once the app was idle again", f"{rest:.1f} MB"),
        (
            f"Then {SEQUENTIAL_LOOKUPS} more lookups one at a time",
            f"RSS {after_sequential:.1f} MB ({after_sequential - rest:+.1f} MB)",
        ),
        ("Answers that were lead cards", f"{lookups.cards:,} of {done + SEQUENTIAL_LOOKUPS:,}"),
        (
            "App CPU per lookup (ack, lookup, card, database)",
            f"{cpu_per_lookup * 1000:.1f} ms, so at most ~{1 / cpu_per_lookup:.0f} lookups/s "
            "per core",
        ),
    ]
    return Outcome(
        title="Memory",
        measures="The app's resident memory after start and as lookups accumulate.",
        method=(
            f"The real app via `start_server`, NLPearl stand-in without added latency. "
            f"{CHECKPOINTS[-1]:,} lookups ({len(KEYS)} sample leads by ID, external ID and phone "
            f"number, in turn), {CONCURRENCY} in flight, each waiting for its card. RSS by psutil "
            f"on the server PID after start and after {', '.join(f'{n:,}' for n in CHECKPOINTS)} "
            f"lookups, each {SETTLE} s after the batch's last card; then again once the app has "
            f"gone idle (under {IDLE_CPU:.0%} of a core over {IDLE_WINDOW} s), which shows how "
            f"much work was still queued behind the cards; then after {SEQUENTIAL_LOOKUPS} more "
            f"lookups sent one at a time (nothing queued behind them), once idle again."
        ),
        goal=(
            f"RSS < {MAX_RSS_MB:.0f} MB after {CHECKPOINTS[-1]:,} lookups and not growing: at most "
            f"{MAX_GROWTH_MB:.0f} MB more after 1,000 than after 500."
        ),
        passed=passed,
        figures=figures,
        notes=[],
        seconds=time.perf_counter() - began,
    )
