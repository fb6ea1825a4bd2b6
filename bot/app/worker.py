"""`lead-bot worker`: the delivery loop and the schedule, for a separate Procfile process."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.app.scheduling import build_scheduler, scheduling
from bot.app.settings import Settings
from bot.app.tenancy import build_tenancy, new_http_client
from bot.app.web import build_deliverer, delivering
from bot.storage.engine import create_engine

logger = logging.getLogger(__name__)


async def run_worker(settings: Settings) -> None:
    """Deliver until SIGTERM or SIGINT, then finish what is in flight."""
    signalled = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, signalled.set)
    engine = create_engine(settings.database_url)
    try:
        async with new_http_client() as http:
            tenancy = build_tenancy(settings, engine, http)
            deliverer = build_deliverer(settings, engine, tenancy)
            scheduler = build_scheduler(settings, engine, tenancy)
            async with delivering(deliverer), scheduling(scheduler):
                await signalled.wait()
                logger.info("Stopping: finishing deliveries in flight")
    finally:
        await engine.dispose()
