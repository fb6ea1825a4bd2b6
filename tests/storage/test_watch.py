"""Watching campaigns: who follows them, their alert states, and what their feed received."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import actions
from bot.storage.digests import set_digest, stop_digest_for_good
from bot.storage.inbox import IncomingEvent, Outcome, store_webhook
from bot.storage.notices import NewNotice, notices_of
from bot.storage.rows import ActionRecord, Workspace
from bot.storage.subscriptions import unsubscribe
from bot.storage.tables import alert_states, subscriptions, webhook_endpoints
from bot.storage.watch import (
    AlertState,
    FeedCounts,
    Watched,
    alert_states_of,
    feed_counts,
    feed_endpoint,
    paused_from_slack_since,
    set_alert_state,
    watched_campaigns,
)
from tests.storage.support import (
    CAMPAIGN,
    GRID_TEAM,
    LEAD_A,
    LEAD_B,
    NOW,
    OTHER_TEAM,
    TEAM,
    call_event,
    lead_event,
    rows,
    subscribe_channels,
    subscribed,
)

OTHER_CAMPAIGN = "camp-2"
HOUR = timedelta(hours=1)
TICK = timedelta(microseconds=1)
RACERS = 10
LEAD_C = "+15550000003"


async def _digest(
    engine: AsyncEngine, ws: Workspace = TEAM, *, channel: str = "C1", campaign: str = CAMPAIGN
) -> int:
    """A digest of a campaign in a channel; its id."""
    info, _ = await set_digest(
        engine,
        ws,
        channel_id=channel,
        campaign_id=campaign,
        at_time="09:00",
        time_zone="UTC",
        user_id="U0001",
        next_due_at=NOW,
        now=NOW,
    )
    return info.id


async def _endpoint_id(engine: AsyncEngine, ws: Workspace = TEAM, campaign: str = CAMPAIGN) -> int:
    """The campaign's webhook endpoint, which must exist."""
    found = await feed_endpoint(engine, ws, campaign)
    assert found is not None
    return found


async def _feed_problem(engine: AsyncEngine, channel: str) -> None:
    """Slack refused the channel for good: its feed subscriptions stop."""
    async with engine.begin() as conn:
        await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.channel_id == channel)
            .values(problem="channel_not_found", problem_at=NOW)
        )


# Who watches


async def test_a_campaign_fed_to_channels_is_watched_with_its_endpoint(
    engine: AsyncEngine,
) -> None:
    assert await watched_campaigns(engine) == []
    token = await subscribe_channels(engine, "C2", "C1")

    (endpoint,) = await rows(engine, webhook_endpoints)
    assert await watched_campaigns(engine) == [
        Watched(TEAM, CAMPAIGN, ("C1", "C2"), endpoint["id"], NOW, None)
    ]
    heard = NOW + timedelta(minutes=3)
    assert (await store_webhook(engine, token, lead_event(), heard)).outcome is Outcome.STORED
    (watched,) = await watched_campaigns(engine)
    assert (watched.endpoint_created_at, watched.last_webhook_at) == (NOW, heard)


async def test_a_campaign_with_only_a_digest_is_watched_without_an_endpoint(
    engine: AsyncEngine,
) -> None:
    await _digest(engine, channel="C3")

    assert await watched_campaigns(engine) == [Watched(TEAM, CAMPAIGN, ("C3",), None, None, None)]


async def test_feed_and_digest_channels_are_one_list(engine: AsyncEngine) -> None:
    await subscribe_channels(engine, "C1", "C3")
    await _digest(engine, channel="C1")
    await _digest(engine, channel="C2")

    (watched,) = await watched_campaigns(engine)

    assert watched.channels == ("C1", "C2", "C3")
    assert watched.endpoint_id == await _endpoint_id(engine)


