"""Burst: 10,000 webhooks for 2,000 leads into 5 channels, delivered at Slack's real pace.

A fresh app (SQLite, the default file database; delivery pacing at its default, one post per
channel per second) has CHANNELS channels subscribed with signed `/lead subscribe` commands,
each to a campaign of its own, and the Slack stand-in answers as Slack's chat.postMessage limit
does: a second post or edit in a channel within SLACK_WINDOW gets 429 with Retry-After. The load
generator (its own process, CONCURRENCY connections) sends WEBHOOKS distinct Lead Webhooks:
every lead's first status, then every lead's second, and so on (`bench/webhook_plan.py`, one
block of all the leads), LEADS_PER_CHANNEL leads per campaign, PER_LEAD statuses each.

The benchmark then waits, bounded, until no delivery is pending or claimed, and checks what
reached "Slack" against what was sent: every webhook stored and every delivery done; for each
lead one parent message, in its campaign's channel; each status announced in the thread once,
in the order sent; and the statuses the lead showed over time (parent, replies, edits, in the
order Slack took them) never going backwards. The drain time is set against the floor Slack's
pace implies: the busiest channel's Slack calls, one a second.

SQLite only: at Slack's pace the drain alone is about 15 minutes (two calls at least per
lead, 800 a channel) on either backend, and the pace, not the database, sets it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.common import Outcome, bench_environment, log, log_problems, median, percentile
from bench.feed import Feed, sqlite_url, subscribe_channels, wait_drained
from bench.loadgen import LoadConfig, LoadResult, launch
from bench.webhook_plan import STATUSES, WebhookPlan
from tests.harness.feed import (
    LEAD_IN_FOOTER,
    PARENT_EVENT,
    REPLY_EVENT,
    ChannelFeed,
    delivery_states,
    read_feed,
    reply_statuses,
    status_text,
)
from tests.harness.slack_requests import blocks_text
from tests.standins import SlackStandIn
from tests.standins.slack import Recorded

CHANNELS = 5
LEADS_PER_CHANNEL = 400
LEADS = CHANNELS * LEADS_PER_CHANNEL
PER_LEAD = 5
WEBHOOKS = LEADS * PER_LEAD
# One block of every lead: a lead's webhooks are LEADS requests apart, so each is answered
# long before its lead's next one is sent, and the order sent is each lead's order.
BLOCK = LEADS
CONCURRENCY = 16
LEAD_BASE = 6 << 24  # leads of their own (see bench/webhook_plan.py)
SEND_TIME_LIMIT = 120.0  # seconds to send the burst; 10,000 at 200/s take 50
SLACK_WINDOW = 1.0  # seconds: Slack's pace, about one post or edit per channel per second
CALLS_PER_LEAD = 2  # the fewest Slack calls a lead's thread takes: its parent and one reply
LEAST_FLOOR = LEADS_PER_CHANNEL * CALLS_PER_LEAD * SLACK_WINDOW
MAX_FLOOR_FACTOR = 1.5
# Longer than MAX_FLOOR_FACTOR × LEAST_FLOOR (1,200 s), so a run that meets the goal is never
# cut short; a run that needs longer has missed it anyway.
DRAIN_TIMEOUT = 1500.0
PROGRESS_SECONDS = 60.0  # how often the wait says how many deliveries are still open
# Other jobs that post into the same channels, off: the sweep would ask the NLPearl stand-in
# for the sample campaign's leads and post them too, and an alert check could post a notice,
# either adding posts the burst did not send to a channel's pace.
QUIET_JOBS = {"SWEEP_MINUTES": "0", "ALERT_CHECK_MINUTES": "1440"}
FEED_METHODS = ("chat.postMessage", "chat.update")
EXAMPLES = 5  # problems shown per kind
STATUS_SEPARATOR = "  ·  "  # between the lead's name and its status in a parent's headline
CALL_NAMES = {"parent": "parent posts", "reply": "replies", "edit": "parent edits"}


@dataclass(frozen=True)
class Expected:
    """What was sent for one lead: its channel and its statuses in the order sent."""

    channel: str
    statuses: list[str]


@dataclass(frozen=True)
class Shown:
    """A status one successful Slack call showed for a lead, and when Slack took it."""

    at: float
    kind: str  # "parent", "reply" or "edit"
    status: str


@dataclass
class Checks:
    """What reached Slack, against what was sent: each kind of problem with its lead IDs."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    announced: int = 0  # status changes announced in threads
    replies: int = 0
    parents: int = 0
    strays: int = 0

    def add(self, kind: str, detail: str) -> None:
        self.problems.setdefault(kind, []).append(detail)


