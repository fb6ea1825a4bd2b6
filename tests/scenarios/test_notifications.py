"""Channel notifications end to end: `/lead subscribe`, NLPearl's webhooks, and the threaded feed.

The real app runs in process against local Slack and NLPearl stand-ins. A subscription is
made with a signed `/lead subscribe` whose reply (at the response_url) shows the webhook URL;
webhooks are POSTed to that URL as NLPearl would; the delivery loop then posts to the Slack
stand-in, one parent message per lead and channel and a thread reply per batch of events.

Most tests share one app: each gets a workspace (team) and channels of its own,
so subscriptions, webhook URLs and threads never mix. Tests that program Slack failures run
their own server, so no other test's delivery can take the failure. Delivery is paced (about
one post per second per channel), so every wait is bounded but generous, and no test asserts
on timings. "Nothing was posted" is proven with a barrier: a later webhook in the same
channel, delivered strictly after everything queued before it there.

After every test, each message the app posted (channel posts, updates and replies to
commands) must pass `assert_valid_message`; channel posts also `assert_no_injection`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from bot.demo.nlpearl_api import (
    SAMPLE_LEAD_ID,
    SAMPLE_LEAD_MANY_CALLS_ID,
    SAMPLE_LEAD_PHONE,
    SAMPLE_PEARL_ID,
    load_sample,
)
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message
from tests.harness.in_process import AppInProcess, start_app
from tests.harness.slack_requests import (
    FORM_CONTENT_TYPE,
    SIGNING_SECRET,
    assert_no_stack_traces,
    blocks_text,
    buttons,
    message_text,
    send_command,
    sign,
    slash_command_body,
)
from tests.harness.webhooks import (
    WEBHOOK_PATH,
    call_ended,
    call_started,
    lead_event,
    post_chunked,
    post_webhook,
    v1_call_ended,
    v1_lead_event,
    webhook_url,
)
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.e2e

P = SAMPLE_PEARL_ID
CAMPAIGN_NAME = "Solar – Spring Re-engagement"
UNKNOWN_CAMPAIGN = "ffffffffffffffffffffffff"
MARIA_ID = SAMPLE_LEAD_ID
MARIA_PHONE = SAMPLE_LEAD_PHONE  # +14155550137
MARIA_MASKED = "•••• 0137"
DEVON_ID = SAMPLE_LEAD_MANY_CALLS_ID
DEVON_PHONE = "+13125550188"
DEVON_MASKED = "•••• 0188"
CALL_ID = "66523b11c2d3e4f5a6b7c8d9"
OTHER_CALL_ID = "66523b11c2d3e4f5a6b7c8da"
RECORDING = "https://recordings.example-cdn.net/66523b11c2d3e4f5a6b7c8d9.mp3"
SUMMARY = "Maria booked a site survey for Thursday at 10am."
QUEUED = "⏳ In call queue"
SUCCESS = "✅ Success"
NOT_SUCCESSFUL = "❌ Not successful"
NO_WEBHOOK_YET = "no webhook received yet"
EVERY_STATUS = "every status change"
DELIVERY_TIMEOUT = 45.0  # seconds: a few paced rounds plus retries, on a slow machine
COMMAND_TIMEOUT = 15.0
POLL_SECONDS = 0.05

T = TypeVar("T")
Json = dict[str, Any]

_prefixes = itertools.count(1)


# The harness: a server, its stand-ins, and one test's workspace on it


@dataclass
class Running:
    """A server process and the stand-ins it talks to."""

    server: AppInProcess
    slack: SlackStandIn
    nlpearl: NLPearlStandIn


@dataclass
class Feed:
    """One test's workspace on a running server: its channels, commands, webhooks and posts."""

    running: Running
    prefix: str = field(default_factory=lambda: f"N{next(_prefixes):03d}")
    channels: set[str] = field(default_factory=set)
    response_names: list[str] = field(default_factory=list)
    sentinels: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def server(self) -> AppInProcess:
        """The server process."""
        return self.running.server

    @property
    def slack(self) -> SlackStandIn:
        """The Slack stand-in."""
        return self.running.slack

    @property
    def team_id(self) -> str:
        """This test's workspace."""
        return f"T{self.prefix}"

    def channel(self, suffix: str = "A", kind: str = "C") -> str:
        """A channel of this test's workspace (`kind` D for a direct message)."""
        channel_id = f"{kind}{self.prefix}{suffix}"
        self.channels.add(channel_id)
        return channel_id

    # Slash commands

    def _response_name(self) -> str:
        name = f"{self.prefix}-{len(self.response_names) + 1}"
        self.response_names.append(name)
        return name

    def command(self, text: str, channel: str) -> Json:
        """`/lead text` in `channel`: acknowledged empty at once, answered at the response_url."""
        name = self._response_name()
        acked = send_command(
            self.server.events_url,
            text,
            self.slack.response_url(name),
            channel_id=channel,
            team_id=self.team_id,
        )
        assert (acked.status_code, acked.text) == (200, ""), acked.text
        [reply] = self.slack.wait_for_responses(1, name, timeout=COMMAND_TIMEOUT)
        assert reply.get("response_type") == "ephemeral", reply
        return reply

    def command_with_headers(self, text: str, channel: str, headers: dict[str, str]) -> Json:
        """`/lead text` as it arrives through a proxy that adds `headers`."""
        name = self._response_name()
        body = slash_command_body(
            text, self.slack.response_url(name), channel_id=channel, team_id=self.team_id
        )
        signed = {"Content-Type": FORM_CONTENT_TYPE, **sign(SIGNING_SECRET, body), **headers}
        acked = httpx.post(self.server.events_url, content=body, headers=signed, timeout=10)
        assert (acked.status_code, acked.text) == (200, ""), acked.text
        [reply] = self.slack.wait_for_responses(1, name, timeout=COMMAND_TIMEOUT)
        return reply

    def subscribe(self, channel: str, campaign: str = P, *statuses: str) -> tuple[Json, str]:
        """`/lead subscribe`: the reply and the path of the webhook URL it shows."""
        reply = self.command(" ".join(["subscribe", campaign, *statuses]), channel)
        url = webhook_url(reply)
        scheme, host = url.group(1), url.group(2)
        assert (scheme, host) == ("https", self.server.url.removeprefix("http://")), url.group(0)
        return reply, url.group(3)

    def subscriptions(self, channel: str) -> str:
        """The text of `/lead subscriptions` in `channel`."""
        return blocks_text(self.command("subscriptions", channel))

    # Webhooks

    def webhook(self, path: str, body: Json, *, queued: int | None = 1) -> Json:
        """POSTs a webhook that must be stored (queueing `queued` posts); returns the answer."""
        answer = post_webhook(self.server.url, path, body)
        assert answer.status_code == 200, answer.text
        if queued is not None:
            assert answer.json() == {"status": "stored", "queued": queued}
        return dict(answer.json())

    def barrier(self, path: str, channel: str, *, status: int = 100) -> Json:
        """Delivers a sentinel lead to `channel`: everything queued there before it is done.

        Delivery takes a channel's rows in the order they were queued, one batch at a time,
        so once the sentinel's parent and reply are posted, nothing queued earlier in that
        channel is still on its way.
        """
        number = next(self.sentinels)
        name = f"Sentinel{self.prefix}x{number}"
        event = lead_event(
            f"sentinel-{self.prefix}-{number}",
            None,
            status,
            first_name=name,
            last_name="Barrier",
            external_id=f"sentinel-{number}",
        )
        answer = post_webhook(self.server.url, path, event)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "stored", answer.text
        assert answer.json()["queued"] >= 1, answer.text
        parent = self.wait_for(
            f"the sentinel {name} in {channel}",
            lambda: next((p for p in self.parents(channel) if name in message_text(p)), None),
        )
        # Its thread reply comes right after it, in the same delivery.
        ts = self.parent_ts(parent)
        self.wait_for(f"the reply to the sentinel {name}", lambda: self.replies(channel, ts))
        return parent

    # What reached Slack

    def posts(self, channel: str) -> list[Json]:
        """Successful chat.postMessage calls in `channel`, oldest first."""
        return [c for c in self.slack.calls("chat.postMessage", ok_only=True) if _in(c, channel)]

    def parents(self, channel: str) -> list[Json]:
        """The parent messages (not in a thread) posted in `channel`."""
        return [p for p in self.posts(channel) if not p.get("thread_ts")]

    def replies(self, channel: str, parent_ts: str) -> list[Json]:
        """The replies posted in the thread of `parent_ts`."""
        return [p for p in self.posts(channel) if p.get("thread_ts") == parent_ts]

    def updates(self, channel: str) -> list[Json]:
        """Successful chat.update calls in `channel`, oldest first."""
        return [c for c in self.slack.calls("chat.update", ok_only=True) if _in(c, channel)]

    def parent_ts(self, parent: Json) -> str:
        """The ts Slack gave a parent post (the stand-in echoes the body, not the ts)."""
        for record in self.slack.records("chat.postMessage"):
            if record.ok and record.body is parent and record.reply is not None:
                return str(record.reply["ts"])
        raise AssertionError(f"not a recorded post: {parent}")

    def wait_for(self, what: str, found: Callable[[], T | None]) -> T:
        """Polls `found` until it returns something, for at most DELIVERY_TIMEOUT seconds."""
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while True:
            result = found()
            if result:
                return result
            if time.monotonic() > deadline or not self.server.running:
                raise AssertionError(
                    f"no {what} within {DELIVERY_TIMEOUT}s; server output:\n"
                    + self.server.output()[-6000:]
                )
            time.sleep(POLL_SECONDS)

    def wait_for_posts(self, channel: str, count: int) -> list[Json]:
        """At least `count` successful posts in `channel`."""
        return self.wait_for(
            f"{count} posts in {channel}",
            lambda: posts if len(posts := self.posts(channel)) >= count else None,
        )

    def wait_for_updates(self, channel: str, count: int) -> list[Json]:
        """At least `count` successful parent updates in `channel`."""
        return self.wait_for(
            f"{count} updates in {channel}",
            lambda: updates if len(updates := self.updates(channel)) >= count else None,
        )

    # After the test

    def check_messages(self) -> None:
        """Every message the app posted for this test fits Slack's limits and injects nothing."""
        for method in ("chat.postMessage", "chat.update"):
            for body in self.slack.calls(method):
                if body.get("channel") in self.channels:
                    assert_valid_message(body)
                    assert_no_injection(body)
        replies = [r for name in self.response_names for r in self.slack.responses(name)]
        for reply in replies:
            assert_valid_message(reply)
        assert_no_stack_traces(replies)


