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


def register_listeners(app: AsyncApp, track: Track, *, multi_workspace: bool = False) -> None:
    """Attach every listener to the app, each tracked so shutdown can let it finish.

    Connecting NLPearl and forgetting uninstalled workspaces belong to multi-workspace mode:
    one workspace's app keeps its data whatever happens to its token, as it always has.
    """
    surfaces = [commands, actions, lead_actions, adding, campaigns, who_may_act, dig_in, shortcuts]
    for surface in (*surfaces, options, views, events):
        surface.register(app, track)
    if multi_workspace:
        connect.register(app, track)
        installs.register(app, track)
