"""Slack surfaces: one module per kind of request, each with a `register(app)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import (
    actions,
    adding,
    campaigns,
    commands,
    connect,
    dig_in,
    events,
    installs,
    lead_actions,
    options,
    shortcuts,
    views,
    who_may_act,
)
from bot.listeners.inflight import Track


def register_listeners(app: AsyncApp, track: Track) -> None:
    """Attach every listener to the app, each tracked so shutdown can let it finish."""
    surfaces = [commands, actions, lead_actions, adding, campaigns, who_may_act, dig_in, shortcuts]
    for surface in (*surfaces, connect, options, views, events, installs):
        surface.register(app, track)