def _in(call: Json, channel: str) -> bool:
    return call.get("channel") == channel


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One server for the module's tests that need no programmed Slack failures."""
    with SlackStandIn() as slack, NLPearlStandIn() as nlpearl:
        load_sample(nlpearl)
        workdir: Path = tmp_path_factory.mktemp("notifications")
        server = start_app({}, slack=slack, nlpearl=nlpearl, workdir=workdir)
        try:
            yield Running(server, slack, nlpearl)
        finally:
            server.terminate()


@pytest.fixture
def feed(running: Running) -> Iterator[Feed]:
    """A fresh workspace on the module's server, the stand-ins' programming cleared."""
    assert running.server.running, running.server.output()
    running.slack.reset()
    running.nlpearl.reset()
    workspace = Feed(running)
    yield workspace
    workspace.check_messages()


@pytest.fixture
def own_feed(server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn) -> Iterator[Feed]:
    """A workspace on a server of its own, for tests that program Slack's failures."""
    workspace = Feed(Running(server, slack, nlpearl))
    yield workspace
    workspace.check_messages()


# Subscribing


def test_subscribe_replies_with_the_webhook_url_and_how_to_paste_it(feed: Feed) -> None:
    channel = feed.channel()
    reply, path = feed.subscribe(channel)

    shown = blocks_text(reply)
    assert "This channel is subscribed" in shown
    assert CAMPAIGN_NAME in shown
    assert P in shown
    assert EVERY_STATUS in shown
    for step in ("Lead Webhook", "Call Webhook", "V2", "platform.nlpearl.ai"):
        assert step in shown, step
    assert "password" in shown  # the URL is a secret
    assert path.startswith(WEBHOOK_PATH)
    assert len(path) > len(WEBHOOK_PATH) + 16
    assert "subscribed" in reply["text"].lower()
    assert feed.running.nlpearl.requests(f"/v2/Pearl/{P}"), "the campaign was not checked"
    [info] = feed.slack.calls("conversations.info")
    assert info["channel"] == channel

    listed = feed.subscriptions(channel)
    assert "This channel" in listed
    assert P in listed
    assert EVERY_STATUS in listed
    assert NO_WEBHOOK_YET in listed

    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 20))
    listed = feed.subscriptions(channel)
    assert "last webhook <!date^" in listed
    assert NO_WEBHOOK_YET not in listed
    feed.wait_for_posts(channel, 2)


