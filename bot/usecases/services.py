"""The edges listeners use, built once per process and handed over through Bolt's context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.settings import Settings
from bot.nlpearl import NLPearlClient
from bot.records import utc_now

if TYPE_CHECKING:
    from bot.usecases.campaigns import CampaignDirectory
    from bot.usecases.home import SetupCheck


@dataclass(frozen=True)
class Services:
    """What listeners need: settings, the NLPearl client, the database and a clock."""

    settings: Settings
    nlpearl: NLPearlClient
    engine: AsyncEngine
    campaigns: CampaignDirectory
    setup: SetupCheck
    now: Callable[[], datetime] = field(default=utc_now)