async def test_channels_with_a_problem_are_left_out(engine: AsyncEngine) -> None:
    await subscribe_channels(engine, "C1")
    await _feed_problem(engine, "C1")
    kept = await _digest(engine, channel="C2")
    refused = await _digest(engine, channel="C3")
    await stop_digest_for_good(engine, refused, "is_archived")

    # Only the digest in C2 is left: the campaign is watched, but with no feed to count on.
    assert await watched_campaigns(engine) == [Watched(TEAM, CAMPAIGN, ("C2",), None, None, None)]
    # With every channel refused, nobody watches it.
    await stop_digest_for_good(engine, kept, "is_archived")
    assert await watched_campaigns(engine) == []


async def test_an_endpoint_whose_feed_is_gone_is_not_given(engine: AsyncEngine) -> None:
    await subscribe_channels(engine, "C1")
    await unsubscribe(engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN)
    await _digest(engine, channel="C2")

    (watched,) = await watched_campaigns(engine)

    assert (watched.channels, watched.endpoint_id, watched.last_webhook_at) == (
        ("C2",),
        None,
        None,
    )


async def test_workspaces_and_campaigns_are_watched_apart(engine: AsyncEngine) -> None:
    # The same team, channel and campaign in three workspaces; and a second campaign.
    await subscribe_channels(engine, "C1", ws=TEAM)
    await subscribe_channels(engine, "C1", ws=GRID_TEAM)
    await _digest(engine, OTHER_TEAM, channel="C1")
    await _digest(engine, TEAM, channel="C2", campaign=OTHER_CAMPAIGN)

    watched = await watched_campaigns(engine)

    assert [(w.workspace, w.campaign_id, w.channels) for w in watched] == [
        (TEAM, CAMPAIGN, ("C1",)),
        (TEAM, OTHER_CAMPAIGN, ("C2",)),
        (GRID_TEAM, CAMPAIGN, ("C1",)),
        (OTHER_TEAM, CAMPAIGN, ("C1",)),
    ]
    endpoints = [w.endpoint_id for w in watched]
    assert endpoints[0] == await _endpoint_id(engine, TEAM)
    assert endpoints[1] is None
    assert endpoints[2] == await _endpoint_id(engine, GRID_TEAM)
    assert endpoints[0] != endpoints[2]
    assert endpoints[3] is None


# Alert states


def _state(active: bool = True, since: datetime = NOW, **detail: float) -> AlertState:
    """The silent-webhook alert, on or off since a moment."""
    return AlertState("silent", active, since, dict(detail))


def _alert(key: str, ws: Workspace = TEAM) -> NewNotice:
    """An alert notice under `key`, for channel C1."""
    return NewNotice(
        workspace=ws,
        channel_id="C1",
        campaign_id=CAMPAIGN,
        kind="alert",
        key=key,
        due_at=NOW,
        body={"text": key},
    )


async def _set(
    engine: AsyncEngine,
    before: AlertState | None,
    after: AlertState,
    *keys: str,
    now: datetime = NOW,
    ws: Workspace = TEAM,
) -> bool:
    """Move the silent alert of CAMPAIGN, queueing a notice per key."""
    return await set_alert_state(
        engine,
        ws,
        CAMPAIGN,
        before=before,
        after=after,
        notices=[_alert(key, ws=ws) for key in keys],
        now=now,
    )


async def _only_state(engine: AsyncEngine, ws: Workspace = TEAM) -> AlertState:
    """The campaign's one alert state."""
    (state,) = await alert_states_of(engine, ws, CAMPAIGN)
    return state


async def _queued(engine: AsyncEngine, ws: Workspace = TEAM) -> list[str]:
    """The keys of the workspace's notices, oldest first."""
    return [n.key for n in await notices_of(engine, ws)]


async def test_a_first_state_is_recorded_with_its_notices(engine: AsyncEngine) -> None:
    assert await alert_states_of(engine, TEAM, CAMPAIGN) == []

    assert await _set(engine, None, _state(minutes=45.5), "silent:start:C1", "silent:start:C2")

    assert await _only_state(engine) == AlertState("silent", True, NOW, {"minutes": 45.5}, NOW)
    assert await _queued(engine) == ["silent:start:C1", "silent:start:C2"]


