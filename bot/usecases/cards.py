"""Use cases: the message answering a lookup (the lead card or a clear reason why not), and
sharing a card with a whole channel."""

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
from bot.blocks.text import safe
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import (
    BadCredentials,
    NLPearlError,
    NotConnected,
    NotFound,
    RateLimited,
    Unavailable,
)
from bot.parsing.grammar import LeadKey
from bot.parsing.slack_codes import why_not_posted
from bot.parsing.slack_errors import SlackFailure
from bot.records import LeadReport
from bot.storage.memory import remember_lookup
from bot.storage.rows import RecentLookup
from bot.usecases.lookup import look_up_lead
from bot.usecases.services import Services, Where

logger = logging.getLogger(__name__)

# Sends a message to whoever asked, however the listener answers (respond, say, a view).
Reply = Callable[[dict[str, Any]], Awaitable[object]]
# Posts a message for everyone in a channel, however the listener does it (chat.postMessage, a
# response_url): None once Slack took it, else how it failed.
Post = Callable[[dict[str, Any]], Awaitable[SlackFailure | None]]

SHARE_REFUSED = messages.notice(
    "⚠️",
    "Couldn't share",
    "Slack didn't accept the shared card. Try again, or share it from a channel.",
)


@dataclass(frozen=True)
class CardAnswer:
    """A message for Slack: the card, or a notice saying what went wrong."""

    message: dict[str, Any]
    ref: CardRef
    report: LeadReport | None = None
    # The same failure in one line, for an error under a form field.
    problem: str | None = None
    # Whether NLPearl said there is no such lead (rather than failing to answer).
    missing: bool = False

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
    audience: Audience | None = None,
) -> CardAnswer:
    """Look the lead up and render its card, or the message that says what went wrong."""
    # `mask_shared` is the workspace's choice to mask numbers that a channel sees
    # (MASK_SHARED_PHONE_NUMBERS); `card_audience` decides from the ref and surface whether this
    # card is one a channel sees, unless the caller knows its `audience` (a card it posts for a
    # channel). Within the app, `card_answer` passes the policy from Services.
    try:
        report = await look_up_lead(nlpearl, ref.campaign_id, LeadKey(ref.kind, ref.key))
    except NotFound:
        problem = "No such lead in that campaign. Check the ID, phone number or external ID."
        not_found = messages.lead_not_found(ref.campaign_id, ref.key)
        return CardAnswer(not_found, ref, problem=problem, missing=True)
    except NotConnected as exc:
        problem = "Connect NLPearl first: an admin can, from Lead Bot's Home tab."
        return CardAnswer(messages.nlpearl_key_problem(exc), ref, problem=problem)
    except BadCredentials as exc:
        mend = "connect NLPearl again on Home" if exc.fix else "check NLPEARL_API_KEY"
        problem = f"NLPearl rejected Lead Bot's API key; ask your admin to {mend}."
        return CardAnswer(messages.nlpearl_key_problem(exc), ref, problem=problem)
    except (Unavailable, RateLimited):
        problem = "NLPearl isn't responding right now. Try again in a minute."
        return CardAnswer(messages.nlpearl_unavailable(), ref, problem=problem)
    except NLPearlError as exc:
        logger.warning("NLPearl answered badly for %s: %s", ref, exc)
        problem = "NLPearl sent an answer Lead Bot couldn't read. Try again."
        return CardAnswer(messages.nlpearl_bad_answer(), ref, problem=problem)
    return card_of(
        report, ref, now=now, mask_shared=mask_shared, surface=surface, audience=audience
    )


def card_of(
    report: LeadReport,
    ref: CardRef,
    *,
    now: datetime,
    mask_shared: bool,
    surface: Surface = "message",
    audience: Audience | None = None,
) -> CardAnswer:
    """The card of a lead already fetched (after an action, from NLPearl's answer)."""
    # Buttons refer to the lead by its NLPearl ID, whatever key found it.
    if report.lead.id:
        ref = ref.model_copy(update={"kind": "id", "key": report.lead.id})
    if audience is None:
        audience = card_audience(ref, surface, mask_shared=mask_shared)
    card = lead_card(report, ref, now=now, mask=audience.masked, surface=surface)
    return CardAnswer(card, ref, report)


async def card_answer(
    services: Services,
    ref: CardRef,
    surface: Surface = "message",
    audience: Audience | None = None,
) -> CardAnswer:
    """The lead's card (or why not), masked as the workspace's policy says for its audience."""
    return await lead_card_answer(
        services.nlpearl,
        ref,
        now=services.now(),
        mask_shared=services.mask_shared_phone_numbers,
        surface=surface,
        audience=audience,
    )


def shared_audience(services: Services) -> Audience:
    """How phone numbers show where a channel may see them, by the workspace's policy."""
    return channel_audience(services.mask_shared_phone_numbers)


async def shared_card(services: Services, ref: CardRef, user_id: str | None) -> CardAnswer:
    """The card for a whole channel, saying who shared it: masked as a channel sees it, always."""
    # The channel's audience is given, not read off `shared_by`: a sharer Slack did not name
    # must not unmask the card.
    shared = ref.model_copy(update={"shared_by": user_id})
    return await card_answer(services, shared, audience=shared_audience(services))


@dataclass(frozen=True)
class Shared:
    """How sharing a card went: posted, or the notice telling whoever shared it why not."""

    why_not: dict[str, Any] | None = None

    @property
    def posted(self) -> bool:
        """Whether the card is in the channel."""
        return self.why_not is None


async def share_card(
    services: Services,
    ref: CardRef,
    shared_by: str | None,
    post: Post,
    *,
    channel: str | None = None,
) -> Shared:
    """Post the lead's card for a whole channel, saying who shared it, or say why not."""
    # `channel` is the one chosen in a modal; None is the channel the Share button is in.
    answer = await shared_card(services, ref, shared_by)
    if not answer.found:
        return Shared(why_not=answer.message)
    failure = await post(answer.message)
    if failure is None:
        return Shared()
    if channel is None:
        return Shared(why_not=SHARE_REFUSED)
    why = why_not_posted(failure.kind, channel, safe(failure.error, 80))
    return Shared(why_not=messages.notice("⚠️", "Couldn't post the card", why))


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