@dataclass
class Pace:
    """The feed's Slack calls per channel, and which calls Slack refused with 429, when."""

    calls: Counter[str] = field(default_factory=Counter)  # successful posts and edits
    limited: Counter[str] = field(default_factory=Counter)  # 429 answers
    refused: Counter[str] = field(default_factory=Counter)  # 429s by call: parent, reply, edit
    gaps: list[float] = field(default_factory=list)  # 429 to the channel's last success, s
    late: int = 0  # 429s in the second half of the drain


@dataclass(frozen=True)
class Burst:
    """Everything the run measured."""

    load: LoadResult
    drained: float  # seconds from the first webhook until nothing was pending or claimed
    left_open: int
    stored: int
    stored_out_of_order: list[str]  # lead keys whose webhooks were stored out of sent order
    states: dict[str, int]
    channels: list[str]
    pace: Pace
    checks: Checks
    problems: dict[str, int]


def _expected(plan: WebhookPlan, feed: Feed) -> dict[str, Expected]:
    """Each lead's channel and statuses, from the very bodies the load generator sends."""
    expected: dict[str, Expected] = {}
    for number in range(WEBHOOKS):
        path, body = plan.event(number)
        event = json.loads(body)
        channel = feed.channels[feed.paths.index(path)]
        lead = expected.setdefault(event["id"], Expected(channel, []))
        lead.statuses.append(status_text(int(event["status"])))
    return expected


def _send(url: str, plan: WebhookPlan, pid: int) -> LoadResult:
    """The whole burst from the load generator, no warm-up: every webhook is measured."""
    config = LoadConfig(
        url=url,
        text="",
        response_url="",
        requests=WEBHOOKS,
        warmup=0,
        concurrency=CONCURRENCY,
        time_limit=SEND_TIME_LIMIT,
        server_pid=pid,
        kind="webhook",
        plan=plan,
    )
    return launch(config, timeout=SEND_TIME_LIMIT + 60)


def _drain(database: str) -> tuple[float, int]:
    """`wait_drained` in steps, saying how many deliveries are open after each; bounded."""
    waited, remaining = 0.0, 0
    while waited < DRAIN_TIMEOUT:
        step, remaining = wait_drained(database, min(PROGRESS_SECONDS, DRAIN_TIMEOUT - waited))
        waited += step
        if not remaining:
            break
        log(f"burst: {remaining:,} deliveries still open {waited:.0f} s after the last webhook")
    return waited, remaining


def _query(database: str, query: str) -> list[tuple[Any, ...]]:
    """Rows from the app's SQLite database, read-only."""
    path = database.split(":///", 1)[1]
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        return list(conn.execute(query))


def _stored_out_of_order(database: str) -> list[str]:
    """Lead keys whose webhooks were stored in another order than their statuses were sent."""
    sent = list(STATUSES[:PER_LEAD])  # every lead goes through the plan's statuses in order
    stored: dict[str, list[int]] = {}
    for key, status in _query(database, "SELECT lead_key, lead_status FROM events ORDER BY id"):
        stored.setdefault(str(key), []).append(int(status))
    return [key for key, statuses in stored.items() if statuses != sent]


# What Slack showed


def _headline_status(body: dict[str, Any]) -> str:
    """The status a parent message shows after its lead's name (`*Ana #3*  ·  🆕 New`)."""
    blocks = body.get("blocks") or [{}]
    text = str((blocks[0].get("text") or {}).get("text", ""))
    return text.split("\n", 1)[0].rsplit(STATUS_SEPARATOR, 1)[-1]


def _is_parent(body: dict[str, Any]) -> bool:
    return (body.get("metadata") or {}).get("event_type") == PARENT_EVENT


def _shown_by(record: Recorded, lead_of: dict[tuple[str, str], str]) -> tuple[str, Shown] | None:
    """The lead a successful post or edit was about and the status it showed (None: no lead's)."""
    body, channel = record.body, str(record.body.get("channel"))
    if record.method_or_path == "chat.update":
        lead = lead_of.get((channel, str(body.get("ts"))))
        return (lead, Shown(record.at, "edit", _headline_status(body))) if lead else None
    if "thread_ts" in body:
        lead = lead_of.get((channel, str(body["thread_ts"])))
        statuses = reply_statuses(body)
        return (lead, Shown(record.at, "reply", statuses[-1])) if lead and statuses else None
    found = LEAD_IN_FOOTER.search(blocks_text(body))
    if not (found and _is_parent(body) and record.reply):
        return None
    # Noted for the replies and edits that name this parent by its ts.
    lead_of[channel, str(record.reply.get("ts"))] = found.group(1)
    return found.group(1), Shown(record.at, "parent", _headline_status(body))


