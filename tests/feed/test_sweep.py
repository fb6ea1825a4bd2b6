"""The sweep in process: the NLPearl stand-in, a migrated SQLite database, the real outbox."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.demo.nlpearl_api import (
    SAMPLE_LEAD_ID,
    SAMPLE_LEAD_MANY_CALLS_ID,
    SAMPLE_LEAD_NO_CALLS_ID,
    SAMPLE_PEARL_ID,
    sample_dataset,
)
from bot.feed.deliver import BatchDelivery, fold
from bot.feed.loop import Deliverer, DeliveryTiming
from bot.feed.receive import receive_webhook
from bot.feed.sweep import DatabaseUnavailable, Sweep, SweepReport, lead_webhook_body
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.models import Lead
from bot.parsing.webhooks import parse_webhook
from bot.records import LeadSnapshot
from bot.storage.engine import create_engine
from bot.storage.faults import unreachable
from bot.storage.rows import Workspace
from bot.storage.subscriptions import subscribe, unsubscribe
from bot.storage.tables import deliveries, events, swept_leads, webhook_endpoints
from tests.clock import FakeClock
from tests.harness.tenancy import always
from tests.migrated import migrated_sqlite
from tests.standins import NLPearlStandIn, SlackStandIn

WORKSPACE = Workspace("T0TEST")
CHANNEL = "C0LEADS"
SECOND_CAMPAIGN = "664e9a77f0e1d2c3b4a5aaaa"
NOW = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)
SUBSCRIBED_AT = NOW - timedelta(days=1)
LATER = NOW + timedelta(minutes=10)
SAMPLE_IDS = {SAMPLE_LEAD_ID, SAMPLE_LEAD_MANY_CALLS_ID, SAMPLE_LEAD_NO_CALLS_ID}
SAMPLE_STATUSES = {SAMPLE_LEAD_ID: 100, SAMPLE_LEAD_MANY_CALLS_ID: 110, SAMPLE_LEAD_NO_CALLS_ID: 1}

Json = dict[str, Any]


@dataclass
class World:
    """A subscribed channel, the NLPearl stand-in holding its campaign, and a way to sweep."""

    engine: AsyncEngine
    nlpearl: NLPearlStandIn
    client: NLPearlClient
    token: str
    leads: dict[str, Json]

    def sweep(self, **options: Any) -> Sweep:
        return Sweep(self.engine, always(self.client), **options)

    async def run(
        self, at: datetime = NOW, progress: dict[str, Any] | None = None, **options: Any
    ) -> tuple[SweepReport, dict[str, Any] | None]:
        return await self.sweep(**options).run_once(now=at, progress=progress)

    def change(self, lead_id: str, campaign: str = SAMPLE_PEARL_ID, **fields: Any) -> Json:
        """Change a lead in NLPearl, as a call or a person would; no webhook is sent."""
        lead = {**self.leads[lead_id], **fields}
        self.leads[lead_id] = lead
        self.nlpearl.add_lead(campaign, lead)
        return lead

    async def webhook(self, lead: Json, at: datetime = NOW) -> str:
        """NLPearl's own Lead webhook for `lead`, as it is now; the status of the answer."""
        receipt = await receive_webhook(self.engine, self.token, json.dumps(lead).encode(), at)
        assert receipt.status_code == 200, receipt
        return str(receipt.body["status"])

    async def outbox(self) -> list[Any]:
        """Each queued delivery with its event's payload, oldest first."""
        query = (
            select(deliveries, events.c.payload, events.c.dedupe_key)
            .join(events, events.c.id == deliveries.c.event_id)
            .order_by(deliveries.c.id)
        )
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def swept(self) -> dict[str, int | None]:
        async with self.engine.connect() as conn:
            found = (await conn.execute(select(swept_leads))).all()
        return {row.lead_id: row.status for row in found}

    async def endpoints(self) -> list[int]:
        """The webhook endpoints' IDs, oldest first (the sample campaign's is the first)."""
        query = select(webhook_endpoints.c.id).order_by(webhook_endpoints.c.id)
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    def searches(self) -> list[Json]:
        return [r.json() for r in self.nlpearl.requests("/Leads")]

    def lookups(self) -> list[str]:
        """The Get Lead requests NLPearl received, by path."""
        return [r.path for r in self.nlpearl.requests("/Lead/") if r.method == "GET"]


