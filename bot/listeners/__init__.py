"""Slack surfaces: one module per kind of request, each with a `register(app)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import actions, commands, dig_in, events, options, shortcuts, views


def register_listeners(app: AsyncApp) -> None:
    """Attach every listener to the app."""
    for surface in (commands, actions, dig_in, shortcuts, options, views, events):
        surface.register(app)
