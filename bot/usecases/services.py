"""What use cases share: the edges and policies built once per process, and who asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.blocks.home import Setup
from bot.nlpearl.client import NLPearlClient
from bot.records import utc_now
from bot.storage.rows import Workspace

if TYPE_CHECKING:
    from bot.usecases.campaigns import CampaignDirectory
    from bot.usecases.connecting import Connections


# What background work (digests, alerts) uses to reach a workspace: its own NLPearl key and
# bot token in multi-workspace mode, the one of each otherwise (bot.app.tenancy).
NLPearlFor = Callable[[Workspace], Awaitable[NLPearlClient]]
SlackFor = Callable[[Workspace], Awaitable[AsyncWebClient]]


class SetupStatus(Protocol):
    """Tells whether NLPearl and the database work (usecases.home.SetupCheck)."""

    async def status(self) -> Setup:
        """The set-up as the Home tab shows it."""
        ...


@dataclass(frozen=True)
class Services:
    """The NLPearl client, the database, the campaign list, the set-up check, policies, a clock."""

    nlpearl: NLPearlClient
    engine: AsyncEngine
    campaigns: CampaignDirectory
    setup: SetupStatus
    # MASK_SHARED_PHONE_NUMBERS: read only by usecases/cards.py, which applies blocks/privacy.
    mask_shared_phone_numbers: bool
    # PUBLIC_URL, when set; otherwise webhook URLs use the base URL the request came to.
    public_url: str | None
    now: Callable[[], datetime] = field(default=utc_now)
    # Multi-workspace mode: where workspaces connect their NLPearl accounts; None otherwise.
    connections: Connections | None = None


@dataclass(frozen=True)
class Where:
    """Who asked, from which channel of which workspace (listeners/request.py reads it)."""

    workspace: Workspace
    user_id: str | None
    channel_id: str
    # The base URL Slack reached the app at (None over Socket Mode or for an odd Host).
    public_url: str | None