def extra_lead(n: int, status: int = 1, calls: int = 0) -> Json:
    """A lead in the Get Lead shape; `n` orders them by creation."""
    return {
        "id": f"{0x6690_0000_0000_0000_0000_0000 + n:024x}",
        "externalId": f"crm-9{n:05d}",
        "phoneNumber": f"+1646555{n:04d}",
        "timeZone": "-5.0",
        "status": status,
        "created": f"2025-05-01T10:{n // 60:02d}:{n % 60:02d}.000Z",
        "callsId": [f"{0x6691_0000_0000_0000_0000_0000 + n * 100 + i:024x}" for i in range(calls)],
        "lastCall": None,
        "callData": {"firstName": f"Lead{n}"},
        "collectedData": None,
    }


def called(lead: Json, status: int, *, ended: datetime = NOW - timedelta(hours=1)) -> Json:
    """The lead after one more call that ended at `ended` with the lead in `status`."""
    call_id = f"{0x6692_0000_0000_0000_0000_0000 + len(lead['callsId']):024x}"
    return {
        "status": status,
        "callsId": [*lead["callsId"], call_id],
        "lastCall": {
            "id": call_id,
            "startTime": (ended - timedelta(seconds=60)).isoformat().replace("+00:00", "Z"),
            "pearlId": SAMPLE_PEARL_ID,
            "status": 4,
            "from": "+12125550100",
            "duration": 60,
        },
    }


async def add_campaign(world: World, campaign: str, leads: list[Json]) -> None:
    world.nlpearl.add_pearl({"id": campaign, "name": "Second", "type": 2, "status": 1})
    for lead in leads:
        world.leads[lead["id"]] = lead
        world.nlpearl.add_lead(campaign, lead)
    await subscribe(
        world.engine,
        WORKSPACE,
        channel_id=CHANNEL,
        campaign_id=campaign,
        statuses=None,
        user_id="U0ADMIN",
        now=SUBSCRIBED_AT,
    )


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
async def client(nlpearl: NLPearlStandIn) -> AsyncIterator[NLPearlClient]:
    clock = FakeClock(NOW)
    async with httpx.AsyncClient() as http:
        yield NLPearlClient(
            http,
            api_key=nlpearl.api_key,
            base_url=nlpearl.url,
            sleep=clock.sleep,
            clock=clock.monotonic,
        )


async def subscribed_world(
    engine: AsyncEngine,
    nlpearl: NLPearlStandIn,
    client: NLPearlClient,
    statuses: tuple[int, ...] | None = None,
) -> World:
    done = await subscribe(
        engine,
        WORKSPACE,
        channel_id=CHANNEL,
        campaign_id=SAMPLE_PEARL_ID,
        statuses=statuses,
        user_id="U0ADMIN",
        now=SUBSCRIBED_AT,
    )
    assert done.token is not None
    _, leads, _ = sample_dataset()
    return World(engine, nlpearl, client, done.token, {lead["id"]: lead for lead in leads})


@pytest.fixture
async def world(engine: AsyncEngine, nlpearl: NLPearlStandIn, client: NLPearlClient) -> World:
    return await subscribed_world(engine, nlpearl, client)


@pytest.fixture
async def baselined(world: World) -> World:
    """The world after its first sweep."""
    report, progress = await world.run()
    assert (report.baselines, progress) == (3, None)
    world.nlpearl.reset()
    return world


# The first sweep


async def test_the_first_sweep_remembers_every_lead_and_posts_nothing(world: World) -> None:
    report, progress = await world.run()

    assert report == SweepReport(pages=1, leads=3, baselines=3)
    assert progress is None
    assert await world.outbox() == []
    assert await world.swept() == SAMPLE_STATUSES
    (search,) = world.searches()
    assert search["statuses"] == []
    assert (search["skip"], search["limit"]) == (0, 100)
    assert world.lookups() == []


