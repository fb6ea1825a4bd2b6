"""The load generator, run in its own process so it shares neither a GIL nor a loop with anything.

`python -m bench.loadgen '{"url": ..., "text": ..., "response_url": ..., "requests": 3000,
"warmup": 200, "concurrency": 16, "time_limit": 60, "server_pid": 123}'` opens `concurrency`
keep-alive HTTP/1.1 connections, sends `warmup` and then `requests` `/lead` commands over them
(each signed with its own timestamp just before it is sent, as Slack does, and each with its own
response_url, `response_url` + `/{number}`), and prints one JSON object: the latency of every
measured request, their statuses, the wall time, and the CPU used by itself and by the server
during the measured phase. Each phase stops after its count or `time_limit` seconds, whichever
comes first; each request gives up after REQUEST_TIMEOUT.

It speaks HTTP/1.1 over asyncio streams rather than through httpx: on this 2-core machine an
httpx AsyncClient needed more CPU per request than the baseline server does, so it, not the
server, set the baseline's throughput, and the app/baseline ratio came out too kind.

Two more kinds of load, chosen by `kind`: `"get"` sends `GET url` (e.g. `/healthz`), and
`"webhook"` POSTs NLPearl Lead Webhooks as JSON, the `n`-th one built by `WebhookPlan.event(n)`
(so the bodies are made here, not passed in); an answer counts as `200` only when the app says
it stored the event, and as `200 not stored` otherwise (a duplicate).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import psutil

from bench.common import REPO_ROOT, signed_command
from bench.webhook_plan import JSON_HEADERS, WebhookPlan

REQUEST_TIMEOUT = 10.0  # seconds
STORED = b'"stored"'  # in the app's answer to a webhook it committed


@dataclass(frozen=True)
class LoadConfig:
    url: str
    text: str
    response_url: str
    requests: int
    warmup: int
    concurrency: int
    time_limit: float
    server_pid: int
    kind: str = "command"  # "command" (signed /lead), "get" (GET url) or "webhook" (plan)
    plan: WebhookPlan | None = None  # for "webhook": which bodies go to which paths

    @classmethod
    def from_json(cls, text: str) -> LoadConfig:
        fields = json.loads(text)
        plan = fields.pop("plan", None)
        return cls(**fields, plan=WebhookPlan(**plan) if plan else None)


@dataclass(frozen=True)
class LoadResult:
    """What the parent process reads back (latencies in seconds)."""

    latencies: list[float]
    statuses: dict[str, int]
    elapsed: float
    timed_out: bool
    loadgen_cpu: float
    server_cpu: float
    sent_total: int

    @classmethod
    def from_json(cls, text: str) -> LoadResult:
        return cls(**json.loads(text))


class HttpError(Exception):
    """The server's answer could not be read as HTTP/1.1."""


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs and reads Content-Length answers."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self.path = parts.path or "/"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, headers: dict[str, str]) -> int:
        """Sends one request and returns the status; reconnects first when needed."""
        status, _ = await self.request("POST", self.path, body, headers)
        return status

    async def request(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """Sends one request to `path` on the same host; returns the status and the body."""
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}:{self._port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError):
            raise HttpError(f"bad status line {status_line!r}") from None
        answer = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            answer[name.strip().lower()] = value.strip()
        if "content-length" not in answer:
            raise HttpError("answer without Content-Length")
        content = await self._reader.readexactly(int(answer["content-length"]))
        if answer.get("connection", "").lower() == "close":
            self.close()
        return status, content

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@dataclass
class _Phase:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    timed_out: bool = False


def _request(
    config: LoadConfig, connection: Connection, number: int
) -> tuple[str, str, bytes, dict[str, str]]:
    """The method, path, body and headers of the `number`-th request of this load."""
    if config.kind == "get":
        return "GET", connection.path, b"", {}
    if config.kind == "webhook":
        if config.plan is None:
            raise ValueError("a webhook load needs a plan")
        path, body = config.plan.event(number)
        return "POST", path, body, JSON_HEADERS
    body, headers = signed_command(config.text, f"{config.response_url}/{number}")
    return "POST", connection.path, body, headers


async def _phase(
    connections: list[Connection], config: LoadConfig, total: int, numbers: Iterator[int]
) -> _Phase:
    result = _Phase()
    issued = 0
    started = time.perf_counter()
    deadline = started + config.time_limit

    async def worker(connection: Connection) -> None:
        nonlocal issued
        while issued < total and time.perf_counter() < deadline:
            issued += 1
            method, path, body, headers = _request(config, connection, next(numbers))
            sent = time.perf_counter()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    code, content = await connection.request(method, path, body, headers)
                status = str(code)
                if config.kind == "webhook" and code == 200 and STORED not in content:
                    status = "200 not stored"
            except (OSError, TimeoutError, HttpError, asyncio.IncompleteReadError) as error:
                status = type(error).__name__
                connection.close()
            result.latencies.append(time.perf_counter() - sent)
            result.statuses[status] += 1

    await asyncio.gather(*(worker(connection) for connection in connections))
    result.elapsed = time.perf_counter() - started
    result.timed_out = issued < total
    return result


async def run(config: LoadConfig) -> LoadResult:
    """Warm up (which also opens the connections), then measure."""
    connections = [Connection(config.url) for _ in range(config.concurrency)]
    server = psutil.Process(config.server_pid)
    try:
        numbers = itertools.count()  # each command gets its own response_url, …/{number}
        warmup = await _phase(connections, config, config.warmup, numbers)
        server_before = sum(server.cpu_times()[:2])
        own_before = time.process_time()
        measured = await _phase(connections, config, config.requests, numbers)
        own_cpu = time.process_time() - own_before
        server_cpu = sum(server.cpu_times()[:2]) - server_before
    finally:
        for connection in connections:
            connection.close()
    return LoadResult(
        latencies=measured.latencies,
        statuses=dict(measured.statuses),
        elapsed=measured.elapsed,
        timed_out=warmup.timed_out or measured.timed_out,
        loadgen_cpu=own_cpu,
        server_cpu=server_cpu,
        sent_total=len(warmup.latencies) + len(measured.latencies),
    )


def main(argv: list[str]) -> int:
    config = LoadConfig.from_json(argv[0])
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        result = asyncio.run(run(config))
    else:
        result = uvloop.run(run(config))
    print(json.dumps(asdict(result)))
    return 0


def launch(config: LoadConfig, timeout: float) -> LoadResult:
    """Runs the generator in a child process and returns what it measured."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", json.dumps(asdict(config))],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{completed.stderr}")
    return LoadResult.from_json(completed.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