def _timelines(records: list[Recorded]) -> tuple[dict[str, list[Shown]], int]:
    """Per lead, what successful Slack calls showed, in Slack's order; and calls about no lead."""
    lead_of: dict[tuple[str, str], str] = {}
    shown: dict[str, list[Shown]] = {}
    unknown = 0
    for record in sorted(records, key=lambda r: r.at):
        found = _shown_by(record, lead_of)
        if found is None:
            unknown += 1
        else:
            shown.setdefault(found[0], []).append(found[1])
    return shown, unknown


def _check_order(lead: str, expected: Expected, shown: list[Shown], checks: Checks) -> None:
    """The lead's shown statuses never go back to one sent earlier than one shown before."""
    rank = {status: index for index, status in enumerate(expected.statuses)}
    highest = -1
    for entry in shown:
        place = rank.get(entry.status)
        if place is None:
            checks.add("showed a status never sent", f"{lead}: {entry.kind} showed {entry.status}")
            return
        if place < highest:
            sequence = " → ".join(f"{e.kind} {e.status}" for e in shown)
            checks.add("went backwards", f"{lead}: {sequence}")
            return
        highest = max(highest, place)


def _check_lead(
    lead: str, expected: Expected, feeds: dict[str, ChannelFeed], checks: Checks
) -> None:
    """One parent in the right channel, showing the last status; each status announced once."""
    feed = feeds[expected.channel]
    parents = feed.parents.get(lead, [])
    if len(parents) != 1:
        checks.add("parent messages not exactly one", f"{lead}: {len(parents)} parents")
    elsewhere = [c for c, other in feeds.items() if c != expected.channel and lead in other.parents]
    if elsewhere:
        checks.add("posted to another channel", f"{lead}: in {', '.join(elsewhere)}")
    last = expected.statuses[-1]
    if parents and (shows := _headline_status(parents[-1])) != last:
        checks.add("parent not up to date", f"{lead}: shows {shows}, last sent {last}")
    announced = feed.statuses(lead)
    if announced != expected.statuses:
        checks.add(
            "thread not the statuses sent, once each, in order",
            f"{lead}: announced {announced}, sent {expected.statuses}",
        )


def _check(slack: SlackStandIn, expected: dict[str, Expected], channels: list[str]) -> Checks:
    """Everything that reached Slack, against what was sent."""
    checks = Checks()
    feeds = {channel: read_feed(slack, channel) for channel in channels}
    records = [r for method in FEED_METHODS for r in slack.records(method) if r.ok]
    timelines, unknown = _timelines([r for r in records if r.body.get("channel") in feeds])
    for lead, sent in expected.items():
        _check_lead(lead, sent, feeds, checks)
        _check_order(lead, sent, timelines.get(lead, []), checks)
    for feed in feeds.values():
        checks.announced += feed.delivered()
        checks.replies += feed.reply_count()
        checks.parents += sum(len(parents) for parents in feed.parents.values())
        checks.strays += len(feed.strays)
        for event_type in (PARENT_EVENT, REPLY_EVENT):
            for marker, count in feed.markers(event_type).items():
                if count > 1:
                    checks.add("messages sharing a marker", f"{count} {event_type} {marker}")
    if checks.strays or unknown:
        checks.add(
            "messages outside any lead's thread",
            f"{checks.strays} kept, {unknown} calls with no lead",
        )
    return checks


def _call_kind(record: Recorded) -> str:
    if record.method_or_path == "chat.update":
        return "edit"
    return "reply" if "thread_ts" in record.body else "parent"


def _pace(slack: SlackStandIn, channels: list[str], start: float, end: float) -> Pace:
    """Every feed call in the order Slack took it: successes, and each 429's circumstances."""
    pace = Pace()
    last_success: dict[str, float] = {}
    records = [r for method in FEED_METHODS for r in slack.records(method)]
    for record in sorted(records, key=lambda r: r.at):
        channel = str(record.body.get("channel"))
        if channel not in channels:
            continue
        if record.ok:
            pace.calls[channel] += 1
            last_success[channel] = record.at
        elif record.status == 429:
            pace.limited[channel] += 1
            pace.refused[_call_kind(record)] += 1
            pace.late += record.at >= (start + end) / 2
            if channel in last_success:
                pace.gaps.append(record.at - last_success[channel])
    return pace