async def test_a_sweep_with_nothing_new_asks_nlpearl_for_no_lead(baselined: World) -> None:
    report, _ = await baselined.run(LATER)

    assert report == SweepReport(pages=1, leads=3)
    assert baselined.lookups() == []
    assert await baselined.outbox() == []


# A change no webhook brought


async def test_a_change_without_a_webhook_queues_one_delivery_marked_as_swept(
    baselined: World,
) -> None:
    lead = baselined.change(
        SAMPLE_LEAD_NO_CALLS_ID, **called(baselined.leads[SAMPLE_LEAD_NO_CALLS_ID], 110)
    )

    report, progress = await baselined.run(LATER)

    assert (report.changes, report.duplicates, report.baselines, progress) == (1, 0, 0, None)
    (row,) = await baselined.outbox()
    assert (row.channel_id, row.state, row.next_attempt_at) == (CHANNEL, "pending", LATER)
    assert row.payload["leadBotFoundBy"] == "sweep"
    assert row.payload["status"] == 110
    assert row.payload["callsId"] == lead["callsId"]
    assert row.payload["pearlId"] == SAMPLE_PEARL_ID
    # The made-up webhook is keyed as NLPearl's own would be.
    assert row.dedupe_key == parse_webhook(lead).dedupe_key
    assert row.lead_key == lead["phoneNumber"]
    assert baselined.lookups() == [f"/v2/Outbound/{SAMPLE_PEARL_ID}/Lead/{SAMPLE_LEAD_NO_CALLS_ID}"]
    assert (await baselined.swept())[SAMPLE_LEAD_NO_CALLS_ID] == 110

    again, _ = await baselined.run(LATER + timedelta(minutes=10))
    assert (again.changes, again.duplicates) == (0, 0)
    assert len(await baselined.outbox()) == 1


async def test_the_webhook_that_comes_after_the_sweep_is_a_duplicate(baselined: World) -> None:
    lead = baselined.change(
        SAMPLE_LEAD_NO_CALLS_ID, **called(baselined.leads[SAMPLE_LEAD_NO_CALLS_ID], 100)
    )
    await baselined.run(LATER)

    assert await baselined.webhook({**lead, "pearlId": SAMPLE_PEARL_ID}, LATER) == "duplicate"
    assert len(await baselined.outbox()) == 1


async def test_a_change_its_webhook_brought_is_left_alone(baselined: World) -> None:
    lead = baselined.change(SAMPLE_LEAD_ID, **called(baselined.leads[SAMPLE_LEAD_ID], 130))
    assert await baselined.webhook(lead, NOW + timedelta(minutes=1)) == "stored"

    report, _ = await baselined.run(LATER)

    assert (report.changes, report.duplicates) == (0, 0)
    assert baselined.lookups() == []
    (row,) = await baselined.outbox()
    assert "leadBotFoundBy" not in row.payload


async def test_webhooks_stored_before_the_first_sweep_are_what_it_compares_with(
    world: World,
) -> None:
    maria = world.leads[SAMPLE_LEAD_ID]
    earlier = {**maria, "status": 10, "callsId": maria["callsId"][:2], "lastCall": None}
    assert await world.webhook(earlier, SUBSCRIBED_AT) == "stored"

    report, _ = await world.run()

    assert (report.baselines, report.changes) == (2, 1)
    first, second = await world.outbox()
    assert "leadBotFoundBy" not in first.payload
    assert second.payload["leadBotFoundBy"] == "sweep"
    assert second.payload["status"] == 100
    assert second.dedupe_key == parse_webhook(maria).dedupe_key


async def test_the_sweep_does_not_pass_for_a_webhook_from_nlpearl(baselined: World) -> None:
    heard_at = NOW + timedelta(minutes=1)
    assert await baselined.webhook(baselined.leads[SAMPLE_LEAD_ID], heard_at) == "stored"
    priya = baselined.leads[SAMPLE_LEAD_NO_CALLS_ID]
    baselined.change(SAMPLE_LEAD_NO_CALLS_ID, **called(priya, 110))

    report, _ = await baselined.run(LATER)

    assert report.changes == 1
    async with baselined.engine.connect() as conn:
        heard = (await conn.execute(select(webhook_endpoints.c.last_received_at))).scalar_one()
    assert heard == heard_at


