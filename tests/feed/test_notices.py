"""Digests and alerts posted in process: migrated SQLite, the stand-ins, a hand-moved clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.demo.nlpearl_api import SAMPLE_PEARL_ID
from bot.feed.notices import GIVE_UP_AFTER, NOT_READY_SECONDS, NoticeSender
from bot.feed.posting import NOTICE_EVENT, marked
from bot.nlpearl.client import NLPearlClient
from bot.storage import notices
from bot.storage.digests import digest_by_id, set_digest, stop_digest
from bot.storage.engine import create_engine
from bot.storage.notices import NewNotice, Notice, NoticeRow, notices_of
from bot.storage.rows import DigestInfo, Workspace
from bot.storage.tables import notices as notice_table
from bot.usecases.digests import WAIT_FOR_NLPEARL, DigestBuilder, queue_due_digests
from tests.clock import FakeClock
from tests.harness.tenancy import always
from tests.migrated import migrated_sqlite
from tests.standins import NLPearlStandIn, SlackStandIn

Json = dict[str, Any]

WORKSPACE = Workspace("T0TEST")
CHANNEL = "C0DIGEST"
DUE = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
DIGEST_KEY_DAY = "2026-01-11"
CHART_NAME = f"digest-{DIGEST_KEY_DAY}.png"
# How long a claim by a worker that then died holds the notice.
DEAD_LEASE = timedelta(minutes=2)
PNG = b"\x89PNG\r\n\x1a\n"
ALERT: Json = {
    "text": "⏸️ Solar is paused",
    "blocks": [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "⏸️ *Solar is paused*", "verbatim": True},
        }
    ],
}


def _analytics() -> Json:
    """112 calls on 11 January, a 14-day timeline, 9 bookings and 4 transfers."""
    days = [f"2025-12-{day}T00:00:00Z" for day in range(29, 32)] + [
        f"2026-01-{day:02d}T00:00:00Z" for day in range(1, 12)
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


@dataclass
class World:
    """A channel with a digest of the sample campaign, a sender, and the clock they read."""

    engine: AsyncEngine
    slack: SlackStandIn
    nlpearl: NLPearlStandIn
    web: AsyncWebClient
    clock: FakeClock
    builder: DigestBuilder
    sender: NoticeSender

    async def digest(self) -> DigestInfo:
        """The channel's digest, due at DUE (UTC, 09:00)."""
        info, _ = await set_digest(
            self.engine,
            WORKSPACE,
            channel_id=CHANNEL,
            campaign_id=SAMPLE_PEARL_ID,
            at_time="09:00",
            time_zone="UTC",
            user_id="U0ADMIN",
            next_due_at=DUE,
            now=DUE - timedelta(days=1),
        )
        return info

    async def queued_digest(self) -> DigestInfo:
        """The digest, queued as the scheduler queues it when it is due."""
        info = await self.digest()
        assert await queue_due_digests(self.engine, self.clock.now()) == 1
        return info

    async def queue(self, notice: NewNotice) -> None:
        async with self.engine.begin() as conn:
            assert await notices.queue(conn, notice, self.clock.now())

    async def queue_alert(self, due: datetime = DUE) -> None:
        """An alert, its message ready."""
        await self.queue(
            NewNotice(
                workspace=WORKSPACE,
                channel_id=CHANNEL,
                campaign_id=SAMPLE_PEARL_ID,
                kind="alert",
                key=f"alert:{SAMPLE_PEARL_ID}:stopped:{due.isoformat()}",
                due_at=due,
                body=ALERT,
            )
        )

    async def claimed_by_a_worker_that_dies(self) -> Notice:
        """The one notice, claimed by another worker that never settles it."""
        (notice,) = await notices.claim_notices(
            self.engine, worker_id="notices-dead", now=self.clock.now(), lease=DEAD_LEASE
        )
        return notice

    async def rows(self) -> list[NoticeRow]:
        return await notices_of(self.engine, WORKSPACE)

    async def row(self) -> NoticeRow:
        (row,) = await self.rows()
        return row

    async def marker(self) -> str:
        async with self.engine.connect() as conn:
            return str((await conn.execute(select(notice_table.c.marker))).scalar_one())

    def posts(self) -> list[Json]:
        """The messages in the channel that carry a notice's marker."""
        return [
            m
            for m in self.slack.messages(CHANNEL)
            if (m.get("metadata") or {}).get("event_type") == NOTICE_EVENT
        ]


def _images(message: Json) -> list[Json]:
    return [b for b in message["blocks"] if b["type"] == "image"]


