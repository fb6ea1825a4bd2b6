"""The edges listeners use, built once per process and handed over through Bolt's context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.blocks import messages
from bot.config import Settings
from bot.inflight import InFlight
from bot.nlpearl import NLPearlClient

if TYPE_CHECKING:
    from bot.campaigns import CampaignDirectory
    from bot.home_tab import SetupCheck


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """What listeners need: settings, the NLPearl client, the database and a clock."""

    settings: Settings
    nlpearl: NLPearlClient
    engine: AsyncEngine
    campaigns: CampaignDirectory
    setup: SetupCheck
    in_flight: InFlight = field(default_factory=lambda: InFlight(messages.restarting()))
    now: Callable[[], datetime] = field(default=utc_now)
