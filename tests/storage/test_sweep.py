"""What the sweep for missed webhooks reads and keeps, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from itertools import count

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.inbox import IncomingEvent, Outcome, store_webhook
from bot.storage.subscriptions import unsubscribe
from bot.storage.sweep import (
    CHUNK,
    KnownStatus,
    known_statuses,
    remember,
    sweep_targets,
)
from bot.storage.tables import subscriptions, swept_leads, webhook_endpoints
from tests.storage.support import (
    CAMPAIGN,
    GRID_TEAM,
    NOW,
    OTHER_TEAM,
    TEAM,
    rows,
    subscribe_channels,
    subscribed,
)

LEAD = "6650f1c2a9e4b27d3c8e41a7"
OTHER_LEAD = "6650f1c2a9e4b27d3c8e41b0"
PHONE = "+14155550137"
KEYS = [PHONE, f"lead:{LEAD}", f"phone:{PHONE}"]
_serial = count(1)


def lead_webhook(
    status: int | None,
    *,
    lead_id: str = LEAD,
    key: str = PHONE,
    id_key: str = "id",
) -> IncomingEvent:
    """A stored Lead webhook of `lead_id`, filed under `key`."""
    n = next(_serial)
    return IncomingEvent(
        kind="lead",
        dedupe_key=f"lead:{lead_id}:{status}:{n}",
        lead_key=key,
        lead_status=status,
        payload={id_key: lead_id, "phoneNumber": PHONE, "status": status},
    )


async def endpoint_id(engine: AsyncEngine, campaign: str = CAMPAIGN) -> int:
    (row,) = await rows(engine, webhook_endpoints, webhook_endpoints.c.campaign_id == campaign)
    return int(row["id"])


async def store(
    engine: AsyncEngine, token: str, event: IncomingEvent, at: timedelta = timedelta(0)
) -> None:
    stored = await store_webhook(engine, token, event, NOW + at)
    assert stored.outcome is Outcome.STORED


# Which campaigns are swept


async def test_no_subscription_means_nothing_to_sweep(engine: AsyncEngine) -> None:
    assert await sweep_targets(engine) == []


async def test_every_followed_campaign_of_every_workspace_is_swept_with_its_token(
    engine: AsyncEngine,
) -> None:
    first = await subscribe_channels(engine, "C1", "C2")
    other = await subscribe_channels(engine, "C9", ws=OTHER_TEAM, campaign="camp-2")
    grid = await subscribe_channels(engine, "C1", ws=GRID_TEAM)

    targets = await sweep_targets(engine)

    assert [(t.workspace, t.campaign_id, t.token) for t in targets] == [
        (TEAM, CAMPAIGN, first),
        (OTHER_TEAM, "camp-2", other),
        (GRID_TEAM, CAMPAIGN, grid),
    ]
    ids = [t.endpoint_id for t in targets]
    assert ids == sorted(ids)
    assert {t.endpoint_id for t in targets} == {
        r["id"] for r in await rows(engine, webhook_endpoints)
    }
    assert all(t.following_since == NOW for t in targets)


async def test_a_campaign_whose_channels_all_stopped_or_left_is_not_swept(
    engine: AsyncEngine,
) -> None:
    await subscribe_channels(engine, "C1")
    await subscribe_channels(engine, "C2", campaign="camp-2")
    await subscribe_channels(engine, "C3", campaign="camp-2")
    async with engine.begin() as conn:
        await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.channel_id == "C2")
            .values(problem="channel_not_found", problem_at=NOW)
        )

    assert [t.campaign_id for t in await sweep_targets(engine)] == [CAMPAIGN, "camp-2"]

    await unsubscribe(engine, TEAM, channel_id="C3", campaign_id="camp-2")
    await unsubscribe(engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN)
    assert await sweep_targets(engine) == []


async def test_the_campaign_is_followed_since_its_oldest_delivering_subscription(
    engine: AsyncEngine,
) -> None:
    later = NOW + timedelta(hours=5)
    await subscribed(engine, channel="C1", now=NOW)
    await subscribed(engine, channel="C2", now=later)

    (target,) = await sweep_targets(engine)
    assert target.following_since == NOW
    assert target.following_since.utcoffset() == timedelta(0)

    async with engine.begin() as conn:
        await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.channel_id == "C1")
            .values(problem="is_archived", problem_at=later)
        )
    (target,) = await sweep_targets(engine)
    assert target.following_since == later


async def test_an_endpoint_from_before_tokens_were_kept_comes_without_a_token(
    engine: AsyncEngine,
) -> None:
    await subscribe_channels(engine, "C1")
    async with engine.begin() as conn:
        await conn.execute(update(webhook_endpoints).values(token=None))

    (target,) = await sweep_targets(engine)

    assert target.token is None
    assert target.campaign_id == CAMPAIGN


# What the app knows of each lead


async def test_a_lead_the_app_never_heard_of_is_not_known(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await store(engine, token, lead_webhook(100, lead_id=OTHER_LEAD, key="+13125550188"))

    assert await known_statuses(engine, await endpoint_id(engine), {LEAD: KEYS}) == {}
    assert await known_statuses(engine, await endpoint_id(engine), {}) == {}


async def test_the_latest_lead_webhook_is_what_the_app_knows(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    await store(engine, token, lead_webhook(20))
    await store(engine, token, lead_webhook(100), timedelta(minutes=3))
    call = IncomingEvent("call", "call:c1:end", PHONE, None, {"id": "c1", "to": PHONE})
    await store(engine, token, call, timedelta(minutes=4))

    known = await known_statuses(engine, await endpoint_id(engine), {LEAD: KEYS})

    assert known == {LEAD: KnownStatus(100, NOW + timedelta(minutes=3), swept=False)}


async def test_events_filed_under_the_lead_id_or_a_raw_phone_count_too(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    await store(engine, token, lead_webhook(10, key=f"lead:{LEAD}"))
    await store(engine, token, lead_webhook(110, key=f"phone:{PHONE}"), timedelta(seconds=1))
    await store(engine, token, lead_webhook(100, key=f"lead:{LEAD}"), timedelta(seconds=2))

    known = await known_statuses(engine, await endpoint_id(engine), {LEAD: KEYS})

    assert known[LEAD].status == 100


async def test_a_v1_webhook_naming_the_lead_in_pascal_case_is_the_leads(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    await store(engine, token, lead_webhook(130, id_key="Id"))

    known = await known_statuses(engine, await endpoint_id(engine), {LEAD: KEYS})

    assert known[LEAD].status == 130


async def test_another_leads_webhook_with_the_same_phone_is_not_this_leads(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    await store(engine, token, lead_webhook(110, lead_id=OTHER_LEAD))
    endpoint = await endpoint_id(engine)

    assert await known_statuses(engine, endpoint, {LEAD: KEYS}) == {}
    known = await known_statuses(engine, endpoint, {OTHER_LEAD: KEYS})
    assert known[OTHER_LEAD].status == 110


async def test_a_webhook_without_a_readable_status_is_known_with_none(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    await store(engine, token, lead_webhook(None))

    known = await known_statuses(engine, await endpoint_id(engine), {LEAD: KEYS})

    assert known == {LEAD: KnownStatus(None, NOW, swept=False)}


async def test_another_campaigns_webhooks_say_nothing_of_this_one(engine: AsyncEngine) -> None:
    await subscribe_channels(engine, "C1")
    other = await subscribe_channels(engine, "C1", campaign="camp-2")
    await store(engine, other, lead_webhook(100))

    assert await known_statuses(engine, await endpoint_id(engine), {LEAD: KEYS}) == {}


async def test_the_newer_of_the_last_webhook_and_the_last_sweep_wins(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    endpoint = await endpoint_id(engine)
    await store(engine, token, lead_webhook(10))
    await remember(engine, endpoint, {LEAD: 110}, NOW + timedelta(minutes=1))

    assert await known_statuses(engine, endpoint, {LEAD: KEYS}) == {
        LEAD: KnownStatus(110, NOW + timedelta(minutes=1), swept=True)
    }

    await store(engine, token, lead_webhook(100), timedelta(minutes=2))
    assert await known_statuses(engine, endpoint, {LEAD: KEYS}) == {
        LEAD: KnownStatus(100, NOW + timedelta(minutes=2), swept=False)
    }


async def test_a_lead_only_the_sweep_saw_is_known_by_its_sighting(engine: AsyncEngine) -> None:
    await subscribe_channels(engine, "C1")
    endpoint = await endpoint_id(engine)
    await remember(engine, endpoint, {LEAD: 1, OTHER_LEAD: 130}, NOW)

    known = await known_statuses(engine, endpoint, {LEAD: KEYS, OTHER_LEAD: ["+13125550188"]})

    assert known == {
        LEAD: KnownStatus(1, NOW, swept=True),
        OTHER_LEAD: KnownStatus(130, NOW, swept=True),
    }


async def test_more_leads_than_one_query_takes_are_all_answered(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    endpoint = await endpoint_id(engine)
    leads = {f"lead-{n:05d}": [f"+1555{n:07d}", f"lead:lead-{n:05d}"] for n in range(CHUNK + 7)}
    await remember(engine, endpoint, dict.fromkeys(leads, 10), NOW)
    later = timedelta(minutes=1)
    await store(engine, token, lead_webhook(100, lead_id="lead-00003", key="+15550000003"), later)

    known = await known_statuses(engine, endpoint, leads)

    assert len(known) == CHUNK + 7
    assert known["lead-00003"].status == 100
    assert {k.status for n, k in known.items() if n != "lead-00003"} == {10}


# What the sweep keeps


async def test_a_sighting_is_kept_and_a_later_one_replaces_it(engine: AsyncEngine) -> None:
    await subscribe_channels(engine, "C1")
    endpoint = await endpoint_id(engine)

    await remember(engine, endpoint, {LEAD: 10, OTHER_LEAD: 1}, NOW)
    await remember(engine, endpoint, {LEAD: 100}, NOW + timedelta(minutes=5))

    kept = {r["lead_id"]: (r["status"], r["seen_at"]) for r in await rows(engine, swept_leads)}
    assert kept == {LEAD: (100, NOW + timedelta(minutes=5)), OTHER_LEAD: (1, NOW)}


async def test_an_older_sighting_committed_late_does_not_replace_a_newer_one(
    engine: AsyncEngine,
) -> None:
    await subscribe_channels(engine, "C1")
    endpoint = await endpoint_id(engine)

    await remember(engine, endpoint, {LEAD: 100}, NOW + timedelta(minutes=5))
    await remember(engine, endpoint, {LEAD: 10}, NOW)

    (row,) = await rows(engine, swept_leads)
    assert (row["status"], row["seen_at"]) == (100, NOW + timedelta(minutes=5))


async def test_racing_sweeps_keep_the_latest_sighting(engine: AsyncEngine) -> None:
    await subscribe_channels(engine, "C1")
    endpoint = await endpoint_id(engine)

    await asyncio.gather(
        *(remember(engine, endpoint, {LEAD: n}, NOW + timedelta(seconds=n)) for n in range(10))
    )

    (row,) = await rows(engine, swept_leads)
    assert (row["status"], row["seen_at"]) == (9, NOW + timedelta(seconds=9))


async def test_what_a_column_cannot_hold_is_not_kept_as_it_is(engine: AsyncEngine) -> None:
    await subscribe_channels(engine, "C1")
    endpoint = await endpoint_id(engine)

    await remember(engine, endpoint, {LEAD: 2**40, "x" * 101: 10}, NOW)
    await remember(engine, endpoint, {}, NOW)

    (row,) = await rows(engine, swept_leads)
    assert (row["lead_id"], row["status"]) == (LEAD, None)


# The last webhook time


async def _last_webhook(engine: AsyncEngine, endpoint: int) -> object:
    (row,) = await rows(engine, webhook_endpoints, webhook_endpoints.c.id == endpoint)
    return row["last_received_at"]


async def test_a_swept_event_does_not_say_nlpearl_called_the_webhook_url(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    endpoint = await endpoint_id(engine)
    await store(engine, token, lead_webhook(10))
    swept = dataclasses.replace(lead_webhook(100), from_nlpearl=False)

    await store(engine, token, swept, timedelta(hours=1))

    assert await _last_webhook(engine, endpoint) == NOW


async def test_a_swept_event_on_a_silent_url_leaves_it_silent(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    endpoint = await endpoint_id(engine)

    await store(engine, token, dataclasses.replace(lead_webhook(100), from_nlpearl=False))

    assert await _last_webhook(engine, endpoint) is None
