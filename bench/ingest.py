"""Webhook ingest: how many NLPearl webhooks per second the app commits, on SQLite and PostgreSQL.

For each backend a fresh app (SQLite: the default file database; PostgreSQL: a temporary
database migrated with `python -m bot migrate` first) gets one channel subscribed with a signed
`/lead subscribe`, so every webhook is committed with one queued delivery. A load generator in
its own process then sends GET /healthz (the baseline: a trivial route on the same server and
stack that also touches the database), then distinct Lead Webhooks to the channel's webhook
URL, first a few hundred one at a time (what one costs without contention), then the measured
load at CONCURRENCY; each phase a warm-up and then a fixed count, with a time limit. On
PostgreSQL a thread samples pg_stat_activity meanwhile, to show what the app's sessions wait on.
The app's delivery loop runs meanwhile with its default pacing (one post per channel per
second), so nearly every delivery stays queued: the outbox grows by one row per webhook, as in
a burst from NLPearl.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from bench.common import (
    BenchEnvironment,
    Outcome,
    bench_environment,
    first_error,
    log,
    log_problems,
    median,
    percentile,
)
from bench.feed import (
    SessionSampler,
    postgres_database,
    posts,
    sqlite_url,
    subscribe_channels,
)
from bench.loadgen import LoadConfig, LoadResult, launch
from bench.webhook_plan import WebhookPlan
from tests.harness.feed import open_deliveries
from tests.harness.processes import ServerProcess

WARMUP = 200
REQUESTS = 3000
HEALTH_REQUESTS = 2000
CONCURRENCY = 16
SEQUENTIAL_WARMUP = 50
SEQUENTIAL_REQUESTS = 300  # one at a time: the cost of a webhook without contention
PER_LEAD = 4  # statuses per lead: a quarter of the webhooks are new leads, the rest updates
BLOCK = 200  # leads whose statuses advance together (see bench/webhook_plan.py)
PHASE_TIME_LIMIT = 30.0  # seconds per load phase; 3,000 webhooks at the goal take 6
STOP_TIMEOUT = 30.0
MIN_RATE = 500.0  # webhooks per second
MAX_P99_MS = 100.0


TAIL_FACTOR = 5.0  # a p99 this many times the one-at-a-time p99 is queueing, not work


@dataclass(frozen=True)
class BackendRun:
    """One backend: the baseline, the webhooks, and what the app made of them."""

    name: str
    health: LoadResult
    sequential: LoadResult
    ingest: LoadResult
    queued_after: int  # deliveries still open right after the load
    posted: int  # chat.postMessage calls to the channel by then
    problems: dict[str, int]
    first_error: str | None
    sessions: dict[str, float]  # PostgreSQL only: what its busy sessions were doing


def _ok(result: LoadResult) -> int:
    return result.statuses.get("200", 0)


def _rate(result: LoadResult) -> float:
    return _ok(result) / result.elapsed if result.elapsed > 0 else 0.0


def _ms(result: LoadResult) -> list[float]:
    return [latency * 1000 for latency in result.latencies]


def _errors(result: LoadResult) -> int:
    return sum(count for status, count in result.statuses.items() if status != "200")


def _describe(result: LoadResult) -> str:
    ms = _ms(result)
    return (
        f"{_rate(result):.0f}/s ({_ok(result)} ok in {result.elapsed:.1f} s), p50 "
        f"{median(ms):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, errors {_errors(result)}, "
        f"server CPU {result.server_cpu / result.elapsed:.0%}, load generator CPU "
        f"{result.loadgen_cpu / result.elapsed:.0%}"
    )


def _load(
    server: ServerProcess,
    url: str,
    kind: str,
    requests: int,
    plan: WebhookPlan | None,
    *,
    warmup: int = WARMUP,
    concurrency: int = CONCURRENCY,
) -> LoadResult:
    config = LoadConfig(
        url=url,
        text="",
        response_url="",
        requests=requests,
        warmup=warmup,
        concurrency=concurrency,
        time_limit=PHASE_TIME_LIMIT,
        server_pid=server.process.pid,
        kind=kind,
        plan=plan,
    )
    return launch(config, timeout=2 * PHASE_TIME_LIMIT + 30)


def _backend(env: BenchEnvironment, name: str, database_url: str, number: int) -> BackendRun:
    app = env.start_app({"DATABASE_URL": database_url})
    try:
        feed = subscribe_channels(env, app, 1, f"ingest{number}")
        health = _load(app, app.url + "/healthz", "get", HEALTH_REQUESTS, None)
        log(f"ingest {name} /healthz: {_describe(health)}")
        url = app.url + feed.paths[0]
        # Its own leads (another lead_base), so none of its webhooks repeats one sent later.
        one_by_one = WebhookPlan(feed.paths, feed.campaigns, lead_base=(number << 24) + (1 << 20))
        sequential = _load(
            app,
            url,
            "webhook",
            SEQUENTIAL_REQUESTS,
            one_by_one,
            warmup=SEQUENTIAL_WARMUP,
            concurrency=1,
        )
        log(f"ingest {name} webhooks one at a time: {_describe(sequential)}")
        plan = WebhookPlan(
            feed.paths, feed.campaigns, per_lead=PER_LEAD, block=BLOCK, lead_base=number << 24
        )
        sampler = SessionSampler(database_url) if name == "PostgreSQL" else None
        with sampler or contextlib.nullcontext():
            ingest = _load(app, url, "webhook", REQUESTS, plan)
        log(f"ingest {name} webhooks: {_describe(ingest)}")
        queued = open_deliveries(database_url)
        posted = posts(env, set(feed.channels))
    finally:
        app.terminate(STOP_TIMEOUT)
    return BackendRun(
        name,
        health,
        sequential,
        ingest,
        queued,
        posted,
        log_problems(app),
        first_error(app),
        sampler.shares() if sampler else {},
    )


def _diagnosis(r: BackendRun) -> list[str]:
    """What this run's figures say about where a backend's time went (shown on a miss)."""
    notes = []
    per_webhook = r.ingest.server_cpu / max(_ok(r.ingest), 1)
    per_health = r.health.server_cpu / max(_ok(r.health), 1)
    busy = r.ingest.server_cpu / r.ingest.elapsed if r.ingest.elapsed else 0.0
    notes.append(
        f"{r.name}: the server used {1000 * per_webhook:.1f} ms of CPU per webhook, "
        f"{per_webhook / per_health:.1f}× a /healthz, and was busy {busy:.0%} of a core; "
        f"at that cost one core serves at most about {1 / per_webhook:.0f} "
        f"webhooks/s. A webhook is a few reads and one write transaction (`bot/storage/"
        f"inbox.py`), each statement a round trip to the database (on SQLite, a hand-off to "
        f"aiosqlite's thread)."
    )
    tail, alone = percentile(_ms(r.ingest), 0.99), percentile(_ms(r.sequential), 0.99)
    if r.name == "SQLite" and tail > TAIL_FACTOR * alone:
        notes.append(
            f"SQLite: p99 {tail:.0f} ms at concurrency {CONCURRENCY} against {alone:.0f} ms one "
            f"at a time. Write transactions take SQLite's single write lock up front (`BEGIN "
            f"IMMEDIATE`); a connection that finds it taken retries through SQLite's busy "
            f"handler, sleeping up to 100 ms at a time, first come not first served, so some "
            f"webhooks wait far longer than the work takes."
        )
    locked = r.sessions.get("waiting on a lock", 0.0)
    idle = r.sessions.get("idle in transaction", 0.0)
    if locked >= 0.5:
        notes.append(
            f"{r.name}: {locked:.0%} of the busy session samples were waiting on a lock: "
            f"concurrent webhooks queue behind each other's transactions (a row they all "
            f"write), so concurrency buys little."
        )
    elif idle >= 0.5:
        notes.append(
            f"{r.name}: {idle:.0%} of the busy session samples were idle in a transaction, "
            f"waiting for the app's next statement: the database waits for the app, not the "
            f"other way round."
        )
    return notes


def run() -> Outcome:
    """SQLite, then PostgreSQL; each judged on its own."""
    began = time.perf_counter()
    runs: list[BackendRun] = []
    missing: list[str] = []
    with bench_environment() as env, contextlib.ExitStack() as stack:
        runs.append(_backend(env, "SQLite", sqlite_url(env), 1))
        try:
            url = stack.enter_context(postgres_database(env))
        except RuntimeError as error:  # no PostgreSQL server: say so, keep SQLite's figures
            missing.append(f"PostgreSQL was not measured: {error}")
        else:
            runs.append(_backend(env, "PostgreSQL", url, 2))
    outcome = _judge(runs, time.perf_counter() - began)
    if missing:
        outcome.passed = False
        outcome.notes[:0] = missing
    return outcome


def _judge(runs: list[BackendRun], seconds: float) -> Outcome:
    figures: list[tuple[str, str]] = []
    notes: list[str] = []
    passed = True
    for r in runs:
        ms = _ms(r.ingest)
        p99 = percentile(ms, 0.99)
        ok = (
            _rate(r.ingest) >= MIN_RATE
            and p99 < MAX_P99_MS
            and _errors(r.ingest) == 0
            and not r.ingest.timed_out
        )
        passed = passed and ok
        health_ms = _ms(r.health)
        figures += [
            (
                f"{r.name}: webhooks stored",
                f"{_rate(r.ingest):.0f}/s ({_ok(r.ingest):,} in {r.ingest.elapsed:.1f} s), "
                f"{'meets' if ok else 'misses'} the goal",
            ),
            (
                f"{r.name}: webhook latency p50 / p99 / max",
                f"{median(ms):.1f} / {p99:.1f} / {max(ms):.0f} ms",
            ),
            (
                f"{r.name}: errors (not 200 + stored)",
                ", ".join(f"{n:,} × {s}" for s, n in r.ingest.statuses.items() if s != "200")
                or "none",
            ),
            (
                f"{r.name}: baseline GET /healthz, same server",
                f"{_rate(r.health):.0f}/s, p50 / p99 {median(health_ms):.1f} / "
                f"{percentile(health_ms, 0.99):.1f} ms",
            ),
            (f"{r.name}: ratio webhooks / healthz", f"{_rate(r.ingest) / _rate(r.health):.2f}×"),
            (
                f"{r.name}: webhooks one at a time (concurrency 1)",
                f"{_rate(r.sequential):.0f}/s, p50 / p99 {median(_ms(r.sequential)):.1f} / "
                f"{percentile(_ms(r.sequential), 0.99):.1f} ms, server CPU "
                f"{1000 * r.sequential.server_cpu / max(_ok(r.sequential), 1):.2f} ms per webhook",
            ),
            (
                f"{r.name}: server CPU per webhook / per healthz",
                f"{1000 * r.ingest.server_cpu / max(_ok(r.ingest), 1):.2f} / "
                f"{1000 * r.health.server_cpu / max(_ok(r.health), 1):.2f} ms "
                f"(server busy {r.ingest.server_cpu / r.ingest.elapsed:.0%} of a core, load "
                f"generator {r.ingest.loadgen_cpu / r.ingest.elapsed:.0%})",
            ),
            (
                f"{r.name}: outbox right after the load",
                f"{r.queued_after:,} deliveries open, {r.posted:,} posts made",
            ),
            *(
                [
                    (
                        f"{r.name}: its sessions during the load (busy samples)",
                        ", ".join(
                            f"{share:.0%} {kind}"
                            for kind, share in sorted(r.sessions.items(), key=lambda i: -i[1])
                        ),
                    )
                ]
                if r.sessions
                else []
            ),
            (
                f"{r.name}: app log",
                ", ".join(f"{n:,} {kind}" for kind, n in r.problems.items()) or "clean",
            ),
        ]
        if r.first_error:
            notes.append(f"{r.name}: first error in the app's log: {r.first_error}")
        if r.ingest.timed_out or r.health.timed_out or r.sequential.timed_out:
            notes.append(f"{r.name}: a load phase stopped at the {PHASE_TIME_LIMIT:.0f} s limit.")
    if not passed:
        for r in runs:
            notes += _diagnosis(r)
    return Outcome(
        title="Webhook ingest",
        measures=(
            "How many NLPearl webhooks per second `POST /nlpearl/webhooks/{token}` commits to the "
            "outbox, and how fast it answers, on SQLite and on PostgreSQL."
        ),
        method=(
            f"For each backend a fresh app via `start_server` (SQLite: the default file "
            f"database; PostgreSQL 15 on 127.0.0.1: a temporary database migrated with `python "
            f"-m bot migrate`), one channel subscribed with a signed `/lead subscribe`, so each "
            f"webhook queues one delivery. A load generator in its own process (raw HTTP/1.1, "
            f"{CONCURRENCY} keep-alive connections) sends {WARMUP} warm-up then "
            f"{HEALTH_REQUESTS:,} `GET /healthz` (the same-run baseline: a trivial route on the "
            f"same server and stack, which also pings the database), then "
            f"{SEQUENTIAL_WARMUP} + {SEQUENTIAL_REQUESTS} webhooks one at a time (what one "
            f"costs without contention; not judged), then {WARMUP} + "
            f"{REQUESTS:,} distinct V2 Lead Webhooks (JSON; {PER_LEAD} statuses per lead, leads "
            f"advancing in blocks of {BLOCK}, so a quarter are new leads and the rest status "
            f"changes; none a duplicate). A webhook counts only when answered 200 with "
            f'`"status": "stored"`. Delivery runs meanwhile with the default pacing (one '
            f"post per channel per second), so the outbox grows by about one row per webhook. On "
            f"PostgreSQL a thread samples `pg_stat_activity` every 20 ms during the measured "
            f"load and counts what the database's busy sessions were doing."
        ),
        goal=(
            f"On each backend at least {MIN_RATE:.0f} webhooks/s stored with p99 latency under "
            f"{MAX_P99_MS:.0f} ms, every one answered 200 and stored, within the phase limit."
        ),
        passed=passed,
        figures=figures,
        notes=notes,
        seconds=seconds,
    )
