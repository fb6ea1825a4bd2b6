"""Use case: a webhook arrives; commit it to the outbox once, or say why not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.notify.payloads import BadPayload, LeadChange, lead_key, parse_webhook
from bot.storage.inbox import IncomingEvent, Outcome, store_webhook, token_exists


@dataclass(frozen=True)
class Receipt:
    """The HTTP answer for NLPearl, and whether delivery should look for new work."""

    status_code: int
    body: dict[str, Any]
    queued: int = 0


UNKNOWN = Receipt(404, {"error": "unknown webhook URL"})


async def receive_webhook(engine: AsyncEngine, token: str, payload: Any, now: datetime) -> Receipt:
    """Read, dedupe and store one webhook body; nothing is written unless all of it is."""
    try:
        event = parse_webhook(payload)
    except BadPayload as exc:
        if not await token_exists(engine, token):
            return UNKNOWN
        return Receipt(400, {"error": f"not a webhook Lead Bot can read: {exc}"})
    incoming = IncomingEvent(
        kind=event.kind,
        dedupe_key=event.dedupe_key,
        lead_key=lead_key(event),
        lead_status=event.lead.status if isinstance(event, LeadChange) else None,
        payload=payload,
    )
    stored = await store_webhook(engine, token, incoming, now)
    if stored.outcome is Outcome.UNKNOWN_TOKEN:
        return UNKNOWN
    if stored.outcome is Outcome.DUPLICATE:
        return Receipt(200, {"status": "duplicate"})
    return Receipt(200, {"status": "stored", "queued": stored.queued}, stored.queued)
