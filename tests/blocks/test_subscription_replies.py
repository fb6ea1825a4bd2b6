"""What `/lead subscribe` answers about the webhook URL, rendered within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.blocks.subscriptions import subscribed, webhook_url_needs_public_url
from tests.blocks.slack_limits import assert_valid_message
from tests.harness.slack_requests import blocks_text

URL = "https://leads.example.com/nlpearl/webhooks/lbwh_Zq3vK9_xT-2mWb8RfYc1LpN4sHdE7gAj"
CAMPAIGN = "`664e9a77f0e1d2c3b4a59687`"


def _reply(
    webhook_url: str | None = URL,
    last_received_at: datetime | None = None,
    *,
    public_url_unset: bool = False,
) -> dict[str, Any]:
    message = subscribed(
        campaign=CAMPAIGN,
        statuses=None,
        webhook_url=webhook_url,
        last_received_at=last_received_at,
        changed=False,
        public_url_unset=public_url_unset,
    )
    assert_valid_message(message)
    return message


def test_the_url_is_shown_with_the_promise_that_it_never_changes() -> None:
    shown = blocks_text(_reply())
    assert f"```{URL}```" in shown
    assert "It never changes" in shown
    assert "PUBLIC_URL" not in shown


def test_a_url_taken_from_the_request_says_how_to_set_public_url() -> None:
    shown = blocks_text(_reply(public_url_unset=True))
    assert "`PUBLIC_URL` is not set" in shown
    assert "set `PUBLIC_URL` to that address" in shown


def test_without_a_url_to_show_the_reply_shows_none() -> None:
    shown = blocks_text(_reply(webhook_url=None))
    assert "webhooks/" not in shown
    assert "Connect NLPearl" not in shown


def test_once_nlpearl_sends_the_reply_says_so() -> None:
    when = datetime(2025, 3, 14, 9, 26, tzinfo=UTC)
    shown = blocks_text(_reply(webhook_url=None, last_received_at=when))
    assert "NLPearl is already sending" in shown


def test_over_socket_mode_the_reply_asks_for_public_url() -> None:
    placeholder = webhook_url_needs_public_url("/nlpearl/webhooks/lbwh_abc")
    assert placeholder.startswith("https://YOUR-APP-HOST/nlpearl/webhooks/lbwh_abc")
    assert "`PUBLIC_URL`" in placeholder
