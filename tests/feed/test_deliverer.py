"""The delivery loop against a real migrated SQLite database and a Slack stand-in over loopback."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.blocks.ids import ActionId, CallRef, CallsRef
from bot.feed.deliver import MAX_BACKOFF_SECONDS, BatchDelivery, CampaignNames, fold
from bot.feed.loop import Deliverer, DeliveryTiming
from bot.feed.posting import PARENT_EVENT, REPLY_EVENT
from bot.parsing.webhooks import LeadChange, lead_key, parse_webhook
from bot.records import LeadSnapshot
from bot.storage import outbox
from bot.storage.engine import create_engine
from bot.storage.inbox import IncomingEvent, Outcome, Stored, store_webhook
from bot.storage.migrate import upgrade_to_latest
from bot.storage.rows import Workspace
from bot.storage.subscriptions import list_subscriptions, subscribe
from bot.storage.tables import channel_pacing, deliveries, lead_threads
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message
from tests.clock import FakeClock
from tests.feed.samples import (
    CALL_ID,
    CAMPAIGN_ID,
    FIRST_CALL_ID,
    LEAD_ID,
    PHONE,
    RECORDING,
    SUMMARY,
    v2_call_end,
    v2_call_start,
    v2_lead,
)
from tests.harness.tenancy import always
from tests.standins import SlackStandIn

WORKSPACE = Workspace("T0TEST")
CHANNEL = "C0LEADS"
CAMPAIGN_NAME = "Brightline Solar"
START = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)
NO_PACING = DeliveryTiming(post_interval=timedelta(0))
LEASE = DeliveryTiming().lease
OTHER_LEAD = "6650f1c2a9e4b27d3c8e41b0"
OTHER_PHONE = "+13125550188"


@dataclass
class Feed:
    """A subscribed channel, its webhook token, and a deliverer posting to the stand-in."""

    engine: AsyncEngine
    slack: SlackStandIn
    client: AsyncWebClient
    clock: FakeClock
    token: str
    names_asked: list[str] = field(default_factory=list)
    deliverer: Deliverer | None = None

    def start(self, *, timing: DeliveryTiming = NO_PACING, mask_phone: bool = True) -> Deliverer:
        async def campaign_names(ws: Workspace, campaign_id: str) -> str | None:
            self.names_asked.append(campaign_id)
            return CAMPAIGN_NAME if campaign_id == CAMPAIGN_ID else None

        return self.start_naming(campaign_names, timing=timing, mask_phone=mask_phone)

    def start_naming(
        self, names: CampaignNames, *, timing: DeliveryTiming = NO_PACING, mask_phone: bool = True
    ) -> Deliverer:
        """A deliverer wired as the app wires it, naming campaigns with `names`."""
        batches = BatchDelivery(
            self.engine,
            always(self.client),
            campaign_names=names,
            mask_shared_phone_numbers=mask_phone,
            post_interval=timing.post_interval,
            now=self.clock.now,
        )
        self.deliverer = Deliverer(self.engine, batches.attempt, timing=timing, now=self.clock.now)
        return self.deliverer

    async def send(self, body: dict[str, Any], token: str | None = None) -> Stored:
        """Store a webhook the way the receiver does."""
        event = parse_webhook(body)
        incoming = IncomingEvent(
            kind=event.kind,
            dedupe_key=event.dedupe_key,
            lead_key=lead_key(event),
            lead_status=event.lead.status if isinstance(event, LeadChange) else None,
            payload=body,
        )
        return await store_webhook(self.engine, token or self.token, incoming, self.clock.now())

    async def queue(self, body: dict[str, Any]) -> None:
        stored = await self.send(body)
        assert stored.outcome is Outcome.STORED
        assert stored.queued == 1

    async def run_once(self) -> int:
        assert self.deliverer is not None
        return await self.deliverer.run_once()

    async def drain(self) -> int:
        """Run rounds until nothing is left to claim now; the number of batches delivered."""
        total = 0
        for _ in range(50):
            claimed = await self.run_once()
            if not claimed:
                return total
            total += claimed
        raise AssertionError("the outbox never emptied")

    # What Slack saw

    def posts(self) -> list[dict[str, Any]]:
        return self.slack.calls("chat.postMessage", ok_only=True)

    def parents(self) -> list[dict[str, Any]]:
        return [p for p in self.posts() if "thread_ts" not in p]

    def replies(self) -> list[dict[str, Any]]:
        return [p for p in self.posts() if "thread_ts" in p]

    def updates(self) -> list[dict[str, Any]]:
        return self.slack.calls("chat.update", ok_only=True)

    def parent_ts(self, index: int = 0) -> str:
        answered = [
            r.reply
            for r in self.slack.records("chat.postMessage")
            if r.ok and r.reply and "thread_ts" not in r.body
        ]
        assert answered[index] is not None
        return str(answered[index]["ts"])

    # What the database holds

    async def rows(self) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(select(deliveries).order_by(deliveries.c.id))).all())

    async def threads(self) -> list[Any]:
        async with self.engine.connect() as conn:
            query = select(lead_threads).order_by(lead_threads.c.id)
            return list((await conn.execute(query)).all())

    async def states(self) -> list[str]:
        return [row.state for row in await self.rows()]


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def fields_of(message: dict[str, Any]) -> list[str]:
    return [f["text"] for b in message["blocks"] for f in b.get("fields", [])]


def headline(message: dict[str, Any]) -> str:
    return str(message["blocks"][0]["text"]["text"])


def footer(message: dict[str, Any]) -> str:
    """The parent's footer: its last context block, with only its buttons after it."""
    blocks = message["blocks"]
    at = max(i for i, block in enumerate(blocks) if block["type"] == "context")
    assert [b["type"] for b in blocks[at + 1 :]] in ([], ["actions"]), blocks[at + 1 :]
    (element,) = blocks[at]["elements"]
    return str(element["text"])


