"""Group commit on real databases: webhooks that come together share transactions, not answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.feed import ingest as ingest_module
from bot.feed.ingest import Ingest
from bot.feed.receive import UNKNOWN, UNSTORABLE, Receipt
from bot.storage import inbox
from bot.storage.inbox import Arrival, Stored
from bot.storage.tables import deliveries, events
from tests.feed.samples import v2_lead
from tests.storage.support import NOW, rows, subscribe_channels

STORED = Receipt(200, {"status": "stored", "queued": 1}, 1)
UNKNOWN_TOKEN = "no-such-token-0123456789abcdef"
# The one value of a webhook that reaches the database as it came: bodies are cleaned at the
# boundary so that every database takes them (tests/feed/hostile.py), but the moment it came is
# not. This one has no UTC equivalent, so no driver can send it: the database refuses the data.
UNSENDABLE_MOMENT = datetime.min.replace(tzinfo=timezone(timedelta(hours=5)))


def lead_body(n: int) -> bytes:
    """A V2 Lead Webhook for lead `n`: a different lead (and so a different event) for each n."""
    return json.dumps(
        v2_lead(id=f"{0x5EED0000 + n:024x}", phoneNumber=f"+1415555{n:04d}", status=100)
    ).encode()


class Commits:
    """Counts the transactions committed on an engine, from now on."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "commit", self._committed)

    def _committed(self, _conn: Any) -> None:
        self.count += 1


class Groups:
    """Records the size of each group Ingest writes, and writes it with the real function."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sizes: list[int] = []
        self._real = inbox.store_webhooks_on
        monkeypatch.setattr(ingest_module, "store_webhooks_on", self._store)

    async def _store(self, conn: AsyncConnection, arrivals: Sequence[Arrival]) -> list[Stored]:
        self.sizes.append(len(arrivals))
        return await self._real(conn, arrivals)


async def writers_finished() -> None:
    """Wait for Ingest's writer tasks: they give their connection back after the last answer."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if others:
        await asyncio.wait(others)


async def test_webhooks_that_come_together_share_transactions(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    commits = Commits(engine)
    ingest = Ingest(engine)

    receipts = await asyncio.gather(*(ingest.receive(token, lead_body(n), NOW) for n in range(50)))
    await writers_finished()

    assert receipts == [STORED] * 50
    assert 1 <= commits.count < 50
    stored = await rows(engine, events)
    assert len({e["dedupe_key"] for e in stored}) == 50
    assert sorted(d["event_id"] for d in await rows(engine, deliveries)) == [
        e["id"] for e in stored
    ]


async def test_bad_bodies_and_tokens_are_answered_alone_and_the_rest_stored(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await subscribe_channels(engine, "C1")
    groups = Groups(monkeypatch)
    ingest = Ingest(engine)
    sent = [(token, lead_body(n)) for n in range(10)]
    sent[3] = (token, b"this is not JSON")
    sent[5] = (UNKNOWN_TOKEN, lead_body(5))
    sent[7] = (token, b'{"neither": "lead nor call"}')
    sent[8] = (UNKNOWN_TOKEN, b"this is not JSON either")

    receipts = await asyncio.gather(*(ingest.receive(t, body, NOW) for t, body in sent))
    await writers_finished()

    for n in (3, 7):
        assert receipts[n].status_code == 400
        assert "not a webhook Lead Bot can read" in receipts[n].body["error"]
    assert receipts[5] == UNKNOWN
    assert receipts[8] == UNKNOWN
    good = [n for n in range(10) if n not in (3, 5, 7, 8)]
    assert [receipts[n] for n in good] == [STORED] * len(good)
    # The unreadable bodies never joined the group; the unknown token did, and was told apart.
    assert groups.sizes == [len(good) + 1]
    assert len(await rows(engine, events)) == len(good)


async def test_the_stored_callback_fires_only_when_posts_were_queued(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    woken: list[None] = []
    ingest = Ingest(engine, stored=lambda: woken.append(None))

    unknown = await asyncio.gather(
        *(ingest.receive(UNKNOWN_TOKEN, lead_body(n), NOW) for n in range(5))
    )
    assert unknown == [UNKNOWN] * 5
    assert woken == []

    first = await asyncio.gather(*(ingest.receive(token, lead_body(n), NOW) for n in range(5)))
    assert first == [STORED] * 5
    assert woken
    told = len(woken)

    again = await asyncio.gather(*(ingest.receive(token, lead_body(n), NOW) for n in range(5)))
    await writers_finished()
    assert again == [Receipt(200, {"status": "duplicate"})] * 5
    assert len(woken) == told


async def test_data_the_database_refuses_costs_only_its_own_webhook(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await subscribe_channels(engine, "C1")
    groups = Groups(monkeypatch)
    ingest = Ingest(engine)
    moments = [NOW] * 11
    moments[5] = UNSENDABLE_MOMENT

    receipts = await asyncio.gather(
        *(ingest.receive(token, lead_body(n), moment) for n, moment in enumerate(moments))
    )
    await writers_finished()

    # All eleven were written as one group, which failed; each was then stored on its own.
    assert groups.sizes == [11]
    assert receipts[5] == UNSTORABLE
    assert receipts[:5] + receipts[6:] == [STORED] * 10
    stored = await rows(engine, events)
    assert len(stored) == 10
    assert {e["received_at"] for e in stored} == {NOW}
    assert len(await rows(engine, deliveries)) == 10


async def test_a_fault_of_ours_fails_only_its_own_request_and_leaves_no_one_waiting(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    ingest = Ingest(engine)
    moments = [NOW] * 5
    # A moment without a time zone is a programming error the database layer rejects.
    moments[2] = NOW.replace(tzinfo=None)

    answers = await asyncio.wait_for(
        asyncio.gather(
            *(ingest.receive(token, lead_body(n), moment) for n, moment in enumerate(moments)),
            return_exceptions=True,
        ),
        # Only a guard against hanging for ever (the fault this test is about); never reached.
        timeout=60,
    )
    await writers_finished()

    assert isinstance(answers[2], TypeError)
    assert answers[:2] + answers[3:] == [STORED] * 4
    assert len(await rows(engine, events)) == 4


async def test_a_sender_that_hangs_up_does_not_stop_the_others_write(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await subscribe_channels(engine, "C1")
    writing, go_on = asyncio.Event(), asyncio.Event()
    real = inbox.store_webhooks_on

    async def held(conn: AsyncConnection, arrivals: Sequence[Arrival]) -> list[Stored]:
        # Holds the group's write until the test has cancelled a sender mid-way.
        writing.set()
        await go_on.wait()
        return await real(conn, arrivals)

    monkeypatch.setattr(ingest_module, "store_webhooks_on", held)
    ingest = Ingest(engine)
    senders = [asyncio.create_task(ingest.receive(token, lead_body(n), NOW)) for n in range(10)]
    await writing.wait()

    # The first sender is the one whose webhook started the write.
    senders[0].cancel()
    go_on.set()
    receipts = await asyncio.gather(*senders[1:])

    assert receipts == [STORED] * 9
    with pytest.raises(asyncio.CancelledError):
        await senders[0]
    # Its webhook was in the group already being written: stored, though no one was told.
    assert len(await rows(engine, events)) == 10
    # And the next webhook is written as ever.
    assert await ingest.receive(token, lead_body(10), NOW) == STORED
    await writers_finished()
    assert len(await rows(engine, deliveries)) == 11
