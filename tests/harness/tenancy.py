"""One client for every workspace, as single-workspace mode wires the feed and the schedule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.storage.rows import Workspace

Client = TypeVar("Client")


def always(client: Client) -> Callable[[Workspace], Awaitable[Client]]:
    """A `slack_for` or `nlpearl_for` that answers `client` whichever workspace asks."""

    async def for_workspace(ws: Workspace) -> Client:
        return client

    return for_workspace