async def test_a_second_first_state_loses_and_queues_nothing(engine: AsyncEngine) -> None:
    await _set(engine, None, _state(), "first")

    assert not await _set(engine, None, _state(False, NOW + HOUR), "second", now=NOW + HOUR)

    assert await _only_state(engine) == AlertState("silent", True, NOW, {}, NOW)
    assert await _queued(engine) == ["first"]


async def test_a_state_moves_on_from_the_one_read(engine: AsyncEngine) -> None:
    await _set(engine, None, _state(), "start")
    later = NOW + HOUR

    assert await _set(engine, await _only_state(engine), _state(False, later), "end", now=later)

    assert await _only_state(engine) == AlertState("silent", False, later, {}, later)
    assert await _queued(engine) == ["start", "end"]


async def test_a_recheck_keeps_the_state_and_updates_its_detail(engine: AsyncEngine) -> None:
    await _set(engine, None, _state(minutes=45.0))
    later = NOW + timedelta(minutes=5)

    assert await _set(engine, await _only_state(engine), _state(minutes=50.0), now=later)

    assert await _only_state(engine) == AlertState("silent", True, NOW, {"minutes": 50.0}, later)


async def test_a_stale_before_changes_nothing_and_queues_nothing(engine: AsyncEngine) -> None:
    await _set(engine, None, _state(), "start")
    read = await _only_state(engine)
    later = NOW + HOUR
    # Another process ends the alert first.
    assert await _set(engine, read, _state(False, later), "end", now=later)

    assert not await _set(engine, read, _state(False, later + HOUR), "end-again", now=later + HOUR)

    assert await _only_state(engine) == AlertState("silent", False, later, {}, later)
    assert await _queued(engine) == ["start", "end"]


async def test_a_before_with_no_state_stored_changes_nothing(engine: AsyncEngine) -> None:
    assert not await _set(engine, _state(), _state(False, NOW + HOUR), "end")

    assert await alert_states_of(engine, TEAM, CAMPAIGN) == []
    assert await _queued(engine) == []


async def test_of_many_checks_at_once_one_records_the_change(engine: AsyncEngine) -> None:
    await _set(engine, None, _state(False), "none")
    read = await _only_state(engine)

    done = await asyncio.gather(
        *(
            _set(engine, read, _state(True, NOW + HOUR + n * TICK), f"start-{n}")
            for n in range(RACERS)
        )
    )

    (winner,) = [n for n, won in enumerate(done) if won]
    assert (await _only_state(engine)).since == NOW + HOUR + winner * TICK
    assert await _queued(engine) == ["none", f"start-{winner}"]


async def test_of_many_first_checks_at_once_one_records_the_state(engine: AsyncEngine) -> None:
    done = await asyncio.gather(
        *(_set(engine, None, _state(since=NOW + n * TICK), f"start-{n}") for n in range(RACERS))
    )

    (winner,) = [n for n, won in enumerate(done) if won]
    assert (await _only_state(engine)).since == NOW + winner * TICK
    assert await _queued(engine) == [f"start-{winner}"]


async def test_a_state_and_its_notices_are_stored_together_or_not_at_all(
    engine: AsyncEngine,
) -> None:
    # The second notice's body cannot be stored: the state and the first notice, written
    # already, must go back with it.
    unstorable = NewNotice(TEAM, "C2", CAMPAIGN, "alert", "bad", NOW, body={"x": object()})

    with pytest.raises(StatementError, match="JSON serializable"):
        await set_alert_state(
            engine,
            TEAM,
            CAMPAIGN,
            before=None,
            after=_state(),
            notices=[_alert("good"), unstorable],
            now=NOW,
        )

    assert await alert_states_of(engine, TEAM, CAMPAIGN) == []
    assert await _queued(engine) == []