def buttons_of(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every button in the message's actions blocks, by action_id."""
    found = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    by_id = {button["action_id"]: button for button in found}
    assert len(by_id) == len(found), "action_ids repeat"
    return by_id


def assert_sound(message: dict[str, Any]) -> None:
    body = {"text": message["text"], "blocks": message["blocks"]}
    assert_valid_message(body)
    assert_no_injection(body, allowed_urls=(RECORDING,))


def marker_of(message: dict[str, Any], event_type: str) -> str:
    metadata = message["metadata"]
    assert metadata["event_type"] == event_type
    return str(metadata["event_payload"]["marker"])


def queued_lead(status: int, calls: int = 0, **changes: Any) -> dict[str, Any]:
    """A lead webhook of the sample lead; `calls` distinguishes repeated statuses."""
    call_ids = [f"call{i:020d}" for i in range(calls)]
    return v2_lead(status=status, callsId=call_ids, **changes)


def other_lead(status: int) -> dict[str, Any]:
    return v2_lead(
        id=OTHER_LEAD,
        phoneNumber=OTHER_PHONE,
        externalId="crm-004530",
        status=status,
        callsId=[],
        callData={"firstName": "Devon", "lastName": "Price"},
        collectedData={},
    )


# Fixtures


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'lead-bot.db'}"
    upgrade_to_latest(url)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def client(slack: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test-token", base_url=slack.api_url, retry_handlers=[])


async def subscribed_feed(
    engine: AsyncEngine,
    slack: SlackStandIn,
    client: AsyncWebClient,
    statuses: tuple[int, ...] | None = None,
) -> Feed:
    clock = FakeClock(START)
    subscribed = await subscribe(
        engine,
        WORKSPACE,
        channel_id=CHANNEL,
        campaign_id=CAMPAIGN_ID,
        statuses=statuses,
        user_id="U0ADMIN",
        now=clock.now(),
    )
    assert subscribed.token is not None
    return Feed(engine, slack, client, clock, subscribed.token)


@pytest.fixture
async def feed(engine: AsyncEngine, slack: SlackStandIn, client: AsyncWebClient) -> Feed:
    feed = await subscribed_feed(engine, slack, client)
    feed.start()
    return feed


# A lead's first event, and what follows


async def test_the_first_event_posts_a_parent_and_a_reply_in_its_thread(feed: Feed) -> None:
    await feed.queue(queued_lead(20))

    assert await feed.run_once() == 1

    parent, reply = feed.posts()
    assert parent["channel"] == CHANNEL
    assert "thread_ts" not in parent
    assert parent["unfurl_links"] is False
    assert parent["text"] == "Maria Gonzalez: ⏳ In call queue"
    assert f"📣 {CAMPAIGN_NAME}" in footer(parent)
    assert "*Phone*\n•••• 0137" in fields_of(parent)
    assert_sound(parent)
    parent_ts = feed.parent_ts()
    assert reply["channel"] == CHANNEL
    assert reply["thread_ts"] == parent_ts
    assert reply["text"] == "⏳ In call queue"
    assert f"<!date^{int(START.timestamp())}^{{time}}|" in headline(reply)
    assert_sound(reply)
    assert feed.updates() == []

    (row,) = await feed.rows()
    assert row.state == "done"
    assert row.attempts == 1
    assert aware(row.finished_at) == START
    assert marker_of(parent, PARENT_EVENT) == row.batch
    assert marker_of(reply, REPLY_EVENT) == row.batch
    assert row.reply_ts is not None
    (thread,) = await feed.threads()
    assert thread.parent_ts == parent_ts
    assert thread.channel_id == CHANNEL
    assert thread.lead_key == PHONE
    assert thread.snapshot["status"] == 20
    assert thread.snapshot["campaign_name"] == CAMPAIGN_NAME


async def test_the_next_event_replies_in_the_same_thread_and_updates_the_parent(
    feed: Feed,
) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    parent_ts = feed.parent_ts()
    feed.clock.advance(timedelta(minutes=5))

    await feed.queue(queued_lead(100))
    assert await feed.drain() == 1

    assert len(feed.parents()) == 1
    first_reply, second_reply = feed.replies()
    assert second_reply["thread_ts"] == parent_ts
    assert second_reply["text"] == "⏳ In call queue → ✅ Success"
    assert marker_of(second_reply, REPLY_EVENT) != marker_of(first_reply, REPLY_EVENT)
    (update,) = feed.updates()
    assert update["channel"] == CHANNEL
    assert update["ts"] == parent_ts
    assert update["text"] == "Maria Gonzalez: ✅ Success"
    assert_sound(update)
    assert await feed.states() == ["done", "done"]
    (thread,) = await feed.threads()
    assert thread.snapshot["status"] == 100
    # The campaign's name is remembered with the thread, not asked for again.
    assert feed.names_asked == [CAMPAIGN_ID]


async def test_queued_events_of_one_lead_coalesce_into_one_reply(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    for minutes, status in ((1, 40), (2, 10), (3, 100)):
        feed.clock.advance_to(START + timedelta(minutes=minutes))
        await feed.queue(queued_lead(status))

    assert await feed.drain() == 1

    assert len(feed.parents()) == 1
    replies = feed.replies()
    assert len(replies) == 2
    lines = headline(replies[-1]).split("\n")
    assert [line.split(" · ")[0] for line in lines] == [
        "⏳ In call queue → 📞 On a call",
        "📞 On a call → 🔁 Needs retry",
        "🔁 Needs retry → ✅ Success",
    ]
    assert len(feed.updates()) == 1
    rows = await feed.rows()
    assert [r.state for r in rows] == ["done"] * 4
    assert len({r.batch for r in rows[1:]}) == 1
    assert rows[1].batch != rows[0].batch


async def test_a_new_leads_first_events_coalesce_under_its_new_parent(feed: Feed) -> None:
    for status in (1, 20, 40):
        await feed.queue(queued_lead(status))

    assert await feed.drain() == 1

    parent, reply = feed.posts()
    assert headline(parent).startswith("*Maria Gonzalez*  ·  📞 On a call")
    assert headline(reply).count("\n") == 2
    assert feed.updates() == []


async def test_each_lead_gets_its_own_parent_and_thread(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.queue(other_lead(20))
    await feed.queue(queued_lead(100))

    assert await feed.drain() == 2

    parents = feed.parents()
    assert [p["text"] for p in parents] == [
        "Maria Gonzalez: ✅ Success",
        "Devon Price: ⏳ In call queue",
    ]
    replies = feed.replies()
    assert [r["thread_ts"] for r in replies] == [feed.parent_ts(0), feed.parent_ts(1)]
    assert {t.lead_key for t in await feed.threads()} == {PHONE, OTHER_PHONE}


# Calls


async def test_a_call_start_updates_the_parent_and_posts_no_reply(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    feed.clock.advance(timedelta(minutes=1))

    await feed.queue(v2_call_start())
    assert await feed.drain() == 1

    assert len(feed.posts()) == 2
    (update,) = feed.updates()
    assert update["ts"] == feed.parent_ts()
    assert "On a call now" in headline(update)
    assert_sound(update)
    assert await feed.states() == ["done", "done"]


async def test_a_call_end_replies_with_its_summary_and_clears_on_a_call(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    await feed.queue(v2_call_start())
    await feed.drain()
    feed.clock.advance(timedelta(minutes=3))

    await feed.queue(v2_call_end())
    assert await feed.drain() == 1

    reply = feed.replies()[-1]
    assert reply["thread_ts"] == feed.parent_ts()
    assert reply["text"] == "Call ended"
    text = headline(reply)
    assert text.startswith("*📞 Call ended* · 2m 22s · ✅ Success")
    assert f"> {SUMMARY}" in text
    actions = reply["blocks"][-1]
    assert actions["type"] == "actions"
    assert [b["action_id"] for b in actions["elements"]] == [
        f"{ActionId.TRANSCRIPT}.0",
        f"{ActionId.OPEN_RECORDING}.0",
    ]
    transcript, recording = actions["elements"]
    assert CallRef.model_validate_json(transcript["value"]) == CallRef(call_id=CALL_ID)
    assert recording["url"] == RECORDING
    assert not [b for b in reply["blocks"] if "accessory" in b]
    assert_sound(reply)
    update = feed.updates()[-1]
    assert "On a call now" not in headline(update)
    assert_sound(update)
    all_calls = buttons_of(update)[ActionId.ALL_CALLS]
    assert CallsRef.model_validate_json(all_calls["value"]) == CallsRef(
        campaign_id=CAMPAIGN_ID, lead_id=LEAD_ID
    )
    assert "*Calls*\n1" in fields_of(update)
    assert "*Interested*\n✅ Yes" in fields_of(update)
    (thread,) = await feed.threads()
    assert thread.snapshot["calls"] == 1
    assert thread.snapshot["on_call"] is False


# Slack says no, for now


async def test_a_rate_limit_puts_the_event_back_and_it_is_delivered_after_the_wait(
    feed: Feed,
) -> None:
    await feed.queue(queued_lead(20))
    feed.slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "7"})

    assert await feed.run_once() == 1

    assert feed.posts() == []
    (row,) = await feed.rows()
    assert row.state == "pending"
    assert aware(row.next_attempt_at) == START + timedelta(seconds=7)
    assert "rate limited" in row.last_error
    async with feed.engine.connect() as conn:
        held = (await conn.execute(select(channel_pacing.c.next_post_at))).scalar_one()
    assert aware(held) == START + timedelta(seconds=7)

    feed.clock.advance(seconds=6)
    assert await feed.run_once() == 0
    assert len(feed.slack.calls("chat.postMessage")) == 1

    feed.clock.advance(seconds=2)
    assert await feed.drain() == 1

    assert len(feed.parents()) == 1
    assert len(feed.replies()) == 1
    assert feed.replies()[0]["thread_ts"] == feed.parent_ts()
    (row,) = await feed.rows()
    assert row.state == "done"
    assert row.attempts == 2
    (thread,) = await feed.threads()
    assert thread.parent_ts == feed.parent_ts()


async def test_a_rate_limited_reply_is_retried_without_a_second_parent(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    await feed.queue(queued_lead(100))
    feed.slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "7"})

    assert await feed.run_once() == 1

    assert await feed.states() == ["done", "pending"]
    assert feed.updates() == []
    feed.clock.advance(seconds=8)
    assert await feed.drain() == 1

    assert len(feed.parents()) == 1
    replies = feed.replies()
    assert len(replies) == 2
    assert replies[-1]["text"] == "⏳ In call queue → ✅ Success"
    assert len(feed.updates()) == 1
    assert await feed.states() == ["done", "done"]


async def test_a_server_error_is_retried_later_and_delivered_once(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    feed.slack.fail_next("chat.postMessage", status=500)

    assert await feed.run_once() == 1

    (row,) = await feed.rows()
    assert row.state == "pending"
    assert "500" in row.last_error
    next_attempt = aware(row.next_attempt_at)
    assert next_attempt is not None
    assert next_attempt > START
    assert await feed.run_once() == 0

    feed.clock.advance(timedelta(minutes=10))
    assert await feed.drain() == 1

    assert len(feed.parents()) == 1
    assert len(feed.replies()) == 1
    assert await feed.states() == ["done"]


async def test_a_retried_first_batch_reports_its_changes_once(feed: Feed) -> None:
    # The parent post of a new lead's first batch meets a 429; the retry must not apply the
    # batch's events on top of the snapshot the failed attempt already stored.
    await feed.queue(queued_lead(20))
    await feed.queue(queued_lead(100))
    feed.slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "7"})
    await feed.run_once()
    feed.clock.advance(seconds=8)

    await feed.drain()

    (reply,) = feed.replies()
    lines = [line.split(" · ")[0] for line in headline(reply).split("\n")]
    assert lines == ["⏳ In call queue", "⏳ In call queue → ✅ Success"]


async def test_a_rate_limited_first_call_end_is_counted_once(feed: Feed) -> None:
    # The lead's first webhook is its call: the parent post meets a 429 and is retried.
    await feed.queue(v2_call_end())
    feed.slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "7"})
    await feed.run_once()
    feed.clock.advance(seconds=8)

    await feed.drain()

    (parent,) = feed.parents()
    assert "*Calls*\n1" in fields_of(parent), fields_of(parent)
    (thread,) = await feed.threads()
    assert thread.snapshot["calls"] == 1


