"""What `/lead subscriptions` lists: a stopped feed says why in words, and what to do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.blocks.subscriptions import subscription_list
from bot.storage.rows import SubscriptionInfo
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message
from tests.harness.slack_requests import blocks_text

CHANNEL = "C0LEADS"
CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
STOPPED_AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
HOSTILE = "<!channel> <@U123> <https://evil.example|click> `x` *bold* _it_"


def stopped(problem: str, channel_id: str = CHANNEL) -> SubscriptionInfo:
    return SubscriptionInfo(
        channel_id=channel_id,
        campaign_id=CAMPAIGN_ID,
        statuses=None,
        last_received_at=None,
        problem=problem,
        problem_at=STOPPED_AT,
    )


def listed(*items: SubscriptionInfo) -> dict[str, Any]:
    message = subscription_list(list(items), CHANNEL)
    assert_valid_message(message)
    return message


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (
            "not_in_channel",
            "I was removed from the channel. Invite me with `/invite @Lead Bot`, "
            "then run `/lead subscribe` again.",
        ),
        ("is_archived", "The channel was archived. Unarchive it"),
        ("account_inactive", "Slack no longer accepts my token. Ask an admin to reinstall"),
        ("restricted_action", "Slack doesn't allow me to post there"),
    ],
)
def test_a_stopped_feed_is_told_in_words_with_the_code_for_support(code: str, words: str) -> None:
    message = listed(stopped(code))
    assert_no_injection(message)
    shown = blocks_text(message)

    assert "⚠️ Delivery stopped since <!date^" in shown
    assert f"|2025-03-14 09:26 UTC>: {words}" in shown
    assert shown.endswith(f" _(Slack: `{code}`)_")
    assert "Slack said" not in shown


def test_a_stopped_feed_elsewhere_is_told_the_same_way() -> None:
    shown = blocks_text(listed(stopped("not_in_channel", channel_id="C0OTHER")))

    assert "<#C0OTHER>" in shown
    assert "I was removed from the channel." in shown


def test_a_stored_problem_that_is_not_a_code_is_shown_escaped_in_the_suffix() -> None:
    # Rows of any version hold what Slack said; an odd value still reads as a sentence.
    message = listed(stopped(HOSTILE))
    assert_no_injection(message)
    shown = blocks_text(message)

    assert "Slack refused my posts there. Run `/lead subscribe` in the channel again." in shown
    assert "&lt;!channel&gt;" in shown
