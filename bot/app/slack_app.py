"""The Bolt app: services on the context, every listener, one error handler that talks to people."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.settings import Settings
from bot.blocks import messages
from bot.listeners import register_listeners
from bot.listeners.inflight import Track
from bot.usecases.services import Services

logger = logging.getLogger(__name__)


def build_slack_client(settings: Settings, *, retries: bool = True) -> AsyncWebClient:
    """The Web API client, retrying connection errors, 5xx and 429s unless told not to."""
    # The delivery loop retries by itself: a post that failed may still have reached the channel, so
    # it looks for it before posting again, and backs the channel off for every worker on a 429. A
    # blind retry here could post twice.
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
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


class _DropTokenSkippedWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our client's copy wins; it is the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_LOGGER = logging.getLogger("slack_bolt.AsyncApp")
_BOLT_LOGGER.addFilter(_DropTokenSkippedWarning())


def build_slack_app(settings: Settings, services: Services, track: Track) -> AsyncApp:
    """An `AsyncApp` wired to the services; HTTP requests are signature-checked."""
    secret = settings.slack_signing_secret
    app = AsyncApp(
        logger=_BOLT_LOGGER,
        client=build_slack_client(settings),
        signing_secret=secret.get_secret_value() if secret else None,
        request_verification_enabled=not settings.socket_mode,
        # Heroku-like hosts run one long-lived process: ack first, keep working after.
        process_before_response=False,
        name="lead-bot",
    )

    async def provide_services(
        context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        context["services"] = services
        await next()

    app.use(provide_services)
    register_listeners(app, track)
    app.error(handle_error)
    return app


async def handle_error(
    error: Exception, respond: AsyncRespond | None, client: AsyncWebClient
) -> BoltResponse:
    """Log with a reference, tell the person in Slack, and never show a stack trace there."""
    # Bolt also runs this for errors in its own middleware, before its signature check, with a
    # `respond` aimed at whatever response_url the body names. It never sees an unverified
    # request, because `slack_gate.admit` verifies first; posting only to Slack's own hosts
    # keeps a forged body from aiming this anywhere should that ever change.
    reference = uuid.uuid4().hex[:12]
    logger.exception("Unhandled error (reference %s)", reference, exc_info=error)
    target = respond.response_url if respond is not None else None
    if target is not None and not is_slack_url(target, client.base_url):
        logger.warning("Not telling the user about error %s: not a Slack response_url", reference)
    elif respond is not None:
        try:
            await respond(**messages.unexpected_error(reference), replace_original=False)
        except Exception:
            logger.exception("Could not tell the user about error %s", reference)
    return BoltResponse(status=200, body="")


def is_slack_url(url: object, api_url: str) -> bool:
    """Whether `url` is on Slack's response_url host or on the configured Web API's origin."""
    if not isinstance(url, str):
        return False
    try:
        target, api = urlsplit(url), urlsplit(api_url)
        origin = (target.scheme, target.hostname, target.port)
        api_origin = (api.scheme, api.hostname, api.port)
    except ValueError:  # a port that is not a number, a broken IPv6 address
        return False
    hooks = {"hooks.slack.com", f"hooks.{api.hostname}"}
    on_hooks = target.scheme == "https" and target.port in (None, 443) and target.hostname in hooks
    return origin == api_origin or on_hooks
