"""Webhook ingest: how many NLPearl webhooks per second the app commits, on SQLite and PostgreSQL.

An app run is a fresh app on a fresh database (SQLite: a new file; PostgreSQL: a temporary
database migrated with `python -m bot migrate` first) with one channel subscribed with a signed
`/lead subscribe`, so every webhook is committed with one queued delivery. A load generator in
its own process sends a warm-up and REQUESTS distinct Lead Webhooks to the channel's webhook
URL at CONCURRENCY; each load's leads are its own. The app's delivery loop runs meanwhile in
the same process with its default pacing (one post per channel per second), so nearly every
delivery stays queued: the outbox grows by one row per webhook, as in a burst from NLPearl.
On PostgreSQL a thread samples pg_stat_activity during each load, to show what the app's
sessions wait on. Before the first run's load the generator also sends GET /healthz (a trivial
route on the same server and stack that also touches the database) and a few hundred webhooks
one at a time (what one costs without contention).

The same load from the same generator also goes to ceiling servers (`bench/ceiling_app.py`),
each its own uvicorn process started with the app's options: bare Starlette, and Starlette
with one INSERT of the body through raw asyncpg, raw aiosqlite and SQLAlchemy on each. They
show what the stack itself does on this machine, so the app's rate reads as a share of its
stack's ceiling.

RUNS rounds, each the ceilings and, right after its own, an app run per backend; a backend is
judged on the median of its runs. Last, on PostgreSQL, the app started with WEB_CONCURRENCY=2
(uvicorn worker processes sharing one socket) takes the same load once: the scale-out
figure, reported and not judged.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import psutil  # type: ignore[import-untyped]

from bench.common import (
    LOOPBACK,
    REPO_ROOT,
    BenchEnvironment,
    Outcome,
    bench_environment,
    first_error,
    log,
    log_problems,
    median,
    percentile,
    wait_healthy,
)
from bench.feed import SessionSampler, postgres_database, posts, subscribe_channels
from bench.loadgen import LoadConfig, LoadResult, launch
from bench.webhook_plan import WebhookPlan
from tests.harness.feed import open_deliveries
from tests.harness.processes import ServerProcess, free_port

WARMUP = 200
REQUESTS = 3000
HEALTH_REQUESTS = 2000
CONCURRENCY = 16
SEQUENTIAL_WARMUP = 50
SEQUENTIAL_REQUESTS = 300  # one at a time: the cost of a webhook without contention
PER_LEAD = 4  # statuses per lead: a quarter of the webhooks are new leads, the rest updates
BLOCK = 200  # leads whose statuses advance together (see bench/webhook_plan.py)
RUNS = 3  # measured loads per backend and per ceiling; the median is judged, the range shown
PHASE_TIME_LIMIT = 30.0  # seconds per load phase; 3,000 webhooks at the goal take 3
STOP_TIMEOUT = 30.0
MIN_RATE = 1000.0  # webhooks per second
MAX_P99_MS = 50.0
SCALE_OUT_WORKERS = 2
TAIL_FACTOR = 5.0  # a p99 this many times the one-at-a-time p99 is queueing, not work
SEQUENTIAL_RUN = 15  # the lead block of the one-at-a-time webhooks (see _lead_base)
SCALE_OUT_SERIES = 3
BUSY_SHARE = 0.25  # machine CPU busier than this before the start: others were at work
IDLE_SAMPLE_SECONDS = 1.0
CEILING_PATH = "/nlpearl/webhooks/ceiling"  # the ceiling servers take any token
CEILING_CAMPAIGN = f"{0xCE11:024x}"
# The multiprocessing helper that `spawn` starts beside worker processes; not a worker.
RESOURCE_TRACKER = "resource_tracker"


@dataclass(frozen=True)
class Ceiling:
    """A ceiling server (bench/ceiling_app.py KIND) and the backend whose app it bounds."""

    kind: str
    label: str
    backend: str | None  # None: it bounds every backend (no database)
    series: int  # its loads' leads (see _lead_base)


CEILINGS = (
    Ceiling("bare", "bare Starlette, no database", None, 8),
    Ceiling("aiosqlite", "raw aiosqlite INSERT", "SQLite", 9),
    Ceiling("sqlalchemy-aiosqlite", "SQLAlchemy aiosqlite INSERT", "SQLite", 10),
    Ceiling("asyncpg", "raw asyncpg INSERT", "PostgreSQL", 11),
    Ceiling("sqlalchemy-asyncpg", "SQLAlchemy asyncpg INSERT", "PostgreSQL", 12),
)


@dataclass(frozen=True)
class AppRun:
    """One measured load on a fresh app and database, and what the app made of it."""

    ingest: LoadResult
    queued_after: int  # deliveries still open right after the load
    posted: int  # chat.postMessage calls to the channel by then
    problems: dict[str, int]
    first_error: str | None
    sessions: dict[str, float]  # PostgreSQL only: what its busy sessions were doing
    workers: int  # worker processes under the app's process (0: it served alone)


@dataclass(frozen=True)
class Baselines:
    """The first run's same-server baselines: /healthz, and webhooks one at a time."""

    health: LoadResult
    sequential: LoadResult


