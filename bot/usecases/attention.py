"""Use case: the leads of a campaign needing attention (errors, bad numbers, unreachable)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import views
from bot.blocks.attention import attention_modal
from bot.blocks.ids import AttentionRef
from bot.nlpearl.errors import NLPearlError
from bot.nlpearl.models import Call, Lead
from bot.nlpearl.names import campaign_or_none
from bot.nlpearl.statuses import NEEDING_ATTENTION
from bot.usecases.modals import problem_message
from bot.usecases.permissions import actor_of
from bot.usecases.services import Services, Where

logger = logging.getLogger(__name__)

# Error, WrongCountryCode, Unreachable (reference §4.1): leads the campaign can't get through to.
ATTENTION_STATUSES = NEEDING_ATTENTION
PAGE_SIZE = 10
TITLE = "Needs attention"


async def attention_view(
    services: Services, client: AsyncWebClient, where: Where, ref: AttentionRef
) -> dict[str, Any]:
    """A page of the campaign's leads needing attention, with fixes for those who may act."""
    page = max(0, ref.page)
    try:
        found, campaign = await asyncio.gather(
            services.nlpearl.search_leads(
                ref.campaign_id,
                statuses=ATTENTION_STATUSES,
                skip=page * PAGE_SIZE,
                limit=PAGE_SIZE,
            ),
            campaign_or_none(services.nlpearl, ref.campaign_id, wait=None),
        )
    except NLPearlError as exc:
        return views.notice_modal(TITLE, problem_message(exc))
    rows = found.results[:PAGE_SIZE]
    leads = await asyncio.gather(*(_with_last_call(services, ref, lead) for lead in rows))
    actor = await actor_of(client, services.engine, where.workspace, where.user_id)
    count = found.count if found.count is not None else _at_least(page, len(rows))
    name = campaign.name if campaign else None
    shown = ref.model_copy(update={"page": page})
    return attention_modal(shown, name, list(leads), count, may_act=actor.may_act)


def _at_least(page: int, rows: int) -> int:
    """A count when NLPearl gave none: what we have seen, and one more page if this one is full."""
    return page * PAGE_SIZE + rows + (1 if rows >= PAGE_SIZE else 0)


async def _with_last_call(
    services: Services, ref: AttentionRef, lead: Lead
) -> tuple[Lead, Call | None]:
    """The lead in full, for its last call: search results are slim rows without it."""
    if not lead.id:
        return lead, None
    try:
        full = await services.nlpearl.get_lead(ref.campaign_id, lead.id)
    except NLPearlError as exc:
        logger.info("Lead %s could not be read for the attention list: %s", lead.id, exc)
        return lead, None
    return full, full.last_call
