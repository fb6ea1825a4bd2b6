"""The Starlette app: routes, and a lifespan that owns every client and the database engine."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app.bodies import read_limited
from bot.app.manifest import INSTALL_PATH, REDIRECT_PATH
from bot.app.scheduling import build_scheduler, scheduling
from bot.app.settings import Settings, configure_logging, load_settings
from bot.app.slack_app import build_slack_app
from bot.app.slack_gate import admit, signing_secret_for
from bot.app.socket_mode import socket_mode
from bot.app.tenancy import Tenancy, build_tenancy, new_http_client
from bot.blocks import messages
from bot.feed.deliver import BatchDelivery, CampaignNames
from bot.feed.ingest import Ingest
from bot.feed.loop import Deliverer, DeliveryTiming
from bot.listeners.inflight import InFlight
from bot.nlpearl.names import campaign_name
from bot.records import start_clock_at, utc_now
from bot.storage.engine import create_engine, ping
from bot.storage.rows import Workspace

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

    bolt: AsyncApp
    # None in Socket Mode: Slack's traffic then comes over the WebSocket, not HTTP.
    signing_secret: str | None
    engine: AsyncEngine
    ingest: Ingest


def build_deliverer(settings: Settings, engine: AsyncEngine, tenancy: Tenancy) -> Deliverer:
    """The delivery loop for these settings, naming campaigns through NLPearl when it can."""
    timing = DeliveryTiming(
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        post_interval=timedelta(seconds=settings.slack_post_interval_seconds),
    )
    batches = BatchDelivery(
        engine,
        tenancy.slack_for,
        campaign_names=_campaign_names(tenancy),
        mask_shared_phone_numbers=settings.mask_shared_phone_numbers,
        post_interval=timing.post_interval,
    )
    return Deliverer(engine, batches.attempt, timing=timing)


def _campaign_names(tenancy: Tenancy) -> CampaignNames:
    """A campaign's name, quickly, through the NLPearl key of the workspace it belongs to."""

    async def name(ws: Workspace, campaign_id: str) -> str | None:
        return await campaign_name(await tenancy.nlpearl_for(ws), campaign_id)

    return name


def app_from_environment() -> Starlette:
    """The web app of one of several web processes (WEB_CONCURRENCY), each set up on its own."""
    # uvicorn starts each process afresh and imports this: nothing of the parent's set-up
    # (logging, the clock) carried over.
    settings = load_settings()
    configure_logging(settings)
    if settings.clock_start is not None:
        start_clock_at(settings.clock_start)
    # Never in Socket Mode (one process serves it), so nothing here gives up on a token.
    return create_app(settings)


def create_app(settings: Settings, give_up: Callable[[], None] = lambda: None) -> Starlette:
    """The web app for these settings; `give_up` asks the server to stop (a refused token)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        async with new_http_client() as http:
            tenancy = build_tenancy(settings, engine, http)
            in_flight = InFlight(messages.restarting())
            slack_app = build_slack_app(settings, tenancy, in_flight.track)
            deliverer = build_deliverer(settings, engine, tenancy)
            scheduler = build_scheduler(settings, engine, tenancy)
            ingest = Ingest(engine, stored=deliverer.wake)
            app.state.runtime = Runtime(slack_app, signing_secret_for(settings), engine, ingest)
            # Everything built so far lives as long as the process: keep the garbage
            # collector from scanning it again and again (long pauses under load).
            gc.freeze()
            async with (
                _socket_mode(settings, slack_app, give_up),
                delivering(deliverer),
                scheduling(scheduler),
            ):
                yield
                # Requests are answered; let work acknowledged before SIGTERM finish too, and
                # tell whoever is still waiting to try again.
                await in_flight.drain(LISTENER_DRAIN_SECONDS)
                await in_flight.cut_short(CUT_SHORT_SECONDS)
        await engine.dispose()

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            *(_install_routes() if settings.oauth_enabled else []),
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
async def _socket_mode(
    settings: Settings, slack_app: AsyncApp, give_up: Callable[[], None]
) -> AsyncIterator[None]:
    """Hold a Socket Mode connection for the app's lifetime when an app-level token is set."""
    if settings.slack_app_token is None:
        yield
        return
    token = settings.slack_app_token.get_secret_value()
    async with socket_mode(slack_app, token, settings.slack_api_url, give_up):
        yield


def _install_routes() -> list[Route]:
    """The install page and OAuth redirect: Bolt's flow, which checks the state it issued."""
    return [
        Route(INSTALL_PATH, slack_install, methods=["GET"]),
        Route(REDIRECT_PATH, slack_install, methods=["GET"]),
    ]


async def slack_install(request: Request) -> Response:
    """The "Add to Slack" page, and Slack's redirect back once someone approved or refused."""
    return await AsyncSlackRequestHandler(_runtime(request).bolt).handle(request)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def slack_events(request: Request) -> Response:
    """Every Slack request: commands, shortcuts, buttons, modals, options, events."""
    # Through the gate, not `handle()`: Bolt parses, logs and runs error handlers before
    # verifying, so it must only ever see requests the gate verified (404 in Socket Mode).
    runtime = _runtime(request)
    return await admit(request, runtime.bolt, runtime.signing_secret)


async def nlpearl_webhook(request: Request) -> Response:
    """NLPearl's Lead and Call webhooks, committed to the outbox before they are answered."""
    token = request.path_params["token"]
    if not _TOKEN.match(token):
        return JSONResponse({"error": "unknown webhook URL"}, status_code=404)
    body = await read_limited(request, MAX_WEBHOOK_BYTES)
    if body is None:
        return JSONResponse({"error": "the body is over 1 MB"}, status_code=413)
    runtime = _runtime(request)
    # Every other answer, including a database that is down, is the receiver's.
    receipt = await runtime.ingest.receive(token, body, utc_now())
    return JSONResponse(receipt.body, status_code=receipt.status_code)


async def healthz(request: Request) -> Response:
    """200 when the app and its database work, 503 otherwise."""
    try:
        await asyncio.wait_for(ping(_runtime(request).engine), HEALTH_TIMEOUT_SECONDS)
    except Exception as exc:
        logger.warning("Health check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
