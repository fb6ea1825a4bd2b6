"""Huge forged bodies cost the server process neither memory nor log: measured on the process."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from tests.harness.processes import ServerProcess
from tests.harness.slack_requests import FORM_CONTENT_TYPE

pytestmark = pytest.mark.usefixtures("no_stack_traces")

MARKER = "FORGED-7f3a9c-MARKER"
TEN_MB = 10 * 1024 * 1024
CHUNK = 64 * 1024
# Less than one body: ten requests that each kept theirs would grow it by ten. Usually well
# under 1 MB; under a loaded machine glibc once kept 6.4 MB of freed buffers for a while.
RSS_GROWTH_LIMIT = TEN_MB
LOG_GROWTH_LIMIT = 5_000


def fresh() -> str:
    return str(int(time.time()))


def ten_mb_of_marker() -> bytes:
    line = f"text={MARKER}&response_url=http://127.0.0.1:9/x&".encode()
    return (line * (TEN_MB // len(line) + 1))[:TEN_MB]


def in_chunks(body: bytes) -> Iterator[bytes]:
    """The body without a Content-Length (chunked), as a client that hides its size sends it."""
    for start in range(0, len(body), CHUNK):
        yield body[start : start + CHUNK]


def forged_headers() -> dict[str, str]:
    """Well-formed, fresh, and wrong: the most a forger can get past the header checks."""
    return {
        "Content-Type": FORM_CONTENT_TYPE,
        "X-Slack-Request-Timestamp": fresh(),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_ten_huge_forged_bodies_cost_neither_memory_nor_log(
    server: ServerProcess, chunked: bool
) -> None:
    """Ten 10 MB forged bodies: each refused, RSS and log grow by no more than a few KB/MB."""
    body = ten_mb_of_marker()
    process = psutil.Process(server.process.pid)

    def send_huge() -> httpx.Response:
        content = in_chunks(body) if chunked else body
        return httpx.post(server.events_url, content=content, headers=forged_headers(), timeout=30)

    # The first two buffers settle the allocator (glibc keeps a freed large block's pages
    # once); after that, growth would be per request.
    warm_up = [send_huge().status_code for _ in range(2)]
    rss_before = process.memory_info().rss
    log_before = server.log_path.stat().st_size
    statuses = [send_huge().status_code for _ in range(10)]
    rss_growth = process.memory_info().rss - rss_before
    log_growth = server.log_path.stat().st_size - log_before

    assert rss_growth < RSS_GROWTH_LIMIT, f"RSS grew by {rss_growth / 1e6:.1f} MB"
    assert log_growth < LOG_GROWTH_LIMIT, f"the log grew by {log_growth} bytes"
    assert warm_up + statuses == [413] * 12
    assert MARKER not in server.output()