async def test_a_filtered_channel_is_not_queued_a_status_it_does_not_want(
    engine: AsyncEngine, nlpearl: NLPearlStandIn, client: NLPearlClient
) -> None:
    world = await subscribed_world(engine, nlpearl, client, statuses=(100,))
    await world.run()
    world.change(SAMPLE_LEAD_NO_CALLS_ID, **called(world.leads[SAMPLE_LEAD_NO_CALLS_ID], 110))
    world.change(SAMPLE_LEAD_MANY_CALLS_ID, **called(world.leads[SAMPLE_LEAD_MANY_CALLS_ID], 100))

    report, _ = await world.run(LATER)

    assert report.changes == 2
    (row,) = await world.outbox()
    assert row.payload["id"] == SAMPLE_LEAD_MANY_CALLS_ID


# When a change is left for later


async def test_a_call_that_just_ended_is_left_to_its_webhook_for_a_while(
    baselined: World,
) -> None:
    priya = baselined.leads[SAMPLE_LEAD_NO_CALLS_ID]
    lead = baselined.change(SAMPLE_LEAD_NO_CALLS_ID, **called(priya, 100, ended=NOW))

    report, _ = await baselined.run(NOW + timedelta(minutes=1))
    assert (report.changes, report.deferred) == (0, 1)
    assert await baselined.outbox() == []
    assert (await baselined.swept())[SAMPLE_LEAD_NO_CALLS_ID] == 1

    report, _ = await baselined.run(NOW + timedelta(minutes=6))
    assert (report.changes, report.deferred) == (1, 0)
    (row,) = await baselined.outbox()
    assert row.dedupe_key == parse_webhook(lead).dedupe_key


async def test_a_lead_in_the_queue_or_on_a_call_waits_for_its_outcome(baselined: World) -> None:
    priya = baselined.leads[SAMPLE_LEAD_NO_CALLS_ID]
    baselined.change(SAMPLE_LEAD_NO_CALLS_ID, status=20)
    await baselined.run(LATER)
    baselined.change(SAMPLE_LEAD_NO_CALLS_ID, status=40)
    report, _ = await baselined.run(LATER + timedelta(minutes=1))

    assert report.changes == 0
    assert baselined.lookups() == []
    assert await baselined.outbox() == []

    baselined.change(SAMPLE_LEAD_NO_CALLS_ID, **called(priya, 110))
    report, _ = await baselined.run(LATER + timedelta(minutes=20))

    assert report.changes == 1
    (row,) = await baselined.outbox()
    assert row.payload["status"] == 110


async def test_a_lead_nlpearl_no_longer_has_is_skipped(baselined: World) -> None:
    baselined.change(SAMPLE_LEAD_ID, status=130)
    path = f"/v2/Outbound/{SAMPLE_PEARL_ID}/Lead/{SAMPLE_LEAD_ID}"
    baselined.nlpearl.fail_next(path, 404, method="GET")

    report, _ = await baselined.run(LATER)

    assert (report.changes, report.campaigns_failed) == (0, 0)
    assert await baselined.outbox() == []
    assert (await baselined.swept())[SAMPLE_LEAD_ID] == 100


# Paging


async def test_a_small_budget_covers_every_lead_of_every_campaign_over_several_runs(
    world: World,
) -> None:
    for n in range(7):
        lead = extra_lead(n)
        world.leads[lead["id"]] = lead
        world.nlpearl.add_lead(SAMPLE_PEARL_ID, lead)
    second = [extra_lead(100 + n, status=130) for n in range(2)]
    await add_campaign(world, SECOND_CAMPAIGN, second)
    options: dict[str, Any] = {"page_budget": 2, "page_size": 3}

    sample, other = await world.endpoints()

    first, progress = await world.run(**options)
    assert (first.pages, first.leads) == (2, 6)
    assert progress == {"endpoint_id": sample, "skip": 6}

    middle, progress = await world.run(LATER, progress, **options)
    assert (middle.pages, middle.leads) == (2, 4)
    assert progress == {"endpoint_id": other, "skip": 0}

    last, progress = await world.run(LATER, progress, **options)
    assert (last.pages, last.leads, progress) == (1, 2, None)

    assert await world.swept() == {i: lead["status"] for i, lead in world.leads.items()}
    assert [(s["skip"], s["limit"]) for s in world.searches()] == [
        (0, 3),
        (3, 3),
        (6, 3),
        (9, 3),
        (0, 3),
    ]
    assert await world.outbox() == []


