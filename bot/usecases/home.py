"""Use case: a person's App Home tab, and the set-up check it shows."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.blocks.connection import Connection
from bot.blocks.home import AdminHome, HomeCampaign, Setup, home_view
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import BadCredentials, NLPearlError, NotConnected
from bot.storage.actions import grants_of, latest
from bot.storage.digests import digests_of
from bot.storage.engine import ping
from bot.storage.memory import last_campaign, recent
from bot.storage.rows import DigestInfo, LastCampaign, RecentLookup, SubscriptionInfo, Workspace
from bot.storage.subscriptions import list_subscriptions
from bot.usecases.connecting import connected_account
from bot.usecases.permissions import admin_of, user_groups
from bot.usecases.services import Services

logger = logging.getLogger(__name__)

CHECK_SECONDS = 3.0
ENVIRONMENT_FIX = "An admin should check NLPEARL_API_KEY."
KEY_CHECK_TTL = 300.0
# Campaign names are a nicety on Home: the picker's cached list, or IDs if NLPearl is slow.
NAMES_WAIT_SECONDS = 1.0


class SetupCheck:
    """Whether NLPearl accepts the key (remembered for a few minutes) and the database works."""

    def __init__(
        self,
        nlpearl: NLPearlClient,
        engine: AsyncEngine,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._nlpearl = nlpearl
        self._engine = engine
        self._clock = clock
        self._key: tuple[float, str | None] | None = None

    async def status(self) -> Setup:
        """The set-up as the Home tab shows it."""
        return Setup(nlpearl_problem=await self._key_problem(), database_problem=await self._db())

    async def _key_problem(self) -> str | None:
        if self._key and self._clock() - self._key[0] < KEY_CHECK_TTL:
            return self._key[1]
        try:
            await asyncio.wait_for(self._nlpearl.check_credentials(), CHECK_SECONDS)
            problem = None
        except NotConnected:
            problem = "not connected yet."
        except BadCredentials as exc:
            problem = f"the API key was rejected. {exc.fix or ENVIRONMENT_FIX}"
        except (NLPearlError, TimeoutError):
            # Not the key's fault: say so, and ask again next time.
            return "NLPearl isn't answering right now."
        self._key = (self._clock(), problem)
        return problem

    async def _db(self) -> str | None:
        try:
            await asyncio.wait_for(ping(self._engine), CHECK_SECONDS)
        except Exception as exc:
            logger.warning("Database check failed: %s", exc)
            return "the database isn't answering; check DATABASE_URL."
        return None


async def home_for(
    services: Services, ws: Workspace, user_id: str, client: AsyncWebClient | None = None
) -> dict[str, Any]:
    """The Home tab for one person; admins also see who may act and the latest actions."""
    setup = await services.setup.status()
    if setup.database_problem:
        return home_view(setup, [], [])
    subscriptions = await list_subscriptions(services.engine, ws)
    digests = await digests_of(services.engine, ws)
    lookups = await recent(services.engine, ws, user_id)
    last = await last_campaign(services.engine, ws, user_id)
    names = await _campaign_names(services)
    # One users.info call: only admins see who may act, and change the NLPearl account.
    is_admin = client is not None and await admin_of(client, ws, user_id)
    admin = await _admin_home(services, client, ws) if client is not None and is_admin else None
    connection = await _connection(services, ws, may_change=is_admin)
    campaigns = _campaigns_used(user_id, last, lookups, digests, subscriptions, names)
    return home_view(
        setup,
        subscriptions,
        lookups,
        admin,
        campaigns=campaigns,
        digests=digests,
        names=names,
        connection=connection,
    )


async def _connection(services: Services, ws: Workspace, *, may_change: bool) -> Connection | None:
    """The workspace's NLPearl account as Home shows it; None in single-workspace mode."""
    if services.connections is None:
        return None
    account = await connected_account(services.connections, ws)
    if account is None:
        return Connection(None, None, None, may_change=may_change)
    return Connection(
        account.account_id, account.account_name, account.connected_at, may_change=may_change
    )


async def _campaign_names(services: Services) -> dict[str, str]:
    """Campaign ID → name, from the campaign picker's list (cached, never slow)."""
    listed = await services.campaigns.campaigns(wait=NAMES_WAIT_SECONDS)
    return {c.id: c.name for c in listed if c.id and c.name}


def _campaigns_used(
    user_id: str,
    last: LastCampaign | None,
    lookups: list[RecentLookup],
    digests: list[DigestInfo],
    subscriptions: list[SubscriptionInfo],
    names: dict[str, str],
) -> list[HomeCampaign]:
    """Each campaign once: the person's own first, then those the workspace's channels follow."""
    ids = [last.campaign_id] if last else []
    ids += [lookup.campaign_id for lookup in lookups]
    ids += [d.campaign_id for d in digests if d.created_by == user_id]
    ids += [d.campaign_id for d in digests] + [s.campaign_id for s in subscriptions]
    remembered = {last.campaign_id: last.name} if last and last.name else {}
    return [
        HomeCampaign(campaign_id, remembered.get(campaign_id) or names.get(campaign_id))
        for campaign_id in dict.fromkeys(ids)
    ]


async def _admin_home(services: Services, client: AsyncWebClient, ws: Workspace) -> AdminHome:
    """What only admins and owners see."""
    grants = await grants_of(services.engine, ws)
    groups = dict(await user_groups(client)) if grants.usergroups else {}
    actions = await latest(services.engine, ws)
    return AdminHome(grants, groups, actions, mask=services.mask_shared_phone_numbers)
