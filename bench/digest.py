"""Digest building: a daily digest for a campaign with 100,000 stored webhooks, in process.

The digest reads NLPearl (campaign, the day's and the fortnight's analytics, the leads needing
attention) from the stand-in, counts what the feed itself received that day in the database,
draws the chart and uploads it to the Slack stand-in. The baseline, in the same run and the
same process, is the same digest for a campaign with no stored webhooks: the difference is
what 100,000 events cost. Builds alternate between the two, on a migrated SQLite database.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import Outcome, median
from bot.nlpearl.client import NLPearlClient
from bot.storage.digests import set_digest
from bot.storage.engine import create_engine
from bot.storage.migrate import upgrade_to_latest
from bot.storage.notices import Notice
from bot.storage.rows import Workspace
from bot.storage.subscriptions import subscribe
from bot.storage.tables import events
from bot.storage.watch import feed_endpoint
from bot.usecases.digests import DigestBuilder
from tests.harness.tenancy import always
from tests.standins import NLPearlStandIn, SlackStandIn

EVENTS = 100_000
BUILDS = 5
MAX_SECONDS = 2.0
# The app's memory target is 150 MB of RSS in all; one digest may take a third of it at most.
MAX_PEAK_MB = 50.0
WORKSPACE = Workspace("T0BENCH")
BUSY, QUIET = "b3c4000000000000000000b1", "b3c4000000000000000000b2"
DUE = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
DAY_START = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
INSERT_CHUNK = 5_000


def _analytics() -> dict[str, object]:
    days = [(DAY_START - timedelta(days=n)).strftime("%Y-%m-%dT00:00:00Z") for n in range(14)]
    return {
        "callsStatusOverview": {"totalCalls": 40_000, "successful": 4_000, "voiceMailLeft": 9_000},
        "callsStatusTimeLine": [
            {"date": d, "totalCalls": 38_000, "voiceMailLeft": 8_000} for d in days
        ],
        "callsPickupRateTimeLine": [{"date": d, "pickupRatePercentage": 61} for d in days],
        "callsSuccessRateTimeLine": [{"date": d, "successRatePercentage": 11} for d in days],
        "callEventsCounts": {"calendarBookedCount": 310, "callTransferredCount": 120},
    }


def _event_rows(endpoint_id: int, count: int) -> list[dict[str, object]]:
    """A day of webhooks: lead status changes and calls starting and ending, spread over 24 h."""
    statuses = itertools.cycle((10, 40, 70, 100, 110, 130, 150, 500))
    rows = []
    for n in range(count):
        at = DAY_START + timedelta(seconds=n * 86_400 / count)
        lead = f"+1415{n % 30_000:07d}"
        if n % 5 < 3:
            status = next(statuses)
            kind, key, payload = "lead", f"lead:{n}:{status}:{n}", {"id": f"l{n}", "status": status}
        else:
            status = None
            phase = "end" if n % 5 == 4 else "start"
            kind, key, payload = "call", f"call:{n}:{phase}", {"id": f"c{n}", "to": lead}
        rows.append(
            {
                "endpoint_id": endpoint_id,
                "kind": kind,
                "dedupe_key": key,
                "lead_key": lead,
                "payload": payload,
                "received_at": at,
                "lead_status": status,
            }
        )
    return rows


async def _campaign(engine: AsyncEngine, campaign: str, stored: int) -> Notice:
    """A subscribed campaign with `stored` webhooks on the day, and its digest's notice."""
    await subscribe(
        engine,
        WORKSPACE,
        channel_id=f"C{campaign[-2:]}",
        campaign_id=campaign,
        statuses=None,
        user_id="U0BENCH",
        now=DAY_START - timedelta(days=30),
    )
    endpoint = await feed_endpoint(engine, WORKSPACE, campaign)
    assert endpoint is not None
    rows = _event_rows(endpoint, stored)
    for start in range(0, len(rows), INSERT_CHUNK):
        async with engine.begin() as conn:
            await conn.execute(events.insert(), rows[start : start + INSERT_CHUNK])
    digest, _ = await set_digest(
        engine,
        WORKSPACE,
        channel_id=f"C{campaign[-2:]}",
        campaign_id=campaign,
        at_time="09:00",
        time_zone="UTC",
        user_id="U0BENCH",
        next_due_at=DUE + timedelta(days=1),
        now=DAY_START,
    )
    return Notice(
        id=digest.id,
        workspace=WORKSPACE,
        channel_id=digest.channel_id,
        campaign_id=campaign,
        kind="digest",
        key=f"digest:{digest.id}:2026-12-03",
        digest_id=digest.id,
        due_at=DUE,
        body=None,
        file_id=None,
        marker="bench",
        attempts=1,
        posting=False,
        created_at=DUE,
    )


