"""Use case: the message answering a lookup, the lead card or a clear reason why not."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.blocks import messages
from bot.blocks.ids import CardRef
from bot.blocks.lead_card import lead_card, lead_title
from bot.blocks.privacy import Surface, card_audience
from bot.nlpearl import (
    BadCredentials,
    NLPearlClient,
    NLPearlError,
    NotFound,
    RateLimited,
    Unavailable,
)
from bot.parsing.grammar import LeadKey
from bot.records import LeadReport
from bot.usecases.lookup import look_up_lead

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardAnswer:
    """A message for Slack: the card, or a notice saying what went wrong.

    `problem` is the same failure in one line, for an error under a form field.
    """

    message: dict[str, Any]
    ref: CardRef
    report: LeadReport | None = None
    problem: str | None = None

    @property
    def found(self) -> bool:
        """Whether the message is the lead's card."""
        return self.report is not None

    def label(self, mask: bool = True) -> str:
        """Who the lead is, in a few words (for recent lookups)."""
        return lead_title(self.report, mask) if self.report else ""


async def lead_card_answer(
    nlpearl: NLPearlClient,
    ref: CardRef,
    *,
    now: datetime,
    mask_shared: bool,
    surface: Surface = "message",
) -> CardAnswer:
    """Look the lead up and render its card, or the message that says what went wrong.

    `mask_shared` is the workspace's choice to mask numbers that a channel sees
    (MASK_SHARED_PHONE_NUMBERS); `card_audience` decides from the ref and surface whether this
    card is one a channel sees.
    """
    try:
        report = await look_up_lead(nlpearl, ref.campaign_id, LeadKey(ref.kind, ref.key))
    except NotFound:
        problem = "No such lead in that campaign. Check the ID, phone number or external ID."
        return CardAnswer(messages.lead_not_found(ref.campaign_id, ref.key), ref, problem=problem)
    except BadCredentials:
        problem = "NLPearl rejected Lead Bot's API key; ask your admin to check NLPEARL_API_KEY."
        return CardAnswer(messages.nlpearl_rejected_key(), ref, problem=problem)
    except (Unavailable, RateLimited):
        problem = "NLPearl isn't responding right now. Try again in a minute."
        return CardAnswer(messages.nlpearl_unavailable(), ref, problem=problem)
    except NLPearlError as exc:
        logger.warning("NLPearl answered badly for %s: %s", ref, exc)
        problem = "NLPearl sent an answer Lead Bot couldn't read. Try again."
        return CardAnswer(messages.nlpearl_bad_answer(), ref, problem=problem)
    # Buttons refer to the lead by its NLPearl ID, whatever key found it.
    if report.lead.id:
        ref = ref.model_copy(update={"kind": "id", "key": report.lead.id})
    masked = card_audience(ref, surface, mask_shared=mask_shared).masked
    card = lead_card(report, ref, now=now, mask=masked, surface=surface)
    return CardAnswer(card, ref, report)