async def test_progress_that_makes_no_sense_starts_from_the_beginning(world: World) -> None:
    for progress in ({"endpoint_id": "x", "skip": 3}, {"skip": -1, "endpoint_id": 1}, {}):
        report, left = await world.run(progress=progress)
        assert (report.pages, left) == (1, None)
    assert [s["skip"] for s in world.searches()] == [0, 0, 0]


async def test_progress_past_a_campaign_that_left_goes_on_with_the_next(world: World) -> None:
    await add_campaign(world, SECOND_CAMPAIGN, [extra_lead(1)])
    await unsubscribe(world.engine, WORKSPACE, channel_id=CHANNEL, campaign_id=SAMPLE_PEARL_ID)
    first, _ = await world.endpoints()

    report, left = await world.run(progress={"endpoint_id": first, "skip": 40})

    assert (report.pages, report.baselines, left) == (1, 1, None)
    assert world.searches()[0]["skip"] == 0


# NLPearl failing


async def test_a_campaign_nlpearl_fails_is_skipped_and_the_others_are_swept(
    baselined: World,
) -> None:
    await add_campaign(baselined, SECOND_CAMPAIGN, [extra_lead(1)])
    baselined.change(SAMPLE_LEAD_ID, **called(baselined.leads[SAMPLE_LEAD_ID], 130))
    baselined.nlpearl.fail_next(f"/v2/Outbound/{SAMPLE_PEARL_ID}/Leads", 503, times=3)

    report, progress = await baselined.run(LATER)

    assert (report.campaigns_failed, report.baselines, report.changes) == (1, 1, 0)
    assert progress is None
    assert await baselined.outbox() == []

    report, _ = await baselined.run(LATER + timedelta(minutes=5))
    assert (report.campaigns_failed, report.changes) == (0, 1)


async def test_a_lead_nlpearl_fails_to_give_skips_its_campaign_not_the_next(
    baselined: World,
) -> None:
    second = extra_lead(1)
    await add_campaign(baselined, SECOND_CAMPAIGN, [second])
    await baselined.run(LATER)
    baselined.change(SAMPLE_LEAD_ID, **called(baselined.leads[SAMPLE_LEAD_ID], 130))
    baselined.change(second["id"], SECOND_CAMPAIGN, **called(second, 100))
    path = f"/v2/Outbound/{SAMPLE_PEARL_ID}/Lead/{SAMPLE_LEAD_ID}"
    baselined.nlpearl.fail_next(path, 500, times=3, method="GET")

    report, _ = await baselined.run(LATER + timedelta(minutes=5))

    assert (report.campaigns_failed, report.changes) == (1, 1)
    (row,) = await baselined.outbox()
    assert row.payload["id"] == second["id"]
    assert (await baselined.swept())[SAMPLE_LEAD_ID] == 100


async def test_a_rate_limit_ends_the_run_where_it_was(world: World) -> None:
    for n in range(4):
        world.nlpearl.add_lead(SAMPLE_PEARL_ID, extra_lead(n))
    await add_campaign(world, SECOND_CAMPAIGN, [extra_lead(50)])
    path = f"/v2/Outbound/{SAMPLE_PEARL_ID}/Leads"
    _, progress = await world.run(page_size=3, page_budget=1)
    assert progress == {"endpoint_id": (await world.endpoints())[0], "skip": 3}
    world.nlpearl.fail_next(path, 429, times=3, headers={"Retry-After": "0"})

    report, left = await world.run(LATER, progress, page_size=3)

    assert report.stopped_early is not None
    assert (report.pages, report.campaigns_failed) == (0, 0)
    assert left == progress
    assert all(SECOND_CAMPAIGN not in r.path for r in world.nlpearl.requests())

    report, left = await world.run(LATER, left, page_size=3)
    assert (report.pages, left) == (3, None)


