"""Slack surfaces: one module per kind of request, each with a `register(app)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import actions, commands, dig_in, events, options, shortcuts, views
from bot.listeners.inflight import Track


def register_listeners(app: AsyncApp, track: Track) -> None:
    """Attach every listener to the app, each tracked so shutdown can let it finish."""
    for surface in (commands, actions, dig_in, shortcuts, options, views, events):
        surface.register(app, track)
