"""The name of a campaign, quickly, or None: a nicety that never fails or stalls its caller."""

from __future__ import annotations

import asyncio
import logging

from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import NLPearlError, NotFound
from bot.nlpearl.models import Pearl

logger = logging.getLogger(__name__)

# Long enough for a cached or healthy NLPearl, short enough that a post does not wait on it.
NAME_WAIT_SECONDS = 3.0


async def campaign_or_none(
    nlpearl: NLPearlClient,
    campaign_id: str,
    *,
    wait: float | None = NAME_WAIT_SECONDS,
    unknown_raises: bool = False,
) -> Pearl | None:
    """The campaign within `wait` seconds (None: the client's own deadline), else None.

    With `unknown_raises`, a campaign NLPearl says does not exist raises NotFound: for callers
    that must refuse it rather than show its ID.
    """
    try:
        return await asyncio.wait_for(nlpearl.get_campaign(campaign_id), wait)
    except NotFound:
        if unknown_raises:
            raise
        logger.debug("Campaign %s name unavailable: not found", campaign_id)
        return None
    except (NLPearlError, TimeoutError) as exc:
        # Debug, not info: while NLPearl is down every feed batch would say it again.
        logger.debug(
            "Campaign %s name unavailable: %s", campaign_id, str(exc) or "no answer in time"
        )
        return None


async def campaign_name(
    nlpearl: NLPearlClient,
    campaign_id: str,
    *,
    wait: float | None = NAME_WAIT_SECONDS,
    unknown_raises: bool = False,
) -> str | None:
    """The campaign's name within `wait` seconds, else None (callers show its ID instead)."""
    campaign = await campaign_or_none(
        nlpearl, campaign_id, wait=wait, unknown_raises=unknown_raises
    )
    return campaign.name if campaign else None
