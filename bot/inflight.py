"""Listener work still running after its ack, so that a shutdown lets it finish."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

_Listener = TypeVar("_Listener", bound=Callable[..., Awaitable[Any]])


class Track(Protocol):
    """What wraps a listener for tracking."""

    def __call__(self, listener: _Listener, /) -> _Listener: ...


class InFlight:
    """Tracks listener calls; Bolt runs them as tasks it keeps no handle on."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def track(self, listener: _Listener) -> _Listener:
        """Wrap a listener so its task is known until it returns (Bolt still sees its args)."""

        @functools.wraps(listener)
        async def tracked(**kwargs: Any) -> Any:
            task = asyncio.current_task()
            if task is None:
                return await listener(**kwargs)
            self._tasks.add(task)
            try:
                return await listener(**kwargs)
            finally:
                self._tasks.discard(task)

        return tracked  # type: ignore[return-value]

    async def drain(self, within: float) -> None:
        """Wait, at most `within` seconds, for the listeners still running."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)
