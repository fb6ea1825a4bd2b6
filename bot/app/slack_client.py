"""The Slack Web API client: one base URL (SLACK_API_URL) for every call, and its retries."""

from __future__ import annotations

from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.settings import Settings


def build_slack_client(
    settings: Settings, *, retries: bool = True, token: str | None = None
) -> AsyncWebClient:
    """The Web API client, retrying connection errors, 5xx and 429s unless told not to.

    `token` defaults to SLACK_BOT_TOKEN; in multi-workspace mode, a workspace's bot token.
    """
    # The delivery loop retries by itself: a post that failed may still have reached the channel, so
    # it looks for it before posting again, and backs the channel off for every worker on a 429. A
    # blind retry here could post twice.
    if token is None and settings.slack_bot_token is not None:
        token = settings.slack_bot_token.get_secret_value()
    handlers: list[Any] = []
    if retries:
        handlers = [
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ]
    return AsyncWebClient(
        token=token, base_url=settings.slack_api_url, timeout=10, retry_handlers=handlers
    )