def test_the_webhook_url_ignores_the_host_and_scheme_a_client_forwards(feed: Feed) -> None:
    channel = feed.channel()
    host = feed.server.url.removeprefix("http://")
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "leads.example.com"}
    url = webhook_url(feed.command_with_headers(f"subscribe {P}", channel, proxy))
    assert url.group(0) == f"https://{host}{url.group(3)}"

    # Asked again, the URL is the same, whatever scheme a header claims.
    reply = feed.command_with_headers(f"subscribe {P}", channel, {"X-Forwarded-Proto": "http"})
    assert webhook_url(reply).group(0) == url.group(0)
    answer = post_webhook(feed.server.url, url.group(3), lead_event(MARIA_ID, MARIA_PHONE, 20))
    assert answer.json() == {"status": "stored", "queued": 1}
    feed.wait_for_posts(channel, 2)


def test_subscribing_with_statuses_sets_a_filter(feed: Feed) -> None:
    channel = feed.channel()
    reply, _ = feed.subscribe(channel, P, "success", "notsuccessful")
    shown = blocks_text(reply)
    assert f"{SUCCESS}, {NOT_SUCCESSFUL}" in shown
    assert EVERY_STATUS not in shown
    listed = feed.subscriptions(channel)
    assert f"{SUCCESS}, {NOT_SUCCESSFUL}" in listed
    assert EVERY_STATUS not in listed

    # Subscribing again changes the filter of the same subscription.
    reply, _ = feed.subscribe(channel, P, "Success")
    assert "Subscription updated" in blocks_text(reply)
    listed = feed.subscriptions(channel)
    assert listed.count(f"`{P}`") == 1
    assert SUCCESS in listed
    assert NOT_SUCCESSFUL not in listed

    reply, _ = feed.subscribe(channel, P)
    assert "Subscription updated" in blocks_text(reply)
    assert EVERY_STATUS in feed.subscriptions(channel)


