"""Runs the benchmarks, prints their figures and writes `docs/benchmarks.md`.

`python -m bench` (or `make bench`) runs all of them; `python -m bench latency memory` runs
some and only prints (the document always describes a full run). Exits 1 when a goal is missed.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bench import (
    ack_throughput,
    action_latency,
    burst,
    chart,
    digest,
    feed_latency,
    feed_memory,
    ingest,
    lookup_latency,
    memory,
)
from bench.common import REPO_ROOT, Machine, Outcome, log, machine
from bench.report import render_markdown, render_text

BENCHMARKS: dict[str, Callable[[], Outcome]] = {
    "ack": ack_throughput.run,
    "latency": lookup_latency.run,
    "memory": memory.run,
    "ingest": ingest.run,
    "burst": burst.run,
    "feed_latency": feed_latency.run,
    "feed_memory": feed_memory.run,
    "actions": action_latency.run,
    "chart": chart.run,
    "digest": digest.run,
}
DOCUMENT = REPO_ROOT / "docs" / "benchmarks.md"


def _run(name: str) -> Outcome:
    """One benchmark; an exception becomes a failed outcome so the others still run."""
    started = time.perf_counter()
    try:
        return BENCHMARKS[name]()
    except Exception as error:
        log(f"{name} failed:\n{traceback.format_exc()}")
        return Outcome(
            title=name,
            measures="(the benchmark did not finish)",
            method="",
            goal="",
            passed=False,
            figures=[("Error", f"{type(error).__name__}: {str(error)[:500]}")],
            seconds=time.perf_counter() - started,
        )


def main(argv: Sequence[str]) -> int:
    names = list(argv) or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    when = datetime.now(UTC)
    host: Machine = machine()
    started = time.perf_counter()
    outcomes = []
    for name in names:
        log(f"running {name}")
        outcomes.append(_run(name))
    total = time.perf_counter() - started
    print(render_text(outcomes, host, when, total))
    if names == list(BENCHMARKS):
        DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
        DOCUMENT.write_text(render_markdown(outcomes, host, when, total), encoding="utf-8")
        log(f"wrote {DOCUMENT.relative_to(REPO_ROOT)}")
    return 0 if all(outcome.passed for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
