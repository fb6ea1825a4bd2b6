"""The lead card's buttons end to end: Share in channel, Refresh, and the recording link.

Every button value comes from a card the real server posted, and every click is a
`block_actions` payload signed as Slack signs it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.demo.nlpearl_api import SAMPLE_LEAD_ID, SAMPLE_PEARL_ID
from tests.harness.in_process import AppFactory, AppInProcess
from tests.harness.slack_requests import (
    SETTLE_CAMPAIGN,
    blocks_text,
    buttons,
    click_button,
    message_text,
    send_command,
    settle,
)
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")

P = SAMPLE_PEARL_ID
REFRESH = "lead_card.refresh"
SHARE = "lead_card.share"
FULL_PHONE = "+1 415-555-0137"
MASKED_PHONE = "•••• 0137"
SHARED_BY = "Shared by <@U0USER>"
# A lead of this file's own, so changing it can't disturb other tests.
CHANGING_LEAD_ID = "aaaaaaaaaaaaaaaaaaaa0001"


# Helpers


def look_up(server: AppInProcess, slack: SlackStandIn, key: str, name: str) -> dict[str, Any]:
    """The private card `/lead CAMPAIGN key` posts to the response_url called `name`."""
    acked = send_command(server.events_url, f"{P} {key}", slack.response_url(name))
    assert (acked.status_code, acked.text) == (200, "")
    [card] = slack.wait_for_responses(1, name)
    assert "lead_card.refresh" in buttons(card), f"not a card: {card}"
    return card


def click(
    server: AppInProcess,
    slack: SlackStandIn,
    action_id: str,
    value: str,
    name: str,
    **fields: Any,
) -> None:
    """Clicks a button; Slack expects an empty 200 at once, whatever follows."""
    clicked = click_button(server.events_url, action_id, value, slack.response_url(name), **fields)
    assert (clicked.status_code, clicked.text) == (200, "")


def share(server: AppInProcess, slack: SlackStandIn, card: dict[str, Any], name: str) -> None:
    """Clicks the private card's Share button, as on an ephemeral message."""
    click(server, slack, SHARE, buttons(card)[SHARE]["value"], name, is_ephemeral=True)


def phone_field(card: dict[str, Any]) -> str:
    """The phone number as the card shows it."""
    section = next(b for b in card["blocks"] if b["type"] == "section" and "fields" in b)
    [phone] = [f["text"] for f in section["fields"] if f["text"].startswith("*Phone*")]
    return phone.removeprefix("*Phone*\n")


def card_actions(card: dict[str, Any]) -> set[str]:
    """Which of Refresh and Share the card offers (other buttons may come and go)."""
    return set(buttons(card)) & {REFRESH, SHARE}


def assert_deletes_original(body: dict[str, Any]) -> None:
    """A post that only deletes the message the button was on."""
    assert body["delete_original"] is True
    assert not body.get("blocks")
    assert not body.get("text")
    assert body.get("response_type") != "in_channel"


def app_paths(nlpearl: NLPearlStandIn) -> list[str]:
    """NLPearl paths the app requested, leaving out those of `settle()`."""
    return [r.path for r in nlpearl.requests() if SETTLE_CAMPAIGN not in r.path]


def assert_private_notice(answer: dict[str, Any]) -> None:
    """A short notice for the clicker only that leaves the card where it is."""
    assert not answer.get("replace_original")
    assert not answer.get("delete_original")
    assert answer.get("response_type") in (None, "ephemeral")
    assert buttons(answer) == {}
    assert answer["text"]
    assert [b["type"] for b in answer["blocks"]] == ["section"]


@pytest.fixture
def private_card(shared_server: AppInProcess, shared_slack: SlackStandIn) -> dict[str, Any]:
    """Maria Gonzalez's private card, as the app posted it."""
    return look_up(shared_server, shared_slack, SAMPLE_LEAD_ID, "private-card")


# Share


def test_share_posts_a_masked_card_for_everyone_and_drops_the_private_one(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    private_card: dict[str, Any],
) -> None:
    """Share: the card in channel with the phone masked and who shared it; the private copy goes."""
    share(shared_server, shared_slack, private_card, "share")

    shared, deleted = shared_slack.wait_for_responses(2, "share")

    assert shared["response_type"] == "in_channel"
    assert not shared.get("replace_original")
    assert phone_field(shared) == MASKED_PHONE
    assert "415" not in message_text(shared)
    assert SHARED_BY in blocks_text(shared)
    assert "Maria agreed to a site survey" in blocks_text(shared)
    assert card_actions(shared) == {REFRESH}
    refresh_ref = json.loads(buttons(shared)[REFRESH]["value"])
    assert refresh_ref == {
        "campaign_id": P,
        "kind": "id",
        "key": SAMPLE_LEAD_ID,
        "shared_by": "U0USER",
    }
    assert_deletes_original(deleted)


def test_share_with_masking_off_shows_the_full_number(
    shared_server_factory: AppFactory,
    shared_slack: SlackStandIn,
) -> None:
    """MASK_SHARED_PHONE_NUMBERS=false: the shared card keeps the whole phone number."""
    server = shared_server_factory({"MASK_SHARED_PHONE_NUMBERS": "false"})
    card = look_up(server, shared_slack, SAMPLE_LEAD_ID, "unmasked-card")

    share(server, shared_slack, card, "unmasked-share")
    shared, deleted = shared_slack.wait_for_responses(2, "unmasked-share")

    assert shared["response_type"] == "in_channel"
    assert phone_field(shared) == FULL_PHONE
    assert SHARED_BY in blocks_text(shared)
    assert card_actions(shared) == {REFRESH}
    assert_deletes_original(deleted)


