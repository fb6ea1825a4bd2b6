"""Listener work after its ack: tracked for shutdown, and bounded so acks stay fast."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

_Listener = TypeVar("_Listener", bound=Callable[..., Awaitable[Any]])

# How many listeners may work after their ack at once; the rest wait their turn, holding
# nothing, so a flood of commands cannot starve the acks or exhaust connection pools.
WORK_SLOTS = 8
APOLOGY_SECONDS = 1.5


class Track(Protocol):
    """What wraps a listener for tracking."""

    def __call__(self, listener: _Listener, /) -> _Listener: ...


class InFlight:
    """Tracks listener calls; Bolt runs them as tasks it keeps no handle on."""

    def __init__(self, cut_short: dict[str, Any], slots: int = WORK_SLOTS) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._slots = asyncio.Semaphore(slots)
        self._cut_short = cut_short

    def track(self, listener: _Listener) -> _Listener:
        """Wrap a listener: its task is known until it returns; once it acks, it waits its turn."""
        # Bolt still sees the listener's own arguments (functools.wraps keeps its signature).

        @functools.wraps(listener)
        async def tracked(**kwargs: Any) -> Any:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            holding = False
            answered = False
            respond = kwargs.get("respond")
            if respond is not None:

                async def respond_and_note(*args: Any, **respond_kwargs: Any) -> Any:
                    nonlocal answered
                    answered = True
                    return await respond(*args, **respond_kwargs)

                kwargs["respond"] = respond_and_note
            ack = kwargs.get("ack")
            if ack is not None:

                async def ack_then_wait_turn(*args: Any, **ack_kwargs: Any) -> Any:
                    nonlocal holding
                    result = await ack(*args, **ack_kwargs)
                    await self._slots.acquire()
                    holding = True
                    return result

                kwargs["ack"] = ack_then_wait_turn
            try:
                return await listener(**kwargs)
            except asyncio.CancelledError:
                if not answered:
                    await self._apologise(respond)
                raise
            finally:
                if holding:
                    self._slots.release()
                if task is not None:
                    self._tasks.discard(task)

        return tracked  # type: ignore[return-value]

    async def drain(self, within: float) -> None:
        """Wait, at most `within` seconds, for the listeners still running."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)

    async def cut_short(self, within: float) -> None:
        """Cancel what is still running; each tells its person, if it can, to try again."""
        for task in self._tasks:
            task.cancel()
        await self.drain(within)

    async def _apologise(self, respond: Any) -> None:
        if respond is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                respond(**self._cut_short, response_type="ephemeral", replace_original=False),
                APOLOGY_SECONDS,
            )