def test_an_unknown_status_name_is_refused_and_changes_nothing(feed: Feed) -> None:
    channel = feed.channel()
    reply = feed.command(f"subscribe {P} success sucess", channel)
    shown = blocks_text(reply)
    assert "Unknown status" in shown
    assert "sucess" in shown
    assert "`success`" in shown  # names the statuses it does know
    assert WEBHOOK_PATH not in message_text(reply)
    assert "No subscriptions" in feed.subscriptions(channel)

    _, path = feed.subscribe(channel, P, "success")
    reply = feed.command(f"subscribe {P} bogus", channel)
    assert "Unknown status" in blocks_text(reply)
    listed = feed.subscriptions(channel)
    assert SUCCESS in listed
    assert EVERY_STATUS not in listed
    # The webhook URL issued before still works: the refused command issued no new one.
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 100))
    feed.wait_for_posts(channel, 2)


def test_an_unknown_campaign_is_refused(feed: Feed) -> None:
    channel = feed.channel()
    reply = feed.command(f"subscribe {UNKNOWN_CAMPAIGN}", channel)
    shown = blocks_text(reply)
    assert "Campaign not found" in shown
    assert UNKNOWN_CAMPAIGN in shown
    assert WEBHOOK_PATH not in message_text(reply)
    assert feed.running.nlpearl.requests(f"/v2/Pearl/{UNKNOWN_CAMPAIGN}")
    assert "No subscriptions" in feed.subscriptions(channel)


@pytest.mark.parametrize(
    "conversation",
    [
        pytest.param({"ok": False, "error": "channel_not_found"}, id="channel_not_found"),
        pytest.param(
            {
                "ok": True,
                "channel": {
                    "id": "G0PRIVATE",
                    "is_channel": False,
                    "is_group": True,
                    "is_private": True,
                    "is_archived": False,
                    "is_member": False,
                },
            },
            id="private-not-member",
        ),
    ],
)
def test_a_private_channel_the_bot_is_not_in_is_refused(feed: Feed, conversation: Json) -> None:
    channel = feed.channel("P", kind="G")
    feed.slack.set_response("conversations.info", conversation)
    try:
        reply = feed.command(f"subscribe {P}", channel)
    finally:
        feed.slack.reset()
    shown = blocks_text(reply)
    assert "I can't post in this conversation" in shown
    assert "/invite" in shown
    assert WEBHOOK_PATH not in message_text(reply)
    assert "No subscriptions" in feed.subscriptions(feed.channel())


def test_a_direct_message_cannot_be_subscribed(feed: Feed) -> None:
    dm = feed.channel("M", kind="D")
    reply = feed.command(f"subscribe {P}", dm)
    shown = blocks_text(reply)
    assert "I can't post in this conversation" in shown
    assert "Direct messages" in shown
    assert WEBHOOK_PATH not in message_text(reply)
    assert "No subscriptions" in feed.subscriptions(feed.channel())