def test_sharing_a_lead_that_is_gone_tells_only_the_clicker(
    shared_server: AppInProcess, shared_slack: SlackStandIn
) -> None:
    """Share when NLPearl has lost the lead: a private notice, nothing in channel, no delete."""
    gone = json.dumps({"campaign_id": P, "kind": "id", "key": "ffffffffffffffffffffffff"})

    click(shared_server, shared_slack, SHARE, gone, "share-gone", is_ephemeral=True)
    [answer] = shared_slack.wait_for_responses(1, "share-gone")
    settle(shared_server.events_url, shared_slack)

    assert answer["response_type"] == "ephemeral"
    assert "Lead not found" in message_text(answer)
    assert_private_notice(answer)
    assert shared_slack.responses("share-gone") == [answer]


# Refresh


def test_refresh_replaces_the_private_card_with_fresh_data(
    shared_server: AppInProcess, shared_slack: SlackStandIn, shared_nlpearl: NLPearlStandIn
) -> None:
    """Refresh fetches the lead again and replaces the card in place, phone in full."""
    lead = {
        "id": CHANGING_LEAD_ID,
        "externalId": "crm-refresh-0001",
        "phoneNumber": "+14155550199",
        "timeZone": "-8.0",
        "status": 1,
        "callsId": [],
        "callData": {"firstName": "Rene", "lastName": "Fresh"},
    }
    shared_nlpearl.add_lead(P, lead)
    card = look_up(shared_server, shared_slack, CHANGING_LEAD_ID, "refresh-card")
    shared_nlpearl.add_lead(P, {**lead, "status": 100})  # NLPearl moved on meanwhile
    shared_nlpearl.reset()

    click(shared_server, shared_slack, REFRESH, buttons(card)[REFRESH]["value"], "refresh")
    [refreshed] = shared_slack.wait_for_responses(1, "refresh")

    assert "*Status*\n🆕 New" in blocks_text(card)
    assert refreshed["replace_original"] is True
    assert "*Status*\n✅ Success" in blocks_text(refreshed)
    assert phone_field(refreshed) == "+1 415-555-0199"
    assert card_actions(refreshed) == {REFRESH, SHARE}
    assert "Shared by" not in blocks_text(refreshed)
    assert [p for p in app_paths(shared_nlpearl) if "/Lead" in p] == [
        f"/v2/Outbound/{P}/Lead/{CHANGING_LEAD_ID}"
    ]


def test_refresh_on_a_shared_card_keeps_it_masked_and_credited(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    private_card: dict[str, Any],
) -> None:
    """Refresh on the channel's card, by someone else: still masked, still the sharer's."""
    share(shared_server, shared_slack, private_card, "share-then-refresh")
    shared, _ = shared_slack.wait_for_responses(2, "share-then-refresh")

    value = buttons(shared)[REFRESH]["value"]
    click(shared_server, shared_slack, REFRESH, value, "refresh-shared", user_id="U0OTHER")
    [refreshed] = shared_slack.wait_for_responses(1, "refresh-shared")

    assert refreshed["replace_original"] is True
    assert phone_field(refreshed) == MASKED_PHONE
    assert "415" not in message_text(refreshed)
    assert SHARED_BY in blocks_text(refreshed)
    assert "U0OTHER" not in message_text(refreshed)
    assert card_actions(refreshed) == {REFRESH}


def test_refresh_while_nlpearl_is_down_keeps_the_card(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
    private_card: dict[str, Any],
) -> None:
    """Refresh that can't reach NLPearl: a private notice; the card is not replaced."""
    shared_nlpearl.fail_next(re.compile("."), status=503, times=1000)

    value = buttons(private_card)[REFRESH]["value"]
    click(shared_server, shared_slack, REFRESH, value, "refresh-down", is_ephemeral=True)
    [answer] = shared_slack.wait_for_responses(1, "refresh-down")

    assert "NLPearl is not responding" in message_text(answer)
    assert_private_notice(answer)


# Unreadable values and the recording link


@pytest.mark.parametrize("action_id", [REFRESH, SHARE])
@pytest.mark.parametrize(
    "value",
    ["not json", "", '{"campaign_id": "x"}', '{"campaign_id": "x", "kind": "email", "key": "k"}'],
    ids=["not-json", "empty", "missing-fields", "unknown-kind"],
)
def test_button_with_an_unreadable_value_gets_a_polite_notice(
    shared_server: AppInProcess,
    shared_slack: SlackStandIn,
    shared_nlpearl: NLPearlStandIn,
    action_id: str,
    value: str,
) -> None:
    """A value the app can't read: a private notice, nothing fetched, shared or deleted."""
    click(shared_server, shared_slack, action_id, value, "unreadable", is_ephemeral=True)
    [answer] = shared_slack.wait_for_responses(1, "unreadable")
    settle(shared_server.events_url, shared_slack)

    assert_private_notice(answer)
    assert "NLPearl" not in message_text(answer), "the button is at fault, not NLPearl"
    assert shared_slack.responses("unreadable") == [answer]
    assert app_paths(shared_nlpearl) == []


def test_recording_link_click_is_acknowledged_and_nothing_else(
    shared_server: AppInProcess, shared_slack: SlackStandIn, shared_nlpearl: NLPearlStandIn
) -> None:
    """The recording button opens its URL in Slack; the app only acknowledges the click."""
    click(shared_server, shared_slack, "lead_card.recording.0", "", "recording")
    settle(shared_server.events_url, shared_slack)

    assert shared_slack.responses("recording") == []
    assert app_paths(shared_nlpearl) == []
