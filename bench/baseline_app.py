"""The ack-throughput baseline: a Bolt app on the app's stack whose `/lead` only acknowledges.

Same stack as `lead-bot serve`: Starlette + `AsyncSlackRequestHandler` + `AsyncApp` (signature
checks on, single-workspace token authorization against the Slack stand-in, ack before
processing), served by uvicorn in one worker with the same options and INFO logging.
Run as `python -m bench.baseline_app` with PORT, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and
SLACK_API_URL set; binds 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import os

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def create_app() -> Starlette:
    """Starlette with POST /slack/events (Bolt) and GET /healthz."""
    bolt = AsyncApp(
        client=AsyncWebClient(
            token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
        ),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=False,
        name="ack-baseline",
    )

    @bolt.command("/lead")
    async def lead(ack: AsyncAck) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> None:
    """Serve like `lead-bot serve` does, on loopback."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        log_level="info",
        timeout_graceful_shutdown=20,
        proxy_headers=True,
        forwarded_allow_ips="*",
    )


if __name__ == "__main__":
    main()
