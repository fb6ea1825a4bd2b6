"""The Starlette app: routes, and a lifespan that owns every client and the database engine."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.campaigns import CampaignDirectory
from bot.config import Settings
from bot.home_tab import SetupCheck
from bot.nlpearl import DEFAULT_TIMEOUT, NLPearlClient, NLPearlError
from bot.notify.deliver import Deliverer, DeliveryTiming
from bot.notify.receive import receive_webhook
from bot.services import Services, utc_now
from bot.slack_app import build_slack_app, build_slack_client
from bot.storage.engine import create_engine, ping

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 2.0


MAX_WEBHOOK_BYTES = 1_000_000
DELIVERY_STOP_SECONDS = 10.0
LISTENER_DRAIN_SECONDS = 6.0
CUT_SHORT_SECONDS = 2.0
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


@dataclass
class Runtime:
    """What the lifespan builds and the routes use."""

    slack: AsyncSlackRequestHandler
    engine: AsyncEngine
    deliverer: Deliverer


def build_nlpearl_client(settings: Settings, http: httpx.AsyncClient) -> NLPearlClient:
    """The NLPearl client for the configured key, URL and API version."""
    key = settings.nlpearl_api_key.get_secret_value() if settings.nlpearl_api_key else ""
    return NLPearlClient(
        http, api_key=key, base_url=settings.nlpearl_api_url, version=settings.nlpearl_api_version
    )


def build_deliverer(settings: Settings, engine: AsyncEngine, nlpearl: NLPearlClient) -> Deliverer:
    """The delivery loop for these settings, naming campaigns through NLPearl when it can."""

    async def campaign_name(campaign_id: str) -> str | None:
        try:
            campaign = await asyncio.wait_for(nlpearl.get_campaign(campaign_id), 3.0)
        except (NLPearlError, TimeoutError):
            return None
        return campaign.name

    timing = DeliveryTiming(
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        post_interval=timedelta(seconds=settings.slack_post_interval_seconds),
    )
    return Deliverer(
        engine,
        build_slack_client(settings, retry_rate_limits=False),
        campaign_names=campaign_name,
        mask_phone=settings.mask_shared_phone_numbers,
        timing=timing,
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
            nlpearl = build_nlpearl_client(settings, http)
            services = Services(
                settings=settings,
                nlpearl=nlpearl,
                engine=engine,
                campaigns=CampaignDirectory(nlpearl),
                setup=SetupCheck(nlpearl, engine),
            )
            slack_app = build_slack_app(services)
            deliverer = build_deliverer(settings, engine, nlpearl)
            app.state.runtime = Runtime(AsyncSlackRequestHandler(slack_app), engine, deliverer)
            # Everything built so far lives as long as the process: keep the garbage
            # collector from scanning it again and again (long pauses under load).
            gc.freeze()
            async with _socket_mode(settings, slack_app), delivering(deliverer):
                yield
                # Requests are answered; let work acknowledged before SIGTERM finish too, and
                # tell whoever is still waiting to try again.
                await services.in_flight.drain(LISTENER_DRAIN_SECONDS)
                await services.in_flight.cut_short(CUT_SHORT_SECONDS)
        await engine.dispose()

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/nlpearl/webhooks/{token}", nlpearl_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
        ],
        lifespan=lifespan,
    )


@contextlib.asynccontextmanager
async def delivering(deliverer: Deliverer) -> AsyncIterator[None]:
    """Run the delivery loop while the block runs; then let in-flight posts finish."""
    stopping = asyncio.Event()
    task = asyncio.create_task(deliverer.run(stopping))
    try:
        yield
    finally:
        stopping.set()
        try:
            await asyncio.wait_for(task, DELIVERY_STOP_SECONDS)
        except TimeoutError:
            logger.warning("Delivery did not stop in time; unfinished posts resume on restart")


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


async def nlpearl_webhook(request: Request) -> Response:
    """NLPearl's Lead and Call webhooks, committed to the outbox before they are answered."""
    token = request.path_params["token"]
    if not _TOKEN.match(token):
        return JSONResponse({"error": "unknown webhook URL"}, status_code=404)
    body = await _read_limited(request)
    if body is None:
        return JSONResponse({"error": "the body is over 1 MB"}, status_code=413)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JSONResponse({"error": "the body is not JSON"}, status_code=400)
    runtime = _runtime(request)
    try:
        receipt = await receive_webhook(runtime.engine, token, payload, utc_now())
    except SQLAlchemyError:
        logger.exception("Could not store a webhook")
        return JSONResponse({"error": "storage unavailable, try again"}, status_code=503)
    if receipt.queued:
        runtime.deliverer.wake()
    return JSONResponse(receipt.body, status_code=receipt.status_code)


async def _read_limited(request: Request) -> bytes | None:
    """The request body, or None as soon as it passes the size limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            return None
    return bytes(body)


async def healthz(request: Request) -> Response:
    """200 when the app and its database work, 503 otherwise."""
    try:
        await asyncio.wait_for(ping(_runtime(request).engine), HEALTH_TIMEOUT_SECONDS)
    except Exception as exc:
        logger.warning("Health check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
