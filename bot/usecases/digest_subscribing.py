"""Use case behind `/lead digest`: start, re-time or stop a channel's daily digest of a campaign."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages
from bot.blocks import subscriptions as replies
from bot.nlpearl.errors import BadCredentials, NLPearlError, NotFound
from bot.nlpearl.names import campaign_name
from bot.parsing.schedule import next_due, zone_or_utc
from bot.parsing.slack_errors import SLACK_FAILURES, classify
from bot.storage.digests import digests_of, set_digest, stop_digest
from bot.storage.rows import DigestInfo
from bot.usecases.services import Services, Where
from bot.usecases.subscribing import CAMPAIGN_CHECK_SECONDS, channel_problem

logger = logging.getLogger(__name__)

# Stopping needs no check, only a name for the reply: never wait long for it.
NAME_WAIT_SECONDS = 1.5


@dataclass(frozen=True)
class Person:
    """Who typed the command, as Slack describes them; None where Slack did not say."""

    name: str | None
    time_zone: str | None


async def digest_here(
    services: Services, client: AsyncWebClient, where: Where, campaign_id: str, at_time: str
) -> dict[str, Any]:
    """Start or re-time the channel's digest of the campaign, at `at_time` in the person's zone."""
    if problem := await channel_problem(client, where.channel_id):
        return replies.cannot_digest_here(problem, campaign_id)
    try:
        campaign = await asyncio.wait_for(
            services.nlpearl.get_campaign(campaign_id), CAMPAIGN_CHECK_SECONDS
        )
    except NotFound:
        return replies.campaign_not_found(campaign_id)
    except BadCredentials as exc:
        return messages.nlpearl_key_problem(exc)
    except (NLPearlError, TimeoutError):
        # Stored unchecked, a mistyped ID would post empty digests every day: refuse instead.
        return replies.campaign_not_checked(campaign_id)
    person = await _person(client, where.user_id)
    zone = _zone(person.time_zone)
    shown = replies.digest_campaign(campaign_id, campaign.name)
    when = replies.personal_time(at_time, zone, person.time_zone)
    before = await _digest(services, where, campaign_id)
    if before is not None and (before.at_time, before.time_zone) == (at_time, zone):
        if not before.problem:
            # Setting it again must not move a digest that is due right now to tomorrow.
            return replies.digest_set(
                campaign=shown,
                channel_id=where.channel_id,
                when=when,
                next_at=before.next_due_at,
                before=replies.digest_time(before.at_time, before.time_zone),
                changed=False,
            )
        # A digest Slack stopped, asked for again: it starts afresh, as a new one.
        before = None
    now = services.now()
    info, _ = await set_digest(
        services.engine,
        where.workspace,
        channel_id=where.channel_id,
        campaign_id=campaign_id,
        at_time=at_time,
        time_zone=zone,
        user_id=where.user_id,
        next_due_at=next_due(at_time, zone, now),
        now=now,
    )
    was = replies.digest_time(before.at_time, before.time_zone) if before else None
    note = replies.digest_note(
        shown, person.name, when=replies.digest_time(at_time, zone), moved=was is not None
    )
    await _tell_channel(client, where.channel_id, note)
    return replies.digest_set(
        campaign=shown,
        channel_id=where.channel_id,
        when=when,
        next_at=info.next_due_at,
        before=was,
        changed=was is not None,
    )


async def stop_digest_here(
    services: Services, client: AsyncWebClient, where: Where, campaign_id: str
) -> dict[str, Any]:
    """End the channel's digest of the campaign, and tell the channel who did."""
    stopped = await stop_digest(
        services.engine, where.workspace, channel_id=where.channel_id, campaign_id=campaign_id
    )
    name = await campaign_name(services.nlpearl, campaign_id, wait=NAME_WAIT_SECONDS)
    shown = replies.digest_campaign(campaign_id, name)
    if not stopped:
        return replies.no_digest(shown)
    person = await _person(client, where.user_id)
    await _tell_channel(client, where.channel_id, replies.digest_note(shown, person.name))
    return replies.digest_stopped(shown, where.channel_id)


async def _digest(services: Services, where: Where, campaign_id: str) -> DigestInfo | None:
    """The channel's digest of the campaign as it is now, if there is one."""
    here = await digests_of(services.engine, where.workspace, channel_id=where.channel_id)
    return next((d for d in here if d.campaign_id == campaign_id), None)


def _zone(name: str | None) -> str:
    """The IANA name of the person's zone, UTC when Slack gave none this machine knows."""
    return zone_or_utc(name).key


async def _person(client: AsyncWebClient, user_id: str | None) -> Person:
    """The person's name and time zone from one users.info call; nothing if Slack won't say."""
    if not user_id:
        return Person(None, None)
    try:
        user = (await client.users_info(user=user_id)).get("user")
    except SLACK_FAILURES as exc:
        logger.info("users.info failed for a digest: %s", classify(exc).describe())
        return Person(None, None)
    if not isinstance(user, dict):
        return Person(None, None)
    profile = user.get("profile") or {}
    names = (profile.get("display_name"), profile.get("real_name"), user.get("name"))
    name = next((n.strip() for n in names if isinstance(n, str) and n.strip()), None)
    zone = user.get("tz")
    return Person(name, zone.strip() if isinstance(zone, str) and zone.strip() else None)


async def _tell_channel(client: AsyncWebClient, channel_id: str, note: dict[str, Any]) -> None:
    """A visible note in the channel; the digest stands even if Slack refuses the note."""
    try:
        await client.chat_postMessage(channel=channel_id, unfurl_links=False, **note)
    except SLACK_FAILURES as exc:
        logger.info("No digest note in %s: %s", channel_id, classify(exc).describe())
