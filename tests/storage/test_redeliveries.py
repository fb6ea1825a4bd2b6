"""Late redeliveries, as the receiver sees real NLPearl bodies: answered, never queued again.

NLPearl documents no ordering and no signing, and its retries can come late. A lead event the
lead has already had (same status, same number of calls) and a call's start after its end
are answered 200 and queue nothing; a genuine return to a status is a new event.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feed.receive import Receipt, receive_webhook
from bot.storage.tables import deliveries, events
from tests.feed.samples import CALL_ID, FIRST_CALL_ID, v2_call_end, v2_call_start, v2_lead
from tests.storage.support import NOW, rows, subscribe_channels

QUEUED, ON_A_CALL, NEEDS_RETRY, NEW = 20, 40, 10, 1


async def send(engine: AsyncEngine, token: str, body: dict[str, Any]) -> Receipt:
    return await receive_webhook(engine, token, json.dumps(body).encode(), NOW)


async def statuses(engine: AsyncEngine, token: str, *bodies: dict[str, Any]) -> list[str]:
    """What the receiver answered to each body in turn."""
    return [(await send(engine, token, body)).body["status"] for body in bodies]


async def test_a_b_then_a_again_posts_a_and_b_only(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    a = v2_lead(status=QUEUED, callsId=[])
    b = v2_lead(status=ON_A_CALL, callsId=[])

    assert await statuses(engine, token, a, b, a) == ["stored", "stored", "duplicate"]
    assert [r["payload"]["status"] for r in await rows(engine, events)] == [QUEUED, ON_A_CALL]
    assert len(await rows(engine, deliveries)) == 2


async def test_a_lead_set_back_to_a_status_and_called_again_is_posted(
    engine: AsyncEngine,
) -> None:
    token = await subscribe_channels(engine, "C1")
    history = [
        v2_lead(status=NEW, callsId=[]),
        v2_lead(status=QUEUED, callsId=[]),
        v2_lead(status=NEEDS_RETRY, callsId=[FIRST_CALL_ID]),
        v2_lead(status=NEW, callsId=[FIRST_CALL_ID]),  # set back to New by hand
        v2_lead(status=QUEUED, callsId=[FIRST_CALL_ID]),
        v2_lead(status=NEEDS_RETRY, callsId=[FIRST_CALL_ID, CALL_ID]),
    ]

    assert await statuses(engine, token, *history) == ["stored"] * 6
    # Every one of them, redelivered late and in any order, is recognised.
    assert await statuses(engine, token, *reversed(history)) == ["duplicate"] * 6
    assert len(await rows(engine, deliveries)) == 6


async def test_without_call_information_a_status_the_lead_had_is_a_redelivery(
    engine: AsyncEngine,
) -> None:
    # No callsId and no lastCall: a return cannot be told from a late retry, and a late
    # retry posted would move the lead's parent message back.
    token = await subscribe_channels(engine, "C1")
    a = {"id": "6650f1c2a9e4b27d3c8e41a7", "phoneNumber": "+14155550137", "status": QUEUED}
    b = {**a, "status": ON_A_CALL}

    assert await statuses(engine, token, a, b, a) == ["stored", "stored", "duplicate"]


async def test_a_calls_start_after_its_end_is_stale(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    start, end = v2_call_start(), v2_call_end()

    assert await statuses(engine, token, end, start, start, end) == [
        "stored",
        "stale",
        "stale",
        "duplicate",
    ]
    [row] = await rows(engine, events)
    assert row["dedupe_key"] == f"call:{CALL_ID}:end"
    assert len(await rows(engine, deliveries)) == 1


async def test_a_calls_start_then_end_are_both_posted_once(engine: AsyncEngine) -> None:
    token = await subscribe_channels(engine, "C1")
    start, end = v2_call_start(), v2_call_end()

    assert await statuses(engine, token, start, end, start, end) == [
        "stored",
        "stored",
        "duplicate",
        "duplicate",
    ]
    assert len(await rows(engine, deliveries)) == 2
