"""A feed message's plain-text version: who and what, harmless, within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.blocks.notifications import StatusChange, parent_message, thread_reply
from bot.blocks.text import MAX_FALLBACK_TEXT
from bot.feed.plain import as_plain_text
from bot.parsing.webhooks import CallUpdate, parse_webhook
from bot.records import LeadSnapshot
from tests.blocks.slack_limits import assert_no_injection
from tests.feed.samples import CAMPAIGN_ID, RECORDING, v2_call_end

AT = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)
HOSTILE = "<!here> <@U123> & <https://evil.example|x>"


def call(summary: str, n: int) -> CallUpdate:
    event = parse_webhook(v2_call_end(id=f"{n:024x}", summary=summary))
    assert isinstance(event, CallUpdate)
    return event


def test_a_parent_keeps_who_and_what_and_leaves_out_buttons() -> None:
    snapshot = LeadSnapshot(
        campaign_id=CAMPAIGN_ID, name=HOSTILE, phone="+14155550137", status=100, calls=2
    )

    text = as_plain_text(parent_message(snapshot, mask=True))

    first = text.split("\n")[0]
    assert first.startswith("*&lt;!here&gt; &lt;@U123&gt; &amp; &lt;https://evil.example|x&gt;*")
    assert "✅ Success" in first
    assert "*Phone* •••• 0137" in text
    assert "All calls" not in text
    assert_no_injection({"text": text, "blocks": []})


def test_a_long_reply_is_cut_at_a_whole_line_within_the_limit() -> None:
    changes = [StatusChange(20, 40, AT), StatusChange(40, 100, AT)]
    calls = [call(f"{HOSTILE} " + "word " * 99, n).call for n in range(4)]
    reply = thread_reply(changes, calls)
    assert reply is not None

    text = as_plain_text(reply, limit=800)

    assert len(text) <= 800
    assert text.endswith("\n…")
    assert text.count("<!date^") == text.count("|2026-11-27 18:42 UTC>")
    assert_no_injection({"text": text, "blocks": []}, allowed_urls=(RECORDING,))
    assert len(as_plain_text(reply)) <= MAX_FALLBACK_TEXT


def test_a_message_whose_blocks_say_nothing_falls_back_to_its_own_text() -> None:
    assert as_plain_text({"text": "Call ended", "blocks": [{"type": "divider"}]}) == "Call ended"
    assert as_plain_text({"text": "Call ended", "blocks": [{"type": "section"}]}) == "Call ended"
    first_line_too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 5000}}
    assert as_plain_text({"text": "Call ended", "blocks": [first_line_too_long]}) == "Call ended"