# The run


def run() -> Outcome:
    """Subscribe, send the burst, wait for the outbox to empty, check what Slack shows."""
    began = time.perf_counter()
    with bench_environment() as env:
        app = env.start_app(dict(QUIET_JOBS))
        database = sqlite_url(env)
        feed = subscribe_channels(env, app, CHANNELS, "burst")
        env.slack.rate_limit_per_channel(SLACK_WINDOW)
        plan = WebhookPlan(
            feed.paths, feed.campaigns, per_lead=PER_LEAD, block=BLOCK, lead_base=LEAD_BASE
        )
        expected = _expected(plan, feed)
        load = _send(app.url + feed.paths[0], plan, app.process.pid)
        first_webhook = time.monotonic() - load.elapsed
        log(f"burst: {load.sent_total:,} webhooks sent at {load.sent_total / load.elapsed:.0f}/s")
        _, left_open = _drain(database)
        drained = time.monotonic() - first_webhook
        log(f"burst: outbox {'empty' if not left_open else 'still open'} after {drained:.0f} s")
        pace = _pace(env.slack, feed.channels, first_webhook, first_webhook + drained)
        burst = Burst(
            load=load,
            drained=drained,
            left_open=left_open,
            stored=int(_query(database, "SELECT count(*) FROM events")[0][0]),
            stored_out_of_order=_stored_out_of_order(database),
            states=delivery_states(database),
            channels=feed.channels,
            pace=pace,
            checks=_check(env.slack, expected, feed.channels),
            problems=log_problems(app),
        )
    return _judge(burst, time.perf_counter() - began)


# Judging


def _floor(burst: Burst) -> tuple[float, str]:
    """The least time Slack's pace allows for the calls made: the busiest channel's, 1/s."""
    calls = burst.pace.calls
    busiest = max(burst.channels, key=lambda channel: calls[channel])
    return calls[busiest] * SLACK_WINDOW, busiest


def _ingest_figure(load: LoadResult) -> str:
    ms = [latency * 1000 for latency in load.latencies] or [float("nan")]
    ok = load.statuses.get("200", 0)
    errors = ", ".join(f"{n:,} × {s}" for s, n in load.statuses.items() if s != "200") or "none"
    return (
        f"{ok / load.elapsed:.0f}/s ({ok:,} in {load.elapsed:.1f} s), p50 / p99 / max "
        f"{median(ms):.1f} / {percentile(ms, 0.99):.1f} / {max(ms):.0f} ms, errors {errors}"
    )


def _refusals(pace: Pace) -> str:
    """Which calls Slack refused, how soon after the channel's last success, and when."""
    total = sum(pace.refused.values())
    if not total:
        return "none"
    kinds = ", ".join(f"{n:,} {CALL_NAMES[kind]}" for kind, n in pace.refused.most_common())
    gaps = (
        f"; {median(pace.gaps):.2f} s median ({min(pace.gaps):.2f}–{max(pace.gaps):.2f} s)"
        if pace.gaps
        else ""
    )
    halves = f"; {total - pace.late:,} in the drain's first half, {pace.late:,} in its second"
    return kinds + gaps + halves


def _figures(burst: Burst, floor: float, busiest: str) -> list[tuple[str, str]]:
    checks = burst.checks
    factor = burst.drained / floor if floor else float("inf")
    return [
        ("Ingest of the burst (concurrency 16)", _ingest_figure(burst.load)),
        ("Webhooks stored (rows in events)", f"{burst.stored:,} of {WEBHOOKS:,}"),
        (
            "Drain: first webhook until no delivery pending or claimed",
            f"{burst.drained:.0f} s = {factor:.2f}× the floor"
            + (f"; {burst.left_open:,} deliveries still open" if burst.left_open else ""),
        ),
        (
            "Floor at Slack's pace: the busiest channel's calls, one a second",
            f"{floor:.0f} s ({burst.pace.calls[busiest]:,} calls in {busiest}); "
            f"{LEAST_FLOOR:.0f} s if every lead took only its parent and one reply",
        ),
        (
            "Slack calls per channel: posts and edits made; 429 answers",
            f"{', '.join(f'{burst.pace.calls[c]:,}' for c in burst.channels)}; "
            f"{', '.join(f'{burst.pace.limited[c]:,}' for c in burst.channels)}",
        ),
        ("429 answers: the call refused; since the channel's last success", _refusals(burst.pace)),
        (
            "Deliveries by state",
            ", ".join(f"{n:,} {state}" for state, n in sorted(burst.states.items())),
        ),
        (
            "Parent messages; thread replies",
            f"{checks.parents:,} for {LEADS:,} leads; {checks.replies:,} "
            f"({checks.replies / LEADS:.2f} per lead)",
        ),
        ("Status changes announced in threads", f"{checks.announced:,} of {WEBHOOKS:,}"),
        (
            "Leads whose webhooks were stored out of the order sent",
            f"{len(burst.stored_out_of_order):,}",
        ),
        (
            "Problems found in what Slack shows",
            "; ".join(f"{len(found):,} {kind}" for kind, found in checks.problems.items())
            or "none: one parent per lead, each status once, in order, never backwards",
        ),
        ("App log", ", ".join(f"{n:,} {kind}" for kind, n in burst.problems.items()) or "clean"),
    ]


