"""Use cases behind the modals: they take values and return Block Kit, failures included."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import views
from bot.blocks.ids import CallRef, CallsRef
from bot.nlpearl.errors import BadCredentials, NLPearlError, NotFound, Unavailable
from bot.nlpearl.models import Pearl
from bot.storage.rows import Workspace
from bot.usecases import modals
from bot.usecases.campaigns import CampaignDirectory, campaign_options
from bot.usecases.services import Services, Where
from tests.usecases.support import MASKED_PHONE, REF, services

WHERE = Where(Workspace(team_id="T0TEAM"), user_id="U0USER", channel_id="C0HERE", public_url=None)
CHANNEL = "C0LEADS"


class FakeClient:
    """chat.postMessage that records what it was asked, or fails with Slack's error."""

    def __init__(self, error: str | None = None) -> None:
        self.error = error
        self.posts: list[dict[str, Any]] = []

    async def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:
        self.posts.append(kwargs)
        if self.error:
            response = SimpleNamespace(status_code=200, data={"ok": False, "error": self.error})
            raise SlackApiError(self.error, response)  # type: ignore[no-untyped-call]
        return {"ok": True}


def as_client(client: FakeClient) -> AsyncWebClient:
    return cast(AsyncWebClient, client)


async def test_post_card_posts_the_masked_credited_card_and_says_where() -> None:
    client = FakeClient()
    notice = await modals.post_card(services(), as_client(client), WHERE, REF, CHANNEL)
    [post] = client.posts
    assert post["channel"] == CHANNEL
    assert post["unfurl_links"] is False
    assert MASKED_PHONE in json.dumps(post, ensure_ascii=False)
    assert "Shared by <@U0USER>" in json.dumps(post)
    assert "Posted" in notice["text"]
    assert "The card is in <#C0LEADS>." in json.dumps(notice)


async def test_post_card_says_why_slack_refused() -> None:
    client = FakeClient(error="not_in_channel")
    notice = await modals.post_card(services(), as_client(client), WHERE, REF, CHANNEL)
    text = json.dumps(notice)
    assert "Couldn't post the card" in text
    assert "I can't post in <#C0LEADS>" in text
    assert "`/invite @Lead Bot`" in text


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (NotFound("gone"), "NLPearl has no such record any more."),
        (BadCredentials("401"), "API key"),
        (Unavailable("503"), "NLPearl"),
    ],
)
async def test_transcripts_and_call_lists_show_nlpearl_failures(
    error: NLPearlError, says: str
) -> None:
    async def fail(*_: object, **__: object) -> Any:
        raise error

    nlpearl = SimpleNamespace(get_call=fail, get_lead=fail)
    broken = cast(Services, SimpleNamespace(nlpearl=nlpearl, mask_shared_phone_numbers=True))
    expected = modals.problem_view(error)
    assert expected["type"] == "modal"
    assert says in json.dumps(expected)
    transcript = await modals.transcript_view(broken, CallRef(call_id="c1"))
    calls = await modals.calls_view(broken, CallsRef(campaign_id="a" * 24, lead_id="b" * 24))
    assert transcript == calls == expected


async def test_campaign_options_offer_outbound_campaigns_and_a_typed_id() -> None:
    class Directory:
        async def campaigns(self, wait: float) -> list[Pearl]:
            assert wait == 1.0
            return [
                Pearl(id="664e9a77f0e1d2c3b4a59687", name="Spring", type=2),
                Pearl(id="664e9a77f0e1d2c3b4a51111", name="Spring inbound", type=1),
            ]

    directory = cast(CampaignDirectory, Directory())
    options = await campaign_options(directory, " spring ", wait=1.0)
    assert [o["value"] for o in options] == ["664e9a77f0e1d2c3b4a59687"]
    typed = "6650F1C2A9E4B27D3C8E41A7"
    options = await campaign_options(directory, typed, wait=1.0)
    assert options == [views.campaign_option(typed.lower(), "Use this ID")]
