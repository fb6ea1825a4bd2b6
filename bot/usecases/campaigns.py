"""All the account's campaigns, for the picker: cached, refreshed in the background, never slow."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.nlpearl import NLPearlClient, NLPearlError, Pearl

logger = logging.getLogger(__name__)

FRESH_SECONDS = 300.0


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
