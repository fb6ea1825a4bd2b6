"""Use case: the message answering a lookup, the lead card or a clear reason why not."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.blocks import messages
from bot.blocks.lead_card import lead_card
from bot.grammar import LeadKey
from bot.ids import CardRef
from bot.lookup import look_up_lead
from bot.nlpearl import (
    BadCredentials,
    NLPearlClient,
    NLPearlError,
    NotFound,
    RateLimited,
    Unavailable,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardAnswer:
    """A message for Slack; `found` is False when it explains a failure instead of a card."""

    message: dict[str, Any]
    found: bool


async def lead_card_answer(
    nlpearl: NLPearlClient, ref: CardRef, *, now: datetime, mask: bool
) -> CardAnswer:
    """Look the lead up and render its card, or the message that says what went wrong."""
    try:
        report = await look_up_lead(nlpearl, ref.campaign_id, LeadKey(ref.kind, ref.key))
    except NotFound:
        return CardAnswer(messages.lead_not_found(ref.campaign_id, ref.key), found=False)
    except BadCredentials:
        return CardAnswer(messages.nlpearl_rejected_key(), found=False)
    except (Unavailable, RateLimited):
        return CardAnswer(messages.nlpearl_unavailable(), found=False)
    except NLPearlError as exc:
        logger.warning("NLPearl answered badly for %s: %s", ref, exc)
        return CardAnswer(messages.nlpearl_bad_answer(), found=False)
    # Buttons refer to the lead by its NLPearl ID, whatever key found it.
    if report.lead.id:
        ref = ref.model_copy(update={"kind": "id", "key": report.lead.id})
    return CardAnswer(lead_card(report, ref, now=now, mask=mask), found=True)
