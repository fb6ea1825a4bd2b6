"""Which Slack token and NLPearl key serve a workspace: one of each, or each workspace its own."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import httpx
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.settings import Settings, reveal
from bot.app.slack_client import build_slack_client
from bot.blocks.messages import CONNECTED_KEY_FIX
from bot.nlpearl.client import DEFAULT_TIMEOUT, NLPearlClient
from bot.storage.accounts import account_of
from bot.storage.installations import (
    SignedStates,
    installation_store,
    refreshing,
    state_store,
)
from bot.storage.rows import Workspace
from bot.storage.sealing import SealBroken, Sealer
from bot.usecases.campaigns import CampaignDirectory
from bot.usecases.connecting import Connections
from bot.usecases.home import SetupCheck
from bot.usecases.services import Services

logger = logging.getLogger(__name__)

# Clients kept per process: each holds a campaign cache worth keeping, none holds a connection.
CLIENTS_KEPT = 256
# Bolt's default: a bot token this close to expiring is refreshed before it is used.
ROTATE_MINUTES_BEFORE_EXPIRY = 120

_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


class _Kept(Generic[_Key, _Value]):
    """The last `size` values made, by key: a bounded memo for clients."""

    def __init__(self, make: Callable[[_Key], _Value], size: int = CLIENTS_KEPT) -> None:
        self._make = make
        self._size = size
        self._kept: OrderedDict[_Key, _Value] = OrderedDict()

    def __call__(self, key: _Key) -> _Value:
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        value = self._kept[key] = self._make(key)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return value


class OneWorkspace:
    """Single-workspace mode: the environment's bot token and NLPearl key serve everyone."""

    def __init__(self, services: Services, slack: AsyncWebClient) -> None:
        self._services = services
        self._slack = slack

    async def services_for(self, ws: Workspace) -> Services:
        """The services every request shares."""
        return self._services

    async def nlpearl_for(self, ws: Workspace) -> NLPearlClient:
        """The one NLPearl client."""
        return self._services.nlpearl

    async def slack_for(self, ws: Workspace) -> AsyncWebClient:
        """The one bot token's client."""
        return self._slack


class ManyWorkspaces:
    """Multi-workspace mode: each workspace's installed bot token and connected NLPearl key."""

    def __init__(
        self,
        engine: AsyncEngine,
        sealer: Sealer,
        installations: AsyncInstallationStore,
        states: AsyncOAuthStateStore,
        rotator: AsyncTokenRotator,
        *,
        nlpearl_client: Callable[[str | None], NLPearlClient],
        services: Callable[[NLPearlClient], Services],
        slack_client: Callable[[str | None], AsyncWebClient],
    ) -> None:
        self._engine = engine
        self._sealer = sealer
        # Where installs and the OAuth flow's states are kept: Bolt's OAuth flow uses them too.
        self.installations = installations
        self.states = states
        self._rotator = rotator
        # Keyed by the key itself: a replaced key gets a new client, a disconnected one none.
        self._nlpearl = _Kept(nlpearl_client)
        self._services = _Kept(services)
        self._slack = _Kept(slack_client)
        self._rotating: dict[tuple[str | None, str | None, bool], asyncio.Lock] = {}

    async def services_for(self, ws: Workspace) -> Services:
        """The services for a request from this workspace, with its own NLPearl client."""
        return self._services(await self.nlpearl_for(ws))

    async def nlpearl_for(self, ws: Workspace) -> NLPearlClient:
        """The workspace's NLPearl client; one that answers "not connected" until it connects."""
        try:
            account = await account_of(self._engine, self._sealer, ws)
        except SealBroken:
            # ENCRYPTION_KEY lost the key that sealed it: the admin must connect again.
            logger.error(
                "The NLPearl key of workspace %s opens with no ENCRYPTION_KEY key", ws.team_id
            )
            account = None
        key = None if account is None else f"{account.account_id}:{account.secret}"
        return self._nlpearl(key)

    async def slack_for(self, ws: Workspace) -> AsyncWebClient:
        """A client with the workspace's bot token, refreshed first when it is about to expire."""
        bot = await self.bot_for(ws)
        return self._slack(None if bot is None else bot.bot_token)

    async def bot_for(self, ws: Workspace) -> Bot | None:
        """The installed bot serving the workspace: its own install, else its org's."""
        enterprise_id = ws.enterprise_id or None
        bot = await self.installations.async_find_bot(
            enterprise_id=enterprise_id, team_id=ws.team_id or None, is_enterprise_install=False
        )
        if bot is None and enterprise_id is not None:
            bot = await self.installations.async_find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        if bot is None or not _expiring(bot):
            return bot
        # One refresh at a time per installation, in this process and across processes: a
        # refresh token is spent once, and an org-wide install serves many workspaces.
        installation = (bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        async with (
            self._rotating.setdefault(installation, asyncio.Lock()),
            refreshing(self._engine, bot),
        ):
            return await self._fresh(ws, bot)

    async def _fresh(self, ws: Workspace, bot: Bot) -> Bot:
        """The bot with a token that is not about to expire, saved when it was refreshed."""
        latest = await self.installations.async_find_bot(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            is_enterprise_install=bot.is_enterprise_install,
        )
        current = latest or bot
        try:
            refreshed = await self._rotator.perform_bot_token_rotation(
                bot=current, minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY
            )
        except Exception as exc:
            # Refused, or Slack out of reach: the current token may still work until it
            # expires, and the next use tries again.
            reason = exc if isinstance(exc, SlackTokenRotationError) else type(exc).__name__
            logger.error("Could not refresh the bot token of workspace %s: %s", ws.team_id, reason)
            return current
        if refreshed is None:
            return current
        await self.installations.async_save_bot(refreshed)
        logger.info("Refreshed the bot token of workspace %s", ws.team_id or ws.enterprise_id)
        return refreshed


def _expiring(bot: Bot) -> bool:
    """Whether the bot's token rotates and is due for a refresh."""
    expires_at = bot.bot_token_expires_at
    if bot.bot_refresh_token is None or expires_at is None:
        return False
    return expires_at <= time.time() + ROTATE_MINUTES_BEFORE_EXPIRY * 60


class InstalledAuthorize(AsyncAuthorize):
    """Bolt's authorization from the workspace's installed bot, refreshed as the feed's is.

    The installation already says who the bot is, so no request waits for an auth.test; and
    refreshing in one place keeps two refreshes of one token from racing in this process.
    """

    def __init__(self, tenancy: ManyWorkspaces) -> None:
        self._tenancy = tenancy

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        bot = await self._tenancy.bot_for(Workspace(team_id or "", enterprise_id or ""))
        if bot is None:
            return None
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            team=bot.team_name,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


Tenancy = OneWorkspace | ManyWorkspaces


def new_http_client() -> httpx.AsyncClient:
    """One pooled HTTP client for all NLPearl calls of the process."""
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
    return httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, limits=limits)


