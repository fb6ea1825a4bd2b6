"""Feed memory: the app's resident memory as webhooks flow through to Slack, to catch leaks.

A fresh app (SQLite; `SLACK_POST_INTERVAL_SECONDS=0`, so delivery is not held back by Slack's
pacing and keeps up) has CHANNELS channels subscribed, each to a campaign of its own. Lead
Webhooks then arrive in batches from the load generator (its own process, CONCURRENCY at a
time): leads in blocks of BLOCK, each lead moving through PER_LEAD statuses (a parent message
and its first reply, then replies in the thread with the parent updated), so the webhooks
from 5,000 to 10,000 repeat the mix of the first 5,000 with new leads. After each batch
the benchmark waits (bounded) until the outbox is empty, every event delivered, and reads the
server's RSS (psutil, server PID) after start and after each checkpoint.
"""

from __future__ import annotations

import time

import psutil

from bench.common import Outcome, bench_environment, log, log_problems, rss_mb
from bench.feed import posts, sqlite_url, subscribe_channels, wait_drained
from bench.loadgen import LoadConfig, LoadResult, launch
from bench.webhook_plan import WebhookPlan
from tests.harness.feed import delivery_states

CHECKPOINTS = (2_500, 5_000, 7_500, 10_000)
JUDGED = (5_000, 10_000)  # growth between these is judged
CHANNELS = 8  # the delivery loop claims up to 8 batches a round, one per channel
PER_LEAD = 4
# Leads per block: 5,000 events, so the second 5,000 webhooks repeat the first 5,000's mix
# exactly (new leads, then their replies), and a lead's statuses are 1,250 webhooks apart.
BLOCK = 1_250
CONCURRENCY = 8
PHASE_TIME_LIMIT = 90.0  # seconds to send one batch
DRAIN_TIMEOUT = 120.0  # seconds for the outbox to empty after a batch
SETTLE = 0.5  # seconds after the outbox emptied before reading RSS
MAX_RSS_MB = 150.0
# "Not growing": from 5,000 to 10,000 webhooks RSS may rise by at most this much, i.e. about
# 1 KB per webhook, less than one stored webhook body.
MAX_GROWTH_MB = 5.0


def run() -> Outcome:
    """Start, send batches up to each checkpoint, drain, read RSS after each."""
    began = time.perf_counter()
    with bench_environment() as env:
        app = env.start_app({"SLACK_POST_INTERVAL_SECONDS": "0"})
        pid = app.process.pid
        database = sqlite_url(env)
        feed = subscribe_channels(env, app, CHANNELS, "mem")
        readings: list[tuple[int, float]] = [(0, rss_mb(pid))]
        cpu_before = sum(psutil.Process(pid).cpu_times()[:2])
        sent = 0
        loads: list[LoadResult] = []
        drains: list[float] = []
        left_open = 0
        for checkpoint in CHECKPOINTS:
            plan = WebhookPlan(
                feed.paths,
                feed.campaigns,
                first=sent,
                per_lead=PER_LEAD,
                block=BLOCK,
                lead_base=4 << 24,
            )
            config = LoadConfig(
                url=app.url + feed.paths[0],
                text="",
                response_url="",
                requests=checkpoint - sent,
                warmup=0,
                concurrency=CONCURRENCY,
                time_limit=PHASE_TIME_LIMIT,
                server_pid=pid,
                kind="webhook",
                plan=plan,
            )
            load = launch(config, timeout=PHASE_TIME_LIMIT + 30)
            loads.append(load)
            sent += load.sent_total
            drained, left_open = wait_drained(database, DRAIN_TIMEOUT)
            drains.append(drained)
            time.sleep(SETTLE)
            readings.append((sent, rss_mb(pid)))
            log(
                f"feed memory: {sent:,} webhooks ({load.sent_total / load.elapsed:.0f}/s), "
                f"outbox empty {drained:.1f} s later, RSS {readings[-1][1]:.1f} MB"
            )
            if left_open or load.timed_out:
                break
        cpu = sum(psutil.Process(pid).cpu_times()[:2]) - cpu_before
        states = delivery_states(database)
        posted = posts(env, set(feed.channels))
        updates = sum(1 for record in env.slack.records("chat.update") if record.ok)
        problems = log_problems(app)
    return _judge(readings, loads, drains, left_open, states, posted, updates, cpu, problems, began)


