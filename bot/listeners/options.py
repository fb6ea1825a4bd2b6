"""Options for the campaign picker, answered within Slack's 3-second window."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.blocks.ids import ActionId
from bot.listeners.inflight import Track
from bot.usecases.campaigns import campaign_options
from bot.usecases.services import Services

# Slack gives options requests 3 seconds; the rest is our own margin.
CAMPAIGN_WAIT_SECONDS = 1.8


async def handle_campaign_options(
    ack: AsyncAck, payload: dict[str, Any], services: Services
) -> None:
    """Campaigns whose name or ID contains what was typed; a typed ID is always offered."""
    typed = payload.get("value") or ""
    await ack(options=await campaign_options(services.campaigns, typed, wait=CAMPAIGN_WAIT_SECONDS))


def register(app: AsyncApp, track: Track) -> None:
    """Listen for the campaign picker's option requests."""
    app.options(ActionId.CAMPAIGN.value)(track(handle_campaign_options))
