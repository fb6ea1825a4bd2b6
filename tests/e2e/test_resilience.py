"""The channel feed survives crashes, scale-out and bursts: nothing lost, nothing doubled.

Each test runs real server (and worker) processes against the Slack stand-in, which keeps
every message it was sent and answers `conversations.history`/`.replies` from them, so a
restarted app can find posts an earlier process made but never heard back about.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness.feed import (
    Event,
    add_campaign,
    bot_environment,
    campaign_id,
    claims_by_worker,
    close_replies,
    delivery_states,
    feed_problems,
    kill_hard,
    log_records,
    make_leads,
    make_plan,
    open_deliveries,
    run_migrate,
    send_concurrently,
    send_in_order,
    start_worker,
    status_text,
    subscribe,
    tracebacks,
    wait_until_settled,
)
from tests.harness.processes import ServerFactory
from tests.standins import NLPearlStandIn, SlackStandIn
from tests.standins.slack import Recorded

BOT_AUTH = {"Authorization": "Bearer xoxb-test-token"}
# Every Slack answer takes this long, after the call took effect: a process killed while
# waiting has posted a message it never learns the ts of.
SLACK_LATENCY = 0.1
# Claims of a killed process expire quickly; a batch every 0.5 s per channel, not every 2 s.
CRASH_ENV = {"DELIVERY_LEASE_SECONDS": "3", "SLACK_POST_INTERVAL_SECONDS": "0.25"}


def sqlite_url(workdir: Path) -> str:
    """The database `start_server` gives a server in `workdir`."""
    return f"sqlite+aiosqlite:///{workdir / 'e2e.db'}"


def test_standin_keeps_posts_and_answers_history_and_replies(slack: SlackStandIn) -> None:
    """History lists top-level messages newest first, with metadata only when asked for."""

    def call(method: str, **body: object) -> Any:
        return httpx.post(slack.api_url + method, json=body, headers=BOT_AUTH).json()

    marker = {"event_type": "lead_bot_parent", "event_payload": {"marker": "m1"}}
    parent = call("chat.postMessage", channel="C1", text="parent", metadata=marker)
    reply = call("chat.postMessage", channel="C1", text="reply", thread_ts=parent["ts"])
    call("chat.postMessage", channel="C1", text="second")
    call("chat.postMessage", channel="C2", text="elsewhere")
    call("chat.update", channel="C1", ts=parent["ts"], text="edited")
    slack.fail_next("chat.postMessage", status=500)
    call("chat.postMessage", channel="C1", text="never posted")

    history = call("conversations.history", channel="C1", include_all_metadata=True)
    bare = call("conversations.history", channel="C1")
    page = call("conversations.history", channel="C1", limit=1)
    thread = call("conversations.replies", channel="C1", ts=reply["ts"])
    missing = call("conversations.replies", channel="C1", ts="1.000000")

    assert [m["text"] for m in history["messages"]] == ["second", "edited"]
    assert history["messages"][1]["metadata"] == marker
    assert history["messages"][1]["reply_count"] == 1
    assert all("metadata" not in m for m in bare["messages"])
    assert page["has_more"] is True
    assert page["response_metadata"]["next_cursor"]
    assert [m["text"] for m in thread["messages"]] == ["edited", "reply"]
    assert missing == {"ok": False, "error": "thread_not_found"}
    assert [m["text"] for m in slack.messages("C1")] == ["edited", "reply", "second"]


def _is_parent_post(record: Recorded) -> bool:
    return record.method_or_path == "chat.postMessage" and "thread_ts" not in record.body


def _is_reply_post(record: Recorded) -> bool:
    return record.method_or_path == "chat.postMessage" and "thread_ts" in record.body


def _is_parent_update(record: Recorded) -> bool:
    return record.method_or_path == "chat.update"


@pytest.mark.parametrize(
    "kill_after",
    [_is_parent_post, _is_reply_post, _is_parent_update],
    ids=["parent-posted-unanswered", "reply-posted-unanswered", "parent-updated-unanswered"],
)
def test_a_server_killed_mid_delivery_loses_and_repeats_nothing(
    server_factory: ServerFactory,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    tmp_path: Path,
    kill_after: Callable[[Recorded], bool],
) -> None:
    """SIGKILL while Slack has taken a post but not answered; a restart finishes the feed.

    Every status change appears in exactly one reply, each lead has one parent, no marker
    repeats, and each lead's statuses keep the order they were sent in.
    """
    campaign = campaign_id(1)
    add_campaign(nlpearl, campaign)
    slack.set_latency(SLACK_LATENCY)
    first = server_factory(CRASH_ENV)
    url = first.url + subscribe(first, slack, "C0CRASH", campaign)
    plan = make_plan(make_leads(10, [campaign]), 6, random.Random(7))
    send_in_order(plan, lambda _index, _event: url)

    sent_so_far = len(slack.records())
    slack.wait_for_request(kill_after, after=sent_so_far, timeout=60)
    kill_hard(first)
    posts_before = len(slack.messages("C0CRASH"))
    left = open_deliveries(sqlite_url(tmp_path))
    assert left > 0, "the kill should land mid-delivery, but everything was already delivered"

    lookups_before = len(slack.calls("conversations.history")) + len(
        slack.calls("conversations.replies")
    )
    second = server_factory(CRASH_ENV)
    feeds = wait_until_settled(
        slack,
        ["C0CRASH"],
        plan,
        database_url=sqlite_url(tmp_path),
        processes=[second],
        timeout=120,
    )
    feed = feeds["C0CRASH"]
    lookups = (
        len(slack.calls("conversations.history"))
        + len(slack.calls("conversations.replies"))
        - lookups_before
    )
    print(
        f"\n[crash {kill_after.__name__}] killed with {posts_before} messages posted and "
        f"{left} deliveries open; after restart {len(slack.messages('C0CRASH'))} messages, "
        f"{lookups} history/replies lookups"
    )

    assert feed_problems(feed, plan) == []
    assert _parents_show_last_status(feed.parents, plan) == []
    crashes = tracebacks([second])
    assert not crashes, "\n\n".join(crashes)


def _parents_show_last_status(
    parents: dict[str, list[dict[str, object]]], plan: list[Event]
) -> list[str]:
    """Leads whose parent message does not show the status they were last sent."""
    last = {event.lead.id: event.status for event in plan}
    wrong = []
    for lead_id, status in last.items():
        text = str(parents[lead_id][0].get("text", "")) if parents.get(lead_id) else ""
        if not text.endswith(status_text(status)):
            wrong.append(f"lead {lead_id}: parent says {text!r}, last sent {status_text(status)}")
    return wrong


SCALE_POST_INTERVAL = 1.0


def _known_claim_deadlock(record: str) -> bool:
    """BUG (pinned by tests/storage/test_concurrency.py::test_concurrent_claims_do_not_deadlock):
    concurrent claims upsert channel_pacing rows in different orders and PostgreSQL aborts one
    with a deadlock. The round is rolled back and retried, so no event is lost or doubled,
    which is what this test checks; any other traceback still fails it.
    """
    return "DeadlockDetectedError" in record and "in claim_batches" in record


@pytest.mark.postgres
def test_two_servers_and_a_worker_on_postgresql_deliver_each_event_once(
    postgres_url: str,  # first, so the database outlives the servers at teardown
    server_factory: ServerFactory,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    tmp_path: Path,
) -> None:
    """500 events for 50 leads in 10 channels, sent to two servers at once, a worker beside.

    Each channel follows its own campaign, so ten channels deliver in parallel within
    Slack's per-channel pace.
    """
    env = {"DATABASE_URL": postgres_url, "SLACK_POST_INTERVAL_SECONDS": str(SCALE_POST_INTERVAL)}
    run_migrate(bot_environment(env, slack, nlpearl, tmp_path), tmp_path)
    campaigns = [campaign_id(n) for n in range(10)]
    channels = [f"C0SCALE{n:02d}" for n in range(10)]
    for campaign in campaigns:
        add_campaign(nlpearl, campaign)
    slack.set_latency(0.02)
    servers = [server_factory(env), server_factory(env)]
    worker = start_worker(bot_environment(env, slack, nlpearl, tmp_path), tmp_path)
    try:
        paths = {
            campaign: subscribe(servers[0], slack, channel, campaign)
            for campaign, channel in zip(campaigns, channels, strict=True)
        }
        plan = make_plan(make_leads(50, campaigns), 10, random.Random(11))

        def url_of(index: int, event: Event) -> str:
            return servers[index % 2].url + paths[event.lead.campaign]

        sent = send_concurrently(plan, url_of)
        feeds = wait_until_settled(
            slack,
            channels,
            plan,
            database_url=postgres_url,
            processes=[*servers, worker],
            timeout=150,
        )
        settled = time.monotonic()
        claimers = claims_by_worker(postgres_url)
    finally:
        worker.terminate()
    deadlocks = [
        record
        for process in (*servers, worker)
        for record in log_records(process)
        if _known_claim_deadlock(record)
    ]
    print(
        f"\n[scale-out] {len(plan)} events sent in {sent.finished - sent.started:.1f}s, "
        f"all delivered {settled - sent.started:.1f}s after the first; "
        f"{sum(f.reply_count() for f in feeds.values())} replies; "
        f"deliveries claimed per process: {sorted(claimers.values(), reverse=True)}; "
        f"claim rounds lost to a deadlock: {len(deadlocks)}; replies of two threads of one "
        f"channel posted < {SCALE_POST_INTERVAL}s apart: "
        f"{close_replies(slack, SCALE_POST_INTERVAL)}"
    )

    channel_of = dict(zip(campaigns, channels, strict=True))
    for channel, feed in feeds.items():
        events = [e for e in plan if channel_of[e.lead.campaign] == channel]
        assert feed_problems(feed, events) == [], channel
    crashes = tracebacks([*servers, worker], known=_known_claim_deadlock)
    assert not crashes, "\n\n".join(crashes)
    assert worker.process.returncode == 0, worker.output()


# Slack allows about one post per second per channel. Time is scaled down twentyfold: the
# stand-in answers 429 to a second post (or update) in a channel within 0.05 s, and the app
# is told to pace itself to one post per 0.05 s (SLACK_POST_INTERVAL_SECONDS; it claims one
# batch per channel every two intervals). What does not scale is Retry-After: Slack sends
# whole seconds, and the app holds the channel at least 1 s after a 429. The app makes a
# batch's calls (parent, reply, parent update) milliseconds apart, so most batches meet
# one or two 429s, and those holds, not the pacing, set the catch-up time: about 450 s
# measured, against 20 s of pacing. The deadline is generous; what happened is printed.
BURST_RATE_WINDOW = 0.05
BURST_LEADS = 200
BURST_EVENTS_PER_LEAD = 5
BURST_TIMEOUT = 1200.0


@pytest.mark.slow
def test_a_burst_into_one_rate_limited_channel_is_coalesced_not_lost(
    server_factory: ServerFactory,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    tmp_path: Path,
) -> None:
    """1,000 events for 200 leads at once into one channel that answers 429 to fast posts."""
    campaign = campaign_id(2)
    add_campaign(nlpearl, campaign)
    server = server_factory({"SLACK_POST_INTERVAL_SECONDS": str(BURST_RATE_WINDOW)})
    url = server.url + subscribe(server, slack, "C0BURST", campaign)
    slack.rate_limit_per_channel(BURST_RATE_WINDOW)
    plan = make_plan(make_leads(BURST_LEADS, [campaign]), BURST_EVENTS_PER_LEAD, random.Random(23))

    sent = send_concurrently(plan, lambda _index, _event: url)
    feeds = wait_until_settled(
        slack,
        ["C0BURST"],
        plan,
        database_url=sqlite_url(tmp_path),
        processes=[server],
        timeout=BURST_TIMEOUT,
    )
    caught_up = time.monotonic()
    feed = feeds["C0BURST"]
    posts = slack.records("chat.postMessage")
    updates = slack.records("chat.update")
    limited = [r for r in (*posts, *updates) if r.status == 429]
    print(
        f"\n[burst] {len(plan)} events for {BURST_LEADS} leads sent in "
        f"{sent.finished - sent.started:.1f}s; caught up {caught_up - sent.started:.1f}s "
        f"after the first; {sum(r.ok for r in posts)} posts ({feed.reply_count()} replies), "
        f"{sum(r.ok for r in updates)} updates, {len(limited)} answered 429 "
        f"({sum(r.method_or_path == 'chat.update' for r in limited)} of them updates); "
        f"deliveries {delivery_states(sqlite_url(tmp_path))}"
    )

    assert feed_problems(feed, plan) == []
    assert feed.reply_count() <= len(plan) // 2, "a burst should be coalesced into fewer replies"
    crashes = tracebacks([server])
    assert not crashes, "\n\n".join(crashes)