def test_unsubscribe_stops_the_feed(feed: Feed) -> None:
    channel = feed.channel()
    _, path = feed.subscribe(channel)
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 20))
    feed.wait_for_posts(channel, 2)

    reply = feed.command(f"unsubscribe {P}", channel)
    assert "Unsubscribed" in blocks_text(reply)
    assert P in blocks_text(reply)
    assert "No subscriptions" in feed.subscriptions(channel)

    # The webhook is still accepted (NLPearl keeps sending) but queues nothing here.
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 100, calls=[CALL_ID]), queued=0)

    # Another channel still subscribed gets that campaign's next update; this one does not.
    other = feed.channel("B")
    reply = feed.command(f"subscribe {P}", other)
    assert WEBHOOK_PATH not in message_text(reply)
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 110, calls=[CALL_ID, OTHER_CALL_ID]))
    feed.wait_for_posts(other, 2)
    assert len(feed.posts(channel)) == 2
    assert feed.updates(channel) == []


def test_unsubscribe_when_not_subscribed_says_so(feed: Feed) -> None:
    channel = feed.channel()
    reply = feed.command(f"unsubscribe {P}", channel)
    shown = blocks_text(reply)
    assert "Not subscribed" in shown
    assert P in shown
    assert "No subscriptions" in feed.subscriptions(channel)


def test_a_second_channel_before_any_webhook_shares_the_url_already_issued(feed: Feed) -> None:
    first, second = feed.channel("A"), feed.channel("B")
    _, first_path = feed.subscribe(first)
    reply, second_path = feed.subscribe(second)
    assert "This channel is subscribed" in blocks_text(reply)
    assert second_path == first_path

    # The URL someone may already have pasted keeps working, and feeds both channels.
    feed.webhook(first_path, lead_event(MARIA_ID, MARIA_PHONE, 20), queued=2)
    for channel in (first, second):
        [parent, _reply] = feed.wait_for_posts(channel, 2)
        assert "Maria Gonzalez" in message_text(parent)

    listed = feed.subscriptions(first)
    assert "This channel" in listed
    assert "Elsewhere in this workspace" in listed
    assert f"<#{second}>" in listed


def test_subscribing_again_before_any_webhook_shows_the_same_url(feed: Feed) -> None:
    channel = feed.channel("A")
    _, old_path = feed.subscribe(channel)
    _, new_path = feed.subscribe(channel)
    assert new_path == old_path

    feed.webhook(old_path, lead_event(MARIA_ID, MARIA_PHONE, 20), queued=1)
    feed.wait_for_posts(channel, 2)


def test_a_second_channel_after_webhooks_arrived_is_told_nlpearl_already_sends(
    feed: Feed,
) -> None:
    first, second = feed.channel("A"), feed.channel("B")
    _, path = feed.subscribe(first)
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 20))
    feed.wait_for_posts(first, 2)

    reply = feed.command(f"subscribe {P}", second)
    shown = blocks_text(reply)
    assert "This channel is subscribed" in shown
    assert "NLPearl is already sending" in shown
    assert WEBHOOK_PATH not in message_text(reply)

    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 100, calls=[CALL_ID]), queued=2)
    [parent, reply] = feed.wait_for_posts(second, 2)
    assert SUCCESS in blocks_text(parent)
    assert "Maria Gonzalez" in blocks_text(parent)
    assert reply["thread_ts"] == feed.parent_ts(parent)
    feed.wait_for_updates(first, 1)
    assert len(feed.posts(first)) == 3


# The feed


def test_a_lead_webhook_posts_a_parent_and_threads_each_change(feed: Feed) -> None:
    channel = feed.channel()
    _, path = feed.subscribe(channel)

    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 20))
    [parent, first] = feed.wait_for_posts(channel, 2)
    assert "thread_ts" not in parent
    parent_text = blocks_text(parent)
    assert "Maria Gonzalez" in parent_text
    assert QUEUED in parent_text
    assert MARIA_MASKED in parent_text
    assert "4155550137" not in message_text(parent).replace("-", "").replace(" ", "")
    assert CAMPAIGN_NAME in parent_text
    ts = feed.parent_ts(parent)
    assert first["thread_ts"] == ts
    assert QUEUED in blocks_text(first)

    success = lead_event(MARIA_ID, MARIA_PHONE, 100, calls=[CALL_ID], collected={"roofAge": 12})
    feed.webhook(path, success)
    [update] = feed.wait_for_updates(channel, 1)
    posts = feed.posts(channel)
    assert len(posts) == 3
    assert len(feed.parents(channel)) == 1
    second = posts[2]
    assert second["thread_ts"] == ts
    assert f"{QUEUED} → {SUCCESS}" in blocks_text(second)
    assert update["ts"] == ts
    updated = blocks_text(update)
    assert SUCCESS in updated
    assert QUEUED not in updated
    assert "Roof age" in updated
    assert "12" in updated

    # NLPearl sends the same webhook again: it is recognised, and nothing more is posted.
    again = post_webhook(feed.server.url, path, success)
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    feed.barrier(path, channel)
    assert len(feed.replies(channel, ts)) == 2
    assert len(feed.updates(channel)) == 1
    assert [p for p in feed.parents(channel) if "Maria" in message_text(p)] == [parent]


