"""Renders outcomes as a terminal table and as `docs/benchmarks.md`."""

from __future__ import annotations

from datetime import datetime

from bench.common import Machine, Outcome


def _verdict(outcome: Outcome) -> str:
    return "PASS" if outcome.passed else "FAIL"


def render_text(outcomes: list[Outcome], host: Machine, when: datetime, total: float) -> str:
    """A plain table per benchmark for the terminal."""
    lines = [
        f"Lead Bot benchmarks, {when:%Y-%m-%d %H:%M} UTC, {host.cores} cores ({host.cpu}), "
        f"Python {host.python}, {total:.0f} s",
    ]
    for outcome in outcomes:
        lines += ["", f"{outcome.title}: {_verdict(outcome)} ({outcome.seconds:.0f} s)"]
        if outcome.goal:
            lines.append(f"  goal: {outcome.goal}")
        width = max((len(label) for label, _ in outcome.figures), default=0)
        lines += [f"  {label.ljust(width)}  {value}" for label, value in outcome.figures]
        lines += [f"  note: {note}" for note in outcome.notes]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


INTRO = """\
# Benchmarks

Speed and memory targets for Lead Bot, measured by `bench/` against the real server process
(`python -m bot serve`, started exactly as the end-to-end tests start it) over loopback HTTP.
This file is written by `python -m bench`; edit `bench/report.py`, not this file.

Ground rules:

- Every figure is a ratio against a baseline measured in the same run on the same machine, or
  an absolute bound the goal states.
- Benchmarks never run inside the test suite (`pytest` collects `tests/` only).
- All traffic stays on 127.0.0.1: Slack, NLPearl and the response_url are local stand-ins
  (`tests/standins/` for Slack, `bot/demo/nlpearl_api.py` for NLPearl, plus a small
  response_url receiver in `bench/common.py` that timestamps arrivals); the PostgreSQL runs
  use a temporary database on the local PostgreSQL server
  (`tests/postgres.py`), dropped afterwards.
- Every loop is bounded in count and in time and stops by itself.
"""

HOW_TO_RUN = """\
## Re-running

```sh
make bench                                   # all of them; rewrites this file
.tools/bin/uv run --frozen python -m bench   # the same
.tools/bin/uv run --frozen python -m bench latency memory   # some; prints only
```

Names: `ack`, `latency`, `memory` (the lookup path), `actions` (acting on a lead), `ingest`,
`burst` (a burst delivered at Slack's pace), `feed_latency`, `feed_memory` (channel
notifications), `chart` (the digest's chart, drawn in process). A full run takes about half
an hour on 2 cores, most of it the burst, whose length is set by Slack's pace (about one post
per channel per second). The command exits 1 when a goal is missed (and 2 for an unknown benchmark
name), so a missed goal fails `make bench`.

## Reading the figures

- **The stack's floor.** Bolt's async listener runner starts the listener as a task and then
  polls `ack.response` every 10 ms (`asyncio.sleep(0.01)` in
  `slack_bolt/listener/asyncio_runner.py`), so on this stack an ack takes at least ~11 ms and a
  closed-loop client at concurrency 16 can get at most ~1,400 acks/s, however cheap the
  listener. The baseline shows that floor; the app cannot beat it.
- **The load generator** is a separate process speaking HTTP/1.1 over asyncio streams (one
  keep-alive connection per unit of concurrency). An httpx `AsyncClient` was tried first: on
  2 cores it needed 1.2 to 1.7 ms of CPU per request, against about 0.3 ms for the baseline
  server, so it capped the baseline near 550 req/s with 100+ ms stalls and made the ratio look
  better than it is. "Load generator CPU busy" shows it is not the limit now.
- **Server CPU per acked command** is the server's user + system CPU during the measured phase
  divided by the commands it acked. For the app it includes the lookups running behind the
  acks, which is where its throughput goes.
- **Cards and notices.** The response_url receiver counts a post as a lead card when its first
  block is a header; anything else is a notice (lead not found, NLPearl not responding, an
  error with a reference), listed by the start of its text.
- **Backlog or leak.** The memory benchmark reads RSS right after each batch's last card, again
  once the app has gone idle, and after more lookups sent one at a time. Memory that grows
  under concurrent load but not one at a time is work queued behind the cards (a backlog that
  drains), not a leak; CPython rarely hands freed memory back to the OS, so RSS stays at its
  high-water mark either way.
- **Webhooks.** The load generator also sends NLPearl Lead Webhooks (`kind: "webhook"`),
  building each body itself from a small plan (`bench/webhook_plan.py`): distinct leads and
  statuses, so none is a duplicate, and a webhook counts only when the app answers 200 with
  `"status": "stored"`. Channels are subscribed exactly as the end-to-end tests do it, with a
  signed `/lead subscribe` whose reply shows the webhook URL, each channel to a campaign of
  its own so channels never share Slack's per-channel pacing.
- **The outbox.** A webhook is committed with one delivery row per subscribed channel before
  it is answered; the delivery loop in the same process claims up to 8 batches a round, at
  most one per channel, and coalesces a lead's queued events into one post. The feed
  benchmarks read the outbox's state from the database (read-only) to know when delivery has
  finished: with nothing pending or claimed.
- **Stand-in sockets.** The stand-ins are `socketserver` servers. The benchmarks set two class
  attributes at run time (`tests/` is not changed): a listen backlog of 1,024 instead of 5 (a
  SYN dropped on a full accept queue costs a 1 s retransmit), and `TCP_NODELAY`, because with
  keep-alive and Nagle's algorithm on, each answer's body waits for the client's delayed ACK,
  adding about 40 ms to every request. Either would make the stand-ins, not the app, the slow
  part.
"""


def render_markdown(outcomes: list[Outcome], host: Machine, when: datetime, total: float) -> str:
    """The whole document."""
    parts = [INTRO]
    parts.append(
        f"## Last run\n\n"
        f"- Date: {when:%Y-%m-%d %H:%M} UTC\n"
        f"- Machine: {host.cores} cores (`nproc`), {host.cpu}, {host.system}\n"
        f"- Python {host.python}\n"
        f"- Duration: {total:.0f} s\n"
    )
    summary = ["| Benchmark | Goal | Result |", "| --- | --- | --- |"]
    summary += [f"| {_cell(o.title)} | {_cell(o.goal)} | **{_verdict(o)}** |" for o in outcomes]
    parts.append("\n".join(summary) + "\n")
    for outcome in outcomes:
        section = [f"## {outcome.title}: {_verdict(outcome)}", ""]
        if outcome.measures:
            section += [f"**Measures.** {outcome.measures}", ""]
        if outcome.method:
            section += [f"**How.** {outcome.method}", ""]
        if outcome.goal:
            section += [f"**Goal.** {outcome.goal}", ""]
        section += [f"**This run** ({outcome.seconds:.0f} s):", ""]
        section += ["| Figure | Value |", "| --- | --- |"]
        section += [f"| {_cell(label)} | {_cell(value)} |" for label, value in outcome.figures]
        if outcome.notes:
            section.append("")
            section += [f"- {note}" for note in outcome.notes]
        parts.append("\n".join(section) + "\n")
    parts.append(HOW_TO_RUN)
    return "\n".join(parts)
