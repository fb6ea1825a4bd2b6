"""Errors of the NLPearl client: a small family, each a different thing to tell a person."""

from __future__ import annotations


class NLPearlError(Exception):
    """Something went wrong talking to NLPearl."""


class NotFound(NLPearlError):
    """NLPearl has no such lead, call or campaign."""


class BadCredentials(NLPearlError):
    """NLPearl rejected the API key (401/403); `fix` tells a person how to mend it, if known."""

    fix: str | None = None


class NotConnected(BadCredentials):
    """This workspace has connected no NLPearl account yet (multi-workspace mode)."""

    def __init__(self, message: str = "no NLPearl account is connected") -> None:
        super().__init__(message)


class RateLimited(NLPearlError):
    """NLPearl kept answering 429 within the time we could wait."""


class Unavailable(NLPearlError):
    """NLPearl did not answer, or answered 5xx, within the time we could wait."""


class BadResponse(NLPearlError):
    """NLPearl answered with something we cannot read, or an HTTP status we do not expect."""


class Unconfirmed(Unavailable):
    """A change was sent, but NLPearl did not say whether it happened (timeout, 5xx, hang-up)."""

    def __init__(
        self, message: str = "NLPearl did not confirm the change; it may or may not have happened"
    ) -> None:
        super().__init__(message)


class Rejected(NLPearlError):
    """NLPearl refused a change as invalid (400, 409, 422); `reason` is its own words, if any."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
