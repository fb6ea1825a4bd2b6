"""Options for the campaign picker, answered within Slack's 3-second window."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.blocks.ids import ActionId
from bot.blocks.views import MAX_OPTIONS, campaign_option
from bot.listeners.inflight import Track
from bot.parsing.grammar import OBJECT_ID
from bot.usecases.services import Services

# Slack gives options requests 3 seconds; the rest is our own margin.
CAMPAIGN_WAIT_SECONDS = 1.8
OUTBOUND = 2


async def handle_campaign_options(
    ack: AsyncAck, payload: dict[str, Any], services: Services
) -> None:
    """Campaigns whose name or ID contains what was typed; a typed ID is always offered."""
    typed = (payload.get("value") or "").strip()
    campaigns = await services.campaigns.campaigns(wait=CAMPAIGN_WAIT_SECONDS)
    wanted = typed.lower()
    options = [
        campaign_option(c.id, c.name)
        for c in campaigns
        if c.id
        and c.type in (None, OUTBOUND)
        and (wanted in (c.name or "").lower() or wanted in c.id.lower())
    ][:MAX_OPTIONS]
    if OBJECT_ID.match(typed) and not any(o["value"] == typed.lower() for o in options):
        options.insert(0, campaign_option(typed.lower(), "Use this ID"))
    await ack(options=options[:MAX_OPTIONS])


def register(app: AsyncApp, track: Track) -> None:
    """Listen for the campaign picker's option requests."""
    app.options(ActionId.CAMPAIGN.value)(track(handle_campaign_options))
