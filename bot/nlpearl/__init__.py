"""NLPearl API edge: typed async client, models, errors and campaign naming (httpx, pydantic)."""

from bot.nlpearl.client import DEFAULT_TIMEOUT, NLPearlClient, RetryPolicy
from bot.nlpearl.errors import (
    BadCredentials,
    BadResponse,
    NLPearlError,
    NotFound,
    RateLimited,
    Unavailable,
)
from bot.nlpearl.models import Call, CollectedInfo, Lead, Pearl, TranscriptMessage
from bot.nlpearl.names import campaign_name, campaign_or_none

__all__ = [
    "DEFAULT_TIMEOUT",
    "BadCredentials",
    "BadResponse",
    "Call",
    "CollectedInfo",
    "Lead",
    "NLPearlClient",
    "NLPearlError",
    "NotFound",
    "Pearl",
    "RateLimited",
    "RetryPolicy",
    "TranscriptMessage",
    "Unavailable",
    "campaign_name",
    "campaign_or_none",
]
