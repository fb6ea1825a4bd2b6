"""Thread replies say when a status change was found by the periodic sweep, not a webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.blocks.notifications import SWEEP_MARK, StatusChange, thread_reply
from bot.feed.plain import as_plain_text
from bot.nlpearl.models import Call
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message

AT = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)
ONE = "🔎 Found by the periodic check: NLPearl sent no webhook for this change."
SOME = "🔎 Found by the periodic check: NLPearl sent no webhook for the changes marked 🔎."


def contexts(reply: dict[str, Any]) -> list[str]:
    return [
        element["text"]
        for block in reply["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
    ]


def status_lines(reply: dict[str, Any]) -> list[str]:
    return str(reply["blocks"][0]["text"]["text"]).split("\n")


def sound(reply: dict[str, Any] | None) -> dict[str, Any]:
    assert reply is not None
    assert_valid_message(reply)
    assert_no_injection(reply)
    return reply


def test_a_change_the_sweep_found_says_so_under_it() -> None:
    reply = sound(thread_reply([StatusChange(130, 100, AT, found_by_sweep=True)], []))

    assert [b["type"] for b in reply["blocks"]] == ["section", "context"]
    assert contexts(reply) == [ONE]
    assert SWEEP_MARK not in status_lines(reply)[0]
    assert reply["text"] == "☑️ Completed → ✅ Success"


def test_a_change_a_webhook_brought_says_nothing_more() -> None:
    reply = sound(thread_reply([StatusChange(130, 100, AT)], []))

    assert contexts(reply) == []
    assert SWEEP_MARK not in str(reply)


def test_among_several_changes_those_the_sweep_found_are_marked() -> None:
    changes = [
        StatusChange(None, 20, AT),
        StatusChange(20, 110, AT + timedelta(minutes=1), found_by_sweep=True),
        StatusChange(110, 100, AT + timedelta(minutes=2)),
    ]

    reply = sound(thread_reply(changes, []))

    first, second, third = status_lines(reply)
    assert second.endswith(f" {SWEEP_MARK}")
    assert SWEEP_MARK not in first + third
    assert contexts(reply) == [SOME]


def test_the_note_comes_before_the_calls_of_the_batch() -> None:
    call = Call.model_validate({"id": "c1", "status": 4, "conversationStatus": 100})

    reply = sound(thread_reply([StatusChange(40, 100, AT, found_by_sweep=True)], [call]))

    types = [b["type"] for b in reply["blocks"]]
    assert types[:2] == ["section", "context"]
    assert "Call ended" in reply["blocks"][2]["text"]["text"]


def test_the_plain_text_fallback_keeps_the_note() -> None:
    reply = sound(thread_reply([StatusChange(130, 100, AT, found_by_sweep=True)], []))

    assert ONE in as_plain_text(reply)


def test_a_long_burst_of_swept_changes_stays_within_slacks_limits() -> None:
    changes = [
        StatusChange(130, 100, AT + timedelta(seconds=i), found_by_sweep=i % 2 == 0)
        for i in range(500)
    ]

    reply = sound(thread_reply(changes, []))

    assert contexts(reply) == [SOME]
    assert status_lines(reply)[0].startswith("… ")