def _words(message: Json) -> str:
    return json.dumps(message, ensure_ascii=False)


# Fixtures


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    path = tmp_path / "lead-bot.db"
    migrated_sqlite(path)
    return f"sqlite:///{path}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def world(
    engine: AsyncEngine, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> AsyncIterator[World]:
    nlpearl.set_analytics(SAMPLE_PEARL_ID, _analytics())
    clock = FakeClock(DUE)
    # NLPearl's own back-off sleeps on a clock of its own, so it never moves the sender's.
    pauses = FakeClock(DUE)
    web = AsyncWebClient(token=slack.valid_token, base_url=slack.api_url, retry_handlers=[])
    async with httpx.AsyncClient() as http:
        client = NLPearlClient(
            http,
            api_key=nlpearl.api_key,
            base_url=nlpearl.url,
            sleep=pauses.sleep,
            clock=pauses.monotonic,
        )
        builder = DigestBuilder(engine, always(client), always(web), clock.now)
        sender = NoticeSender(engine, always(web), build_digest=builder.build, now=clock.now)
        yield World(engine, slack, nlpearl, web, clock, builder, sender)


# Posted once


async def test_a_digest_is_posted_once_with_its_chart_uploaded_privately(world: World) -> None:
    info = await world.queued_digest()

    assert await world.sender.run_once() == 1

    (upload,) = world.slack.uploads()
    assert upload.completed
    assert (upload.filename, upload.channel_id) == (CHART_NAME, None)
    assert (upload.content or b"").startswith(PNG)
    (completion,) = world.slack.calls("files.completeUploadExternal")
    assert not {"channel_id", "channels"} & set(completion)
    (post,) = world.slack.messages(CHANNEL)
    assert post["metadata"] == marked(NOTICE_EVENT, await world.marker())
    assert [image["slack_file"] for image in _images(post)] == [{"id": upload.file_id}]
    assert "Solar – Spring Re-engagement: 112 calls, 13% success, 9 bookings" in post["text"]
    assert "*📞 112 calls*" in _words(post)
    row = await world.row()
    assert (row.key, row.kind, row.state) == (
        f"digest::{info.workspace.team_id}:{CHANNEL}:{info.campaign_id}:{DIGEST_KEY_DAY}",
        "digest",
        "done",
    )
    assert (row.ts, row.file_id, row.attempts) == (post["ts"], upload.file_id, 1)


async def test_an_alert_is_posted_once_as_it_was_queued(world: World) -> None:
    await world.queue_alert()

    assert await world.sender.run_once() == 1

    (post,) = world.slack.messages(CHANNEL)
    assert (post["text"], post["blocks"]) == (ALERT["text"], ALERT["blocks"])
    assert post["metadata"] == marked(NOTICE_EVENT, await world.marker())
    (sent,) = world.slack.calls("chat.postMessage")
    assert (sent["unfurl_links"], sent["unfurl_media"]) == (False, False)
    row = await world.row()
    assert (row.kind, row.state, row.ts, row.file_id) == ("alert", "done", post["ts"], None)
    assert world.slack.uploads() == []
    assert world.nlpearl.requests() == []


async def test_a_second_run_posts_nothing_more(world: World) -> None:
    await world.queued_digest()
    await world.queue_alert()
    # One notice a round: a digest takes a while, and one waiting its turn keeps its lease.
    assert await world.sender.run_once() == 1
    assert await world.sender.run_once() == 1

    world.clock.advance(timedelta(minutes=5))
    assert await world.sender.run_once() == 0
    world.clock.advance(timedelta(days=2))
    assert await world.sender.run_once() == 0

    assert len(world.posts()) == 2
    assert len(world.slack.uploads()) == 1
    assert len(world.slack.calls("chat.postMessage")) == 2
    assert [row.state for row in await world.rows()] == ["done", "done"]


# After a worker died


async def test_a_post_the_dead_worker_made_is_recorded_not_posted_again(world: World) -> None:
    await world.queue_alert()
    dead = await world.claimed_by_a_worker_that_dies()
    assert await notices.about_to_post(world.engine, dead, now=world.clock.now(), lease=DEAD_LEASE)
    made = await world.web.chat_postMessage(
        channel=CHANNEL, metadata=marked(NOTICE_EVENT, dead.marker), **ALERT
    )
    world.clock.advance(DEAD_LEASE + timedelta(seconds=1))

    assert await world.sender.run_once() == 1

    assert [post["ts"] for post in world.posts()] == [made["ts"]]
    assert len(world.slack.calls("chat.postMessage")) == 1
    assert world.slack.calls("conversations.history")
    row = await world.row()
    assert (row.state, row.ts, row.attempts) == ("done", made["ts"], 2)