# Slack says no, for good


async def test_a_missing_channel_stops_the_subscription_and_fails_its_rows(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.queue(other_lead(20))
    await feed.queue(queued_lead(100))
    feed.slack.fail_next("chat.postMessage", status=200, error="channel_not_found")

    assert await feed.run_once() == 1

    assert await feed.states() == ["failed", "failed", "failed"]
    assert {r.last_error for r in await feed.rows()} == {"channel_not_found"}
    (subscription,) = await list_subscriptions(feed.engine, WORKSPACE)
    assert subscription.problem == "channel_not_found"
    assert aware(subscription.problem_at) == START

    feed.clock.advance(timedelta(minutes=10))
    assert await feed.drain() == 0
    stored = await feed.send(queued_lead(110))
    assert stored.outcome is Outcome.STORED
    assert stored.queued == 0
    assert await feed.drain() == 0
    assert len(feed.slack.calls("chat.postMessage")) == 1
    assert feed.posts() == []


@pytest.mark.parametrize("error", ["msg_too_long", "no_text", "metadata_too_large"])
async def test_a_refused_message_fails_only_its_batch(feed: Feed, error: str) -> None:
    await feed.queue(queued_lead(20))
    await feed.queue(other_lead(20))
    feed.slack.fail_next("chat.postMessage", status=200, error=error)

    await feed.run_once()

    first, second = await feed.rows()
    assert first.state == "failed"
    assert error in first.last_error
    assert second.state == "pending"
    (subscription,) = await list_subscriptions(feed.engine, WORKSPACE)
    assert subscription.problem is None

    feed.clock.advance(timedelta(minutes=10))
    await feed.drain()
    assert [p["text"] for p in feed.parents()] == ["Devon Price: ⏳ In call queue"]
    # The lead's lane is not stuck behind the refused post.
    await feed.queue(queued_lead(100))
    await feed.drain()
    assert [p["text"] for p in feed.parents()][-1] == "Maria Gonzalez: ✅ Success"
    assert await feed.states() == ["failed", "done", "done"]


async def test_an_unreadable_stored_event_fails_alone(feed: Feed) -> None:
    incoming = IncomingEvent(
        kind="lead", dedupe_key="junk", lead_key=PHONE, lead_status=None, payload={"x": 1}
    )
    await store_webhook(feed.engine, feed.token, incoming, feed.clock.now())

    await feed.drain()

    (row,) = await feed.rows()
    assert row.state == "failed"
    assert "neither" in row.last_error
    assert feed.slack.records("chat.postMessage") == []


async def test_an_unexpected_error_is_stored_in_a_few_words(feed: Feed) -> None:
    async def campaign_names(ws: Workspace, campaign_id: str) -> str | None:
        raise RuntimeError("names broke " + "x" * 5000 + '\n  File "names.py", line 1\n')

    feed.start_naming(campaign_names)
    await feed.queue(queued_lead(20))

    assert await feed.run_once() == 1

    (row,) = await feed.rows()
    assert row.state == "pending"
    assert row.last_error.startswith("RuntimeError: names broke xxx")
    assert "\n" not in row.last_error
    assert "names.py" not in row.last_error
    assert len(row.last_error) <= 200
    assert feed.posts() == []


# Slack misbehaves: a refused layout, a deleted parent, a proxy's page


BLOCKS_REFUSED = ["invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long"]
PROXY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def plain_text_notes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Posted as plain text" in r.getMessage()]


@pytest.mark.parametrize("error", BLOCKS_REFUSED)
async def test_a_parent_refused_for_its_blocks_is_posted_as_plain_text(
    feed: Feed, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    await feed.queue(queued_lead(20))
    feed.slack.fail_next("chat.postMessage", status=200, error=error)

    assert await feed.run_once() == 1

    parent, reply = feed.posts()
    assert "blocks" not in parent
    lines = parent["text"].split("\n")
    assert lines[0] == "*Maria Gonzalez*  ·  ⏳ In call queue"
    assert "*Phone* •••• 0137" in lines
    assert f"📣 {CAMPAIGN_NAME}" in parent["text"]
    assert_no_injection({"text": parent["text"], "blocks": []})
    (row,) = await feed.rows()
    assert marker_of(parent, PARENT_EVENT) == row.batch
    assert reply["thread_ts"] == feed.parent_ts()
    assert_sound(reply)
    assert row.state == "done"
    assert row.last_error.startswith("Posted as plain text: ")
    assert error in row.last_error
    assert len(plain_text_notes(caplog)) == 1

    # The plain parent is brought up to date like any other.
    await feed.queue(queued_lead(100))
    await feed.drain()
    assert feed.updates()[-1]["ts"] == feed.parent_ts()
    assert_sound(feed.updates()[-1])


async def test_a_reply_refused_for_its_blocks_is_posted_as_plain_text(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    await feed.queue(v2_call_end())
    # The parent's update goes through; the reply's blocks are refused.
    feed.slack.fail_next("chat.postMessage", status=200, error="invalid_blocks")

    await feed.drain()

    reply = feed.replies()[-1]
    assert "blocks" not in reply
    assert reply["thread_ts"] == feed.parent_ts()
    assert reply["text"].startswith("*📞 Call ended* · 2m 22s · ✅ Success")
    assert f"> {SUMMARY}" in reply["text"]
    assert marker_of(reply, REPLY_EVENT) == (await feed.rows())[-1].batch
    assert await feed.states() == ["done", "done"]
    assert "invalid_blocks" in (await feed.rows())[-1].last_error


async def test_an_update_refused_for_its_blocks_drops_them_for_plain_text(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    await feed.queue(queued_lead(100))
    feed.slack.fail_next("chat.update", status=200, error="msg_blocks_too_long")

    await feed.drain()

    update = feed.updates()[-1]
    assert update["ts"] == feed.parent_ts()
    assert update["blocks"] == []
    assert update["text"].startswith("*Maria Gonzalez*  ·  ✅ Success")
    (shown,) = [m for m in feed.slack.messages(CHANNEL) if m["ts"] == feed.parent_ts()]
    assert shown["blocks"] == []
    assert await feed.states() == ["done", "done"]


async def test_a_plain_text_fallback_keeps_outside_text_harmless(feed: Feed) -> None:
    hostile = "<!channel> & <https://evil.example|click> *bold*"
    await feed.queue(
        queued_lead(20, callData={"firstName": hostile, "lastName": "x" * 5000}, phoneNumber=PHONE)
    )
    feed.slack.fail_next("chat.postMessage", status=200, error="invalid_blocks")

    await feed.drain()

    parent = feed.parents()[0]
    assert "blocks" not in parent
    assert 0 < len(parent["text"]) <= 3000
    assert_no_injection({"text": parent["text"], "blocks": []})
    assert "&lt;!channel&gt; &amp;" in parent["text"]


@pytest.mark.parametrize("error", BLOCKS_REFUSED)
async def test_a_message_refused_as_plain_text_too_fails_only_its_batch(
    feed: Feed, error: str
) -> None:
    await feed.queue(queued_lead(20))
    await feed.queue(other_lead(20))
    feed.slack.fail_next("chat.postMessage", status=200, error=error, times=2)

    await feed.run_once()

    first, second = await feed.rows()
    assert first.state == "failed"
    assert error in first.last_error
    assert second.state == "pending"
    plain_try = feed.slack.calls("chat.postMessage")[1]
    assert "blocks" not in plain_try
    feed.clock.advance(timedelta(minutes=10))
    await feed.drain()
    assert [p["text"] for p in feed.parents()] == ["Devon Price: ⏳ In call queue"]


async def test_a_deleted_parent_is_replaced_with_the_reply_under_the_new_one(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    old_ts = feed.parent_ts()
    # It has a reply, so it stays as a tombstone that can still be replied to, not edited.
    feed.slack.delete_message(CHANNEL, old_ts)
    feed.clock.advance(timedelta(minutes=5))
    await feed.queue(queued_lead(100))

    assert await feed.drain() == 1

    new_ts = feed.parent_ts(1)
    assert feed.parents()[1]["text"] == "Maria Gonzalez: ✅ Success"
    assert_sound(feed.parents()[1])
    under_new = [r for r in feed.replies() if r["thread_ts"] == new_ts]
    (reply,) = under_new
    assert reply["text"] == "⏳ In call queue → ✅ Success"
    (thread,) = await feed.threads()
    assert thread.parent_ts == new_ts
    assert thread.snapshot["status"] == 100
    rows = await feed.rows()
    assert [r.state for r in rows] == ["done", "done"]
    assert marker_of(feed.parents()[1], PARENT_EVENT) == rows[1].batch
    assert rows[1].reply_ts == feed.slack.records("chat.postMessage")[-1].reply["ts"]  # type: ignore[index]

    # The feed goes on in the new thread.
    await feed.queue(queued_lead(110))
    await feed.drain()
    assert len(feed.parents()) == 2
    assert feed.replies()[-1]["thread_ts"] == new_ts
    assert feed.updates()[-1]["ts"] == new_ts


async def test_a_parent_deleted_before_any_reply_is_replaced_on_the_next_reply(
    feed: Feed,
) -> None:
    # A call start posts the parent alone; someone deletes it, leaving no thread at all.
    await feed.queue(v2_call_start())
    await feed.drain()
    assert feed.replies() == []
    feed.slack.delete_message(CHANNEL, feed.parent_ts())
    await feed.queue(queued_lead(100))

    assert await feed.drain() == 1

    failed = [r for r in feed.slack.records("chat.postMessage") if not r.ok]
    assert [r.reply["error"] for r in failed] == ["thread_not_found"]  # type: ignore[index]
    assert len(feed.parents()) == 2
    (reply,) = feed.replies()
    assert reply["thread_ts"] == feed.parent_ts(1)
    assert (await feed.threads())[0].parent_ts == feed.parent_ts(1)
    assert await feed.states() == ["done", "done"]


UNEDITABLE = ["cant_update_message", "edit_window_closed"]


@pytest.mark.parametrize("error", UNEDITABLE)
async def test_a_parent_slack_will_not_edit_keeps_its_thread(
    feed: Feed, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    old_ts = feed.parent_ts()
    await feed.queue(queued_lead(100))
    # The parent is still in the channel; Slack only refuses to edit it (too old, say).
    feed.slack.fail_next("chat.update", status=200, error=error)

    assert await feed.drain() == 1

    assert len(feed.parents()) == 1
    assert feed.replies()[-1]["thread_ts"] == old_ts
    assert feed.replies()[-1]["text"] == "⏳ In call queue → ✅ Success"
    assert feed.updates() == []
    assert [m["ts"] for m in feed.slack.messages(CHANNEL) if "thread_ts" not in m] == [old_ts]
    (thread,) = await feed.threads()
    assert thread.parent_ts == old_ts
    assert thread.snapshot["status"] == 100
    rows = await feed.rows()
    assert [r.state for r in rows] == ["done", "done"]
    assert rows[1].last_error.startswith("Parent message not updated: ")
    assert error in rows[1].last_error
    said = [r.getMessage() for r in caplog.records if "not updated" in r.getMessage()]
    assert len(said) == 1
    assert rows[1].batch in said[0]

    # Every later batch too: its reply in the same thread, never a second parent.
    await feed.queue(queued_lead(110))
    feed.slack.fail_next("chat.update", status=200, error=error)
    await feed.drain()
    assert len(feed.parents()) == 1
    assert [r["thread_ts"] for r in feed.replies()] == [old_ts] * 3
    assert await feed.states() == ["done", "done", "done"]


async def test_a_parent_refused_for_its_blocks_and_then_too_old_to_edit_notes_only_that(
    feed: Feed,
) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    await feed.queue(queued_lead(100))
    feed.slack.fail_next("chat.update", status=200, error="invalid_blocks")
    feed.slack.fail_next("chat.update", status=200, error="edit_window_closed")

    await feed.drain()

    assert len(feed.parents()) == 1
    assert feed.replies()[-1]["thread_ts"] == feed.parent_ts()
    row = (await feed.rows())[-1]
    assert row.state == "done"
    # Nothing was shown as plain text: the plain edit was refused too.
    assert row.last_error.startswith("Parent message not updated: ")
    assert "edit_window_closed" in row.last_error
    assert "plain text" not in row.last_error


@pytest.mark.parametrize("posted", [True, False], ids=["new-parent-posted", "nothing-posted"])
async def test_a_replacement_parent_is_posted_once_across_a_crash(feed: Feed, posted: bool) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    old_ts = feed.parent_ts()
    feed.slack.delete_message(CHANNEL, old_ts)
    await feed.queue(queued_lead(100))
    batch = await claim_as_dead_worker(feed)
    (thread,) = await feed.threads()
    # The dead worker found the parent gone and forgot it, as deliver does; maybe it posted
    # the new one too. Then it died.
    await outbox.forget_parent(feed.engine, batch, thread.id, old_ts, feed.clock.now())
    if posted:
        await outbox.start_thread(feed.engine, batch, thread.snapshot, feed.clock.now())
        await feed.client.chat_postMessage(
            channel=CHANNEL,
            text="Maria Gonzalez: ✅ Success",
            metadata={"event_type": PARENT_EVENT, "event_payload": {"marker": batch.marker}},
        )

    feed.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await feed.drain() == 1

    (new_parent,) = feed.parents()[1:]
    assert marker_of(new_parent, PARENT_EVENT) == batch.marker
    new_ts = feed.parent_ts(1)
    (reply,) = [r for r in feed.replies() if r["thread_ts"] == new_ts]
    assert marker_of(reply, REPLY_EVENT) == batch.marker
    assert (await feed.threads())[0].parent_ts == new_ts
    assert await feed.states() == ["done", "done"]


@pytest.mark.parametrize("content_type", ["text/html", "application/json; charset=utf-8"])
async def test_a_proxy_page_instead_of_slacks_answer_waits_its_retry_after(
    feed: Feed, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    await feed.queue(queued_lead(20))
    feed.slack.fail_next(
        "chat.postMessage",
        status=502,
        body=PROXY_PAGE,
        content_type=content_type,
        headers={"Retry-After": "42"},
    )

    assert await feed.run_once() == 1

    (row,) = await feed.rows()
    assert row.state == "pending"
    assert aware(row.next_attempt_at) == START + timedelta(seconds=42)
    assert "HTTP 502" in row.last_error
    assert "<html>" not in row.last_error
    assert [r for r in caplog.records if r.exc_info] == []
    feed.clock.advance(seconds=41)
    assert await feed.run_once() == 0

    feed.clock.advance(seconds=2)
    assert await feed.drain() == 1

    assert len(feed.parents()) == 1
    assert len(feed.replies()) == 1
    assert await feed.states() == ["done"]


async def test_a_proxy_page_without_retry_after_backs_off(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    await feed.queue(queued_lead(100))
    feed.slack.fail_next("chat.postMessage", status=503, body=PROXY_PAGE, content_type="text/html")

    assert await feed.run_once() == 1

    row = (await feed.rows())[-1]
    assert row.state == "pending"
    next_attempt = aware(row.next_attempt_at)
    assert next_attempt is not None
    assert START < next_attempt <= START + timedelta(seconds=MAX_BACKOFF_SECONDS)
    feed.clock.advance_to(next_attempt + timedelta(seconds=1))
    assert await feed.drain() == 1
    assert len(feed.replies()) == 2
    assert len(feed.updates()) == 1


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 503, "body": PROXY_PAGE, "content_type": "text/html"},
        {"status": 429, "headers": {"Retry-After": "30"}},
    ],
    ids=["proxy-page", "rate-limited"],
)
async def test_a_lookup_slack_cannot_answer_now_is_asked_again_not_guessed(
    feed: Feed, failure: dict[str, Any]
) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    parent_ts = feed.parent_ts()
    await feed.queue(queued_lead(100))
    batch = await claim_as_dead_worker(feed)
    # The dead worker's reply reached Slack; its ts was never recorded.
    await feed.client.chat_postMessage(
        channel=CHANNEL,
        thread_ts=parent_ts,
        text="⏳ In call queue → ✅ Success",
        metadata={"event_type": REPLY_EVENT, "event_payload": {"marker": batch.marker}},
    )
    feed.slack.fail_next("conversations.replies", **failure)
    posts_before = len(feed.posts())

    feed.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await feed.run_once() == 1

    assert len(feed.posts()) == posts_before
    assert await feed.states() == ["done", "pending"]
    feed.clock.advance(seconds=MAX_BACKOFF_SECONDS)
    assert await feed.drain() == 1
    assert len(feed.posts()) == posts_before
    assert feed.updates()[-1]["text"] == "Maria Gonzalez: ✅ Success"
    assert await feed.states() == ["done", "done"]


# Filters


async def test_a_filtered_channel_hears_of_calls_only_for_leads_it_follows(
    engine: AsyncEngine, slack: SlackStandIn, client: AsyncWebClient
) -> None:
    feed = await subscribed_feed(engine, slack, client, statuses=(100,))
    feed.start()

    await feed.queue(v2_call_start(id=FIRST_CALL_ID))
    await feed.queue(v2_call_end(id=FIRST_CALL_ID, conversationStatus=10))
    filtered_out = await feed.send(queued_lead(10, calls=1))
    assert filtered_out.queued == 0
    assert await feed.drain() == 1

    assert slack.records("chat.postMessage") == []
    assert slack.records("chat.update") == []
    assert await feed.states() == ["skipped", "skipped"]
    assert await feed.threads() == []

    await feed.queue(queued_lead(100, calls=1))
    await feed.drain()
    (parent,) = feed.parents()
    assert parent["text"] == "Maria Gonzalez: ✅ Success"

    await feed.queue(v2_call_end())
    await feed.drain()
    reply = feed.replies()[-1]
    assert reply["thread_ts"] == feed.parent_ts()
    assert reply["text"] == "Call ended"
    assert await feed.states() == ["skipped", "skipped", "done", "done"]


# Times


@pytest.fixture
def local_zone_not_utc() -> Iterator[None]:
    """Run as on a laptop in New York: the process's local time zone is not UTC."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.usefixtures("local_zone_not_utc")
async def test_times_shown_are_the_events_times_whatever_the_local_zone(feed: Feed) -> None:
    await feed.queue(queued_lead(20))

    await feed.drain()

    parent, reply = feed.posts()
    epoch = int(START.timestamp())
    assert f"Updated <!date^{epoch}^" in footer(parent)
    assert f"<!date^{epoch}^{{time}}|2026-11-27 18:42 UTC>" in headline(reply)


# Pacing, masking, duplicates


async def test_a_channel_is_paced_between_posts(
    engine: AsyncEngine, slack: SlackStandIn, client: AsyncWebClient
) -> None:
    feed = await subscribed_feed(engine, slack, client)
    feed.start(timing=DeliveryTiming(post_interval=timedelta(seconds=1)))
    await feed.queue(queued_lead(20))
    await feed.queue(other_lead(20))

    assert await feed.run_once() == 1
    assert await feed.run_once() == 0
    feed.clock.advance(seconds=1)
    assert await feed.run_once() == 0
    feed.clock.advance(seconds=2)
    assert await feed.run_once() == 1

    assert len(feed.parents()) == 2


async def test_phone_numbers_are_shown_in_full_when_masking_is_off(
    engine: AsyncEngine, slack: SlackStandIn, client: AsyncWebClient
) -> None:
    feed = await subscribed_feed(engine, slack, client)
    feed.start(mask_phone=False)
    await feed.queue(queued_lead(20))

    await feed.drain()

    (parent,) = feed.parents()
    assert "*Phone*\n+1 415-555-0137" in fields_of(parent)


async def test_a_redelivered_webhook_is_posted_once(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    again = await feed.send(queued_lead(20))

    await feed.drain()

    assert again.outcome is Outcome.DUPLICATE
    assert len(feed.posts()) == 2
    assert len(await feed.rows()) == 1


# Crashes: Slack accepted a post, the worker died before recording it


async def claim_as_dead_worker(feed: Feed) -> outbox.Batch:
    (batch,) = await outbox.claim_batches(
        feed.engine,
        worker_id="worker-dead",
        now=feed.clock.now(),
        lease=LEASE,
        post_interval=timedelta(0),
    )
    return batch


async def test_a_reply_posted_before_a_crash_is_not_posted_again(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    parent_ts = feed.parent_ts()
    await feed.queue(queued_lead(100))
    batch = await claim_as_dead_worker(feed)
    # The dead worker's reply reached Slack; its ts was never recorded.
    posted = await feed.client.chat_postMessage(
        channel=CHANNEL,
        thread_ts=parent_ts,
        text="⏳ In call queue → ✅ Success",
        metadata={"event_type": REPLY_EVENT, "event_payload": {"marker": batch.marker}},
    )
    feed.slack.set_response(
        "conversations.replies",
        {
            "ok": True,
            "messages": [
                {"ts": parent_ts, "type": "message", "text": "parent"},
                {
                    "ts": posted["ts"],
                    "type": "message",
                    "thread_ts": parent_ts,
                    "metadata": {
                        "event_type": REPLY_EVENT,
                        "event_payload": {"marker": batch.marker},
                    },
                },
            ],
        },
    )
    posts_before = len(feed.posts())

    # While the dead worker's lease holds, nobody takes its batch.
    assert await feed.run_once() == 0
    feed.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await feed.run_once() == 1

    assert len(feed.posts()) == posts_before
    (lookup,) = feed.slack.calls("conversations.replies")
    assert lookup["channel"] == CHANNEL
    assert lookup["ts"] == parent_ts
    (update,) = feed.updates()
    assert update["ts"] == parent_ts
    assert update["text"] == "Maria Gonzalez: ✅ Success"
    rows = await feed.rows()
    assert [r.state for r in rows] == ["done", "done"]
    assert rows[1].batch == batch.marker
    assert rows[1].attempts == 2
    (thread,) = await feed.threads()
    assert thread.snapshot["status"] == 100
    assert await feed.drain() == 0


async def test_a_reply_lost_in_a_crash_is_posted_once_on_resume(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    await feed.queue(queued_lead(100))
    batch = await claim_as_dead_worker(feed)
    # Slack never got it: the thread holds only earlier messages.
    feed.slack.set_response(
        "conversations.replies",
        {"ok": True, "messages": [{"ts": feed.parent_ts(), "type": "message"}]},
    )

    feed.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await feed.drain() == 1

    replies = feed.replies()
    assert len(replies) == 2
    assert marker_of(replies[-1], REPLY_EVENT) == batch.marker
    assert replies[-1]["thread_ts"] == feed.parent_ts()
    assert len(feed.slack.calls("conversations.replies")) == 1
    assert await feed.states() == ["done", "done"]


async def test_a_recorded_reply_is_not_looked_up_or_posted_again(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    await feed.drain()
    parent_ts = feed.parent_ts()
    await feed.queue(queued_lead(100))
    batch = await claim_as_dead_worker(feed)
    # The dead worker posted its reply and recorded it, then died before updating the parent.
    posted = await feed.client.chat_postMessage(
        channel=CHANNEL,
        thread_ts=parent_ts,
        text="⏳ In call queue → ✅ Success",
        metadata={"event_type": REPLY_EVENT, "event_payload": {"marker": batch.marker}},
    )
    await outbox.record_reply(feed.engine, batch, str(posted["ts"]))
    posts_before = len(feed.posts())

    feed.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await feed.drain() == 1

    assert len(feed.posts()) == posts_before
    assert feed.slack.calls("conversations.replies") == []
    (update,) = feed.updates()
    assert update["text"] == "Maria Gonzalez: ✅ Success"
    rows = await feed.rows()
    assert [r.state for r in rows] == ["done", "done"]
    assert rows[1].reply_ts == posted["ts"]


async def parent_started_by_dead_worker(feed: Feed) -> tuple[outbox.Batch, dict[str, Any]]:
    """Claim the lead's first batch and note its parent as about to be posted, as deliver does."""
    batch = await claim_as_dead_worker(feed)
    events = [(parse_webhook(item.payload), item.received_at) for item in batch.items]
    folded = fold(LeadSnapshot(campaign_id=batch.campaign_id), events)
    snapshot = folded.snapshot.model_copy(update={"campaign_name": CAMPAIGN_NAME})
    stored = snapshot.model_dump(mode="json")
    await outbox.start_thread(feed.engine, batch, stored, feed.clock.now())
    return batch, stored


async def test_a_parent_posted_before_a_crash_is_found_not_posted_again(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    batch, _ = await parent_started_by_dead_worker(feed)
    posted = await feed.client.chat_postMessage(
        channel=CHANNEL,
        text="Maria Gonzalez: ⏳ In call queue",
        metadata={"event_type": PARENT_EVENT, "event_payload": {"marker": batch.marker}},
    )
    parent_ts = str(posted["ts"])
    feed.slack.set_response(
        "conversations.history",
        {
            "ok": True,
            "messages": [
                {"ts": "1699999999.000100", "type": "message", "text": "someone else"},
                {
                    "ts": parent_ts,
                    "type": "message",
                    "metadata": {
                        "event_type": PARENT_EVENT,
                        "event_payload": {"marker": batch.marker},
                    },
                },
            ],
        },
    )

    feed.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await feed.drain() == 1

    assert len(feed.parents()) == 1
    (reply,) = feed.replies()
    assert reply["thread_ts"] == parent_ts
    assert marker_of(reply, REPLY_EVENT) == batch.marker
    (lookup,) = feed.slack.calls("conversations.history")
    assert lookup["channel"] == CHANNEL
    (thread,) = await feed.threads()
    assert thread.parent_ts == parent_ts
    assert thread.snapshot["status"] == 20
    assert await feed.states() == ["done"]

    # Later events go to the thread that was found.
    await feed.queue(queued_lead(100))
    await feed.drain()
    assert len(feed.parents()) == 1
    assert feed.replies()[-1]["thread_ts"] == parent_ts
    assert feed.updates()[-1]["ts"] == parent_ts


async def test_a_parent_lost_in_a_crash_is_posted_once_on_resume(feed: Feed) -> None:
    await feed.queue(queued_lead(20))
    batch, _ = await parent_started_by_dead_worker(feed)
    feed.slack.set_response("conversations.history", {"ok": True, "messages": []})

    feed.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await feed.drain() == 1

    (parent,) = feed.parents()
    assert marker_of(parent, PARENT_EVENT) == batch.marker
    (reply,) = feed.replies()
    assert reply["thread_ts"] == feed.parent_ts()
    (thread,) = await feed.threads()
    assert thread.parent_ts == feed.parent_ts()
    assert await feed.states() == ["done"]
