"""The daily digest through real `python -m bot serve` processes, at a fixed clock.

Each process's clock starts where the test says (CLOCK_START) and runs on, so nobody waits for
09:00. A digest is set up with `/lead digest` by a process whose clock reads 07:00 (the later tests
store that same digest directly, to spare a process); the processes that follow start at the
moment that matters: just before 09:00, two days later, two
at once on PostgreSQL, or after one was killed between uploading the chart and posting.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.parsing.schedule import next_due
from bot.storage.digests import set_digest
from bot.storage.engine import create_engine
from bot.storage.migrate import upgrade_to_latest
from bot.storage.rows import Workspace
from tests.harness.feed import bot_environment, kill_hard, run_migrate
from tests.harness.processes import ServerFactory, ServerProcess
from tests.harness.slack_requests import blocks_text, send_command
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")

CAMPAIGN = "d16e57000000000000000001"
NAME = "Digest Demo"
CHANNEL = "C0DIGEST"
USER = "U0DIGEST"
NOTICE_EVENT = "lead_bot_notice"
SET_UP_AT = "2026-12-04T07:00:00Z"
JUST_BEFORE_NINE = "2026-12-04T08:59:58Z"
WAIT_SECONDS = 60.0
Json = dict[str, Any]


def _env(clock: str, **more: str) -> dict[str, str]:
    return {
        "CLOCK_START": clock,
        "SCHEDULE_TICK_SECONDS": "0.2",
        "DELIVERY_LEASE_SECONDS": "3",
        **more,
    }


def _analytics() -> Json:
    """Known numbers: 112 calls on 3 Dec, a 14-day timeline, 9 bookings and 4 transfers."""
    days = [f"2026-11-{day:02d}T00:00:00Z" for day in range(20, 31)] + [
        f"2026-12-{day:02d}T00:00:00Z" for day in range(1, 4)
    ]
    return {
        "callsStatusOverview": {
            "totalCalls": 112,
            "successful": 14,
            "unsuccessful": 40,
            "voiceMailLeft": 30,
            "needRetry": 20,
            "error": 8,
        },
        "callsStatusTimeLine": [
            {"date": day, "totalCalls": 80 + n, "voiceMailLeft": 20} for n, day in enumerate(days)
        ],
        "callsPickupRateTimeLine": [{"date": day, "pickupRatePercentage": 60} for day in days],
        "callsSuccessRateTimeLine": [
            {"date": day, "successRatePercentage": 10 + n % 5} for n, day in enumerate(days)
        ],
        "callEventsCounts": {"calendarBookedCount": 9, "callTransferredCount": 4},
    }


@pytest.fixture
def campaign(slack: SlackStandIn, nlpearl: NLPearlStandIn) -> str:
    """The campaign, its analytics and two leads needing attention; its subscriber in London."""
    nlpearl.add_pearl(
        {
            "id": CAMPAIGN,
            "name": NAME,
            "type": 2,
            "status": 1,
            "budgetConsumed": 312,
            "budgetTotal": 1500,
        }
    )
    nlpearl.set_analytics(CAMPAIGN, _analytics())
    for n, status in enumerate((500, 150)):
        nlpearl.add_lead(
            CAMPAIGN,
            {
                "id": f"d16e5700000000000000a{n:03d}",
                "phoneNumber": f"+4420795{n:05d}",
                "status": status,
            },
        )
    user = {"id": USER, "team_id": "T0TEST", "name": "tess", "tz": "Europe/London"}
    slack.set_response("users.info", {"ok": True, "user": user})
    return CAMPAIGN


def _set_up_digest(server: ServerProcess, slack: SlackStandIn) -> None:
    """`/lead digest CAMPAIGN 09:00` in the channel, answered privately."""
    name = "digest-set-up"
    acked = send_command(
        server.events_url,
        f"digest {CAMPAIGN} 09:00",
        slack.response_url(name),
        channel_id=CHANNEL,
        user_id=USER,
    )
    assert (acked.status_code, acked.text) == (200, "")
    [reply] = slack.wait_for_responses(1, name, timeout=20)
    assert "09:00 (Europe/London)" in blocks_text(reply)


def _digest_set_up_earlier(database_url: str) -> None:
    """The digest `/lead digest` would have stored at 07:00 (the first test sets it up so)."""
    upgrade_to_latest(database_url)
    set_up_at = datetime.fromisoformat(SET_UP_AT)

    async def store() -> None:
        engine = create_engine(database_url)
        try:
            await set_digest(
                engine,
                Workspace("T0TEST"),
                channel_id=CHANNEL,
                campaign_id=CAMPAIGN,
                at_time="09:00",
                time_zone="Europe/London",
                user_id=USER,
                next_due_at=next_due("09:00", "Europe/London", set_up_at),
                now=set_up_at,
            )
        finally:
            await engine.dispose()

    asyncio.run(store())


def _sqlite_url(tmp_path: Path) -> str:
    """The database the server processes of this test share (see harness/processes.py)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"