async def test_an_already_queued_notice_does_not_stop_the_state(engine: AsyncEngine) -> None:
    await _set(engine, None, _state(), "start")
    await _set(engine, await _only_state(engine), _state(False, NOW + HOUR), "end")

    # The alert comes back with the same key as before: the state moves, the notice stays one.
    assert await _set(engine, await _only_state(engine), _state(True, NOW + 2 * HOUR), "start")

    assert (await _only_state(engine)).active
    assert await _queued(engine) == ["start", "end"]


async def test_alert_states_are_kept_per_kind_campaign_and_workspace(engine: AsyncEngine) -> None:
    await _set(engine, None, _state())
    await set_alert_state(
        engine,
        TEAM,
        CAMPAIGN,
        before=None,
        after=AlertState("errors", False, NOW, {}),
        notices=[],
        now=NOW,
    )
    await _set(engine, None, _state(False), ws=GRID_TEAM)

    kinds = {s.kind: s.active for s in await alert_states_of(engine, TEAM, CAMPAIGN)}
    assert kinds == {"silent": True, "errors": False}
    assert await alert_states_of(engine, TEAM, OTHER_CAMPAIGN) == []
    assert not (await _only_state(engine, GRID_TEAM)).active
    assert await alert_states_of(engine, OTHER_TEAM, CAMPAIGN) == []
    assert len(await rows(engine, alert_states)) == 3


# What the feed received


async def _store(engine: AsyncEngine, token: str, event: IncomingEvent, at: datetime = NOW) -> None:
    """Store a webhook, which must be new."""
    stored = await store_webhook(engine, token, event, at)
    assert stored.outcome is Outcome.STORED


