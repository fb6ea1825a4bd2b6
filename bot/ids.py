"""Names shared by Block Kit builders and listeners, so a renamed button can't go unhandled."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.grammar import LeadKeyKind


class ActionId(StrEnum):
    """`action_id` of every interactive element."""

    REFRESH_CARD = "lead_card.refresh"
    SHARE_CARD = "lead_card.share"
    OPEN_RECORDING = "lead_card.recording"


class CardRef(BaseModel):
    """What a card's buttons carry (as JSON in `value`) to fetch the same lead again."""

    model_config = ConfigDict(frozen=True)

    campaign_id: str
    kind: LeadKeyKind
    key: str
    shared_by: str | None = None
