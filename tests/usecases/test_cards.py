"""Use cases of cards: a card for a channel is always masked, and sharing one says how it went."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app.sample import SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID
from bot.blocks import messages
from bot.parsing.slack_codes import REINSTALL
from bot.parsing.slack_errors import Kind, SlackFailure
from bot.usecases.cards import SHARE_REFUSED, card_answer, share_card, shared_card
from tests.usecases.support import FULL_PHONE, MASKED_PHONE, REF, services, text_of

CHANNEL = "C0LEADS"


class FakePost:
    """Posts for a channel by recording the message; fails as told."""

    def __init__(self, failure: SlackFailure | None = None) -> None:
        self.failure = failure
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: dict[str, Any]) -> SlackFailure | None:
        self.messages.append(message)
        return self.failure


async def test_a_private_card_shows_the_full_number() -> None:
    answer = await card_answer(services(), REF)
    assert FULL_PHONE in text_of(answer.message)


@pytest.mark.parametrize("user_id", ["U0USER", None])
async def test_a_card_for_a_channel_is_masked_whoever_shared_it(user_id: str | None) -> None:
    """A sharer Slack did not name (None) must not unmask the card a whole channel sees."""
    answer = await shared_card(services(), REF, user_id)
    assert answer.found
    assert MASKED_PHONE in text_of(answer.message)
    assert "415" not in text_of(answer.message)
    assert "555" not in text_of(answer.message)


async def test_a_card_for_a_channel_says_who_shared_it() -> None:
    answer = await shared_card(services(), REF, "U0USER")
    assert "Shared by <@U0USER>" in text_of(answer.message)
    assert answer.ref.shared_by == "U0USER"


@pytest.mark.parametrize("user_id", ["U0USER", None])
async def test_with_masking_off_a_card_for_a_channel_shows_the_full_number(
    user_id: str | None,
) -> None:
    answer = await shared_card(services(mask_shared=False), REF, user_id)
    assert FULL_PHONE in text_of(answer.message)


@pytest.mark.parametrize("channel", [None, CHANNEL])
async def test_sharing_posts_the_masked_card_once(channel: str | None) -> None:
    post = FakePost()
    shared = await share_card(services(), REF, None, post, channel=channel)
    assert shared.posted
    assert shared.why_not is None
    [message] = post.messages
    assert MASKED_PHONE in text_of(message)
    assert "415" not in text_of(message)


async def test_sharing_a_lead_that_is_gone_posts_nothing(no_such_lead: None) -> None:
    post = FakePost()
    shared = await share_card(services(), REF, "U0USER", post)
    assert not shared.posted
    assert post.messages == []
    assert shared.why_not == messages.lead_not_found(SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID)


async def test_a_share_refused_in_the_buttons_channel_says_so() -> None:
    post = FakePost(SlackFailure(Kind.UNKNOWN, "http_404", 404))
    shared = await share_card(services(), REF, "U0USER", post)
    assert not shared.posted
    assert shared.why_not == SHARE_REFUSED


@pytest.mark.parametrize(
    ("failure", "says"),
    [
        (
            SlackFailure(Kind.CHANNEL_GONE, "not_in_channel"),
            "I can't post in <#C0LEADS>. If it's a private channel, invite me with "
            "`/invite @Lead Bot` and try again.",
        ),
        (SlackFailure(Kind.NOT_ALLOWED, "restricted_action"), "`/invite @Lead Bot`"),
        (
            SlackFailure(Kind.PASSING, "internal_error"),
            "Slack didn't answer. Try again in a minute.",
        ),
        (SlackFailure(Kind.RATE_LIMITED, "ratelimited"), "Slack didn't answer."),
        (SlackFailure(Kind.AUTH_REVOKED, "token_revoked"), REINSTALL),
        (
            SlackFailure(Kind.UNKNOWN, "odd_<b>&"),
            "Slack refused the post (`odd_&lt;b&gt;&amp;`). Try again in a moment.",
        ),
    ],
)
async def test_a_post_refused_in_a_chosen_channel_says_why(
    failure: SlackFailure, says: str
) -> None:
    shared = await share_card(services(), REF, "U0USER", FakePost(failure), channel=CHANNEL)
    assert not shared.posted
    text = text_of(shared.why_not or {})
    assert "Couldn't post the card" in text
    assert says in text
