"""Names shared by Block Kit builders and listeners, so a renamed button can't go unhandled."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.nlpearl.lead_actions import Verb
from bot.parsing.grammar import LeadKeyKind

# Slack caps an overflow option's value at 150 characters; an ActRef must fit.
MAX_OPTION_VALUE = 150


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
    # Acting on a lead: the card's primary button and its overflow menu, then what follows.
    LEAD_PRIMARY = "lead.act"
    LEAD_MENU = "lead.menu"
    ADD_ANYWAY = "lead.add_anyway"
    HOME_WHO_MAY_ACT = "home.who_may_act"
    # The campaign card's buttons.
    CAMPAIGN_PAUSE = "campaign.pause"
    CAMPAIGN_RESUME = "campaign.resume"
    CAMPAIGN_REFRESH = "campaign.refresh"
    CAMPAIGN_SHARE = "campaign.share"
    CAMPAIGN_ATTENTION = "campaign.attention"
    ATTENTION_PAGE = "attention.page"
    # Opening a campaign's card: under the lookup form's picker, and per campaign on Home
    # (numbered there, "home.campaign.<n>", as action IDs must differ within a view).
    LOOKUP_SHOW_CAMPAIGN = "lookup.show_campaign"
    HOME_CAMPAIGN = "home.campaign"
    GRANT_USERGROUPS = "grants.usergroups"
    # Multi-workspace mode: an admin connects, replaces or disconnects the NLPearl account.
    HOME_CONNECT_NLPEARL = "home.connect_nlpearl"
    HOME_DISCONNECT_NLPEARL = "home.disconnect_nlpearl"
    NLPEARL_ACCOUNT_ID = "connect.account_id"
    NLPEARL_SECRET = "connect.secret"


class BlockId(StrEnum):
    """`block_id` of modal inputs, where `response_action: errors` puts its messages."""

    CAMPAIGN = "campaign"
    LEAD_KEY = "lead"
    PICK_LEAD = "pick"
    POST_CHANNEL = "post_to"
    PHONE = "phone"
    EXTERNAL_ID = "external_id"
    TIME_ZONE = "time_zone"
    # One input per existing call-data key is "data.<n>"; new pairs go in NEW_DATA, a line each.
    CALL_DATA = "data"
    NEW_DATA = "new_data"
    GRANT_USERS = "grant_users"
    GRANT_USERGROUPS = "grant_usergroups"
    SHOW_CAMPAIGN = "show_campaign"
    NLPEARL_ACCOUNT_ID = "nlpearl_account_id"
    NLPEARL_SECRET = "nlpearl_secret"


class ViewId(StrEnum):
    """`callback_id` of modals and shortcuts."""

    LOOKUP = "lookup_modal"
    PICK = "pick_modal"
    CARD = "card_modal"
    TRANSCRIPT = "transcript_modal"
    CALLS = "calls_modal"
    HELP = "help_modal"
    LOADING = "loading_modal"
    CONNECT_NLPEARL = "connect_nlpearl_modal"
    GLOBAL_SHORTCUT = "lead_lookup"
    MESSAGE_SHORTCUT = "lead_from_message"
    CONFIRM_ACTION = "confirm_action_modal"
    EDIT_LEAD = "edit_lead_modal"
    ADD_LEAD = "add_lead_modal"
    ADD_DUPLICATE = "add_duplicate_modal"
    WHO_MAY_ACT = "who_may_act_modal"
    ADD_SHORTCUT = "lead_add"
    ADD_FROM_MESSAGE = "lead_add_from_message"
    CONFIRM_CAMPAIGN = "confirm_campaign_modal"
    ATTENTION = "attention_modal"
    CAMPAIGN = "campaign_modal"


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


class ActRef(BaseModel):
    """What an action button or menu option carries: the action, the lead, the status it saw.

    Short keys keep it within an overflow option's 150 characters.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    verb: Verb = Field(alias="v")
    campaign_id: str = Field(alias="c")
    lead_id: str = Field(alias="l")
    # The lead's status when the card was drawn: acting on any other asks again.
    seen_status: int | None = Field(default=None, alias="s")
    # Where the button is: a lead card, or a lead's parent message in a channel's feed.
    origin: Literal["card", "feed"] = Field(default="card", alias="o")

    def value(self) -> str:
        """The compact JSON a button or option carries."""
        return self.model_dump_json(by_alias=True, exclude_none=True, exclude_defaults=False)


class Pending(BaseModel):
    """An action awaiting confirmation (a modal's private_metadata): what, and what to redraw."""

    model_config = ConfigDict(frozen=True)

    act: ActRef
    # The card to redraw after the action (None for a feed message, which the feed redraws).
    card: CardRef | None = None
    # Where the clicked card is: a message (its response_url), or a modal under this one.
    response_url: str | None = None
    view_id: str | None = None
    # The feed message clicked, redrawn directly whatever became of its channel's subscription.
    channel_id: str | None = None
    message_ts: str | None = None
    # A fingerprint of the fields the edit form started from (Edit lead only).
    fingerprint: str | None = None


class AddDraft(BaseModel):
    """A lead someone asked to add, carried by "Add anyway" while its twin is shown."""

    model_config = ConfigDict(frozen=True)

    campaign_id: str
    phone_number: str
    external_id: str | None = None
    time_zone_id: str | None = None
    call_data: dict[str, Any] = {}


class CampaignRef(BaseModel):
    """What a campaign card's buttons carry: the campaign, and who shared the card, if anyone."""

    model_config = ConfigDict(frozen=True)

    campaign_id: str
    shared_by: str | None = None
    # The campaign's activity status when the card was drawn (Pause and Resume only).
    seen_status: int | None = None


class CampaignPending(BaseModel):
    """Pausing or resuming awaiting confirmation (a modal's private_metadata)."""

    model_config = ConfigDict(frozen=True)

    campaign_id: str
    # True to run the campaign, False to pause it.
    active: bool
    seen_status: int | None = None
    # The card to redraw: a message (its response_url) and who shared it, if anyone.
    response_url: str | None = None
    shared_by: str | None = None


class AttentionRef(BaseModel):
    """A page of a campaign's leads needing attention (Error, WrongCountryCode, Unreachable)."""

    model_config = ConfigDict(frozen=True)

    campaign_id: str
    page: int = 0
