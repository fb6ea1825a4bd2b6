"""Use case: the message answering a lookup, the lead card or a clear reason why not."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.blocks import messages
from bot.blocks.ids import CardRef
from bot.blocks.lead_card import lead_card, lead_title
from bot.blocks.privacy import Audience, Surface, card_audience, channel_audience
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
from bot.storage.memory import remember_lookup
from bot.storage.rows import RecentLookup
from bot.usecases.lookup import look_up_lead
from bot.usecases.services import Services, Where

logger = logging.getLogger(__name__)

# Sends a message to whoever asked, however the listener answers (respond, say, a view).
Reply = Callable[[dict[str, Any]], Awaitable[object]]


@dataclass(frozen=True)
class CardAnswer:
    """A message for Slack: the card, or a notice saying what went wrong."""

    message: dict[str, Any]
    ref: CardRef
    report: LeadReport | None = None
    # The same failure in one line, for an error under a form field.
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
    """Look the lead up and render its card, or the message that says what went wrong."""
    # `mask_shared` is the workspace's choice to mask numbers that a channel sees
    # (MASK_SHARED_PHONE_NUMBERS); `card_audience` decides from the ref and surface whether this
    # card is one a channel sees. Within the app, `card_answer` passes the policy from Services.
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


async def card_answer(services: Services, ref: CardRef, surface: Surface = "message") -> CardAnswer:
    """The lead's card (or why not), masked as the workspace's policy says for its audience."""
    return await lead_card_answer(
        services.nlpearl,
        ref,
        now=services.now(),
        mask_shared=services.mask_shared_phone_numbers,
        surface=surface,
    )


def shared_audience(services: Services) -> Audience:
    """How phone numbers show where a channel may see them, by the workspace's policy."""
    return channel_audience(services.mask_shared_phone_numbers)


async def shared_card(services: Services, ref: CardRef, user_id: str | None) -> CardAnswer:
    """The card for a channel, saying who shared it."""
    return await card_answer(services, ref.model_copy(update={"shared_by": user_id}))


async def show_card(
    services: Services, where: Where, ref: CardRef, reply: Reply, *, named: bool = True
) -> None:
    """Reply with the lead's card (or why not), then remember the lookup for the person."""
    # `named` keeps the campaign's name with it; the message shortcut has always left it out.
    answer = await card_answer(services, ref)
    await reply(answer.message)
    await remember(services, where, answer, named=named)


async def remember(
    services: Services, where: Where, answer: CardAnswer, *, named: bool = True
) -> None:
    """Keep the campaign and the lead for the person's next lookup and Home tab."""
    if not where.user_id or not answer.found or answer.ref.kind != "id":
        return
    name = answer.report.campaign_name if answer.report and named else None
    lookup = RecentLookup(answer.ref.campaign_id, answer.ref.key, answer.label(), services.now())
    try:
        await remember_lookup(services.engine, where.workspace, where.user_id, lookup, name)
    except Exception:
        # Memory is a convenience; a lookup must not fail because of it.
        logger.exception("Could not remember a lookup")
