"""Socket Mode: connect in the background, retry what may pass, give up on a refused token."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.parsing.slack_errors import SLACK_FAILURES, classify

logger = logging.getLogger(__name__)

OPEN_TIMEOUT_SECONDS = 10
# The SDK retries a WebSocket that will not open with the same URL; past this, ask for a new one.
CONNECT_TIMEOUT_SECONDS = 30.0
CLOSE_TIMEOUT_SECONDS = 3.0
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0


# The SDK logs each failed connection attempt with a traceback; its message alone says why.
_CONNECTION_FAILURES = ("Failed to connect", "Failed to close the old session")


class _OneLine(logging.Filter):
    """One line per SDK record; tracebacks only where they point at a bug, not a network."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = " ".join(record.getMessage().split())
        record.args = None
        if record.msg.startswith(_CONNECTION_FAILURES):
            record.exc_info = None
            record.exc_text = None
        return True


_SDK_LOGGER = logging.getLogger("slack_sdk.socket_mode")
_SDK_LOGGER.addFilter(_OneLine())


def refused_sentence(error: str) -> str:
    """What to do when Slack refuses the app-level token with `error`."""
    return (
        f"Slack refused SLACK_APP_TOKEN ({error}): create an app-level token with the "
        "connections:write scope under Basic Information → App-Level Tokens, turn on Socket "
        "Mode in the app settings, and set SLACK_APP_TOKEN to the new token."
    )


def socket_mode_web_client(api_url: str) -> AsyncWebClient:
    """A client for apps.connections.open at SLACK_API_URL; the caller decides on retries."""
    return AsyncWebClient(base_url=api_url, timeout=OPEN_TIMEOUT_SECONDS, retry_handlers=[])


@contextlib.asynccontextmanager
async def socket_mode(
    app: AsyncApp, app_token: str, api_url: str, give_up: Callable[[], None]
) -> AsyncIterator[None]:
    """Hold a Socket Mode connection while the block runs, without waiting for it to open."""
    # `give_up` is called once if Slack refuses the token; the process should then stop.
    handler = AsyncSocketModeHandler(
        app, app_token, logger=_SDK_LOGGER, web_client=socket_mode_web_client(api_url)
    )
    connecting = asyncio.create_task(_connect(handler, api_url, give_up))
    try:
        yield
    finally:
        # One budget for both, so Socket Mode adds at most a few seconds to a shutdown.
        connecting.cancel()
        closing = asyncio.ensure_future(handler.close_async())  # type: ignore[no-untyped-call]
        _, late = await asyncio.wait({connecting, closing}, timeout=CLOSE_TIMEOUT_SECONDS)
        if late:
            logger.warning("Socket Mode did not close within %.0f s", CLOSE_TIMEOUT_SECONDS)
            closing.cancel()


async def _connect(
    handler: AsyncSocketModeHandler, api_url: str, give_up: Callable[[], None]
) -> None:
    """Connect, retrying with back-off until connected or refused."""
    client = handler.client
    delay = FIRST_RETRY_SECONDS
    while True:
        try:
            opened = await client.web_client.apps_connections_open(app_token=handler.app_token)
            client.wss_uri = str(opened["url"])
            connecting = client.connect()  # type: ignore[no-untyped-call]
            await asyncio.wait_for(connecting, CONNECT_TIMEOUT_SECONDS)
        except SLACK_FAILURES as exc:
            failure = classify(exc)
            if not failure.retryable:
                logger.error("%s", refused_sentence(failure.error))
                give_up()
                return
            wait = max(delay, failure.retry_after or 0.0)
            reason = failure.describe()
        except Exception as exc:  # an odd answer must not stop HTTP: say so and try again
            wait = delay
            reason = f"{type(exc).__name__}: {exc}"
        else:
            logger.info("Connected to Slack over Socket Mode")
            return
        logger.warning(
            "Socket Mode is not connected: %s at %s; HTTP keeps serving, retrying in %.0f s",
            reason,
            api_url,
            wait,
        )
        await asyncio.sleep(wait)
        delay = min(delay * 2, MAX_RETRY_SECONDS)
