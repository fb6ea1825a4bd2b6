"""Where a webhook's CPU goes: the ingest load of `bench/ingest.py`, sampled by py-spy.

`python -m bench.profile_ingest [sqlite|postgresql] [OUT.txt] [--plain]` starts the real app
under `py-spy record` (sampling the thread holding the GIL, 250 Hz), subscribes one channel,
sends the ingest benchmark's load (16 connections, distinct Lead Webhooks), stops the app and
prints where the samples fell: by layer of the stack and by function. `--plain` sends the same
load without the profiler and prints only the rate and latency. Not part of `make bench`: it is
the tool that finds where `bench/ingest.py`'s time goes. py-spy must start the process
(attaching to a running one needs ptrace rights that containers rarely give).
"""

from __future__ import annotations

import collections
import contextlib
import shutil
import signal
import sys
import time
from pathlib import Path

import psutil

from bench.common import bench_environment, log
from bench.feed import postgres_database, subscribe_channels
from bench.ingest import BLOCK, CONCURRENCY, PER_LEAD
from bench.loadgen import LoadConfig, launch
from bench.webhook_plan import WebhookPlan

REQUESTS = 6000
RATE_HZ = 250
# Layers of the stack, each recognised by a file path fragment. A sample counts for the layer of
# its innermost recognised frame: time in the standard library counts for whoever called it.
LAYERS = (
    ("asyncpg (driver)", "asyncpg/"),
    ("aiosqlite / sqlite3 (driver)", "aiosqlite/"),
    ("SQLAlchemy", "sqlalchemy/"),
    ("pydantic (webhook model)", "pydantic"),
    ("bot: the delivery loop", "(bot/feed/loop.py"),
    ("bot: the scheduler", "(bot/app/scheduling.py"),
    ("bot: everything else", "(bot/"),
    ("Starlette", "starlette/"),
    ("uvicorn + httptools", "uvicorn/"),
    ("asyncio event loop", "asyncio/"),
)


def main(argv: list[str]) -> int:
    # --plain: the same load without the profiler, for the rate and latency alone.
    plain = "--plain" in argv
    argv = [arg for arg in argv if arg != "--plain"]
    backend = argv[0] if argv else "sqlite"
    out = Path(argv[1]) if len(argv) > 1 else Path(f"profile-{backend}.txt")
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw = out.with_suffix(".raw")
    # --gil: only the thread running Python counts. py-spy cannot tell idle threads here (every
    # sample looked busy), and the GIL holder is what limits an asyncio server.
    prefix = [spy, "record", "--gil", "--format", "raw", "--rate", str(RATE_HZ), "-o", str(raw)]
    prefix.append("--")
    with bench_environment() as env, contextlib.ExitStack() as stack:
        overrides: dict[str, str | None] = {}
        if backend == "postgresql":
            overrides["DATABASE_URL"] = stack.enter_context(postgres_database(env))
        app = env.start_app(overrides, command_prefix=() if plain else prefix)
        feed = subscribe_channels(env, app, 1, "profile")
        plan = WebhookPlan(feed.paths, feed.campaigns, per_lead=PER_LEAD, block=BLOCK)
        python = psutil.Process(app.process.pid)
        python = python if plain else python.children()[0]
        result = launch(
            LoadConfig(
                url=app.url + feed.paths[0],
                text="",
                response_url="",
                requests=REQUESTS,
                warmup=200,
                concurrency=CONCURRENCY,
                time_limit=60,
                server_pid=python.pid,
                kind="webhook",
                plan=plan,
            ),
            timeout=120,
        )
        rate = result.statuses.get("200", 0) / max(result.elapsed, 1e-9)
        ms = sorted(1000 * latency for latency in result.latencies)
        log(
            f"{backend}: {rate:.0f} webhooks/s{'' if plain else ' under the profiler'}, "
            f"p50 {ms[len(ms) // 2]:.1f} ms, p99 {ms[int(len(ms) * 0.99)]:.1f} ms, "
            f"statuses {dict(result.statuses)}"
        )
        if plain:
            return 0
        # py-spy writes its file when the process it started exits.
        python.send_signal(signal.SIGTERM)
        app.process.wait(timeout=60)
    time.sleep(0.5)
    summary = summarize(raw.read_text(encoding="utf-8"))
    out.write_text(summary, encoding="utf-8")
    print(summary)
    return 0


def summarize(raw: str, top: int = 30) -> str:
    """Shares of on-CPU samples by layer, and the functions most often on top of the stack."""
    layers: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = stack.split(";")
        if any("_find_and_load" in frame for frame in frames):
            continue  # start-up imports
        count = int(count_text)
        total += count
        layers[_layer(frames)] += count
        leaves[_function(frames[-1])] += count
        for function in {_function(frame) for frame in frames if "(bot/" in frame}:
            inclusive[function] += count
    lines = [
        f"{total} samples at {RATE_HZ} Hz (start-up imports left out)",
        "",
        "By layer (innermost wins):",
    ]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in layers.most_common()]
    lines += ["", "Lead Bot functions, inclusive (on the stack):"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "Functions on top of the stack (self time):"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in leaves.most_common(top)]
    return "\n".join(lines) + "\n"


def _layer(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, fragment in LAYERS:
            if fragment in frame:
                return name
    return "other"


def _function(frame: str) -> str:
    """`name (path:line)` without the line, and with the path from its package on."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for anchor in ("site-packages/", "/work/", "lib/python3"):
        if anchor in path:
            path = path.split(anchor, 1)[1]
            break
    return f"{name} ({path})"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
