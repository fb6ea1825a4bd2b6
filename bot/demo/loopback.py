"""What every stand-in is built on: a loopback HTTP server in a daemon thread, with recording.

A stand-in subclasses `StandIn` and implements `_answer(request) -> Answer`. It gets:
start/stop (or `with`), `url`, a record of the requests it chose to keep with waits on it,
a queue of programmed faults, an answer delay (`set_latency`) that stop() cuts short, and
reset(). Its own state goes under `self._condition`, the lock its records and waits share.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar
from urllib.parse import urlsplit

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
POLL_INTERVAL = 0.05  # seconds; how quickly stop() takes effect

R = TypeVar("R")  # what a stand-in records of each request
F = TypeVar("F")  # what a stand-in programs as a fault
T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    """One request as read off the wire: HTTP method, raw target, lower-cased headers, body."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        """The target without its query."""
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        """The target's query string, without the `?`."""
        return urlsplit(self.target).query


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to one request; no Content-Type header unless `content_type` is given."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def fault_headers(status: int, headers: dict[str, str] | None) -> dict[str, str]:
    """The headers of a programmed fault: a 429 says `Retry-After: 1` unless told otherwise."""
    default = {"Retry-After": "1"} if status == 429 else {}
    return {**default, **(headers or {})}


@dataclass
class _Programmed(Generic[F]):
    matches: Callable[[str], bool]
    fault: F
    times: int


class Faults(Generic[F]):
    """Programmed faults, each for the next `times` requests it matches, the earliest first.

    Not locked itself: the stand-in holds its lock around every call.
    """

    def __init__(self) -> None:
        self._queue: list[_Programmed[F]] = []

    def add(self, matches: Callable[[str], bool], fault: F, times: int = 1) -> None:
        """Answers the next `times` requests whose key `matches` with `fault`."""
        self._queue.append(_Programmed(matches, fault, times))

    def take(self, key: str) -> F | None:
        """Uses up one answer of the earliest fault matching `key`, if there is one."""
        for programmed in self._queue:
            if programmed.matches(key):
                programmed.times -= 1
                if programmed.times <= 0:
                    self._queue.remove(programmed)
                return programmed.fault
        return None

    def clear(self) -> None:
        self._queue.clear()


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server on a free loopback port that knows its stand-in."""

    daemon_threads = True

    def __init__(self, standin: StandIn[Any, Any]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.standin = standin

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up before its answer (a killed app, a timeout) is expected."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    """Reads each request and writes the stand-in's answer."""

    # Keep-alive, as the real services do: clients reuse their connections. Without
    # disabling Nagle, small answers on a kept-alive connection wait ~40 ms for an ACK.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: LoopbackServer

    def do_GET(self) -> None:
        """Serves GET requests."""
        self._dispatch()

    def do_POST(self) -> None:
        """Serves POST requests."""
        self._dispatch()

    def do_PUT(self) -> None:
        """Serves PUT requests, to a stand-in that takes them."""
        self._dispatch()

    def _dispatch(self) -> None:
        standin = self.server.standin
        if self.command not in standin.http_methods:
            # As the standard library answers a method it has no do_ method for.
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = standin._answer(Request(self.command, self.path, headers, raw))
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.content_type is not None:
            self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keeps the test output quiet."""


class StandIn(Generic[R, F]):
    """A service served over loopback HTTP from a daemon thread; subclasses answer requests."""

    thread_name: ClassVar[str] = "standin"
    # Other methods get 501, as from a server that does not know them.
    http_methods: ClassVar[frozenset[str]] = frozenset({"GET", "POST"})

    def __init__(self) -> None:
        self.latency = 0.0
        # Guards the records and every piece of state a subclass keeps; waits wait on it.
        self._condition = threading.Condition()
        self._records: list[R] = []
        self._faults: Faults[F] = Faults()
        self._stopping = threading.Event()
        self._server: LoopbackServer | None = None

    # Lifecycle

    def start(self) -> Self:
        """Binds a free loopback port and serves in a daemon thread."""
        self._stopping.clear()
        self._server = LoopbackServer(self)
        serve = functools.partial(self._server.serve_forever, poll_interval=POLL_INTERVAL)
        threading.Thread(target=serve, name=self.thread_name, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stops serving, cuts short any delay in progress and releases the port."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. `http://127.0.0.1:PORT`."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # Programming

    def set_latency(self, seconds: float) -> None:
        """Delays every answer by `seconds`."""
        with self._condition:
            self.latency = seconds

    def reset(self) -> None:
        """Forgets recorded requests, programmed faults and latency."""
        with self._condition:
            self._records.clear()
            self._faults.clear()
            self.latency = 0.0

    # For subclasses

    def _answer(self, request: Request) -> Answer:
        """Serves one request (on the server's thread for it)."""
        raise NotImplementedError

    def _record(self, record: R) -> None:
        """Keeps `record` and wakes the waits."""
        with self._condition:
            self._records.append(record)
            self._condition.notify_all()

    def _recorded(self, keep: Callable[[R], bool] = lambda _: True) -> list[R]:
        """The records `keep` accepts, oldest first."""
        with self._condition:
            return [record for record in self._records if keep(record)]

    def _wait_for(
        self,
        select: Callable[[], list[T]],
        count: int,
        timeout: float,
        what: str,
        show: Callable[[list[T]], str] | None = None,
    ) -> list[T]:
        """Waits until `select()` finds at least `count`, and returns what it finds.

        Fails with `what` was expected and, if `show` is given, what arrived.
        """
        with self._condition:
            if self._condition.wait_for(lambda: len(select()) >= count, timeout):
                return select()
            arrived = select()
        shown = f": {show(arrived)}" if show is not None else ""
        raise AssertionError(
            f"expected {count} {what} within {timeout}s, got {len(arrived)}{shown}"
        )

    def _pause(self, seconds: float) -> bool:
        """Sleeps `seconds` (not holding the lock); True if stop() cut the pause short."""
        return seconds > 0 and self._stopping.wait(seconds)
