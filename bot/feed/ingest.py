"""Group commit: webhooks that arrive together are stored together, each answered on its own.

A burst from NLPearl is many small writes. One transaction each costs a handful of round trips
(and on SQLite the one write lock) per webhook; here whoever arrives while a write is under way
waits for the next one, which takes everyone waiting at once. Nothing is answered before its
transaction commits, and a webhook alone is written at once, so this adds no delay when idle.
One writer per process keeps a lead's webhooks in the order they came: a second writer's small
group could commit before the first's large one and put a later status ahead.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feed.receive import (
    DATABASE_ERRORS,
    Receipt,
    answer,
    failed,
    incoming,
    receive_webhook,
)
from bot.parsing.storable import read_json
from bot.parsing.webhooks import BadPayload, parse_webhook
from bot.storage.faults import in_few_words
from bot.storage.inbox import Arrival, store_webhooks, store_webhooks_on

logger = logging.getLogger(__name__)

# Enough to take a whole burst's worth of waiting webhooks in one go, few enough that one
# transaction stays short (the statements grow with it).
MAX_GROUP = 256

# A webhook waiting for its group's commit, and where its answer goes.
Waiting = tuple[Arrival, "asyncio.Future[Receipt]"]
# What a webhook's sender gets: the answer for NLPearl, or the error its request fails with.
Answer = Receipt | Exception


class Ingest:
    """Stores webhooks for the web process, many to a transaction when they come together."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_group: int = MAX_GROUP,
        stored: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self._max_group = max_group
        self._stored = stored  # told when deliveries were queued (wakes the delivery loop)
        self._waiting: deque[Waiting] = deque()
        self._writer: asyncio.Task[None] | None = None

    async def receive(self, token: str, body: bytes, now: datetime) -> Receipt:
        """Read and store one webhook body; the answer for NLPearl once it is committed."""
        try:
            event = parse_webhook(read_json(body))
        except BadPayload:
            # Rare, and answered without writing anything: the plain path says why.
            return await receive_webhook(self._engine, token, body, now)
        future: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self._waiting.append((Arrival(token, incoming(event), now), future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_while_waiting())
        # Shielded: a sender that hangs up must not cancel the others' shared write.
        return await asyncio.shield(future)

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                try:
                    await self._write_groups()
                except DATABASE_ERRORS as exc:
                    # No connection to be had: whoever waits now would wait on the same failure.
                    self._answer_all(failed(exc))
                except Exception as exc:
                    self._answer_all(exc)
        finally:
            # In the same step as the last look at the queue: were it left to the task's
            # done-callback, a step later, a webhook arriving in between would find a writer
            # that is gone and wait for the next webhook to start one.
            self._writer = None

    async def _write_groups(self) -> None:
        # One connection for the whole run of groups: taking one from the pool costs a round
        # trip to check it and one to reset it, as much as the writes themselves.
        async with self._engine.connect() as conn:
            while self._waiting:
                group = [
                    self._waiting.popleft() for _ in range(min(self._max_group, len(self._waiting)))
                ]
                try:
                    stored = await store_webhooks_on(conn, [arrival for arrival, _ in group])
                except Exception as exc:
                    # The connection may have gone with the failure: the rest use fresh ones.
                    self._settle(group, await self._store_alone_each(group, exc))
                    return
                self._settle(group, [answer(one) for one in stored])

    def _settle(self, group: list[Waiting], answers: list[Answer]) -> None:
        for (_, future), one in zip(group, answers, strict=True):
            if isinstance(one, Receipt):
                future.set_result(one)
            else:
                future.set_exception(one)
        if any(isinstance(one, Receipt) and one.queued for one in answers):
            self._stored()

    def _answer_all(self, one: Answer) -> None:
        group = list(self._waiting)
        self._waiting.clear()
        self._settle(group, [one] * len(group))

    async def _store_alone_each(self, group: list[Waiting], exc: Exception) -> list[Answer]:
        """Each webhook of a failed group stored on its own, so each gets its own answer."""
        # One body the database refuses, a deadlock with another process or a connection that
        # died must not cost the rest of the group; alone, each is tried once more.
        logger.warning(
            "A group of %d webhooks failed (%s); storing each alone",
            len(group),
            in_few_words(getattr(exc, "orig", None) or exc),
        )
        return [await self._store_alone(arrival) for arrival, _ in group]

    async def _store_alone(self, arrival: Arrival) -> Answer:
        try:
            (stored,) = await store_webhooks(self._engine, [arrival])
        except DATABASE_ERRORS as exc:
            return failed(exc)
        except Exception as exc:
            # A fault of ours: its sender's request fails as it would have on its own (a 500,
            # and the traceback in the log), and no one else's does.
            return exc
        return answer(stored)
