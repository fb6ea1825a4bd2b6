"""What the benchmarks share: stand-ins, servers, signed commands and a response_url receiver.

Everything listens on 127.0.0.1 only. Every wait here has a timeout.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psutil

from bot.demo import nlpearl_api as nlpearl_standin
from bot.demo.nlpearl_api import load_sample
from tests.harness.processes import ServerProcess, free_port, server_environment, start_server
from tests.harness.slack_requests import FORM_CONTENT_TYPE, SIGNING_SECRET, sign, slash_command_body
from tests.standins import NLPearlStandIn, SlackStandIn
from tests.standins import slack as slack_standin

REPO_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
RESPONSE_PREFIX = "/response/"
STARTUP_TIMEOUT = 20.0
POLL_INTERVAL = 0.05  # seconds; how quickly the receiver's server notices stop()
# Two socketserver defaults that would make the stand-ins, not the app, the slow part; the
# benchmarks change them as class attributes at run time (tests/ itself is not edited):
# - it listens with a backlog of 5, and a SYN dropped on a full accept queue costs a 1 s
#   retransmit (against the app's 2 s connect timeout) when the app opens many connections;
# - it leaves Nagle's algorithm on, so on a keep-alive connection the body, written after the
#   headers, waits for the client's delayed ACK: about 40 ms added to every request.
LISTEN_BACKLOG = 1024
NOTICE_PREFIX = 25  # characters of a notice's text kept to tell notices apart


def log(message: str) -> None:
    """Progress on stderr, so stdout keeps only the results table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# Signed slash commands


def signed_command(text: str, response_url: str) -> tuple[bytes, dict[str, str]]:
    """A `/lead` body and its headers, signed now with its own timestamp, as Slack sends it."""
    body = slash_command_body(text, response_url)
    headers = {"Content-Type": FORM_CONTENT_TYPE, **sign(SIGNING_SECRET, body)}
    return body, headers


# A response_url receiver that timestamps arrivals