async def test_a_post_the_dead_worker_never_made_is_made_once(world: World) -> None:
    await world.queue_alert()
    dead = await world.claimed_by_a_worker_that_dies()
    assert await notices.about_to_post(world.engine, dead, now=world.clock.now(), lease=DEAD_LEASE)
    world.clock.advance(DEAD_LEASE + timedelta(seconds=1))

    assert await world.sender.run_once() == 1

    (post,) = world.posts()
    assert post["metadata"] == marked(NOTICE_EVENT, dead.marker)
    assert world.slack.calls("conversations.history")
    assert (await world.row()).ts == post["ts"]


async def test_the_chart_the_dead_worker_uploaded_is_reused(world: World) -> None:
    await world.queued_digest()
    dead = await world.claimed_by_a_worker_that_dies()
    # It built the digest, which uploaded and kept the chart, and died before keeping the rest.
    await world.builder.build(dead, partial(notices.keep_file, world.engine, dead))
    (upload,) = world.slack.uploads()
    assert (await world.row()).file_id == upload.file_id
    world.clock.advance(DEAD_LEASE + timedelta(seconds=1))

    assert await world.sender.run_once() == 1

    assert len(world.slack.uploads()) == 1
    assert len(world.slack.calls("files.getUploadURLExternal")) == 1
    (post,) = world.posts()
    assert [image["slack_file"] for image in _images(post)] == [{"id": upload.file_id}]
    assert (await world.row()).state == "done"


# Slack's moods


async def test_a_rate_limited_post_waits_for_retry_after_then_goes_once(world: World) -> None:
    await world.queued_digest()
    world.slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "30"})

    assert await world.sender.run_once() == 1
    assert world.posts() == []
    row = await world.row()
    assert (row.state, row.ts) == ("pending", None)
    assert "rate limited" in (row.last_error or "")

    world.clock.advance(29)
    assert await world.sender.run_once() == 0
    world.clock.advance(1)
    assert await world.sender.run_once() == 1

    (post,) = world.posts()
    (upload,) = world.slack.uploads()
    assert [image["slack_file"] for image in _images(post)] == [{"id": upload.file_id}]
    # The body was kept: the second attempt posted the same words without building again.
    first, second = world.slack.calls("chat.postMessage")
    assert (first["text"], first["blocks"]) == (second["text"], second["blocks"])
    assert len(world.nlpearl.requests("/Analytics")) == 2
    row = await world.row()
    assert (row.state, row.ts, row.attempts) == ("done", post["ts"], 2)


async def test_a_server_error_is_retried_after_a_backoff_looking_for_the_post_first(
    world: World,
) -> None:
    await world.queue_alert()
    world.slack.fail_next("chat.postMessage", status=500)

    assert await world.sender.run_once() == 1
    assert world.posts() == []
    assert world.slack.calls("conversations.history") == []

    world.clock.advance(timedelta(minutes=10))
    assert await world.sender.run_once() == 1

    assert len(world.posts()) == 1
    assert len(world.slack.calls("conversations.history")) == 1
    assert (await world.row()).state == "done"


async def test_a_refused_chart_leaves_the_digest_with_its_numbers_in_words(world: World) -> None:
    await world.queued_digest()
    world.slack.fail_next("chat.postMessage", status=200, error="invalid_blocks")

    assert await world.sender.run_once() == 1

    refused, accepted = world.slack.calls("chat.postMessage")
    assert len(_images(refused)) == 1
    (post,) = world.posts()
    assert post["ts"] is not None
    assert _images(post) == [] == _images(accepted)
    words = _words(post)
    assert "📈 " in words
    assert "*📞 112 calls*" in words
    assert "112 calls, 13% success, 9 bookings" in post["text"]
    row = await world.row()
    assert (row.state, row.ts) == ("done", post["ts"])


async def test_a_channel_gone_fails_the_notice_and_stops_the_digest(world: World) -> None:
    info = await world.queued_digest()
    world.slack.fail_next("chat.postMessage", status=200, error="channel_not_found")

    assert await world.sender.run_once() == 1

    assert world.posts() == []
    row = await world.row()
    assert (row.state, row.ts) == ("failed", None)
    assert "channel_not_found" in (row.last_error or "")
    stopped = await digest_by_id(world.engine, info.id)
    assert stopped is not None
    assert stopped.problem == "channel_not_found"
    world.clock.advance(timedelta(days=1))
    assert await queue_due_digests(world.engine, world.clock.now()) == 0
    assert await world.sender.run_once() == 0


