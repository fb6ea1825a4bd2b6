"""Use case: a webhook arrives; commit it to the outbox once, or say why not.

Every body gets the same answer on every database: 2xx when it is stored (or was already),
4xx with the reason when it never can be, and 503 only when the database cannot be reached,
the one case where NLPearl sending it again helps.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.parsing.storable import read_json
from bot.parsing.webhooks import (
    BadPayload,
    LeadChange,
    WebhookEvent,
    lead_key,
    parse_webhook,
)
from bot.storage.faults import in_few_words, refused_data
from bot.storage.inbox import IncomingEvent, Outcome, Stored, store_webhook, token_exists

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    """The HTTP answer for NLPearl, and whether delivery should look for new work."""

    status_code: int
    body: dict[str, Any]
    queued: int = 0


UNKNOWN = Receipt(404, {"error": "unknown webhook URL"})
UNAVAILABLE = Receipt(
    503, {"error": "the database cannot be reached right now; please send the webhook again"}
)
UNSTORABLE = Receipt(
    422, {"error": "the database refused this webhook's data; sending it again will not help"}
)


async def receive_webhook(
    engine: AsyncEngine, token: str, body: bytes, now: datetime, *, swept: bool = False
) -> Receipt:
    """Read, dedupe and store one webhook body; nothing is written unless all of it is.

    `swept` for a change the sweep found: stored the same way, but not counted as NLPearl
    calling the webhook URL.
    """
    try:
        event = parse_webhook(read_json(body))
    except BadPayload as exc:
        unreadable = Receipt(400, {"error": f"not a webhook Lead Bot can read: {exc}"})
        return await _database(_known_or_unknown(engine, token, unreadable))
    return await _database(_store(engine, token, event, now, swept))


async def _known_or_unknown(engine: AsyncEngine, token: str, answer: Receipt) -> Receipt:
    # An unknown token learns nothing about what a good body looks like.
    return answer if await token_exists(engine, token) else UNKNOWN


async def _store(
    engine: AsyncEngine, token: str, event: WebhookEvent, now: datetime, swept: bool
) -> Receipt:
    return answer(await store_webhook(engine, token, incoming(event, swept=swept), now))


async def _database(work: Coroutine[Any, Any, Receipt]) -> Receipt:
    """The answer of `work`, or what to tell NLPearl when the database failed it."""
    try:
        return await work
    except DATABASE_ERRORS as exc:
        return failed(exc)


DATABASE_ERRORS = (sa_exc.SQLAlchemyError, OSError)


def failed(exc: BaseException) -> Receipt:
    """What to tell NLPearl when the database failed to store its webhook."""
    if not refused_data(exc):
        logger.warning(
            "Could not store a webhook, the database is unavailable: %s",
            in_few_words(getattr(exc, "orig", None) or exc),
        )
        return UNAVAILABLE
    logger.error(
        "The database refused a webhook's data (answered 422): %s",
        in_few_words(getattr(exc, "orig", None) or exc),
    )
    return UNSTORABLE


def incoming(event: WebhookEvent, *, swept: bool = False) -> IncomingEvent:
    """What the inbox stores of an event: its keys (each fits its column) and its clean body."""
    return IncomingEvent(
        kind=event.kind,
        dedupe_key=event.dedupe_key,
        lead_key=lead_key(event),
        lead_status=event.lead.status if isinstance(event, LeadChange) else None,
        payload=event.payload,
        stale_after=event.stale_after,
        serial=event.serial,
        from_nlpearl=not swept,
    )


def answer(stored: Stored) -> Receipt:
    """The HTTP answer for what became of a webhook."""
    if stored.outcome is Outcome.UNKNOWN_TOKEN:
        return UNKNOWN
    if stored.outcome is Outcome.DUPLICATE:
        return Receipt(200, {"status": "duplicate"})
    if stored.outcome is Outcome.STALE:
        return Receipt(200, {"status": "stale"})
    return Receipt(200, {"status": "stored", "queued": stored.queued}, stored.queued)