async def test_the_feed_counts_distinct_leads_per_status_ended_calls_and_webhooks(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    endpoint = await _endpoint_id(engine)
    for lead, status in [(LEAD_A, 100), (LEAD_A, 100), (LEAD_B, 100), (LEAD_A, 500), (LEAD_C, 20)]:
        await _store(engine, token, lead_event(lead, status))
    await _store(engine, token, call_event(LEAD_A))
    await _store(engine, token, call_event(LEAD_B))
    await _store(engine, token, call_event(LEAD_C, key="call:c3:start"))
    # A status too big for its column is kept in the payload only: a webhook, but no status.
    await _store(engine, token, IncomingEvent("lead", "lead:big", LEAD_C, 2**40, {"s": 2**40}))

    counts = await feed_counts(engine, endpoint, NOW, NOW + HOUR)

    assert counts == FeedCounts({100: 2, 500: 1, 20: 1}, calls_ended=2, webhooks=9)


async def test_the_feed_counts_only_its_span_and_its_own_endpoint(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    other = await subscribe_channels(engine, "C1", ws=OTHER_TEAM)
    elsewhere = await subscribe_channels(engine, "C1", campaign=OTHER_CAMPAIGN)
    endpoint = await _endpoint_id(engine)
    start, end = NOW, NOW + HOUR
    await _store(engine, token, lead_event(LEAD_A, 100), start - TICK)
    await _store(engine, token, call_event(LEAD_A), start - TICK)
    await _store(engine, token, lead_event(LEAD_A, 100), start)
    await _store(engine, token, call_event(LEAD_A), end - TICK)
    await _store(engine, token, lead_event(LEAD_B, 100), end)
    await _store(engine, token, call_event(LEAD_B), end)
    for foreign in (other, elsewhere):
        await _store(engine, foreign, lead_event(LEAD_B, 100), start)
        await _store(engine, foreign, call_event(LEAD_B), start)

    counts = await feed_counts(engine, endpoint, start, end)

    assert counts == FeedCounts({100: 1}, calls_ended=1, webhooks=2)
    assert await feed_counts(engine, endpoint, end, end) == FeedCounts({}, 0, 0)


async def test_changes_the_sweep_found_are_not_counted_as_received(engine: AsyncEngine) -> None:
    """NLPearl never sent them: the feed's own counts (and the error share) leave them out."""
    token = await subscribe_channels(engine, "C1")
    endpoint = await _endpoint_id(engine)
    await _store(engine, token, lead_event(LEAD_A, 500))
    swept = dataclasses.replace(lead_event(LEAD_B, 500), from_nlpearl=False)
    await _store(engine, token, swept)

    counts = await feed_counts(engine, endpoint, NOW, NOW + HOUR)

    assert counts == FeedCounts({500: 1}, calls_ended=0, webhooks=1)


async def test_the_feed_endpoint_is_the_workspaces_and_outlives_its_subscriptions(
    engine: AsyncEngine,
) -> None:
    assert await feed_endpoint(engine, TEAM, CAMPAIGN) is None
    await subscribed(engine, TEAM, channel="C1")
    (endpoint,) = await rows(engine, webhook_endpoints)

    await unsubscribe(engine, TEAM, channel_id="C1", campaign_id=CAMPAIGN)

    assert await feed_endpoint(engine, TEAM, CAMPAIGN) == endpoint["id"]
    assert await feed_endpoint(engine, GRID_TEAM, CAMPAIGN) is None
    assert await feed_endpoint(engine, TEAM, OTHER_CAMPAIGN) is None


# Paused from Slack


def _pause(
    result: str = "pending",
    *,
    at: datetime = NOW,
    ws: Workspace = TEAM,
    campaign: str = CAMPAIGN,
    action: str = "pause",
) -> ActionRecord:
    """A pause of a campaign from Slack, as the campaign card records it (no lead)."""
    return ActionRecord(
        workspace=ws,
        user_id="U0001",
        campaign_id=campaign,
        lead_id="",
        action=action,
        before_status=1,
        result=result,
        at=at,
    )


async def test_a_pause_claimed_from_slack_counts_from_its_moment(engine: AsyncEngine) -> None:
    assert await actions.claim(engine, "T0001:pause:1", _pause(at=NOW)) is None

    assert await paused_from_slack_since(engine, TEAM, CAMPAIGN, NOW - HOUR)
    assert await paused_from_slack_since(engine, TEAM, CAMPAIGN, NOW)
    assert not await paused_from_slack_since(engine, TEAM, CAMPAIGN, NOW + TICK)


async def test_a_finished_pause_counts_unless_it_failed(engine: AsyncEngine) -> None:
    outcomes = {"applied": True, "unconfirmed": True, "failed": False}
    for result in outcomes:
        await actions.claim(engine, f"T0001:pause:{result}", _pause(campaign=result))
        await actions.finish(engine, f"T0001:pause:{result}", result=result, at=NOW + TICK)

    paused = {r: await paused_from_slack_since(engine, TEAM, r, NOW) for r in outcomes}
    assert paused == outcomes


async def test_refusals_releases_and_resumes_are_not_pauses(engine: AsyncEngine) -> None:
    await actions.record(engine, _pause("denied"))
    await actions.record(engine, _pause("stale"))
    await actions.claim(engine, "T0001:pause:released", _pause())
    await actions.release(engine, "T0001:pause:released")
    await actions.claim(engine, "T0001:resume:1", _pause(action="resume"))
    await actions.finish(engine, "T0001:resume:1", result="applied", at=NOW)

    assert not await paused_from_slack_since(engine, TEAM, CAMPAIGN, NOW - HOUR)


async def test_a_pause_elsewhere_is_not_this_campaigns(engine: AsyncEngine) -> None:
    await actions.claim(engine, "T0001:pause:other", _pause(campaign=OTHER_CAMPAIGN))
    await actions.claim(engine, "E0001:T0001:pause:1", _pause(ws=GRID_TEAM))
    await actions.claim(engine, "T0002:pause:1", _pause(ws=OTHER_TEAM))

    assert not await paused_from_slack_since(engine, TEAM, CAMPAIGN, NOW - HOUR)
    assert await paused_from_slack_since(engine, GRID_TEAM, CAMPAIGN, NOW - HOUR)
