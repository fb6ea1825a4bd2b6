"""Ack throughput: the real app against a Bolt app that only acks, on the same stack.

The baseline (`bench/baseline_app.py`) runs for the whole benchmark; the real app is started
fresh for each of its rounds and stopped after it, so work it still has queued can never land in
the baseline's measurement (the two share the machine's cores). Rounds alternate baseline, app,
app, baseline. Each round is a separate load generator process: a warm-up, then a fixed number of
freshly signed `/lead CAMPAIGN LEAD` commands at a fixed concurrency, with a time limit per phase.
The app really looks each lead up after acking (NLPearl stand-in, no added latency) and posts the
card to a response_url receiver; after its round the benchmark waits a bounded time for those
answers and counts what came back. The best round of each side counts.

A second, shorter comparison sends `/lead help`, which the app answers in the ack itself with no
background work: it shows what the app's own ack path costs, apart from the lookups.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from dataclasses import dataclass

from bench.common import (
    Arrival,
    BenchEnvironment,
    Outcome,
    bench_environment,
    first_error,
    log,
    log_problems,
    median,
    percentile,
)
from bench.loadgen import LoadConfig, LoadResult, launch
from bot.demo.nlpearl_api import SAMPLE_LEAD_ID, SAMPLE_PEARL_ID
from tests.harness.processes import ServerProcess

WARMUP = 200
REQUESTS = 3000
CONCURRENCY = 16
ROUNDS = 2
PHASE_TIME_LIMIT = 10.0  # seconds per load phase; the baseline needs about 3
DRAIN_TIMEOUT = 15.0  # seconds to wait for the app's answers after its round
STOP_TIMEOUT = 30.0  # seconds for the app to stop before it is killed (Heroku's grace)
HELP_REQUESTS = 2000
MIN_RATIO = 0.8
MAX_P99_MS = 50.0
SLACK_ACK_DEADLINE = 3.0  # seconds; Slack shows the user an error for a later ack
LOOKUP_TEXT = f"{SAMPLE_PEARL_ID} {SAMPLE_LEAD_ID}"
HELP_TEXT = "help"


@dataclass(frozen=True)
class AppRound:
    """One round of the app: the load, then what became of the lookups behind the acks."""

    load: LoadResult
    before_stop: list[Arrival]  # answers within DRAIN_TIMEOUT after the load
    at_stop: list[Arrival]  # answers sent while the app shut down
    drain_seconds: float
    stop_seconds: float
    problems: dict[str, int]
    first_error: str | None


def _load(
    env: BenchEnvironment, server: ServerProcess, text: str, name: str, requests: int
) -> LoadResult:
    config = LoadConfig(
        url=server.events_url,
        text=text,
        response_url=env.receiver.url(name),
        requests=requests,
        warmup=WARMUP,
        concurrency=CONCURRENCY,
        time_limit=PHASE_TIME_LIMIT,
        server_pid=server.process.pid,
    )
    return launch(config, timeout=2 * PHASE_TIME_LIMIT + 30)


def _ok(result: LoadResult) -> int:
    return result.statuses.get("200", 0)


def _rate(result: LoadResult) -> float:
    return _ok(result) / result.elapsed if result.elapsed > 0 else 0.0


def _ms(result: LoadResult) -> list[float]:
    return [latency * 1000 for latency in result.latencies]


def _describe(result: LoadResult) -> str:
    ms = _ms(result)
    return (
        f"{_rate(result):.0f} req/s ({_ok(result)} ok in {result.elapsed:.1f} s), p50 "
        f"{median(ms):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, server CPU "
        f"{result.server_cpu / result.elapsed:.0%}, load generator CPU "
        f"{result.loadgen_cpu / result.elapsed:.0%}"
    )


def _app_round(env: BenchEnvironment, number: int) -> AppRound:
    """A fresh app under load, a bounded wait for its answers, then SIGTERM as a host sends it."""
    app = env.start_app()
    name = f"ack-app-{number}"
    stop_seconds = 0.0
    try:
        load = _load(env, app, LOOKUP_TEXT, name, REQUESTS)
        log(f"ack round {number} app: {_describe(load)}")
        drain_started = time.perf_counter()
        with contextlib.suppress(TimeoutError):
            env.receiver.wait_for(name, load.sent_total, DRAIN_TIMEOUT)
        drained = time.perf_counter() - drain_started
    finally:
        answered = env.receiver.count(name)
        stop_started = time.perf_counter()
        app.terminate(STOP_TIMEOUT)
        stop_seconds = time.perf_counter() - stop_started
    arrivals = env.receiver.arrivals(name)
    return AppRound(
        load=load,
        before_stop=arrivals[:answered],
        at_stop=arrivals[answered:],
        drain_seconds=drained,
        stop_seconds=stop_seconds,
        problems=log_problems(app),
        first_error=first_error(app),
    )


def _answers(arrivals: list[Arrival]) -> str:
    """ "N cards, M “notice…”" for some answers."""
    cards = sum(arrival.is_card for arrival in arrivals)
    notices = Counter(arrival.notice for arrival in arrivals if arrival.notice)
    parts = [f"{cards:,} cards"] if cards or not notices else []
    parts += [f"{count:,} “{text}”" for text, count in notices.most_common(3)]
    return ", ".join(parts)


def run() -> Outcome:
    """Runs the rounds and the help comparison; judges the best round of each side."""
    began = time.perf_counter()
    with bench_environment() as env:
        baseline = env.start_baseline()
        base_runs: list[LoadResult] = []
        app_runs: list[AppRound] = []
        for number in range(1, ROUNDS + 1):
            sides = ("baseline", "app") if number % 2 else ("app", "baseline")
            for side in sides:
                if side == "baseline":
                    result = _load(env, baseline, LOOKUP_TEXT, "ack-baseline", REQUESTS)
                    base_runs.append(result)
                    log(f"ack round {number} baseline: {_describe(result)}")
                else:
                    app_runs.append(_app_round(env, number))
        help_base = _load(env, baseline, HELP_TEXT, "help-baseline", HELP_REQUESTS)
        log(f"help baseline: {_describe(help_base)}")
        app = env.start_app()
        help_app = _load(env, app, HELP_TEXT, "help-app", HELP_REQUESTS)
        log(f"help app: {_describe(help_app)}")
        app.terminate(STOP_TIMEOUT)
    return _judge(base_runs, app_runs, help_base, help_app, time.perf_counter() - began)


def _judge(
    base_runs: list[LoadResult],
    app_runs: list[AppRound],
    help_base: LoadResult,
    help_app: LoadResult,
    seconds: float,
) -> Outcome:
    base = max(base_runs, key=_rate)
    best = max(app_runs, key=lambda r: _rate(r.load))
    app = best.load
    ratio = _rate(app) / _rate(base)
    base_ms, app_ms = _ms(base), _ms(app)
    app_p99 = percentile(app_ms, 0.99)
    not_ok = sum(count for status, count in app.statuses.items() if status != "200")
    not_ok += sum(count for status, count in base.statuses.items() if status != "200")
    short = [r for r in [*base_runs, *(r.load for r in app_runs)] if r.timed_out]
    passed = ratio >= MIN_RATIO and app_p99 < MAX_P99_MS and not_ok == 0 and not short
    help_ratio = _rate(help_app) / _rate(help_base)
    late = sum(latency > SLACK_ACK_DEADLINE for r in app_runs for latency in r.load.latencies)
    measured = sum(len(r.load.latencies) for r in app_runs)
    sent = sum(r.load.sent_total for r in app_runs)
    before = [arrival for r in app_runs for arrival in r.before_stop]
    at_stop = [arrival for r in app_runs for arrival in r.at_stop]
    per_command: dict[tuple[int, str], list[Arrival]] = {}
    for number, r in enumerate(app_runs):
        for arrival in [*r.before_stop, *r.at_stop]:
            per_command.setdefault((number, arrival.key), []).append(arrival)
    never = sent - len(per_command)
    twice = Counter(
        " then ".join("card" if a.is_card else f"“{a.summary}”" for a in answers)
        for answers in per_command.values()
        if len(answers) > 1
    )
    problems: dict[str, int] = {}
    for r in app_runs:
        for kind, count in r.problems.items():
            problems[kind] = problems.get(kind, 0) + count
    figures = [
        ("Baseline throughput (best round)", f"{_rate(base):.0f} req/s"),
        ("App throughput (best round)", f"{_rate(app):.0f} req/s"),
        ("Ratio app / baseline", f"{ratio:.2f}×"),
        (
            "Ack latency p50 / p99, baseline",
            f"{median(base_ms):.1f} / {percentile(base_ms, 0.99):.1f} ms",
        ),
        (
            "Ack latency p50 / p99 / max, app",
            f"{median(app_ms):.1f} / {app_p99:.1f} / {max(app_ms):.0f} ms",
        ),
        (
            f"App acks slower than Slack's {SLACK_ACK_DEADLINE:.0f} s deadline, all rounds",
            f"{late:,} of {measured:,}",
        ),
        (
            "Throughput per round, baseline; app (req/s)",
            ", ".join(f"{_rate(r):.0f}" for r in base_runs)
            + "; "
            + ", ".join(f"{_rate(r.load):.0f}" for r in app_runs),
        ),
        (
            "Measured commands acked per round, app",
            ", ".join(f"{_ok(r.load)} in {r.load.elapsed:.1f} s" for r in app_runs),
        ),
        (
            "Server CPU per acked command, baseline / app",
            f"{1000 * base.server_cpu / max(_ok(base), 1):.2f} / "
            f"{1000 * app.server_cpu / max(_ok(app), 1):.2f} ms",
        ),
        (
            "Load generator CPU busy, baseline / app rounds",
            f"{base.loadgen_cpu / base.elapsed:.0%} / {app.loadgen_cpu / app.elapsed:.0%}",
        ),
        (
            f"App lookups answered within {DRAIN_TIMEOUT:.0f} s after the round",
            f"{len(before):,} of {sent:,}: {_answers(before)}",
        ),
        (
            "Answered while the app shut down on SIGTERM",
            f"{len(at_stop):,}: {_answers(at_stop)}; shutdown took "
            + ", ".join(f"{r.stop_seconds:.1f} s" for r in app_runs),
        ),
        ("Acked lookups never answered", f"{never:,} of {sent:,}"),
        (
            "Lookups answered more than once",
            f"{sum(twice.values()):,}"
            + "".join(f"; {count:,} × {pattern}" for pattern, count in twice.most_common(2)),
        ),
        (
            "App log during its rounds",
            ", ".join(f"{count:,} {kind}" for kind, count in problems.items()) or "clean",
        ),
        (
            "`/lead help` (no background work): baseline / app",
            f"{_rate(help_base):.0f} / {_rate(help_app):.0f} req/s = {help_ratio:.2f}×, app p99 "
            f"{percentile(_ms(help_app), 0.99):.1f} ms",
        ),
    ]
    notes = []
    if short:
        notes.append(
            f"{len(short)} load phase(s) stopped at the {PHASE_TIME_LIMIT:.0f} s limit before "
            "their count; throughput is what was acked in that time."
        )
    errors = [r.first_error for r in app_runs if r.first_error]
    if errors:
        notes.append(f"First error in the app's log: {errors[0]}")
    if never:
        notes.append(
            "Lookups still queued when the app stopped should each get a “Please try again”. "
            "The response_url receiver is a threaded Python server sharing the bench process, "
            "so a burst of posts at shutdown may be more than it accepts in time: “never "
            "answered” is an upper bound."
        )
    if not_ok:
        notes.append(f"{not_ok} commands in the best rounds were not answered 200.")
    if max(base.loadgen_cpu / base.elapsed, app.loadgen_cpu / app.elapsed) > 0.9:
        notes.append("The load generator was over 90% busy, so it may have capped throughput.")
    return Outcome(
        title="Ack throughput",
        measures=(
            "How many signed `/lead CAMPAIGN LEAD` commands per second the real app acknowledges, "
            "and how fast, compared with a minimal Bolt app that only acks, while the app does "
            "the lookups those commands ask for."
        ),
        method=(
            f"The real app (`python -m bot serve` via `start_server`, Slack and NLPearl "
            f"stand-ins, NLPearl latency 0, so every ack is followed by a real lookup and a card "
            f"posted to a response_url receiver) and `bench/baseline_app.py` (Starlette + uvicorn "
            f"+ AsyncApp whose `/lead` only does `await ack()`; same signing secret, bot token, "
            f"Slack API stand-in and uvicorn options). A load generator in its own process sends "
            f"{WARMUP} warm-up then {REQUESTS:,} measured commands over {CONCURRENCY} keep-alive "
            f"connections (concurrency {CONCURRENCY}), each signed with its own timestamp, and "
            f"records each request's latency; each phase stops at its count or after "
            f"{PHASE_TIME_LIMIT:.0f} s. Rounds: baseline, app, app, baseline; the app is started "
            f"fresh for each of its rounds, given {DRAIN_TIMEOUT:.0f} s to post its answers, and "
            f"stopped. The best round of each side counts. Then {HELP_REQUESTS:,} `/lead help` "
            f"commands to each, which the app answers inside the ack with no background work."
        ),
        goal=(
            f"App throughput ≥ {MIN_RATIO}× the baseline's and app p99 ack latency "
            f"< {MAX_P99_MS:.0f} ms, every command acked with 200 within the phase limit."
        ),
        passed=passed,
        figures=figures,
        notes=notes,
        seconds=seconds,
    )
