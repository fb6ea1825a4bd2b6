"""The campaign picker: the account's campaigns, cached and refreshed in the background, never
slow, and the options offered for what was typed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bot.blocks import views
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import NLPearlError
from bot.nlpearl.models import Pearl
from bot.parsing.grammar import OBJECT_ID

logger = logging.getLogger(__name__)

FRESH_SECONDS = 300.0
OUTBOUND = 2


class CampaignDirectory:
    """Answers from NLPearl when it is quick, else from the last list it got."""

    def __init__(
        self, nlpearl: NLPearlClient, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._nlpearl = nlpearl
        self._clock = clock
        self._campaigns: list[Pearl] = []
        self._fetched_at: float | None = None
        self._refreshing: asyncio.Task[None] | None = None

    async def campaigns(self, wait: float) -> list[Pearl]:
        """The campaigns, waiting at most `wait` seconds for a fresh list."""
        if self._fresh():
            return self._campaigns
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._refresh())
        # The refresh keeps going after a timeout, so a slow NLPearl fills the cache for next time.
        await asyncio.wait({self._refreshing}, timeout=wait)
        return self._campaigns

    def _fresh(self) -> bool:
        """Whether the list was fetched less than FRESH_SECONDS ago."""
        return self._fetched_at is not None and self._clock() - self._fetched_at < FRESH_SECONDS

    async def _refresh(self) -> None:
        """Fetch the list; on failure keep the old one, still stale, so the next call asks."""
        try:
            campaigns = await self._nlpearl.list_campaigns()
        except NLPearlError as exc:
            logger.warning("Could not list campaigns: %s", exc)
            return
        self._campaigns = campaigns
        self._fetched_at = self._clock()


async def campaign_options(
    directory: CampaignDirectory, typed: str, *, wait: float
) -> list[dict[str, Any]]:
    """Outbound campaigns whose name or ID contains what was typed; a typed ID always shows."""
    typed = typed.strip()
    wanted = typed.lower()
    options = [
        views.campaign_option(c.id, c.name)
        for c in await directory.campaigns(wait=wait)
        if c.id
        and c.type in (None, OUTBOUND)
        and (wanted in (c.name or "").lower() or wanted in c.id.lower())
    ][: views.MAX_OPTIONS]
    if OBJECT_ID.match(typed) and not any(o["value"] == wanted for o in options):
        options.insert(0, views.campaign_option(wanted, "Use this ID"))
    return options[: views.MAX_OPTIONS]