def _notes(burst: Burst) -> list[str]:
    """Examples of each problem, with lead IDs."""
    notes = [
        f"{kind}: {'; '.join(found[:EXAMPLES])}" + (" …" if len(found) > EXAMPLES else "")
        for kind, found in burst.checks.problems.items()
    ]
    if burst.stored_out_of_order:
        notes.append(
            f"Stored out of the order sent (lead keys): {', '.join(burst.stored_out_of_order[:5])}"
        )
    if burst.load.timed_out:
        notes.append(f"Sending stopped at the {SEND_TIME_LIMIT:.0f} s limit.")
    floor, busiest = _floor(burst)
    if sum(burst.pace.limited.values()):
        notes.append(
            f"A 429 answers a call made within {SLACK_WINDOW:.0f} s of the channel's last "
            f"successful one; the batch then waits for Retry-After and is tried again, a second "
            f"or more the channel does not post. {busiest} made {floor / burst.drained:.2f} "
            f"calls a second over the drain, against the 1 a second Slack allows."
        )
    return notes


def _judge(burst: Burst, seconds: float) -> Outcome:
    floor, busiest = _floor(burst)
    passed = (
        burst.stored == WEBHOOKS
        and burst.load.statuses.get("200", 0) == WEBHOOKS
        and not burst.left_open
        and burst.states == {"done": WEBHOOKS}
        and not burst.checks.problems
        and not burst.stored_out_of_order
        and burst.drained <= MAX_FLOOR_FACTOR * floor
    )
    return Outcome(
        title="Burst at Slack's pace",
        measures=(
            f"A burst of {WEBHOOKS:,} webhooks for {LEADS:,} leads into {CHANNELS} channels: how "
            f"fast it is taken in, how long until it is all in Slack at Slack's real pace, and "
            f"whether every post is made once and in order."
        ),
        method=_METHOD,
        goal=(
            f"Every webhook stored and delivered exactly once, in per-lead order, and the outbox "
            f"empty within {MAX_FLOOR_FACTOR}× the floor Slack's pace sets for the calls made."
        ),
        passed=passed,
        figures=_figures(burst, floor, busiest),
        notes=_notes(burst),
        seconds=seconds,
    )


_METHOD = (
    f"The real app via `start_server` (SQLite, the default file database; delivery pacing at "
    f"its default; the sweep and the alert check, which could post into the same channels, "
    f"off), {CHANNELS} channels subscribed with signed `/lead subscribe` commands, each to a "
    f"campaign of its own. The Slack stand-in answers 429 with Retry-After to a second "
    f"`chat.postMessage` or `chat.update` in a channel within {SLACK_WINDOW:.0f} s, like "
    f"Slack's limit. A load generator in its own process sends {WEBHOOKS:,} distinct V2 Lead "
    f"Webhooks at concurrency {CONCURRENCY}: {LEADS:,} leads, {LEADS_PER_CHANNEL} per "
    f"campaign, each through {PER_LEAD} statuses, every lead's first status, then every lead's "
    f"second, and so on, so a lead's webhooks are {LEADS:,} requests apart. The drain is "
    f"timed from the first webhook until the database (read-only) shows no delivery pending "
    f"or claimed (at most {DRAIN_TIMEOUT:.0f} s after the last webhook). Then the events and "
    f"deliveries tables are counted, and what the stand-in kept and recorded is read back: "
    f"each lead's parent (its metadata and the lead ID in its footer), the status lines of "
    f"the replies in its thread, and the status each successful post or edit showed, in the "
    f"order the stand-in took them. The floor is the busiest channel's successful calls at one "
    f"a second. PostgreSQL is not run: the pace, not the database, sets the drain, which "
    f"takes about {LEAST_FLOOR / 60:.0f} minutes on either."
)
