"""The outbox's part in surviving Slack: forgetting a deleted parent, noting a plain-text post."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import outbox
from bot.storage.tables import deliveries
from tests.storage.support import LEAD_A, NOW, PAST_PACING, claim, lead_event, queue, rows
from tests.storage.support import subscribe_channels as subscribed_to


async def test_forgetting_a_parent_clears_it_and_the_batchs_reply(engine: AsyncEngine) -> None:
    token = await subscribed_to(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A, 10))
    (batch,) = await claim(engine, NOW)
    thread_id = await outbox.start_thread(engine, batch, {"status": None}, NOW)
    await outbox.set_parent(engine, thread_id, "1.000100", NOW)
    await outbox.record_reply(engine, batch, "1.000200")

    await outbox.forget_parent(engine, batch, thread_id, "1.000100", NOW + timedelta(seconds=1))

    thread = await outbox.load_thread(engine, batch)
    assert thread is not None
    assert (thread.id, thread.parent_ts, thread.parent_marker) == (thread_id, None, None)
    assert thread.snapshot == {"status": None}
    (row,) = await rows(engine, deliveries)
    assert (row["reply_ts"], row["batch"], row["state"]) == (None, batch.marker, "claimed")
    assert batch.without_reply().reply_ts is None
    assert batch.without_reply().resumed is False


async def test_forgetting_leaves_a_parent_posted_in_its_place_alone(engine: AsyncEngine) -> None:
    token = await subscribed_to(engine, "C1")
    await queue(engine, token, lead_event(LEAD_A, 10))
    (batch,) = await claim(engine, NOW)
    thread_id = await outbox.start_thread(engine, batch, {}, NOW)
    await outbox.set_parent(engine, thread_id, "2.000100", NOW)

    await outbox.forget_parent(engine, batch, thread_id, "1.000100", NOW)

    thread = await outbox.load_thread(engine, batch)
    assert thread is not None
    assert thread.parent_ts == "2.000100"


async def test_finishing_with_a_note_keeps_it_as_the_rows_last_error(engine: AsyncEngine) -> None:
    token = await subscribed_to(engine, "C1", "C2")
    await queue(engine, token, lead_event(LEAD_A, 10), queued=2)
    first, second = await claim(engine, NOW + PAST_PACING)
    note = "Posted as plain text: Slack refused the message's layout (invalid_blocks)"

    await outbox.finish(engine, first, NOW, note=note)
    await outbox.finish(engine, second, NOW)

    done = {r["channel_id"]: r for r in await rows(engine, deliveries)}
    assert (done["C1"]["state"], done["C1"]["last_error"]) == ("done", note)
    assert (done["C2"]["state"], done["C2"]["last_error"]) == ("done", None)
