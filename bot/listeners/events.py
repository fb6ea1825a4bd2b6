"""Events: the App Home tab, published whenever someone opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners.inflight import Track
from bot.listeners.request import where_of
from bot.usecases.home import home_for
from bot.usecases.services import Services


async def handle_app_home_opened(
    event: dict[str, Any], request: AsyncBoltRequest, client: AsyncWebClient, services: Services
) -> None:
    """Publish the Home tab; publishing is idempotent, so Slack's retries are harmless."""
    if event.get("tab") != "home" or not event.get("user"):
        return
    user_id = event["user"]
    view = await home_for(services, where_of(request).workspace, user_id, client)
    await client.views_publish(user_id=user_id, view=view)


def register(app: AsyncApp, track: Track) -> None:
    """Listen for the Home tab being opened."""
    app.event("app_home_opened")(track(handle_app_home_opened))