def build_nlpearl_client(
    settings: Settings, http: httpx.AsyncClient, key: str | None = None
) -> NLPearlClient:
    """An NLPearl client for a workspace's key, or for NLPEARL_API_KEY by default."""
    if key is None and not settings.oauth_enabled and settings.nlpearl_api_key is not None:
        key = settings.nlpearl_api_key.get_secret_value()
    return NLPearlClient(
        http,
        api_key=key,
        key_fix=CONNECTED_KEY_FIX if settings.oauth_enabled else None,
        base_url=settings.nlpearl_api_url,
        version=settings.nlpearl_api_version,
    )


def build_tenancy(settings: Settings, engine: AsyncEngine, http: httpx.AsyncClient) -> Tenancy:
    """One workspace's token and key, or (with SLACK_CLIENT_ID) each installed workspace's."""
    connections = None
    if settings.oauth_enabled:
        sealer = _sealer(settings)
        connections = Connections(
            engine, sealer, client_for_key=lambda key: build_nlpearl_client(settings, http, key)
        )

    def services(nlpearl: NLPearlClient) -> Services:
        return Services(
            nlpearl=nlpearl,
            engine=engine,
            campaigns=CampaignDirectory(nlpearl),
            setup=SetupCheck(nlpearl, engine),
            mask_shared_phone_numbers=settings.mask_shared_phone_numbers,
            public_url=settings.public_url,
            connections=connections,
        )

    if connections is None:
        one = services(build_nlpearl_client(settings, http))
        return OneWorkspace(one, build_slack_client(settings, retries=False))
    client_id = settings.slack_client_id or ""
    installations = installation_store(engine, client_id)
    # No retries: requests wait for a refresh, and the next use tries again anyway.
    rotator = AsyncTokenRotator(
        client_id=client_id,
        client_secret=reveal(settings.slack_client_secret),
        client=build_slack_client(settings, retries=False),
    )
    return ManyWorkspaces(
        engine,
        connections.sealer,
        installations,
        SignedStates(state_store(engine), reveal(settings.slack_state_secret)),
        rotator,
        nlpearl_client=lambda key: build_nlpearl_client(settings, http, key),
        services=services,
        slack_client=lambda token: build_slack_client(settings, retries=False, token=token),
    )


def _sealer(settings: Settings) -> Sealer:
    """The sealer for ENCRYPTION_KEY (checked when the settings were read)."""
    return Sealer.from_setting(reveal(settings.encryption_key))
