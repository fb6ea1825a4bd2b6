"""Use case: everything the lead card shows, fetched in two round trips to NLPearl."""

from __future__ import annotations

import asyncio
import logging

from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import NLPearlError
from bot.nlpearl.models import Lead
from bot.nlpearl.names import campaign_or_none
from bot.parsing.grammar import LeadKey
from bot.records import CallSlot, LeadReport

logger = logging.getLogger(__name__)

CALLS_ON_CARD = 5
CALL_FETCH_CONCURRENCY = 8


async def fetch_lead(nlpearl: NLPearlClient, campaign_id: str, key: LeadKey) -> Lead:
    """The lead a key names in the campaign."""
    if key.kind == "id":
        return await nlpearl.get_lead(campaign_id, key.value)
    if key.kind == "phone":
        return await nlpearl.get_lead_by_phone(campaign_id, key.value)
    return await nlpearl.get_lead_by_external_id(campaign_id, key.value)


async def look_up_lead(
    nlpearl: NLPearlClient, campaign_id: str, key: LeadKey, *, calls_on_card: int = CALLS_ON_CARD
) -> LeadReport:
    """The lead, its campaign and its latest calls; lead errors propagate, call errors do not."""
    # The campaign is fetched alongside the lead, so it may take as long as the lead does.
    lead, campaign = await asyncio.gather(
        fetch_lead(nlpearl, campaign_id, key), campaign_or_none(nlpearl, campaign_id, wait=None)
    )
    calls = await fetch_latest_calls(nlpearl, lead, calls_on_card)
    return LeadReport(campaign_id, campaign, lead, calls)


async def fetch_latest_calls(
    nlpearl: NLPearlClient, lead: Lead, limit: int
) -> tuple[CallSlot, ...]:
    """The lead's newest calls, concurrently and bounded; one that fails is kept as unavailable."""
    # callsId grows as calls are placed, so its tail holds the newest calls.
    call_ids = list(dict.fromkeys(lead.calls_id))[-limit:] if limit > 0 else []
    if not call_ids and lead.last_call and lead.last_call.id:
        return (CallSlot(lead.last_call.id, lead.last_call),)
    return await fetch_calls(nlpearl, call_ids, lead)


async def fetch_calls(
    nlpearl: NLPearlClient, call_ids: list[str], lead: Lead
) -> tuple[CallSlot, ...]:
    """These calls, fetched concurrently (bounded), newest first; failures kept as unavailable."""
    gate = asyncio.Semaphore(CALL_FETCH_CONCURRENCY)

    async def load(call_id: str) -> CallSlot:
        async with gate:
            try:
                return CallSlot(call_id, await nlpearl.get_call(call_id))
            except NLPearlError as exc:
                logger.warning("Call %s could not be loaded: %s", call_id, exc)
                last = lead.last_call
                return CallSlot(call_id, last if last and last.id == call_id else None)

    slots = await asyncio.gather(*(load(call_id) for call_id in call_ids))
    # Newest first by start time; calls without one keep their callsId order, newest first.
    ordered = sorted(enumerate(slots), key=lambda pair: _newest_first(*pair))
    return tuple(slot for _, slot in ordered)


def _newest_first(position: int, slot: CallSlot) -> tuple[bool, float, int]:
    started = slot.call.start_time if slot.call else None
    return (started is None, -started.timestamp() if started else 0.0, -position)