async def test_a_rejected_api_key_skips_every_campaign_it_serves(baselined: World) -> None:
    await add_campaign(baselined, SECOND_CAMPAIGN, [extra_lead(1)])
    baselined.nlpearl.fail_next("/v2/Outbound/", 401, times=10)

    report, left = await baselined.run(LATER)

    # The second campaign shares the key: it is not asked for, and the next run tries again.
    assert (report.pages, report.campaigns_failed) == (0, 2)
    assert report.stopped_early is None
    assert left is None
    assert len(baselined.searches()) == 1


# Safe from any process at any time


async def test_two_sweeps_at_once_queue_a_change_once(baselined: World, database_url: str) -> None:
    lead = baselined.change(SAMPLE_LEAD_ID, **called(baselined.leads[SAMPLE_LEAD_ID], 110))
    # Both sweeps have found the change before either stores it.
    baselined.nlpearl.hang(f"/v2/Outbound/{SAMPLE_PEARL_ID}/Lead/", 0.3)
    other_engine = create_engine(database_url)
    try:
        other = Sweep(other_engine, always(baselined.client))
        (one, _), (two, _) = await asyncio.gather(
            baselined.sweep().run_once(now=LATER, progress=None),
            other.run_once(now=LATER, progress=None),
        )
    finally:
        await other_engine.dispose()

    assert one.changes + two.changes == 1
    assert one.duplicates + two.duplicates == 1
    (row,) = await baselined.outbox()
    assert row.dedupe_key == parse_webhook(lead).dedupe_key


async def test_many_sweeps_and_the_webhook_at_once_queue_a_change_once(
    baselined: World,
) -> None:
    lead = baselined.change(SAMPLE_LEAD_ID, **called(baselined.leads[SAMPLE_LEAD_ID], 110))

    results = await asyncio.gather(
        *(baselined.sweep().run_once(now=LATER, progress=None) for _ in range(5)),
        baselined.webhook(lead, LATER),
    )

    assert len(await baselined.outbox()) == 1
    reports = [r for r, _ in results[:-1] if isinstance(r, SweepReport)]
    assert sum(r.changes for r in reports) + (results[-1] == "stored") == 1


async def test_an_endpoint_without_a_kept_token_is_skipped_and_said_so_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    async with world.engine.begin() as conn:
        await conn.execute(update(webhook_endpoints).values(token=None))
    sweep = world.sweep()

    with caplog.at_level(logging.WARNING, logger="bot.feed.sweep"):
        for _ in range(3):
            report, left = await sweep.run_once(now=NOW, progress=None)
            assert (report.pages, left) == (0, None)

    said = [r for r in caplog.records if "before Lead Bot kept tokens" in r.getMessage()]
    assert len(said) == 1
    assert world.searches() == []


async def test_a_channel_back_after_a_gap_gets_no_history(world: World) -> None:
    maria = world.leads[SAMPLE_LEAD_ID]
    assert await world.webhook({**maria, "status": 10, "callsId": []}, SUBSCRIBED_AT) == "stored"
    await unsubscribe(world.engine, WORKSPACE, channel_id=CHANNEL, campaign_id=SAMPLE_PEARL_ID)
    await subscribe(
        world.engine,
        WORKSPACE,
        channel_id=CHANNEL,
        campaign_id=SAMPLE_PEARL_ID,
        statuses=None,
        user_id="U0ADMIN",
        now=NOW,
    )

    report, _ = await world.run(LATER)

    assert (report.baselines, report.changes) == (3, 0)
    assert await world.outbox() == []