def test_a_lead_back_in_an_earlier_status_after_a_call_is_posted_again(feed: Feed) -> None:
    channel = feed.channel()
    _, path = feed.subscribe(channel)
    # A retry cycle: queued, called (no answer, will retry), queued again. Sent at once, the
    # three may be posted as one reply or several; each change must be in the thread.
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 20))
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 10, calls=[CALL_ID]))
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 20, calls=[CALL_ID]))
    retry = "🔁 Needs retry"
    [parent] = feed.wait_for(f"Maria's parent in {channel}", lambda: feed.parents(channel))
    ts = feed.parent_ts(parent)
    thread = feed.wait_for(
        "the whole retry cycle in the thread",
        lambda: (
            text
            if f"{retry} → {QUEUED}"
            in (text := "\n".join(map(blocks_text, feed.replies(channel, ts))))
            else None
        ),
    )
    assert f"{QUEUED} → {retry}" in thread
    assert thread.index(f"{QUEUED} → {retry}") < thread.index(f"{retry} → {QUEUED}")
    assert len(feed.parents(channel)) == 1
    # Each batch after the first updates the parent; the last one shows the latest status.
    batches = len(feed.replies(channel, ts))
    updates = feed.wait_for_updates(channel, batches - 1) if batches > 1 else []
    headline = blocks_text(updates[-1] if updates else parent).split("\n")[0]
    assert QUEUED in headline
    assert retry not in headline


def test_a_v1_pascal_case_webhook_works_the_same(feed: Feed) -> None:
    channel = feed.channel()
    _, path = feed.subscribe(channel)

    lead = v1_lead_event(
        DEVON_ID,
        DEVON_PHONE,
        110,
        first_name="Devon",
        last_name="Clarke",
        external_id="crm-004530",
    )
    feed.webhook(path, lead)
    [parent, first] = feed.wait_for_posts(channel, 2)
    shown = blocks_text(parent)
    assert "Devon Clarke" in shown
    assert NOT_SUCCESSFUL in shown
    assert DEVON_MASKED in shown
    ts = feed.parent_ts(parent)
    assert first["thread_ts"] == ts
    assert NOT_SUCCESSFUL in blocks_text(first)

    ended = v1_call_ended(
        CALL_ID, DEVON_PHONE, summary="Devon chose another installer.", recording=RECORDING
    )
    feed.webhook(path, ended)
    feed.wait_for_updates(channel, 1)
    [_, _, call] = feed.posts(channel)
    assert call["thread_ts"] == ts
    shown = blocks_text(call)
    assert "Call ended" in shown
    assert "Devon chose another installer." in shown
    assert "Interested" in shown
    [recording] = [b for b in buttons(call).values() if b.get("url") == RECORDING]
    assert "Recording" in recording["text"]["text"]


def test_a_call_shows_on_the_parent_while_on_and_in_the_thread_when_it_ends(feed: Feed) -> None:
    channel = feed.channel()
    _, path = feed.subscribe(channel)
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 20))
    [parent, _] = feed.wait_for_posts(channel, 2)
    ts = feed.parent_ts(parent)
    assert "On a call now" not in blocks_text(parent)

    # The call starts: the parent says so, and there is nothing to say in the thread yet.
    feed.webhook(path, call_started(CALL_ID, MARIA_PHONE))
    [on_call] = feed.wait_for_updates(channel, 1)
    assert on_call["ts"] == ts
    assert "On a call now" in blocks_text(on_call)
    assert "Maria Gonzalez" in blocks_text(on_call)
    assert len(feed.posts(channel)) == 2

    # The call ends: its outcome, summary, answers and recording go in the thread.
    answers: list[Json] = [
        {"id": "preferredDay", "name": "Preferred day", "value": "Thursday"},
        {"id": "isHomeowner", "name": "Homeowner", "value": True},
    ]
    ended = call_ended(
        CALL_ID, MARIA_PHONE, summary=SUMMARY, recording=RECORDING, collected=answers
    )
    feed.webhook(path, ended)
    [_, after] = feed.wait_for_updates(channel, 2)
    [_, _, reply] = feed.posts(channel)
    assert reply["thread_ts"] == ts
    shown = blocks_text(reply)
    assert "Call ended" in shown
    assert "1m 35s" in shown
    assert SUCCESS in shown
    assert SUMMARY in shown
    assert "Preferred day" in shown
    assert "Thursday" in shown
    [recording] = [b for b in buttons(reply).values() if b.get("url") == RECORDING]
    assert "Recording" in recording["text"]["text"]

    assert after["ts"] == ts
    updated = blocks_text(after)
    assert "On a call now" not in updated
    assert "Preferred day" in updated
    assert "Thursday" in updated
    assert "*Calls*\n1" in updated