async def _no_keeping(file_id: str) -> None:
    return None


async def _measure(
    database_url: str, nlpearl: NLPearlStandIn, slack: SlackStandIn
) -> dict[str, list[float]]:
    engine = create_engine(database_url)
    try:
        busy = await _campaign(engine, BUSY, EVENTS)
        quiet = await _campaign(engine, QUIET, 0)
        async with httpx.AsyncClient() as http:
            client = NLPearlClient(
                http, api_key=nlpearl.api_key, base_url=nlpearl.url, version="v2"
            )
            web = AsyncWebClient(token=slack.valid_token, base_url=slack.api_url)
            builder = DigestBuilder(engine, always(client), always(web), lambda: DUE)
            figures: dict[str, list[float]] = {"busy": [], "quiet": [], "peak_mb": []}
            await builder.build(busy, _no_keeping)  # warm-up: imports, connections, fonts
            for _ in range(BUILDS):
                tracemalloc.start()
                started = time.perf_counter()
                message = await builder.build(busy, _no_keeping)
                figures["busy"].append(time.perf_counter() - started)
                figures["peak_mb"].append(tracemalloc.get_traced_memory()[1] / 1e6)
                tracemalloc.stop()
                assert message is not None
                assert message["blocks"]
                started = time.perf_counter()
                await builder.build(quiet, _no_keeping)
                figures["quiet"].append(time.perf_counter() - started)
        return figures
    finally:
        await engine.dispose()


def run() -> Outcome:
    """Build the busy and the quiet digest BUILDS times each, alternating."""
    began = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as workdir,
        NLPearlStandIn() as nlpearl,
        SlackStandIn() as slack,
    ):
        for campaign in (BUSY, QUIET):
            nlpearl.add_pearl({"id": campaign, "name": "Bench", "type": 2, "status": 1})
            nlpearl.set_analytics(campaign, _analytics())
        database_url = f"sqlite+aiosqlite:///{Path(workdir) / 'digest.db'}"
        upgrade_to_latest(database_url)
        figures = asyncio.run(_measure(database_url, nlpearl, slack))
    busy, quiet = median(figures["busy"]), median(figures["quiet"])
    peak = max(figures["peak_mb"])
    passed = busy < MAX_SECONDS and peak < MAX_PEAK_MB
    return Outcome(
        title="Digest building",
        measures="How long a daily digest takes to build for a campaign with 100,000 webhooks.",
        method=(
            f"In process, SQLite: {EVENTS:,} webhooks stored for one campaign's day, none for "
            "another (the baseline); each digest reads NLPearl's stand-in, counts the feed's "
            f"events in the database, draws and uploads its chart; {BUILDS} builds of each, "
            "alternating, after one warm-up. Peak memory is Python's own (tracemalloc) per build."
        ),
        goal=f"built in under {MAX_SECONDS:.0f} s, peak memory under {MAX_PEAK_MB:.0f} MB",
        passed=passed,
        figures=[
            (
                "Busy digest (100,000 events), median / max",
                f"{busy * 1000:.0f} / {max(figures['busy']) * 1000:.0f} ms",
            ),
            ("Baseline digest (no events), median", f"{quiet * 1000:.0f} ms"),
            ("Busy / baseline", f"{busy / quiet:.2f}×"),
            ("Peak Python memory per busy build", f"{peak:.1f} MB"),
        ],
        seconds=time.perf_counter() - began,
    )