async def test_a_channel_gone_for_an_alert_fails_only_the_alert(world: World) -> None:
    info = await world.digest()
    await world.queue_alert()
    world.slack.fail_next("chat.postMessage", status=200, error="channel_not_found")

    assert await world.sender.run_once() == 1

    assert (await world.row()).state == "failed"
    kept = await digest_by_id(world.engine, info.id)
    assert kept is not None
    assert kept.problem is None


# NLPearl not answering


async def test_a_digest_waits_for_nlpearl_then_goes_saying_what_is_missing(world: World) -> None:
    await world.queued_digest()
    world.nlpearl.fail_next("/v2/", 503, times=10_000)

    assert await world.sender.run_once() == 1
    assert world.posts() == []
    assert world.slack.uploads() == []
    row = await world.row()
    assert (row.state, row.attempts) == ("pending", 1)

    world.clock.advance(NOT_READY_SECONDS - 1)
    assert await world.sender.run_once() == 0
    world.clock.advance(1)
    assert await world.sender.run_once() == 1
    world.clock.advance_to(DUE + WAIT_FOR_NLPEARL - timedelta(seconds=1))
    assert await world.sender.run_once() == 1
    assert world.posts() == []
    assert (await world.row()).state == "pending"

    world.clock.advance(NOT_READY_SECONDS)
    assert await world.sender.run_once() == 1

    (post,) = world.posts()
    words = _words(post)
    assert "NLPearl could not give everything this time" in words
    assert (
        "missing: the campaign, the day's analytics, the 14-day analytics, "
        "the leads needing attention"
    ) in words
    assert "*📞 Calls:* —" in words
    row = await world.row()
    assert (row.state, row.attempts) == ("done", 4)


# Once a bug: any digest built over ten minutes after its time says the app was down.
async def test_a_digest_that_waited_for_nlpearl_does_not_say_the_app_was_down(
    world: World,
) -> None:
    await world.queued_digest()
    world.nlpearl.fail_next("/v2/", 503, times=10_000)
    assert await world.sender.run_once() == 1
    world.clock.advance_to(DUE + WAIT_FOR_NLPEARL + timedelta(minutes=1))

    assert await world.sender.run_once() == 1

    (post,) = world.posts()
    assert "the app was not running" not in _words(post)


async def test_a_digest_goes_at_once_when_nlpearl_answers_part(world: World) -> None:
    await world.queued_digest()
    world.nlpearl.fail_next(f"/v2/Pearl/{SAMPLE_PEARL_ID}/Analytics", 503, times=10_000)

    assert await world.sender.run_once() == 1

    (post,) = world.posts()
    words = _words(post)
    assert "missing: the day's analytics, the 14-day analytics)" in words
    assert "Solar – Spring Re-engagement" in words


# Not wanted any more


@pytest.mark.parametrize("kind", ["alert", "digest"])
async def test_a_notice_over_a_day_late_is_given_up_unposted(world: World, kind: str) -> None:
    info = await world.digest()
    late = DUE - GIVE_UP_AFTER - timedelta(minutes=1)
    await world.queue(
        NewNotice(
            workspace=WORKSPACE,
            channel_id=CHANNEL,
            campaign_id=SAMPLE_PEARL_ID,
            kind=kind,
            key=f"{kind}:late",
            due_at=late,
            body=ALERT if kind == "alert" else None,
            digest_id=info.id if kind == "digest" else None,
        )
    )

    assert await world.sender.run_once() == 1

    assert world.slack.messages(CHANNEL) == []
    assert world.slack.uploads() == []
    assert world.nlpearl.requests() == []
    row = await world.row()
    assert (row.state, row.last_error) == ("failed", "too old to post")


async def test_a_notice_a_day_late_to_the_second_is_still_posted(world: World) -> None:
    await world.queue_alert(due=DUE - GIVE_UP_AFTER)

    assert await world.sender.run_once() == 1

    assert len(world.posts()) == 1
    assert (await world.row()).state == "done"


async def test_a_digest_turned_off_since_it_was_queued_is_not_posted(world: World) -> None:
    await world.queued_digest()
    assert await stop_digest(
        world.engine, WORKSPACE, channel_id=CHANNEL, campaign_id=SAMPLE_PEARL_ID
    )

    assert await world.sender.run_once() == 1

    assert world.slack.messages(CHANNEL) == []
    assert world.slack.uploads() == []
    row = await world.row()
    assert (row.state, row.last_error) == ("failed", "the digest was turned off")