def test_hostile_webhook_data_still_makes_valid_messages(feed: Feed) -> None:
    channel = feed.channel()
    _, path = feed.subscribe(channel)
    shouting = "<!channel> <@U0BOSS> <https://evil.example|click> *bold* " * 40
    lead = lead_event(
        MARIA_ID,
        MARIA_PHONE,
        100,
        first_name=shouting,
        last_name="x" * 5000,
        collected={f"answer{n} <!here>": shouting for n in range(30)},
    )
    feed.webhook(path, lead)
    [parent, _] = feed.wait_for_posts(channel, 2)
    assert "<!channel>" not in message_text(parent)

    answers = [{"id": f"q{n}", "name": shouting, "value": shouting} for n in range(40)]
    ended = call_ended(
        CALL_ID,
        MARIA_PHONE,
        summary=shouting * 5,
        recording="https://recordings.example-cdn.net/" + "a" * 4000,
        collected=answers,
    )
    feed.webhook(path, ended)
    feed.wait_for_updates(channel, 1)
    [_, _, reply] = feed.posts(channel)
    assert "Call ended" in blocks_text(reply)
    # check_messages() then validates every post and update against Slack's limits.


# Webhooks the app must refuse


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("A" * 32, id="well-formed-unknown"),
        pytest.param("short", id="malformed"),
        pytest.param("x" * 200, id="too-long"),
    ],
)
def test_an_unknown_webhook_token_is_404_and_posts_nothing(feed: Feed, token: str) -> None:
    channel = feed.channel()
    _, path = feed.subscribe(channel)
    for body in (lead_event(MARIA_ID, MARIA_PHONE, 20), {"hello": 1}):
        answer = post_webhook(feed.server.url, WEBHOOK_PATH + token, body)
        assert answer.status_code == 404, answer.text
        assert answer.json() == {"error": "unknown webhook URL"}
    assert NO_WEBHOOK_YET in feed.subscriptions(channel)

    feed.barrier(path, channel)
    assert len(feed.posts(channel)) == 2  # the sentinel and its reply only


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"id": "6650f1c2a9e4b27d3c8e41a7", "status": ', id="malformed-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe\x00{", id="not-utf8"),
        pytest.param(b'[{"id": "6650f1c2a9e4b27d3c8e41a7", "status": 100}]', id="array"),
        pytest.param(b'"hello"', id="string"),
        pytest.param(b'{"hello": 1}', id="neither-lead-nor-call"),
        pytest.param(b'{"status": 100, "callData": {"firstName": "Ann"}}', id="lead-no-id"),
        pytest.param(b'{"to": "+14155550137", "status": 4}', id="call-no-id"),
    ],
)
def test_a_body_that_is_not_a_webhook_is_400_and_writes_nothing(feed: Feed, body: bytes) -> None:
    channel = feed.channel()
    _, path = feed.subscribe(channel)
    answer = post_webhook(feed.server.url, path, body)
    assert answer.status_code == 400, answer.text
    assert "error" in answer.json()
    assert NO_WEBHOOK_YET in feed.subscriptions(channel)

    feed.barrier(path, channel)
    assert len(feed.posts(channel)) == 2


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_one_megabyte_is_413_and_writes_nothing(feed: Feed, chunked: bool) -> None:
    channel = feed.channel()
    _, path = feed.subscribe(channel)
    head = b'{"id": "6650f1c2a9e4b27d3c8e41a7", "phoneNumber": "+14155550137", "status": 20, '
    padding = b'"callData": {"notes": "' + b"x" * 1_500_000 + b'"}}'
    if chunked:
        answer = post_chunked(feed.server.url, path, [head, *_pieces(padding, 64_000)])
    else:
        answer = post_webhook(feed.server.url, path, head + padding)
    assert answer.status_code == 413, answer.text
    assert NO_WEBHOOK_YET in feed.subscriptions(channel)

    feed.barrier(path, channel)
    assert len(feed.posts(channel)) == 2
    assert not [p for p in feed.posts(channel) if "Maria" in message_text(p)]


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


