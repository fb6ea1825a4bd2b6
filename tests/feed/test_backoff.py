"""A delivery loop whose rounds fail backs off and says so in one line a step, never a flood."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.feed.backoff import MAX_PAUSE_SECONDS, FailingRounds
from bot.feed.loop import Deliverer
from bot.storage.engine import create_engine
from bot.storage.faults import unreachable
from bot.storage.migrate import upgrade_to_latest
from bot.storage.outbox import Batch

LOGGER = logging.getLogger("tests.backoff")


def rounds(jitter: float = 1.0) -> FailingRounds:
    return FailingRounds(LOGGER, "Delivery", jitter=lambda: jitter)


def said(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER.name]


def refused() -> ConnectionRefusedError:
    return ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)")


def test_each_failed_round_doubles_the_pause_up_to_the_ceiling(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failing = rounds()

    pauses = [failing.failed(refused()) for _ in range(10)]

    assert pauses[:5] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert pauses[-1] == MAX_PAUSE_SECONDS
    assert failing.failures == 10


def test_jitter_keeps_each_pause_within_the_upper_half() -> None:
    low, high = rounds(jitter=0.0), rounds(jitter=1.0)

    for _ in range(8):
        least, most = low.failed(refused()), high.failed(refused())
        assert most / 2 == least


def test_a_database_out_of_reach_is_one_line_a_step_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failing = rounds()

    for _ in range(3):
        failing.failed(refused())

    records = said(caplog)
    assert [r.levelno for r in records] == [logging.WARNING] * 3
    assert all(r.exc_info is None for r in records)
    assert records[0].getMessage() == (
        "Delivery: the database cannot be reached (ConnectionRefusedError: [Errno 111] Connect "
        "call failed ('127.0.0.1', 1)); next try in 0.5 s"
    )
    assert "\n" not in "".join(r.getMessage() for r in records)


def test_a_bug_shows_its_traceback_once_then_one_line(caplog: pytest.LogCaptureFixture) -> None:
    failing = rounds()
    bug = KeyError("status")

    for _ in range(3):
        failing.failed(bug)
    failing.failed(ValueError("another bug"))

    records = said(caplog)
    assert [r.exc_info is not None for r in records] == [True, False, False, True]
    assert records[0].getMessage() == "Delivery failed unexpectedly; next try in 0.5 s"
    assert (
        records[1].getMessage() == "Delivery failed again (KeyError: 'status'); next try in 1.0 s"
    )


def test_recovery_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER.name)
    failing = rounds()
    failing.succeeded()
    for _ in range(4):
        failing.failed(refused())

    failing.succeeded()
    failing.succeeded()

    messages = [r.getMessage() for r in said(caplog)]
    assert messages[-1] == "Delivery works again after 4 failed rounds"
    assert len(messages) == 5
    assert failing.failures == 0
    assert failing.failed(refused()) == 0.5


def test_what_counts_as_a_database_out_of_reach() -> None:
    assert unreachable(refused()) is not None
    assert unreachable(TimeoutError()) == "TimeoutError"
    gone = OperationalError("SELECT 1", {"phone": "+14155550137"}, Exception("unable to open"))
    assert unreachable(gone) == "Exception: unable to open"
    # A bad statement is a bug, not an outage; the statement's parameters are never repeated.
    assert unreachable(IntegrityError("INSERT", {}, Exception("UNIQUE failed"))) is None
    assert unreachable(KeyError("x")) is None


async def test_the_loop_backs_off_while_the_database_is_missing_and_says_when_it_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A SQLite file in a folder that does not exist yet: every round fails to connect.
    folder = tmp_path / "not-yet"
    url = f"sqlite:///{folder / 'lead-bot.db'}"
    engine = create_engine(url)

    async def never_attempted(batch: Batch) -> None:
        raise AssertionError("no batch can be claimed without a database")

    deliverer = Deliverer(engine, never_attempted)
    stopping = asyncio.Event()
    caplog.set_level(logging.INFO, logger="bot.feed.loop")
    loop = asyncio.create_task(deliverer.run(stopping))
    try:
        await asyncio.sleep(2.0)
        down = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
        # 0.25–0.5 s, then 0.5–1 s, then 1–2 s: a handful of lines, not hundreds.
        assert 2 <= len(down) <= 4, [r.getMessage() for r in down]
        assert all(r.exc_info is None for r in down)
        assert "unable to open database file" in down[0].getMessage()

        folder.mkdir()
        await asyncio.to_thread(upgrade_to_latest, url)
        started = time.monotonic()
        while not any("works again" in r.getMessage() for r in caplog.records):
            assert time.monotonic() - started < 10, "the loop never recovered"
            await asyncio.sleep(0.1)
    finally:
        stopping.set()
        await asyncio.wait_for(loop, 5)
        await engine.dispose()

    (back,) = [r for r in caplog.records if "works again" in r.getMessage()]
    assert back.getMessage().startswith("Delivery works again after ")
    assert not [r for r in caplog.records if r.exc_info]
