"""NLPearl API edge: typed async client, models and errors (imports only httpx and pydantic)."""

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
]