@dataclass(frozen=True)
class BackendRuns:
    """A backend's runs, each on a fresh app and database."""

    name: str
    baselines: Baselines
    runs: list[AppRun]

    @property
    def middle(self) -> AppRun:
        """The run with the median rate, whose detailed figures are shown."""
        return sorted(self.runs, key=lambda run: _rate(run.ingest))[len(self.runs) // 2]


@dataclass
class CeilingRuns:
    """A ceiling's loads, one per round, each on a freshly started server."""

    ceiling: Ceiling
    loads: list[LoadResult] = field(default_factory=list)
    problems: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Spread:
    """The median of a figure over runs, with its lowest and highest."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(median(values), min(values), max(values))

    def text(self, unit: str, digits: int = 0) -> str:
        """`812/s (range 790–830/s)`."""
        return (
            f"{self.median:,.{digits}f}{unit} (range {self.low:,.{digits}f}–"
            f"{self.high:,.{digits}f}{unit})"
        )


# Figures of one load


def _ok(result: LoadResult) -> int:
    return result.statuses.get("200", 0)


def _rate(result: LoadResult) -> float:
    return _ok(result) / result.elapsed if result.elapsed > 0 else 0.0


def _ms(result: LoadResult) -> list[float]:
    return [latency * 1000 for latency in result.latencies]


def _latency(result: LoadResult, fraction: float) -> float:
    """A latency percentile in ms; NaN when nothing was answered."""
    ms = _ms(result)
    return percentile(ms, fraction) if ms else math.nan


def _errors(result: LoadResult) -> int:
    return sum(count for status, count in result.statuses.items() if status != "200")


def _cpu_ms(result: LoadResult) -> float:
    """Server CPU per answered request, in ms."""
    return 1000 * result.server_cpu / max(_ok(result), 1)


def _describe(result: LoadResult) -> str:
    return (
        f"{_rate(result):.0f}/s ({_ok(result)} ok in {result.elapsed:.1f} s), p50 "
        f"{_latency(result, 0.5):.1f} ms, p99 {_latency(result, 0.99):.1f} ms, errors "
        f"{_errors(result)}, server CPU {result.server_cpu / result.elapsed:.0%}, load "
        f"generator CPU {result.loadgen_cpu / result.elapsed:.0%}"
    )


def _error_kinds(results: list[LoadResult]) -> str:
    """Every answer that was not 200 + stored, by kind, over `results`."""
    kinds: Counter[str] = Counter()
    for result in results:
        kinds.update({s: n for s, n in result.statuses.items() if s != "200"})
    return ", ".join(f"{n:,} × {status}" for status, n in kinds.items()) or "none"


# Loads


def _lead_base(series: int, run: int) -> int:
    """Leads of their own for each load (a series, a run), so no webhook repeats another."""
    return (series << 24) + (run << 20)


def _plan(paths: list[str], campaigns: list[str], lead_base: int) -> WebhookPlan:
    """The measured load's webhooks: PER_LEAD statuses per lead, in blocks of BLOCK leads."""
    return WebhookPlan(paths, campaigns, per_lead=PER_LEAD, block=BLOCK, lead_base=lead_base)


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


# The app


def _workers(server: ServerProcess) -> int:
    """How many worker processes serve under the app's process (0: it serves alone)."""
    count = 0
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(server.process.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                count += RESOURCE_TRACKER not in " ".join(child.cmdline())
    return count


def _baselines(
    server: ServerProcess, url: str, paths: list[str], campaigns: list[str], series: int
) -> Baselines:
    """GET /healthz at CONCURRENCY, then webhooks one at a time, on the same server."""
    health = _load(server, server.url + "/healthz", "get", HEALTH_REQUESTS, None)
    one_by_one = WebhookPlan(paths, campaigns, lead_base=_lead_base(series, SEQUENTIAL_RUN))
    sequential = _load(
        server,
        url,
        "webhook",
        SEQUENTIAL_REQUESTS,
        one_by_one,
        warmup=SEQUENTIAL_WARMUP,
        concurrency=1,
    )
    return Baselines(health, sequential)


def _app_run(
    env: BenchEnvironment,
    database_url: str,
    series: int,
    run: int,
    *,
    overrides: dict[str, str | None] | None = None,
    baselines: bool = False,
) -> tuple[AppRun, Baselines | None]:
    """A fresh app on `database_url`, one channel subscribed, the measured load; then stopped."""
    app = env.start_app({"DATABASE_URL": database_url, **(overrides or {})})
    sampler = SessionSampler(database_url) if database_url.startswith("postgresql") else None
    try:
        # A channel of its own per run: the Slack stand-in outlives the apps.
        feed = subscribe_channels(env, app, 1, f"ingest{series}{run}")
        url = app.url + feed.paths[0]
        measured = _baselines(app, url, feed.paths, feed.campaigns, series) if baselines else None
        if measured:
            log(f"ingest /healthz: {_describe(measured.health)}")
            log(f"ingest webhooks one at a time: {_describe(measured.sequential)}")
        workers = _workers(app)
        plan = _plan(feed.paths, feed.campaigns, _lead_base(series, run))
        with sampler or contextlib.nullcontext():
            ingest = _load(app, url, "webhook", REQUESTS, plan)
        log(f"ingest webhooks, run {run + 1}: {_describe(ingest)}")
        queued = open_deliveries(database_url)
        posted = posts(env, set(feed.channels))
    finally:
        app.terminate(STOP_TIMEOUT)
    shares = sampler.shares() if sampler else {}
    outcome = AppRun(ingest, queued, posted, log_problems(app), first_error(app), shares, workers)
    return outcome, measured


def _sqlite_databases(env: BenchEnvironment) -> Callable[[int], AbstractContextManager[str]]:
    """A new SQLite file per run, in the bench's work folder."""

    def database(run: int) -> AbstractContextManager[str]:
        return contextlib.nullcontext(f"sqlite+aiosqlite:///{env.workdir / f'ingest-{run}.db'}")

    return database


def _scale_out(env: BenchEnvironment) -> AppRun:
    """The app with WEB_CONCURRENCY worker processes on PostgreSQL, one load."""
    log(f"ingest PostgreSQL with WEB_CONCURRENCY={SCALE_OUT_WORKERS}")
    with postgres_database(env) as url:
        overrides: dict[str, str | None] = {"WEB_CONCURRENCY": str(SCALE_OUT_WORKERS)}
        run, _ = _app_run(env, url, SCALE_OUT_SERIES, 0, overrides=overrides)
    return run


# The ceilings


def _start_ceiling(env: BenchEnvironment, kind: str, database: str) -> ServerProcess:
    """`python -m bench.ceiling_app KIND` on a free loopback port, healthy."""
    port = free_port()
    log_path = env.workdir / f"ceiling-{kind}-{port}.log"
    environment = dict(os.environ)
    environment |= {
        "PORT": str(port),
        "CEILING_DATABASE_URL": database,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.ceiling_app", kind],
            env=environment,
            cwd=env.workdir,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process, log_path, url=f"http://{LOOPBACK}:{port}")
    env.servers.append(server)
    wait_healthy(server)
    return server


def _measure_ceiling(env: BenchEnvironment, runs: CeilingRuns, database: str, run: int) -> None:
    """One load on a freshly started ceiling server (a fresh scratch table), added to `runs`."""
    ceiling = runs.ceiling
    server = _start_ceiling(env, ceiling.kind, database)
    try:
        plan = _plan([CEILING_PATH], [CEILING_CAMPAIGN], _lead_base(ceiling.series, run))
        load = _load(server, server.url + CEILING_PATH, "webhook", REQUESTS, plan)
    finally:
        server.terminate(STOP_TIMEOUT)
    log(f"ingest ceiling {ceiling.label}, run {run + 1}: {_describe(load)}")
    runs.loads.append(load)
    runs.problems.update(log_problems(server))


# The rounds


@dataclass(frozen=True)
class Backend:
    """A backend to measure: a fresh database per run, and its ceilings' scratch database."""

    name: str
    series: int
    databases: Callable[[int], AbstractContextManager[str]]
    ceiling_database: str  # a SQLite file's path or a PostgreSQL URL


@dataclass
class Collected:
    """What the rounds measured so far."""

    ceilings: dict[str, CeilingRuns]
    runs: dict[str, list[AppRun]]
    baselines: dict[str, Baselines]


def _round(env: BenchEnvironment, backends: list[Backend], run: int, got: Collected) -> None:
    """Bare Starlette; then per backend its driver ceilings and, right after them, the app."""
    # Each app run is measured next to the ceilings it is compared with, so a neighbour's load
    # on this shared machine weighs on both alike.
    for ceiling in CEILINGS:
        if ceiling.backend is None:
            _measure_ceiling(env, got.ceilings[ceiling.kind], "", run)
    for backend in backends:
        for ceiling in CEILINGS:
            if ceiling.backend == backend.name:
                _measure_ceiling(env, got.ceilings[ceiling.kind], backend.ceiling_database, run)
        log(f"ingest {backend.name}, run {run + 1} of {RUNS}")
        with backend.databases(run) as url:
            measured, found = _app_run(env, url, backend.series, run, baselines=run == 0)
        got.runs[backend.name].append(measured)
        if found is not None:
            got.baselines[backend.name] = found


@dataclass(frozen=True)
class Measured:
    """Everything one run of the benchmark measured."""

    backends: list[BackendRuns]
    ceilings: list[CeilingRuns]
    scale_out: AppRun | None
    missing: list[str]
    busy_before: float  # share of the machine's CPU busy just before, with nothing of ours


def _measure(env: BenchEnvironment, stack: contextlib.ExitStack) -> Measured:
    """RUNS rounds of ceilings and app runs on each backend at hand, then the scale-out."""
    busy_before = psutil.cpu_percent(interval=IDLE_SAMPLE_SECONDS) / 100
    missing: list[str] = []
    backends = [
        Backend("SQLite", 1, _sqlite_databases(env), str(env.workdir / "ceiling.db")),
    ]
    try:
        # The ceilings' PostgreSQL database; making it also shows the server is there.
        postgres_url = stack.enter_context(postgres_database(env))
    except RuntimeError as error:  # no PostgreSQL server: say so, keep SQLite's figures
        missing.append(f"PostgreSQL was not measured: {error}")
    else:
        backends.append(Backend("PostgreSQL", 2, lambda _: postgres_database(env), postgres_url))
    names = {backend.name for backend in backends}
    measurable = [c for c in CEILINGS if c.backend is None or c.backend in names]
    got = Collected({c.kind: CeilingRuns(c) for c in measurable}, {n: [] for n in names}, {})
    for run in range(RUNS):
        _round(env, backends, run, got)
    scale_out = _scale_out(env) if "PostgreSQL" in names else None
    return Measured(
        [BackendRuns(b.name, got.baselines[b.name], got.runs[b.name]) for b in backends],
        list(got.ceilings.values()),
        scale_out,
        missing,
        busy_before,
    )


def run() -> Outcome:
    """Rounds of ceilings and app runs on SQLite and PostgreSQL; each backend judged alone."""
    began = time.perf_counter()
    with bench_environment() as env, contextlib.ExitStack() as stack:
        measured = _measure(env, stack)
    outcome = _judge(measured, time.perf_counter() - began)
    if measured.missing:
        outcome.passed = False
        outcome.notes[:0] = measured.missing
    return outcome


# Judging and figures


def _rates(loads: list[LoadResult]) -> Spread:
    return Spread.of([_rate(load) for load in loads])


def _p99s(loads: list[LoadResult]) -> Spread:
    return Spread.of([_latency(load, 0.99) for load in loads])


def _meets(b: BackendRuns) -> bool:
    """Whether a backend met the goal: on its median run figures, with no error in any run."""
    loads = [run.ingest for run in b.runs]
    return (
        _rates(loads).median >= MIN_RATE
        and _p99s(loads).median < MAX_P99_MS
        and all(_errors(load) == 0 and not load.timed_out for load in loads)
    )


def _bounding(ceilings: list[CeilingRuns], backend: str) -> list[CeilingRuns]:
    """The ceilings that bound a backend's app: its drivers first, then bare Starlette."""
    drivers = [c for c in ceilings if c.ceiling.backend == backend]
    return drivers + [c for c in ceilings if c.ceiling.backend is None]


def _shares(b: BackendRuns, ceilings: list[CeilingRuns]) -> list[tuple[str, str]]:
    """The app's rate over each bounding ceiling's, round by round: the median and range."""
    rows = []
    for c in _bounding(ceilings, b.name):
        pairs = zip(b.runs, c.loads, strict=False)
        ratios = [_rate(run.ingest) / _rate(load) for run, load in pairs if _rate(load) > 0]
        if ratios:
            rows.append((f"{b.name}: app / {c.ceiling.label}", Spread.of(ratios).text("×", 2)))
    return rows


def _backend_figures(b: BackendRuns, ceilings: list[CeilingRuns]) -> list[tuple[str, str]]:
    """A backend's rows: the judged figures, its shares of the ceilings, then the details."""
    loads = [run.ingest for run in b.runs]
    middle = b.middle.ingest
    health, sequential = b.baselines.health, b.baselines.sequential
    rates = _rates(loads)
    figures = [
        (
            f"{b.name}: webhooks stored, median of {RUNS} runs",
            f"{rates.text('/s')}, {'meets' if _meets(b) else 'misses'} the goal",
        ),
        (f"{b.name}: webhook latency p99, median of {RUNS}", _p99s(loads).text(" ms", 1)),
        (
            f"{b.name}: p50 / max, median run",
            f"{_latency(middle, 0.5):.1f} / {_latency(middle, 1.0):.0f} ms",
        ),
        (f"{b.name}: errors (not 200 + stored), all runs", _error_kinds(loads)),
        *_shares(b, ceilings),
        (
            f"{b.name}: baseline GET /healthz, same server (first run)",
            f"{_rate(health):.0f}/s, p50 / p99 {_latency(health, 0.5):.1f} / "
            f"{_latency(health, 0.99):.1f} ms",
        ),
        (f"{b.name}: ratio webhooks / healthz", f"{rates.median / _rate(health):.2f}×"),
        (
            f"{b.name}: webhooks one at a time (concurrency 1)",
            f"{_rate(sequential):.0f}/s, p50 / p99 {_latency(sequential, 0.5):.1f} / "
            f"{_latency(sequential, 0.99):.1f} ms, server CPU {_cpu_ms(sequential):.2f} ms "
            f"per webhook",
        ),
        (
            f"{b.name}: server CPU per webhook / per healthz, median run",
            f"{_cpu_ms(middle):.2f} / {_cpu_ms(health):.2f} ms (server busy "
            f"{middle.server_cpu / middle.elapsed:.0%} of a core, load generator "
            f"{middle.loadgen_cpu / middle.elapsed:.0%})",
        ),
        (
            f"{b.name}: outbox right after each run's load",
            f"{', '.join(f'{r.queued_after:,}' for r in b.runs)} deliveries open; "
            f"{', '.join(f'{r.posted:,}' for r in b.runs)} posts made",
        ),
    ]
    if b.middle.sessions:
        figures.append(
            (
                f"{b.name}: its sessions during the load, median run (busy samples)",
                ", ".join(
                    f"{share:.0%} {kind}"
                    for kind, share in sorted(b.middle.sessions.items(), key=lambda i: -i[1])
                ),
            )
        )
    problems: Counter[str] = Counter()
    for run in b.runs:
        problems.update(run.problems)
    figures.append(
        (
            f"{b.name}: app log, all runs",
            ", ".join(f"{n:,} {kind}" for kind, n in problems.items()) or "clean",
        )
    )
    return figures


def _ceiling_figure(c: CeilingRuns) -> tuple[str, str]:
    """A ceiling's row: its median rate and range, latencies and CPU per webhook."""
    p50 = median([_latency(load, 0.5) for load in c.loads])
    errors = _error_kinds(c.loads)
    cpu = median([_cpu_ms(load) for load in c.loads])
    return (
        f"Ceiling: {c.ceiling.label}",
        f"{_rates(c.loads).text('/s')}, p50 / p99 {p50:.1f} / {_p99s(c.loads).median:.1f} ms "
        f"(medians of {RUNS}), server CPU {cpu:.2f} ms per webhook"
        + ("" if errors == "none" else f", errors {errors}"),
    )


def _scale_out_figure(run: AppRun, single: BackendRuns | None) -> tuple[str, str]:
    """The scale-out row: its rate and latencies, and how many processes served it."""
    load = run.ingest
    who = (
        f"{run.workers} worker processes"
        if run.workers
        else "served by one process (WEB_CONCURRENCY not honoured)"
    )
    versus = ""
    if single is not None:
        one = _rates([r.ingest for r in single.runs]).median
        versus = f", {_rate(load) / one:.2f}× the one-process median" if one else ""
    return (
        f"PostgreSQL, WEB_CONCURRENCY={SCALE_OUT_WORKERS} (not judged)",
        f"{_rate(load):.0f}/s, p50 / p99 {_latency(load, 0.5):.1f} / "
        f"{_latency(load, 0.99):.1f} ms, errors {_error_kinds([load])}; {who}{versus}",
    )


def _judge(m: Measured, seconds: float) -> Outcome:
    """The outcome: each backend judged on its own; ceilings and scale-out only reported."""
    figures: list[tuple[str, str]] = []
    notes: list[str] = []
    for b in m.backends:
        figures += _backend_figures(b, m.ceilings)
        notes += _run_notes(b) + _beaten_notes(b, m.ceilings)
    figures += [_ceiling_figure(c) for c in m.ceilings]
    notes += _ceiling_notes(m.ceilings)
    if m.scale_out is not None:
        postgres = next((b for b in m.backends if b.name == "PostgreSQL"), None)
        figures.append(_scale_out_figure(m.scale_out, postgres))
        notes.append(
            f"WEB_CONCURRENCY={SCALE_OUT_WORKERS}: no CPU figure, since the load generator "
            f"reads the CPU of one process (the parent), not its workers'."
        )
    figures.append(_busy_figure(m.busy_before))
    notes += _busy_notes(m.busy_before)
    passed = all(_meets(b) for b in m.backends)
    if not passed:
        for b in m.backends:
            notes += _diagnosis(b)
    return Outcome(
        title="Webhook ingest",
        measures=(
            "How many NLPearl webhooks per second `POST /nlpearl/webhooks/{token}` commits to the "
            "outbox, and how fast it answers, on SQLite and on PostgreSQL, with the delivery "
            "loop running in the same process; and the same for the stack's own ceilings."
        ),
        method=_METHOD,
        goal=(
            f"On each backend, the median of {RUNS} runs: at least {MIN_RATE:,.0f} webhooks/s "
            f"stored with p99 latency under {MAX_P99_MS:.0f} ms, from one web process while its "
            f"delivery loop runs; every webhook of every run answered 200 and stored, within "
            f"the phase limit. Ceilings and the scale-out are reported, not judged."
        ),
        passed=passed,
        figures=figures,
        notes=notes,
        seconds=seconds,
    )


_METHOD = (
    f"{RUNS} rounds. Each round measures the ceilings and, beside them, a run of the app on "
    f"each backend: bare Starlette; then for SQLite its two driver ceilings and an app run; "
    f"then the same for PostgreSQL. An app run is a fresh app via `start_server` on a fresh "
    f"database (SQLite: a new file; PostgreSQL 15 on 127.0.0.1: a temporary database migrated "
    f"with `python -m bot migrate`) with one channel subscribed with a signed `/lead "
    f"subscribe`, so each webhook queues one delivery, and its delivery loop running in the "
    f"same process with the default pacing (one post per channel per second), so the outbox "
    f"grows by about one row per webhook. A load generator in its own process (raw HTTP/1.1, "
    f"{CONCURRENCY} keep-alive connections) sends {WARMUP} warm-up then {REQUESTS:,} distinct "
    f"V2 Lead Webhooks (JSON; {PER_LEAD} statuses per lead, leads advancing in blocks of "
    f"{BLOCK}, so a quarter are new leads and the rest status changes; none a duplicate; each "
    f"load's leads its own). A webhook counts only when answered 200 with "
    f'`"status": "stored"`. A backend is judged on the median rate and the median p99 of its '
    f"{RUNS} runs; ranges are min–max over the runs. The first run of each backend first "
    f"sends {HEALTH_REQUESTS:,} `GET /healthz` (a trivial route on the same server and stack, "
    f"which also pings the database) and {SEQUENTIAL_WARMUP} + {SEQUENTIAL_REQUESTS} webhooks "
    f"one at a time (what one costs without contention). On PostgreSQL a thread samples "
    f"`pg_stat_activity` every 20 ms during each load and counts what the database's busy "
    f"sessions were doing. Ceilings get the same load from the same generator: "
    f"`bench/ceiling_app.py`, started fresh for each load as its own process under uvicorn "
    f"with the app's options (httptools and uvloop chosen automatically, `log_config=None`, "
    f"INFO access lines) on 127.0.0.1: bare Starlette that reads the body and answers stored; "
    f"and Starlette + `json.loads` + one INSERT of the body into a one-table scratch table "
    f"(id, unique key, body) through a raw asyncpg pool of 16, one raw aiosqlite connection "
    f"(WAL, synchronous=NORMAL as the app's), and SQLAlchemy async (`engine.begin()`, "
    f"`insert().values()`) on asyncpg (16 connections) and aiosqlite (1). The app's share of a "
    f"ceiling is its run's rate over that round's ceiling rate, median and range over the "
    f"rounds. Last, on PostgreSQL, the app with `WEB_CONCURRENCY={SCALE_OUT_WORKERS}` takes "
    f"the same load once (not judged)."
)


def _busy_figure(busy: float) -> tuple[str, str]:
    """How busy others kept the machine, since a neighbour's work widens the ranges."""
    return (
        "Machine CPU busy just before the benchmark (others' work)",
        f"{busy:.0%} of {len(os.sched_getaffinity(0))} cores over {IDLE_SAMPLE_SECONDS:.0f} s",
    )


def _busy_notes(busy: float) -> list[str]:
    """A warning when other processes were busy as the benchmark began."""
    if busy < BUSY_SHARE:
        return []
    return [
        f"Other processes kept {busy:.0%} of this machine's CPU busy as the benchmark began: "
        f"runs vary more than on an idle machine, as the ranges show. Each app/ceiling share "
        f"pairs an app run with the ceilings measured just before it."
    ]


def _run_notes(b: BackendRuns) -> list[str]:
    """First errors and time-limited phases, per run."""
    notes = []
    for number, run in enumerate(b.runs, start=1):
        if run.first_error:
            notes.append(f"{b.name}, run {number}: first error in the app's log: {run.first_error}")
        if run.ingest.timed_out:
            notes.append(
                f"{b.name}, run {number}: the load stopped at the {PHASE_TIME_LIMIT:.0f} s limit."
            )
    if b.baselines.health.timed_out or b.baselines.sequential.timed_out:
        notes.append(f"{b.name}: a baseline phase stopped at the {PHASE_TIME_LIMIT:.0f} s limit.")
    return notes


def _ceiling_notes(ceilings: list[CeilingRuns]) -> list[str]:
    """Ceilings under the goal, and what their logs show."""
    notes = []
    for c in ceilings:
        rate = _rates(c.loads).median
        if c.ceiling.backend is not None and rate < MIN_RATE:
            notes.append(
                f"{c.ceiling.backend}: the {c.ceiling.label} ceiling itself stores {rate:,.0f} "
                f"webhooks/s here, under the {MIN_RATE:,.0f}/s goal: an app that pays one such "
                f"transaction per webhook cannot meet the goal on this machine."
            )
        if c.problems:
            shown = ", ".join(f"{n:,} {kind}" for kind, n in c.problems.items())
            notes.append(f"Ceiling {c.ceiling.label}: its log has {shown}.")
    return notes


def _beaten_notes(b: BackendRuns, ceilings: list[CeilingRuns]) -> list[str]:
    """Driver ceilings the app's median beats, and what that implies."""
    rate = _rates([run.ingest for run in b.runs]).median
    beaten = [
        c.ceiling.label
        for c in ceilings
        if c.ceiling.backend == b.name and rate > _rates(c.loads).median
    ]
    if not beaten:
        return []
    return [
        f"{b.name}: the app's median rate is above the {' and '.join(beaten)} ceiling, which "
        f"commits one transaction per webhook: the app does less per webhook than that (it "
        f"shares transactions between webhooks, or bypasses that layer), so that ceiling does "
        f"not bound it."
    ]


def _diagnosis(b: BackendRuns) -> list[str]:
    """What the median run's figures say about where a backend's time went (shown on a miss)."""
    notes = []
    ingest, health = b.middle.ingest, b.baselines.health
    per_webhook = ingest.server_cpu / max(_ok(ingest), 1)
    per_health = health.server_cpu / max(_ok(health), 1)
    busy = ingest.server_cpu / ingest.elapsed if ingest.elapsed else 0.0
    notes.append(
        f"{b.name}: the server used {1000 * per_webhook:.1f} ms of CPU per webhook, "
        f"{per_webhook / max(per_health, 1e-9):.1f}× a /healthz, and was busy {busy:.0%} of a "
        f"core; at that cost one core serves at most about {1 / max(per_webhook, 1e-9):.0f} "
        f"webhooks/s."
    )
    tail = _latency(ingest, 0.99)
    alone = _latency(b.baselines.sequential, 0.99)
    if b.name == "SQLite" and tail > TAIL_FACTOR * alone:
        notes.append(
            f"SQLite: p99 {tail:.0f} ms at concurrency {CONCURRENCY} against {alone:.0f} ms one "
            f"at a time: webhooks queue for SQLite's single write lock far longer than the work "
            f"takes."
        )
    locked = b.middle.sessions.get("waiting on a lock", 0.0)
    idle = b.middle.sessions.get("idle in transaction", 0.0)
    if locked >= 0.5:
        notes.append(
            f"{b.name}: {locked:.0%} of the busy session samples were waiting on a lock: "
            f"concurrent webhooks queue behind each other's transactions (a row they all "
            f"write), so concurrency buys little."
        )
    elif idle >= 0.5:
        notes.append(
            f"{b.name}: {idle:.0%} of the busy session samples were idle in a transaction, "
            f"waiting for the app's next statement: the database waits for the app, not the "
            f"other way round."
        )
    return notes
