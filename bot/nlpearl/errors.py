"""Errors of the NLPearl client: a small family, each a different thing to tell a person."""

from __future__ import annotations


class NLPearlError(Exception):
    """Something went wrong talking to NLPearl."""


class NotFound(NLPearlError):
    """NLPearl has no such lead, call or campaign."""


class BadCredentials(NLPearlError):
    """NLPearl rejected the API key (401/403)."""


class RateLimited(NLPearlError):
    """NLPearl kept answering 429 within the time we could wait."""


class Unavailable(NLPearlError):
    """NLPearl did not answer, or answered 5xx, within the time we could wait."""


class BadResponse(NLPearlError):
    """NLPearl answered with something we cannot read, or rejected the request as invalid."""