# Filters


def test_a_status_filter_posts_only_the_chosen_statuses(feed: Feed) -> None:
    channel = feed.channel()
    _, path = feed.subscribe(channel, P, "success")

    # Filtered out when it arrives: nothing is queued.
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 20), queued=0)
    # A call of a lead this channel does not follow is queued, then skipped.
    devon_call = call_ended(
        OTHER_CALL_ID,
        DEVON_PHONE,
        summary="Devon chose another installer.",
        recording=RECORDING,
        collected=[],
        conversation_status=110,
        name="Devon Clarke",
    )
    feed.webhook(path, devon_call)
    # The chosen status starts the lead's thread (delivered after the skipped call).
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 100, calls=[CALL_ID]))
    [parent, reply] = feed.wait_for_posts(channel, 2)
    assert "Maria Gonzalez" in blocks_text(parent)
    assert SUCCESS in blocks_text(parent)
    ts = feed.parent_ts(parent)
    assert reply["thread_ts"] == ts
    assert QUEUED not in blocks_text(reply)
    assert not [p for p in feed.posts(channel) if "Devon" in message_text(p)]

    # Other statuses of a followed lead stay filtered; its calls now reach the thread.
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 110, calls=[CALL_ID, "c2"]), queued=0)
    ended = call_ended(CALL_ID, MARIA_PHONE, summary=SUMMARY, recording=RECORDING, collected=[])
    feed.webhook(path, ended)
    feed.wait_for_updates(channel, 1)
    posts = feed.posts(channel)
    assert len(posts) == 3
    assert posts[2]["thread_ts"] == ts
    assert SUMMARY in blocks_text(posts[2])
    assert NOT_SUCCESSFUL not in message_text(posts[2])
    assert NOT_SUCCESSFUL not in blocks_text(feed.updates(channel)[0])


# Slack failing


@pytest.mark.parametrize(
    ("status", "times"),
    [pytest.param(429, 1, id="rate-limited"), pytest.param(500, 2, id="server-error")],
)
def test_a_passing_slack_failure_is_retried_and_delivered_once(
    own_feed: Feed, status: int, times: int
) -> None:
    feed = own_feed
    channel = feed.channel()
    _, path = feed.subscribe(channel)
    feed.slack.fail_next(
        "chat.postMessage", status=status, headers={"Retry-After": "1"}, times=times
    )

    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 20))
    [parent, reply] = feed.wait_for_posts(channel, 2)
    attempts = feed.slack.records("chat.postMessage")
    assert [r.status for r in attempts[:times]] == [status] * times
    assert "Maria Gonzalez" in blocks_text(parent)
    assert reply["thread_ts"] == feed.parent_ts(parent)

    feed.barrier(path, channel)
    marias = [p for p in feed.posts(channel) if "Maria" in message_text(p)]
    assert marias == [parent]
    assert len(feed.replies(channel, feed.parent_ts(parent))) == 1
    assert len(feed.slack.calls("chat.postMessage", ok_only=True)) == 4


def test_a_channel_slack_refuses_for_good_is_stopped_and_shown(own_feed: Feed) -> None:
    feed = own_feed
    channel = feed.channel()
    _, path = feed.subscribe(channel)
    feed.slack.fail_next("chat.postMessage", status=200, error="channel_not_found", times=5)

    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 20))
    feed.slack.wait_for_calls("chat.postMessage", 1, timeout=DELIVERY_TIMEOUT)
    listed = feed.wait_for(
        "the stopped delivery in /lead subscriptions",
        lambda: text if "Delivery stopped" in (text := feed.subscriptions(channel)) else None,
    )
    assert "I can't find the channel any more" in listed
    assert "/lead subscribe" in listed
    assert "(Slack: `channel_not_found`)" in listed
    assert "Slack said" not in listed

    # Later webhooks queue nothing for the stopped channel, and nothing is posted there.
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 100, calls=[CALL_ID]), queued=0)
    assert feed.posts(channel) == []
    assert len(feed.slack.calls("chat.postMessage")) == 1

    # Subscribing again (as the list says) clears the problem and the feed resumes.
    feed.slack.reset()
    reply = feed.command(f"subscribe {P}", channel)
    assert "Subscription updated" in blocks_text(reply)
    assert "Delivery stopped" not in feed.subscriptions(channel)
    feed.webhook(path, lead_event(MARIA_ID, MARIA_PHONE, 110, calls=[CALL_ID, "c2"]))
    [parent, _] = feed.wait_for_posts(channel, 2)
    assert NOT_SUCCESSFUL in blocks_text(parent)
