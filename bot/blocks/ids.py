"""Names shared by Block Kit builders and listeners, so a renamed button can't go unhandled."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.parsing.grammar import LeadKeyKind


class ActionId(StrEnum):
    """`action_id` of every interactive element."""

    REFRESH_CARD = "lead_card.refresh"
    SHARE_CARD = "lead_card.share"
    OPEN_RECORDING = "lead_card.recording"
    TRANSCRIPT = "lead_card.transcript"
    ALL_CALLS = "lead_card.all_calls"
    TRANSCRIPT_PAGE = "transcript.page"
    CALLS_PAGE = "calls.page"
    CAMPAIGN = "lookup.campaign"
    LEAD_KEY = "lookup.lead"
    PICK_LEAD = "pick.lead"
    POST_CHANNEL = "card.post_channel"
    HOME_LOOKUP = "home.lookup"
    HOME_HELP = "home.help"
    HOME_RECENT = "home.recent"


class BlockId(StrEnum):
    """`block_id` of modal inputs, where `response_action: errors` puts its messages."""

    CAMPAIGN = "campaign"
    LEAD_KEY = "lead"
    PICK_LEAD = "pick"
    POST_CHANNEL = "post_to"


class ViewId(StrEnum):
    """`callback_id` of modals and shortcuts."""

    LOOKUP = "lookup_modal"
    PICK = "pick_modal"
    CARD = "card_modal"
    TRANSCRIPT = "transcript_modal"
    CALLS = "calls_modal"
    HELP = "help_modal"
    LOADING = "loading_modal"
    GLOBAL_SHORTCUT = "lead_lookup"
    MESSAGE_SHORTCUT = "lead_from_message"


class CardRef(BaseModel):
    """What a card's buttons carry (as JSON in `value`) to fetch the same lead again."""

    model_config = ConfigDict(frozen=True)

    campaign_id: str
    kind: LeadKeyKind
    key: str
    shared_by: str | None = None


class CallRef(BaseModel):
    """A call of a lead, for the Transcript button and transcript pages."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    page: int = 0


class CallsRef(BaseModel):
    """A page of a lead's call list."""

    model_config = ConfigDict(frozen=True)

    campaign_id: str
    lead_id: str
    page: int = 0