async def test_a_database_out_of_reach_is_the_one_failure_that_raises(
    client: NLPearlClient,
) -> None:
    # Refused at once, no server needed (an unopenable SQLite file leaves a thread that warns).
    engine = create_engine("postgresql://postgres@127.0.0.1:1/nothing")
    try:
        with pytest.raises(ConnectionRefusedError) as raised:
            await Sweep(engine, always(client)).run_once(now=NOW, progress=None)
    finally:
        await engine.dispose()

    assert unreachable(raised.value) is not None


async def test_a_change_the_database_cannot_take_is_found_again_next_time(
    baselined: World,
) -> None:
    baselined.change(SAMPLE_LEAD_ID, **called(baselined.leads[SAMPLE_LEAD_ID], 130))
    async with baselined.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE deliveries RENAME TO deliveries_away"))

    with pytest.raises(DatabaseUnavailable) as raised:
        await baselined.run(LATER)

    assert unreachable(raised.value) is not None
    assert (await baselined.swept())[SAMPLE_LEAD_ID] == 100
    async with baselined.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE deliveries_away RENAME TO deliveries"))
    report, _ = await baselined.run(LATER + timedelta(minutes=5))
    assert report.changes == 1
    assert len(await baselined.outbox()) == 1


# The made-up webhook and its mark


def test_the_made_up_webhook_reads_as_the_lead_nlpearl_gave() -> None:
    _, leads, _ = sample_dataset()
    maria = Lead.model_validate(leads[0])

    body = lead_webhook_body(SAMPLE_PEARL_ID, SAMPLE_LEAD_ID, maria)

    event = parse_webhook(body)
    assert event.kind == "lead"
    assert event.dedupe_key == parse_webhook(leads[0]).dedupe_key
    assert body["lastCall"]["from"] == "+12125550100"
    assert body["callData"] == leads[0]["callData"]
    assert body["collectedData"] == leads[0]["collectedData"]
    assert body["leadBotFoundBy"] == "sweep"
    assert "transcript" not in json.dumps(body)


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ({"leadBotFoundBy": "sweep"}, True),
        ({"LEADBOTFOUNDBY": " Sweep "}, True),
        ({"leadBotFoundBy": "someone"}, False),
        ({"leadBotFoundBy": True}, False),
        ({}, False),
    ],
)
def test_fold_marks_the_changes_the_sweep_found(marker: Json, expected: bool) -> None:
    _, leads, _ = sample_dataset()
    old = parse_webhook({**leads[0], "status": 10})
    new = parse_webhook({**leads[0], **marker})

    folded = fold(LeadSnapshot(campaign_id=SAMPLE_PEARL_ID), [(old, NOW), (new, LATER)])

    assert [c.found_by_sweep for c in folded.changes] == [False, expected]


# Posted


async def test_the_swept_change_is_posted_saying_how_it_was_found(
    baselined: World, slack: SlackStandIn
) -> None:
    baselined.change(SAMPLE_LEAD_ID, **called(baselined.leads[SAMPLE_LEAD_ID], 130))
    await baselined.run(LATER)
    clock = FakeClock(LATER)
    names: Callable[[Workspace, str], Any] = _named("Solar – Spring Re-engagement")
    web = AsyncWebClient(token="xoxb-test-token", base_url=slack.api_url, retry_handlers=[])
    batches = BatchDelivery(
        baselined.engine,
        always(web),
        campaign_names=names,
        post_interval=timedelta(0),
        now=clock.now,
    )
    timing = DeliveryTiming(post_interval=timedelta(0))
    deliverer = Deliverer(baselined.engine, batches.attempt, timing=timing, now=clock.now)

    assert await deliverer.run_once() == 1

    posts = slack.calls("chat.postMessage", ok_only=True)
    (reply,) = [p for p in posts if "thread_ts" in p]
    words = json.dumps(reply["blocks"], ensure_ascii=False)
    assert reply["text"] == "☑️ Completed"
    assert "🔎 Found by the periodic check: NLPearl sent no webhook for this change." in words
    (row,) = await baselined.outbox()
    assert row.state == "done"


def _named(name: str) -> Callable[[Workspace, str], Any]:
    async def campaign_names(_ws: Workspace, _campaign_id: str) -> str | None:
        return name

    return campaign_names
