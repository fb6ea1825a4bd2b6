"""What the use case tests share: the sample lead's ref, its phone as shown, and services."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from bot.app.sample import SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID
from bot.blocks.ids import CardRef
from bot.usecases.services import Services

NOW = datetime(2025, 3, 6, 12, 0, tzinfo=UTC)
REF = CardRef(campaign_id=SAMPLE_CAMPAIGN_ID, kind="id", key=SAMPLE_LEAD_ID)
FULL_PHONE = "+1 415-555-0137"
MASKED_PHONE = "•••• 0137"


def services(*, mask_shared: bool = True) -> Services:
    """Services as the card use cases read them (NLPearl is the `sample_lead` fixture's)."""
    return cast(
        Services,
        SimpleNamespace(nlpearl=None, mask_shared_phone_numbers=mask_shared, now=lambda: NOW),
    )


def text_of(message: dict[str, Any]) -> str:
    """A message as JSON, non-ASCII kept, to look for words and numbers in."""
    return json.dumps(message, ensure_ascii=False)
