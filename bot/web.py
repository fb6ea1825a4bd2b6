"""The Starlette app: routes, and a lifespan that owns every client and the database engine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.config import Settings
from bot.nlpearl import DEFAULT_TIMEOUT, NLPearlClient
from bot.services import Services
from bot.slack_app import build_slack_app
from bot.storage.engine import create_engine, ping

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 2.0


@dataclass
class Runtime:
    """What the lifespan builds and the routes use."""

    slack: AsyncSlackRequestHandler
    engine: AsyncEngine


def build_nlpearl_client(settings: Settings, http: httpx.AsyncClient) -> NLPearlClient:
    """The NLPearl client for the configured key, URL and API version."""
    key = settings.nlpearl_api_key.get_secret_value() if settings.nlpearl_api_key else ""
    return NLPearlClient(
        http, api_key=key, base_url=settings.nlpearl_api_url, version=settings.nlpearl_api_version
    )


def new_http_client() -> httpx.AsyncClient:
    """One pooled HTTP client for all NLPearl calls of the process."""
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
    return httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, limits=limits)


def create_app(settings: Settings) -> Starlette:
    """The web app for these settings."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        async with new_http_client() as http:
            services = Services(settings=settings, nlpearl=build_nlpearl_client(settings, http))
            slack_app = build_slack_app(services)
            app.state.runtime = Runtime(AsyncSlackRequestHandler(slack_app), engine)
            async with _socket_mode(settings, slack_app):
                yield
        await engine.dispose()

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
        ],
        lifespan=lifespan,
    )


@contextlib.asynccontextmanager
async def _socket_mode(settings: Settings, slack_app: AsyncApp) -> AsyncIterator[None]:
    """Hold a Socket Mode connection for the app's lifetime when an app-level token is set."""
    if settings.slack_app_token is None:
        yield
        return
    handler = AsyncSocketModeHandler(slack_app, settings.slack_app_token.get_secret_value())
    await handler.connect_async()  # type: ignore[no-untyped-call]
    logger.info("Connected to Slack over Socket Mode")
    try:
        yield
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def slack_events(request: Request) -> Response:
    """Every Slack request: commands, shortcuts, buttons, modals, options, events."""
    return await _runtime(request).slack.handle(request)


async def healthz(request: Request) -> Response:
    """200 when the app and its database work, 503 otherwise."""
    try:
        await asyncio.wait_for(ping(_runtime(request).engine), HEALTH_TIMEOUT_SECONDS)
    except Exception as exc:
        logger.warning("Health check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
