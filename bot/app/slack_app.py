"""The Bolt app: services on the context, every listener, one error handler that talks to people."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncBoltRequest, AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.install_pages import install_callbacks
from bot.app.manifest import BOT_SCOPES, INSTALL_PATH, REDIRECT_PATH
from bot.app.settings import Settings, reveal
from bot.app.slack_client import build_slack_client
from bot.app.tenancy import (
    ROTATE_MINUTES_BEFORE_EXPIRY,
    InstalledAuthorize,
    ManyWorkspaces,
    Tenancy,
)
from bot.blocks import messages
from bot.listeners import register_listeners
from bot.listeners.inflight import Track
from bot.listeners.request import workspace_of

logger = logging.getLogger(__name__)


class _DropTokenSkippedWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our client's copy wins; it is the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_LOGGER = logging.getLogger("slack_bolt.AsyncApp")
_BOLT_LOGGER.addFilter(_DropTokenSkippedWarning())


# How long someone may take between "Add to Slack" and approving the install.
STATE_EXPIRATION_SECONDS = 600


def build_slack_app(settings: Settings, tenancy: Tenancy, track: Track) -> AsyncApp:
    """An `AsyncApp` wired to each workspace's services; HTTP requests are signature-checked."""
    secret = settings.slack_signing_secret
    client = build_slack_client(settings)
    app = AsyncApp(
        logger=_BOLT_LOGGER,
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        request_verification_enabled=not settings.socket_mode,
        # Heroku-like hosts run one long-lived process: ack first, keep working after.
        process_before_response=False,
        name="lead-bot",
        **(_oauth(settings, tenancy) if isinstance(tenancy, ManyWorkspaces) else {}),
    )

    async def provide_services(
        request: AsyncBoltRequest, context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        context["services"] = await tenancy.services_for(workspace_of(request))
        context["services_for"] = tenancy.services_for
        await next()

    app.use(provide_services)
    register_listeners(app, track, multi_workspace=isinstance(tenancy, ManyWorkspaces))
    app.error(handle_error)
    return app


def _oauth(settings: Settings, tenancy: ManyWorkspaces) -> dict[str, Any]:
    """Bolt's OAuth flow and authorization for multi-workspace mode, every call to SLACK_API_URL."""
    client_id = settings.slack_client_id or ""
    client_secret = reveal(settings.slack_client_secret)
    redirect_uri = f"{settings.public_url}{REDIRECT_PATH}" if settings.public_url else None
    oauth_settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=BOT_SCOPES,
        user_scopes=[],
        redirect_uri=redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=install_callbacks(),
        installation_store=tenancy.installations,
        installation_store_bot_only=True,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        state_store=tenancy.states,
        state_expiration_seconds=STATE_EXPIRATION_SECONDS,
        logger=_BOLT_LOGGER,
    )
    return {
        "oauth_settings": oauth_settings,
        # Bolt's default would refresh tokens through a client of its own, on slack.com.
        "authorize": InstalledAuthorize(tenancy),
        "installation_store_bot_only": True,
    }


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