def _judge(
    readings: list[tuple[int, float]],
    loads: list[LoadResult],
    drains: list[float],
    left_open: int,
    states: dict[str, int],
    posted: int,
    updates: int,
    cpu: float,
    problems: dict[str, int],
    began: float,
) -> Outcome:
    by_count = dict(readings)
    sent = readings[-1][0]
    complete = sent == CHECKPOINTS[-1] and not left_open
    middle, last = JUDGED
    growth = by_count[last] - by_count[middle] if complete else float("nan")
    peak = max(mb for _, mb in readings)
    stored = sum(load.statuses.get("200", 0) for load in loads)
    done = states.get("done", 0)
    passed = (
        complete
        and peak < MAX_RSS_MB
        and growth <= MAX_GROWTH_MB
        and stored == sent
        and done == sent
    )
    figures = [
        (f"RSS after {'start' if n == 0 else f'{n:,} webhooks'}", f"{mb:.1f} MB")
        for n, mb in readings
    ]
    if complete:
        figures += [
            (
                f"Growth from {middle:,} to {last:,} webhooks",
                f"{growth:+.1f} MB ({growth * 1024 / (last - middle):+.2f} KB per webhook)",
            ),
            (f"Growth from start to {last:,} webhooks", f"{by_count[last] - by_count[0]:+.1f} MB"),
        ]
    figures += [
        (
            "Webhooks sent / stored",
            f"{sum(load.sent_total for load in loads):,} / {stored:,} "
            f"(at {', '.join(f'{load.sent_total / load.elapsed:.0f}' for load in loads)}/s "
            f"per batch, concurrency {CONCURRENCY})",
        ),
        (
            "Outbox empty after each batch's last webhook",
            ", ".join(f"{seconds:.1f} s" for seconds in drains)
            + (f"; {left_open:,} deliveries still open" if left_open else ""),
        ),
        (
            "Delivery pace per batch: webhooks / (sending + emptying the outbox)",
            ", ".join(
                f"{load.sent_total / (load.elapsed + seconds):.0f}/s"
                for load, seconds in zip(loads, drains, strict=True)
            ),
        ),
        (
            "Deliveries by state at the end",
            ", ".join(f"{n:,} {state}" for state, n in sorted(states.items())),
        ),
        ("Slack calls made", f"{posted:,} chat.postMessage, {updates:,} chat.update"),
        (
            "App CPU per webhook (store, claim, render, post, thread)",
            f"{1000 * cpu / max(sent, 1):.1f} ms",
        ),
        ("App log", ", ".join(f"{n:,} {kind}" for kind, n in problems.items()) or "clean"),
    ]
    notes = []
    if not complete:
        notes.append(
            f"The run stopped at {sent:,} webhooks: a batch hit its {PHASE_TIME_LIMIT:.0f} s "
            f"limit or the outbox did not empty within {DRAIN_TIMEOUT:.0f} s."
        )
    return Outcome(
        title="Feed memory",
        measures=(
            "The app's resident memory after start and as webhooks are received and delivered to "
            "subscribed channels."
        ),
        method=(
            f"The real app via `start_server` (SQLite, `SLACK_POST_INTERVAL_SECONDS=0` so "
            f"delivery keeps up instead of queueing behind Slack's pacing), {CHANNELS} channels "
            f"subscribed with signed `/lead subscribe` commands, each to its own campaign. A "
            f"load generator in its own process sends distinct Lead Webhooks, {CONCURRENCY} at a "
            f"time, in batches up to {', '.join(f'{n:,}' for n in CHECKPOINTS)}: leads in "
            f"blocks of {BLOCK:,}, each through {PER_LEAD} statuses round by round (a parent "
            f"message and its first reply, then thread replies with the parent updated), spread "
            f"over the channels, so webhooks {JUDGED[0]:,} to {JUDGED[1]:,} repeat the mix of "
            f"the first {JUDGED[0]:,} with new leads. After each batch the benchmark polls the "
            f"database (read-only) until no delivery is pending or claimed (at most "
            f"{DRAIN_TIMEOUT:.0f} s), waits {SETTLE} s, and reads RSS by psutil on the server PID."
        ),
        goal=(
            f"RSS < {MAX_RSS_MB:.0f} MB throughout and not growing: at most "
            f"{MAX_GROWTH_MB:.0f} MB more after {last:,} webhooks than after {middle:,}; every "
            f"webhook stored and delivered."
        ),
        passed=passed,
        figures=figures,
        notes=notes,
        seconds=time.perf_counter() - began,
    )
