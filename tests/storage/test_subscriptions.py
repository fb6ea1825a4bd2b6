"""Subscriptions and webhook endpoints: stable tokens found by hash, filters, isolation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import outbox
from bot.storage.inbox import Outcome, store_webhook, token_exists
from bot.storage.rows import Workspace
from bot.storage.subscriptions import hash_token, list_subscriptions, subscribe, unsubscribe
from bot.storage.tables import deliveries, events, subscriptions, webhook_endpoints
from tests.storage.support import (
    CAMPAIGN,
    GRID_TEAM,
    NOW,
    OTHER_TEAM,
    TEAM,
    claim,
    lead_event,
    queue,
    rows,
    subscribe_channels,
    subscribed,
)


async def test_subscribing_creates_an_endpoint_found_by_its_tokens_hash(
    engine: AsyncEngine,
) -> None:
    result = await subscribe(
        engine,
        TEAM,
        channel_id="C1",
        campaign_id=CAMPAIGN,
        statuses=(10, 20),
        user_id="U0001",
        now=NOW,
    )

    assert result.token
    assert len(result.token) >= 32
    assert result.already_subscribed is False
    assert result.last_received_at is None
    (endpoint,) = await rows(engine, webhook_endpoints)
    assert endpoint["token_hash"] == hash_token(result.token)
    assert endpoint["token_hash"] != result.token
    assert len(endpoint["token_hash"]) == 64
    # Kept so that subscribing again can show the same URL.
    assert endpoint["token"] == result.token
    assert (endpoint["team_id"], endpoint["enterprise_id"], endpoint["campaign_id"]) == (
        "T0001",
        "",
        CAMPAIGN,
    )
    assert endpoint["created_at"] == NOW
    assert endpoint["last_received_at"] is None
    (sub,) = await rows(engine, subscriptions)
    assert sub["endpoint_id"] == endpoint["id"]
    assert (sub["team_id"], sub["enterprise_id"], sub["channel_id"], sub["campaign_id"]) == (
        "T0001",
        "",
        "C1",
        CAMPAIGN,
    )
    assert sub["statuses"] == [10, 20]
    assert sub["created_by"] == "U0001"
    assert sub["created_at"] == NOW
    assert sub["problem"] is None
    # The token itself is in no other column, nor in the subscription.
    assert result.token not in {str(v) for k, v in endpoint.items() if k != "token"}
    assert result.token not in {str(v) for v in sub.values()}
    assert await token_exists(engine, result.token)
    assert not await token_exists(engine, result.token + "x")


def test_hash_token_is_sha256_hex() -> None:
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


async def test_each_subscribe_issues_a_different_token(engine: AsyncEngine) -> None:
    first = await subscribed(engine, channel="C1", campaign="camp-1")
    second = await subscribed(engine, channel="C1", campaign="camp-2")

    assert first
    assert second
    assert first != second
    assert len(await rows(engine, webhook_endpoints)) == 2


async def test_another_channel_joins_the_endpoint_without_breaking_its_url(
    engine: AsyncEngine,
) -> None:
    token = await subscribed(engine, channel="C1")
    assert token is not None

    result = await subscribe(
        engine,
        TEAM,
        channel_id="C2",
        campaign_id=CAMPAIGN,
        statuses=None,
        user_id="U0002",
        now=NOW + timedelta(minutes=1),
    )

    # The URL someone may have pasted already keeps working, and is the one shown again.
    assert result.token == token
    assert result.already_subscribed is False
    assert result.last_received_at is None
    (endpoint,) = await rows(engine, webhook_endpoints)
    assert endpoint["token_hash"] == hash_token(token)
    assert {s["endpoint_id"] for s in await rows(engine, subscriptions)} == {endpoint["id"]}
    assert await token_exists(engine, token)
    stored = await store_webhook(engine, token, lead_event(), NOW)
    assert stored.outcome is Outcome.STORED
    assert stored.queued == 2


async def test_resubscribing_before_the_url_was_used_keeps_it(
    engine: AsyncEngine,
) -> None:
    old = await subscribe_channels(engine, "C1", "C2")
    (before,) = await rows(engine, webhook_endpoints)

    # C1 asks again (the URL was lost, or Slack retried): the same URL, never a new one.
    result = await subscribe(
        engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN, statuses=None, user_id=None, now=NOW
    )

    assert result.already_subscribed is True
    assert result.token == old
    assert result.last_received_at is None
    (after,) = await rows(engine, webhook_endpoints)
    assert after == before
    assert await token_exists(engine, old)
    assert (await store_webhook(engine, old, lead_event(), NOW)).queued == 2


async def test_a_used_token_is_kept(engine: AsyncEngine) -> None:
    token = await subscribed(engine, channel="C1")
    assert token is not None
    received = NOW + timedelta(hours=2)
    await queue(engine, token, lead_event(), received)
    (before,) = await rows(engine, webhook_endpoints)

    result = await subscribe(
        engine,
        TEAM,
        channel_id="C2",
        campaign_id=CAMPAIGN,
        statuses=None,
        user_id="U0002",
        now=NOW + timedelta(hours=3),
    )

    assert result.token == token
    assert result.already_subscribed is False
    assert result.last_received_at == received
    (after,) = await rows(engine, webhook_endpoints)
    assert after["token_hash"] == before["token_hash"] == hash_token(token)
    assert await token_exists(engine, token)
    # The new channel hears the same URL.
    stored = await store_webhook(engine, token, lead_event(), NOW + timedelta(hours=4))
    assert stored.queued == 2
    # A channel already subscribed asking again keeps it too: it is in use.
    again = await subscribe(
        engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN, statuses=None, user_id=None, now=NOW
    )
    assert (again.token, again.already_subscribed) == (token, True)
    assert again.last_received_at == NOW + timedelta(hours=4)
    assert await token_exists(engine, token)


async def test_resubscribing_changes_the_filter(engine: AsyncEngine) -> None:
    await subscribed(engine, channel="C1", statuses=(10,))

    result = await subscribe(
        engine,
        TEAM,
        channel_id="C1",
        campaign_id=CAMPAIGN,
        statuses=(20, 30),
        user_id="U0009",
        now=NOW + timedelta(days=1),
    )

    assert result.already_subscribed is True
    (sub,) = await rows(engine, subscriptions)
    assert sub["statuses"] == [20, 30]
    # Who subscribed first, and when, stays.
    assert sub["created_by"] == "U0001"
    assert sub["created_at"] == NOW
    (info,) = await list_subscriptions(engine, TEAM)
    assert info.statuses == (20, 30)

    await subscribed(engine, channel="C1", statuses=None)
    (info,) = await list_subscriptions(engine, TEAM)
    assert info.statuses is None
    (sub,) = await rows(engine, subscriptions)
    assert sub["statuses"] is None


async def test_resubscribing_clears_a_delivery_problem(engine: AsyncEngine) -> None:
    token = await subscribed(engine, channel="C1")
    assert token is not None
    await queue(engine, token, lead_event())
    (batch,) = await claim(engine, NOW)
    await outbox.stop_subscription(engine, batch, problem="channel_not_found", now=NOW)
    (info,) = await list_subscriptions(engine, TEAM)
    assert info.problem == "channel_not_found"
    assert info.problem_at == NOW
    assert (await store_webhook(engine, token, lead_event(), NOW)).queued == 0

    await subscribed(engine, channel="C1")

    (info,) = await list_subscriptions(engine, TEAM)
    assert info.problem is None
    assert info.problem_at is None
    (sub,) = await rows(engine, subscriptions)
    assert sub["problem"] is None
    assert sub["problem_at"] is None
    assert (await store_webhook(engine, token, lead_event(), NOW)).queued == 1


async def test_unsubscribe_removes_the_subscription_and_its_outbox_rows(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1", "C2")
    (endpoint,) = await rows(engine, webhook_endpoints)
    await queue(engine, token, lead_event(), queued=2)
    await queue(engine, token, lead_event(), queued=2)
    await claim(engine, NOW)  # one claimed row per channel, one pending behind each

    removed = await unsubscribe(engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN)

    assert removed is True
    assert [s["channel_id"] for s in await rows(engine, subscriptions)] == ["C2"]
    left = await rows(engine, deliveries)
    assert {d["channel_id"] for d in left} == {"C2"}
    assert len(left) == 2
    # The events and the endpoint stay: other channels still use them.
    assert len(await rows(engine, events)) == 2
    assert [e["id"] for e in await rows(engine, webhook_endpoints)] == [endpoint["id"]]
    assert [i.channel_id for i in await list_subscriptions(engine, TEAM)] == ["C2"]
    # Nothing more is queued for the removed channel.
    assert (await store_webhook(engine, token, lead_event(), NOW)).queued == 1


async def test_unsubscribe_without_a_subscription_is_false(engine: AsyncEngine) -> None:
    assert await unsubscribe(engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN) is False

    await subscribed(engine, channel="C1")
    assert await unsubscribe(engine, TEAM, channel_id="C1", campaign_id="other") is False
    assert await unsubscribe(engine, TEAM, channel_id="C9", campaign_id=CAMPAIGN) is False
    assert await unsubscribe(engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN) is True
    assert await unsubscribe(engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN) is False
    assert await rows(engine, subscriptions) == []


async def test_unsubscribe_leaves_other_workspaces_alone(engine: AsyncEngine) -> None:
    await subscribed(engine, TEAM, channel="C1")
    await subscribed(engine, OTHER_TEAM, channel="C1")
    await subscribed(engine, GRID_TEAM, channel="C1")

    assert await unsubscribe(engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN) is True

    left = {(s["team_id"], s["enterprise_id"]) for s in await rows(engine, subscriptions)}
    assert left == {("T0002", ""), ("T0001", "E0001")}
    assert len(await list_subscriptions(engine, OTHER_TEAM)) == 1
    assert len(await list_subscriptions(engine, GRID_TEAM)) == 1
    assert await list_subscriptions(engine, TEAM) == []


async def test_list_subscriptions_shows_the_workspace_only_in_order(engine: AsyncEngine) -> None:
    token = await subscribed(engine, TEAM, channel="C2", campaign="camp-b", statuses=(10, 150))
    await subscribed(engine, TEAM, channel="C1", campaign="camp-b")
    await subscribed(engine, TEAM, channel="C2", campaign="camp-a")
    await subscribed(engine, OTHER_TEAM, channel="C1", campaign="camp-a")
    await subscribed(engine, GRID_TEAM, channel="C3", campaign="camp-a")
    # Subscribing again keeps camp-b's token; use it, so its endpoint has a last time.
    assert await subscribed(engine, TEAM, channel="C2", campaign="camp-b") == token
    token = await subscribed(engine, TEAM, channel="C2", campaign="camp-b", statuses=(10, 150))
    assert token is not None
    received = NOW + timedelta(minutes=7)
    stored = await store_webhook(engine, token, lead_event(status=10), received)
    assert stored.queued == 2
    async with engine.begin() as conn:
        await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.channel_id == "C1", subscriptions.c.team_id == "T0001")
            .values(problem="is_archived", problem_at=NOW + timedelta(minutes=8))
        )

    listed = await list_subscriptions(engine, TEAM)

    assert [(i.channel_id, i.campaign_id) for i in listed] == [
        ("C1", "camp-b"),
        ("C2", "camp-a"),
        ("C2", "camp-b"),
    ]
    c1_b, c2_a, c2_b = listed
    assert c2_b.statuses == (10, 150)
    assert c1_b.statuses is None
    assert c2_b.last_received_at == received
    assert c1_b.last_received_at == received  # the same endpoint
    assert c2_a.last_received_at is None
    assert (c1_b.problem, c1_b.problem_at) == ("is_archived", NOW + timedelta(minutes=8))
    assert (c2_b.problem, c2_b.problem_at) == (None, None)
    assert [
        (i.channel_id, i.campaign_id) for i in await list_subscriptions(engine, OTHER_TEAM)
    ] == [("C1", "camp-a")]
    assert [(i.channel_id, i.campaign_id) for i in await list_subscriptions(engine, GRID_TEAM)] == [
        ("C3", "camp-a")
    ]
    assert await list_subscriptions(engine, Workspace("T0003")) == []


async def test_workspaces_never_share_an_endpoint(engine: AsyncEngine) -> None:
    ours = await subscribed(engine, TEAM, channel="C1")
    theirs = await subscribed(engine, OTHER_TEAM, channel="C1")
    grid = await subscribed(engine, GRID_TEAM, channel="C1")
    assert ours
    assert theirs
    assert grid

    assert len({ours, theirs, grid}) == 3
    endpoints = await rows(engine, webhook_endpoints)
    assert len(endpoints) == 3
    # Re-subscribing in one workspace shows that workspace's token again, and changes none.
    assert await subscribed(engine, OTHER_TEAM, channel="C1") == theirs
    assert await token_exists(engine, ours)
    assert await token_exists(engine, grid)
    assert await token_exists(engine, theirs)

    stored = await store_webhook(engine, ours, lead_event(), NOW)

    assert stored.queued == 1
    (only,) = await rows(engine, deliveries)
    assert (only["team_id"], only["enterprise_id"], only["channel_id"]) == ("T0001", "", "C1")
    listed = {ws: await list_subscriptions(engine, ws) for ws in (TEAM, OTHER_TEAM, GRID_TEAM)}
    assert listed[TEAM][0].last_received_at is not None
    assert listed[OTHER_TEAM][0].last_received_at is None
    assert listed[GRID_TEAM][0].last_received_at is None