def _digests(slack: SlackStandIn) -> list[Json]:
    return [
        m
        for m in slack.messages(CHANNEL)
        if (m.get("metadata") or {}).get("event_type") == NOTICE_EVENT
    ]


def _eventually(what: str, found: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not found():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _one_digest(slack: SlackStandIn, *processes: ServerProcess) -> Json:
    """The one digest posted, after a few more ticks of every process have passed."""
    _eventually("a digest", lambda: len(_digests(slack)) >= 1)
    time.sleep(1.5)  # several more ticks: nothing else may be posted
    assert all(p.running for p in processes)
    [digest] = _digests(slack)
    return digest


def _chart_file(digest: Json) -> str:
    images = [b for b in digest["blocks"] if b.get("type") == "image"]
    assert len(images) == 1, digest["blocks"]
    return str(images[0]["slack_file"]["id"])


def _png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


def test_a_digest_goes_out_at_its_time_with_its_uploaded_chart(
    server_factory: ServerFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn, campaign: str
) -> None:
    """At 09:00 London: one digest of 3 Dec with NLPearl's numbers and a chart uploaded once."""
    _set_up_digest(server_factory(_env(SET_UP_AT)), slack)
    due = server_factory(_env(JUST_BEFORE_NINE))

    digest = _one_digest(slack, due)

    [upload] = slack.wait_for_uploads(1)
    assert upload.channel_id is None, "the chart is uploaded privately, then shown in the digest"
    assert _chart_file(digest) == upload.file_id
    assert upload.content is not None
    assert _png_size(upload.content) == (800, 360)
    words = blocks_text(digest)
    assert "Thu 3 Dec" in words
    assert NAME in words
    assert "112" in words
    assert "late" not in words.lower()
    asked = [r.json() for r in nlpearl.requests(f"/Pearl/{CAMPAIGN}/Analytics")]
    assert {"from": "2026-12-03T00:00:00.000Z", "to": "2026-12-04T00:00:00.000Z"} in asked


def test_a_digest_missed_while_the_app_was_down_goes_out_once_marked_late(
    server_factory: ServerFactory, slack: SlackStandIn, campaign: str, tmp_path: Path
) -> None:
    """Down from Friday to Sunday 10:30: one digest (of Saturday), saying it is late."""
    _digest_set_up_earlier(_sqlite_url(tmp_path))
    back = server_factory(_env("2026-12-06T10:30:00Z"))

    digest = _one_digest(slack, back)

    words = blocks_text(digest)
    assert "Sat 5 Dec" in words
    assert "late" in words.lower()


@pytest.mark.postgres
def test_two_processes_sharing_postgresql_post_one_digest(
    postgres_url: str,
    server_factory: ServerFactory,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    campaign: str,
    tmp_path: Path,
) -> None:
    """Two web processes on one PostgreSQL database, both ticking at 09:00: one digest."""
    on_postgres = {"DATABASE_URL": postgres_url}
    run_migrate(bot_environment(on_postgres, slack, nlpearl, tmp_path), tmp_path)
    _digest_set_up_earlier(postgres_url)
    first = server_factory(_env(JUST_BEFORE_NINE, **on_postgres))
    second = server_factory(_env(JUST_BEFORE_NINE, **on_postgres))

    digest = _one_digest(slack, first, second)

    uploads = slack.uploads()
    assert [u.file_id for u in uploads] == [_chart_file(digest)]


def test_a_crash_between_uploading_the_chart_and_posting_still_posts_one_digest(
    server_factory: ServerFactory, slack: SlackStandIn, campaign: str, tmp_path: Path
) -> None:
    """Killed while the post is on its way (not yet made): the next process posts it once,
    with the chart already uploaded rather than a second upload."""
    _digest_set_up_earlier(_sqlite_url(tmp_path))
    slack.hold("chat.postMessage")
    doomed = server_factory(_env(JUST_BEFORE_NINE))
    _eventually("the digest's post on its way", lambda: slack.held("chat.postMessage") >= 1)
    [upload] = slack.uploads(completed_only=True)

    kill_hard(doomed)
    slack.drop_held("chat.postMessage")
    assert _digests(slack) == []
    after = server_factory(_env("2026-12-04T09:01:00Z"))

    digest = _one_digest(slack, after)
    assert _chart_file(digest) == upload.file_id
    assert len(slack.uploads()) == 1


def test_a_crash_after_slack_took_the_post_does_not_post_it_again(
    server_factory: ServerFactory, slack: SlackStandIn, campaign: str, tmp_path: Path
) -> None:
    """Killed after Slack posted the digest but before the app heard back: the next process
    finds the post by its marker and posts nothing more."""
    _digest_set_up_earlier(_sqlite_url(tmp_path))
    slack.answer_late("chat.postMessage", 60)
    doomed = server_factory(_env(JUST_BEFORE_NINE))
    _eventually("the digest posted", lambda: len(_digests(slack)) == 1)
    kill_hard(doomed)
    slack.answer_late("chat.postMessage", 0)
    after = server_factory(_env("2026-12-04T09:01:00Z"))

    _eventually("a look for the earlier post", lambda: bool(slack.calls("conversations.history")))
    _one_digest(slack, after)