@dataclass(frozen=True)
class Arrival:
    """One post to a response URL: when its body had been read, and what it was."""

    at: float  # time.perf_counter() (CLOCK_MONOTONIC, comparable across processes)
    is_card: bool
    summary: str  # the start of the message's fallback text, to tell notices apart
    key: str  # what followed `/response/{name}/` in the URL ("" if nothing did)

    @property
    def notice(self) -> str | None:
        """The start of a notice's text ("NLPearl is not responding …"); None for a card."""
        return None if self.is_card else self.summary


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, receiver: ResponseReceiver) -> None:
        super().__init__((LOOPBACK, 0), _ReceiverHandler)
        self.receiver = receiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Counts a sender that hung up before reading `ok`, instead of printing a traceback."""
        self.receiver._count_hang_up()


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: _ReceiverServer
    disable_nagle_algorithm = True  # see LISTEN_BACKLOG

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        arrived = time.perf_counter()
        self.server.receiver._record(self.path, raw, arrived)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class ResponseReceiver:
    """Answers `ok` to posts on `/response/{name}` like Slack, noting when each arrived.

    A URL may go on, `/response/{name}/{key}`, to give each command its own response_url; its
    posts count under `name` and carry the key.

    The Slack stand-in records bodies but not arrival times, and its waits re-scan every record
    on each arrival; this keeps only what the benchmarks need.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._arrivals: dict[str, list[Arrival]] = {}
        self._server: _ReceiverServer | None = None
        self.hang_ups = 0  # senders that closed the connection before reading the answer

    def start(self) -> ResponseReceiver:
        self._server = _ReceiverServer(self)
        serve = functools.partial(self._server.serve_forever, poll_interval=POLL_INTERVAL)
        threading.Thread(target=serve, name="response-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, name: str) -> str:
        """The response_url whose posts are recorded under `name`."""
        if self._server is None:
            raise RuntimeError("ResponseReceiver is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{RESPONSE_PREFIX}{name}"

    def arrivals(self, name: str) -> list[Arrival]:
        with self._condition:
            return list(self._arrivals.get(name, ()))

    def count(self, name: str) -> int:
        with self._condition:
            return len(self._arrivals.get(name, ()))

    def wait_for(self, name: str, count: int, timeout: float) -> list[Arrival]:
        """The arrivals under `name` once there are `count`; TimeoutError after `timeout` s."""
        with self._condition:
            if not self._condition.wait_for(
                lambda: len(self._arrivals.get(name, ())) >= count, timeout
            ):
                got = len(self._arrivals.get(name, ()))
                raise TimeoutError(f"{got} of {count} posts to {name!r} within {timeout}s")
            return list(self._arrivals[name])

    def _record(self, path: str, raw: bytes, arrived: float) -> None:
        name, _, key = path.removeprefix(RESPONSE_PREFIX).partition("/")
        arrival = Arrival(arrived, *_read_answer(raw), key=key)
        with self._condition:
            self._arrivals.setdefault(name, []).append(arrival)
            self._condition.notify_all()

    def _count_hang_up(self) -> None:
        with self._condition:
            self.hang_ups += 1


def _read_answer(raw: bytes) -> tuple[bool, str]:
    """Whether a post is a lead card (they open with a header block; notices such as "not
    found" or "NLPearl is not responding" do not), and the start of its fallback text."""
    try:
        message = json.loads(raw)
        blocks = message.get("blocks") or []
        text = str(message.get("text") or "")
    except (ValueError, AttributeError):
        return False, "(not a JSON message)"
    is_card = bool(blocks) and isinstance(blocks[0], dict) and blocks[0].get("type") == "header"
    return is_card, text[:NOTICE_PREFIX] + ("…" if len(text) > NOTICE_PREFIX else "")


# The environment a benchmark runs in


@dataclass
class BenchEnvironment:
    """Running stand-ins (Slack API, NLPearl with the sample data), the receiver, a work folder."""

    slack: SlackStandIn
    nlpearl: NLPearlStandIn
    receiver: ResponseReceiver
    workdir: Path
    servers: list[ServerProcess] = field(default_factory=list)

    def start_app(
        self, overrides: dict[str, str | None] | None = None, command_prefix: Sequence[str] = ()
    ) -> ServerProcess:
        """The real app (`python -m bot serve`), healthy; stopped when the environment closes.

        `overrides` changes its environment (e.g. DATABASE_URL); None removes a variable.
        """
        server = start_server(
            overrides or {},
            slack=self.slack,
            nlpearl=self.nlpearl,
            workdir=self.workdir,
            command_prefix=command_prefix,
        )
        self.servers.append(server)
        return server

    def start_baseline(self) -> ServerProcess:
        """`bench/baseline_app.py` with the app's environment (secret, token, Slack API URL)."""
        port = free_port()
        log_path = self.workdir / f"baseline-{port}.log"
        env = server_environment(port, self.workdir, self.slack, self.nlpearl, {})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.baseline_app"],
                env=env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        server = ServerProcess(process, log_path, url=f"http://{LOOPBACK}:{port}")
        self.servers.append(server)
        wait_healthy(server)
        return server


@contextlib.contextmanager
def bench_environment(nlpearl_latency: float = 0.0) -> Iterator[BenchEnvironment]:
    """Stand-ins and receiver running for the block; every server started in it stopped after."""
    for standin in (nlpearl_standin, slack_standin):
        standin._Server.request_queue_size = LISTEN_BACKLOG
        standin._Handler.disable_nagle_algorithm = True
    with (
        tempfile.TemporaryDirectory(prefix="lead-bot-bench-") as folder,
        SlackStandIn() as slack,
        NLPearlStandIn() as nlpearl,
    ):
        load_sample(nlpearl)
        nlpearl.set_latency(nlpearl_latency)
        receiver = ResponseReceiver().start()
        env = BenchEnvironment(slack, nlpearl, receiver, Path(folder))
        try:
            yield env
        finally:
            for server in env.servers:
                server.terminate()
            receiver.stop()


def wait_healthy(server: ServerProcess, timeout: float = STARTUP_TIMEOUT) -> None:
    """Polls GET /healthz until 200; stops the process and raises if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.process.poll() is None:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"{server.url} did not become healthy; output:\n{server.output()}")


# Figures

_LOG_PROBLEMS = {
    "errors": " ERROR ",
    "warnings": " WARNING ",
    "NLPearl timeouts": "NLPearl did not answer in time",
    "tracebacks": "Traceback (most recent call last)",
}


_LOG_RECORD = re.compile(r"^(\d{4}-\d\d-\d\d |[A-Z]+:\s)")  # a new log line, app or uvicorn
_TRACEBACK_FRAMING = ("Traceback", "The above exception", "During handling")


def log_problems(server: ServerProcess) -> dict[str, int]:
    """How many error, warning, NLPearl-timeout and traceback lines a server wrote (non-zero)."""
    try:
        output = server.output()
    except OSError:
        return {}
    counts = {kind: output.count(marker) for kind, marker in _LOG_PROBLEMS.items()}
    return {kind: count for kind, count in counts.items() if count}


def first_error(server: ServerProcess) -> str | None:
    """The first ERROR line a server logged, with the exception its traceback ended in."""
    try:
        lines = server.output().splitlines()
    except OSError:
        return None
    for index, line in enumerate(lines):
        if " ERROR " not in line:
            continue
        message = line.split(" ERROR ", 1)[1].strip()
        exception = ""
        for following in lines[index + 1 : index + 200]:
            if _LOG_RECORD.match(following):
                break
            if following[:1].strip() and not following.startswith(_TRACEBACK_FRAMING):
                exception = following.strip()  # the last one is where the chain ended
        return (f"{message}: {exception}" if exception else message)[:300]
    return None


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (2^20 bytes)."""
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` in 0..1) of non-empty `values`."""
    ordered = sorted(values)
    rank = math.ceil(round(fraction * len(ordered), 9))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def median(values: list[float]) -> float:
    """The median of non-empty `values`."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass
class Outcome:
    """One benchmark's result: its figures, the goal and whether this run met it."""

    title: str
    measures: str
    method: str
    goal: str
    passed: bool
    figures: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Machine:
    """Where the run happened."""

    cores: int
    cpu: str
    python: str
    system: str


def machine() -> Machine:
    """This machine: usable cores (like `nproc`), CPU model, Python and OS."""
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return Machine(
        cores=len(os.sched_getaffinity(0)),
        cpu=cpu,
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()}",
    )
