"""`/lead digest` end to end, and opening a campaign's card from the lookup form and Home.

The real app runs in process against the Slack and NLPearl stand-ins, driven by signed
requests as Slack sends them. Each test checks what Slack received (the private reply at the
response_url, the note in the channel, the views) and the rows `digests_of` reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.blocks.views import lookup_modal
from bot.demo.nlpearl_api import SAMPLE_PEARL_ID
from bot.records import utc_now
from bot.storage.digests import digests_of, stop_digest_for_good
from bot.storage.engine import create_engine
from bot.storage.rows import DigestInfo, Workspace
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message
from tests.harness import interactions as slack_says
from tests.harness.acting import assert_view_fits, view_text
from tests.harness.in_process import AppInProcess
from tests.harness.slack_requests import (
    assert_no_stack_traces,
    blocks_text,
    buttons,
    send_command,
)
from tests.standins import NLPearlStandIn, SlackStandIn
from tests.standins.slack import Recorded

pytestmark = pytest.mark.usefixtures("no_stack_traces")

P = SAMPLE_PEARL_ID
NAME = "Solar – Spring Re-engagement"
UNKNOWN = "ffffffffffffffffffffffff"
USER = slack_says.DEFAULT_USER
CHANNEL = slack_says.DEFAULT_CHANNEL
OTHER_CHANNEL = "C0OTHER"
WS = Workspace(slack_says.DEFAULT_TEAM, "")
PARIS = "Europe/Paris"
VIEW_METHODS = ("views.open", "views.push", "views.update", "views.publish")
SHOW_CAMPAIGN = "lookup.show_campaign"
HOME_CAMPAIGN = "home.campaign."


@pytest.fixture(autouse=True)
def views_fit_slack(slack: SlackStandIn) -> Iterator[None]:
    """After the test, every view fits Slack, and no message or view shows a stack trace."""
    yield
    for method in VIEW_METHODS:
        bodies = slack.calls(method)
        for body in bodies:
            assert_view_fits(body["view"])
        assert_no_stack_traces(bodies)
    assert_no_stack_traces(slack.calls("chat.postMessage"))


def tess(slack: SlackStandIn, time_zone: str | None = PARIS) -> None:
    """users.info describes whoever asks as tess, in `time_zone` (None: Slack gives no zone)."""
    user: dict[str, Any] = {
        "id": USER,
        "team_id": WS.team_id,
        "name": "tess",
        "deleted": False,
        "is_bot": False,
        "profile": {"display_name": "tess", "real_name": "Tess Ng"},
    }
    if time_zone is not None:
        user |= {"tz": time_zone, "tz_label": "Central European Time", "tz_offset": 3600}
    slack.set_response("users.info", {"ok": True, "user": user})


def command(
    server: AppInProcess, slack: SlackStandIn, text: str, name: str, **fields: Any
) -> dict[str, Any]:
    """`/lead text`: an empty ack, then the one private reply at the response_url."""
    acked = send_command(server.events_url, text, slack.response_url(name), **fields)
    assert (acked.status_code, acked.text) == (200, "")
    [reply] = slack.wait_for_responses(1, name)
    assert reply["response_type"] == "ephemeral"
    assert_valid_message(reply)
    return reply


def digests_in(tmp_path: Path) -> list[DigestInfo]:
    """The workspace's digests as the app stored them (the in-process app's SQLite file)."""

    async def read() -> list[DigestInfo]:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}")
        try:
            return await digests_of(engine, WS)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def stop_for_good(tmp_path: Path, digest_id: int, problem: str) -> None:
    """What the scheduler does when Slack refuses the digest's channel for good."""

    async def write() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}")
        try:
            await stop_digest_for_good(engine, digest_id, problem)
        finally:
            await engine.dispose()

    asyncio.run(write())


def notes(slack: SlackStandIn, channel: str = CHANNEL) -> list[str]:
    """The texts of the messages the app posted in the channel."""
    return [m["text"] for m in slack.messages(channel)]


def due_token(info: DigestInfo) -> str:
    """The start of the Slack date token for the digest's next moment."""
    return f"<!date^{int(info.next_due_at.timestamp())}^{{date_short_pretty}} at {{time}}|"


def assert_due_at(info: DigestInfo, at: str, zone: str) -> None:
    """The next digest is the next time the clock in `zone` reads `at`, within a day."""
    now = utc_now()
    assert info.next_due_at.astimezone(ZoneInfo(zone)).strftime("%H:%M") == at
    # A day, plus the hour a clock change can add.
    assert now < info.next_due_at <= now + timedelta(hours=25)


# Setting, moving and stopping


def test_a_digest_is_set_in_the_persons_time_zone_and_the_channel_is_told(
    server: AppInProcess, slack: SlackStandIn, tmp_path: Path
) -> None:
    """`/lead digest P`: 09:00 in tess's zone, stored, a private reply and a note in channel."""
    tess(slack)

    reply = command(server, slack, f"digest {P}", "set")

    [row] = digests_in(tmp_path)
    assert (row.channel_id, row.campaign_id, row.at_time, row.time_zone) == (
        CHANNEL,
        P,
        "09:00",
        PARIS,
    )
    assert row.created_by == USER
    assert row.problem is None
    assert_due_at(row, "09:00", PARIS)
    assert blocks_text(reply) == (
        f"📬 Daily digest of *{NAME}* in <#{CHANNEL}> at 09:00 (Europe/Paris). "
        f"The first one comes {due_token(row)}{row.next_due_at:%Y-%m-%d %H:%M} UTC>."
    )
    assert notes(slack) == [
        f"📬 Daily digest of *{NAME}* set up here, every day at 09:00 (Europe/Paris) · by @tess"
    ]
    [posted] = slack.calls("chat.postMessage")
    assert_no_injection(posted)


def test_a_time_moves_the_digest_and_the_same_time_again_changes_nothing(
    server: AppInProcess, slack: SlackStandIn, tmp_path: Path
) -> None:
    """9am, then 17:30 (moved, the channel told), then 5:30pm (already so, no new note)."""
    tess(slack)
    command(server, slack, f"digest {P} 9am", "set")
    [first] = digests_in(tmp_path)

    moved = command(server, slack, f"digest {P} 17:30", "move")

    [row] = digests_in(tmp_path)
    assert (row.id, row.at_time, row.time_zone) == (first.id, "17:30", PARIS)
    assert_due_at(row, "17:30", PARIS)
    assert blocks_text(moved) == (
        f"📬 Moved the daily digest of *{NAME}* in <#{CHANNEL}> from 09:00 (Europe/Paris) "
        f"to 17:30 (Europe/Paris). The next one comes {due_token(row)}"
        f"{row.next_due_at:%Y-%m-%d %H:%M} UTC>."
    )
    assert notes(slack)[-1] == (
        f"📬 Daily digest of *{NAME}* moved to 17:30 (Europe/Paris) · by @tess"
    )

    again = command(server, slack, f"digest {P} 5:30pm", "again")

    assert digests_in(tmp_path) == [row]
    assert blocks_text(again).startswith(
        f"📬 The daily digest of *{NAME}* in <#{CHANNEL}> is already at 17:30 (Europe/Paris)."
    )
    assert len(notes(slack)) == 2


def test_off_stops_the_digest_and_then_there_is_none(
    server: AppInProcess, slack: SlackStandIn, tmp_path: Path
) -> None:
    """`off`: the row goes, the reply and the channel say so; `off` again: there is none."""
    tess(slack)
    command(server, slack, f"digest {P} 08:15", "set")

    stopped = command(server, slack, f"digest {P} off", "off")

    assert digests_in(tmp_path) == []
    assert blocks_text(stopped) == f"📭 Stopped the daily digest of *{NAME}* in <#{CHANNEL}>."
    assert notes(slack)[-1] == f"📭 Daily digest of *{NAME}* stopped · by @tess"

    nothing = command(server, slack, f"digest {P} off", "none")

    assert blocks_text(nothing) == f"🤷 This channel has no digest of *{NAME}*."
    assert len(notes(slack)) == 2


def test_a_digest_slack_stopped_starts_again_when_asked_for_again(
    server: AppInProcess, slack: SlackStandIn, tmp_path: Path
) -> None:
    """Listed as stopped with Slack's reason in words; the same command starts it afresh."""
    tess(slack)
    command(server, slack, f"digest {P}", "set")
    [row] = digests_in(tmp_path)
    stop_for_good(tmp_path, row.id, "not_in_channel")
    listed = blocks_text(command(server, slack, "subscriptions", "list"))
    assert f"then run `/lead digest {P}` again. _(Slack: `not_in_channel`)_" in listed

    again = command(server, slack, f"digest {P} 9:00", "again")

    [restarted] = digests_in(tmp_path)
    assert (restarted.id, restarted.problem, restarted.at_time) == (row.id, None, "09:00")
    assert blocks_text(again).startswith(f"📬 Daily digest of *{NAME}* in <#{CHANNEL}> at 09:00")
    assert len(notes(slack)) == 2


def test_a_pasted_link_names_the_campaign(
    server: AppInProcess, slack: SlackStandIn, tmp_path: Path
) -> None:
    tess(slack)
    link = f"<https://platform.nlpearl.ai/pearls/{P}/settings|Spring>"

    command(server, slack, f"digest {link} at 21:00", "link")

    [row] = digests_in(tmp_path)
    assert (row.campaign_id, row.at_time) == (P, "21:00")


# Refusals: nothing stored, nothing posted


def test_an_unknown_campaign_is_refused(
    server: AppInProcess, slack: SlackStandIn, tmp_path: Path
) -> None:
    tess(slack)

    reply = command(server, slack, f"digest {UNKNOWN}", "unknown")

    assert "🔍 *Campaign not found*" in blocks_text(reply)
    assert f"NLPearl has no campaign `{UNKNOWN}`." in blocks_text(reply)
    assert digests_in(tmp_path) == []
    assert slack.calls("chat.postMessage") == []


def test_nlpearl_down_means_nothing_is_set_up(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, tmp_path: Path
) -> None:
    """NLPearl answers 503 throughout: the campaign can't be checked, so nothing is stored."""
    tess(slack)
    nlpearl.fail_next(f"/v2/Pearl/{P}", status=503, times=100)

    reply = command(server, slack, f"digest {P} 9:00", "down")

    assert blocks_text(reply) == (
        "⏳ *Couldn't check the campaign*\n"
        f"NLPearl isn't answering right now, so I couldn't check campaign `{P}`. "
        "Nothing was set up; try again in a minute."
    )
    assert digests_in(tmp_path) == []
    assert slack.calls("chat.postMessage") == []


def test_without_a_time_zone_from_slack_the_digest_is_in_utc_and_says_why(
    server: AppInProcess, slack: SlackStandIn, tmp_path: Path
) -> None:
    tess(slack, time_zone=None)

    reply = command(server, slack, f"digest {P} 07:45", "utc")

    [row] = digests_in(tmp_path)
    assert (row.at_time, row.time_zone) == ("07:45", "UTC")
    assert_due_at(row, "07:45", "UTC")
    assert blocks_text(reply).startswith(
        f"📬 Daily digest of *{NAME}* in <#{CHANNEL}> at "
        "07:45 (UTC — Slack didn't tell us your time zone). The first one comes <!date^"
    )
    # The channel sees the zone, not a sentence meant for the person who typed it.
    assert notes(slack) == [
        f"📬 Daily digest of *{NAME}* set up here, every day at 07:45 (UTC) · by @tess"
    ]


def test_when_slack_cannot_say_who_it_is_the_digest_is_in_utc_by_someone(
    server: AppInProcess, slack: SlackStandIn, tmp_path: Path
) -> None:
    """users.info fails (an unknown person): UTC, and the note says "by someone"."""
    reply = command(server, slack, f"digest {P}", "nobody")

    [row] = digests_in(tmp_path)
    assert row.time_zone == "UTC"
    assert "(UTC — Slack didn't tell us your time zone)" in blocks_text(reply)
    assert notes(slack) == [
        f"📬 Daily digest of *{NAME}* set up here, every day at 09:00 (UTC) · by someone"
    ]


def test_a_direct_message_is_refused(
    server: AppInProcess, slack: SlackStandIn, tmp_path: Path
) -> None:
    tess(slack)

    reply = command(server, slack, f"digest {P}", "dm", channel_id="D0DIRECT")

    assert blocks_text(reply) == (
        "🔒 *I can't post in this conversation*\n"
        "Direct messages can't be subscribed. Run this in a channel."
    )
    assert digests_in(tmp_path) == []
    assert slack.calls("chat.postMessage") == []


def test_a_private_channel_without_the_bot_says_how_to_invite_it(
    server: AppInProcess, slack: SlackStandIn, tmp_path: Path
) -> None:
    tess(slack)
    private = {"id": CHANNEL, "is_private": True, "is_member": False, "is_archived": False}
    slack.set_response("conversations.info", {"ok": True, "channel": private})

    reply = command(server, slack, f"digest {P}", "private")

    assert blocks_text(reply).endswith(
        f"Invite me with `/invite @Lead Bot`, then run `/lead digest {P}` again."
    )
    assert digests_in(tmp_path) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"digest {P} 25:00", "“25:00” isn't a time of day. Use HH:MM, like 09:00 or 17:30."),
        ("digest", "`digest` needs the campaign ID first"),
    ],
)
def test_a_malformed_digest_is_answered_in_the_ack(
    server: AppInProcess, slack: SlackStandIn, tmp_path: Path, text: str, problem: str
) -> None:
    acked = send_command(server.events_url, text, slack.response_url("bad"))

    assert acked.status_code == 200
    shown = blocks_text(acked.json())
    assert problem in shown
    assert "Try `/lead digest CAMPAIGN_ID 09:00`" in shown
    assert digests_in(tmp_path) == []


# Listing


def test_subscriptions_list_this_channels_digest_and_the_workspaces(
    server: AppInProcess, slack: SlackStandIn
) -> None:
    tess(slack)
    command(server, slack, f"digest {P} 09:00", "here")
    command(server, slack, f"digest {P} 17:30", "there", channel_id=OTHER_CHANNEL)

    listed = command(server, slack, "subscriptions", "list")

    lines = [b["text"]["text"] for b in listed["blocks"] if b["type"] == "section"]
    assert lines[0] == "*📣 This channel*"
    assert lines[1].startswith(f"📬 `{P}` · daily at 09:00 (Europe/Paris) · next <!date^")
    assert lines[2] == "*🏢 Elsewhere in this workspace*"
    assert lines[3].startswith(
        f"📬 <#{OTHER_CHANNEL}> · `{P}` · daily at 17:30 (Europe/Paris) · next <!date^"
    )
    assert listed["text"] == "0 subscriptions, 2 daily digests"


def test_home_lists_the_digests_and_opens_a_campaign_in_one_click(
    server: AppInProcess, slack: SlackStandIn
) -> None:
    """Home: a "Daily digests" section, and the campaign with a Show campaign button that
    opens its card in a modal (loading first), as `/lead campaign` shows it."""
    tess(slack)
    command(server, slack, f"digest {P} 09:00", "here")

    home = open_home(server, slack)

    text = view_text(home)
    assert "*📬 Daily digests*" in text
    assert f"📬 <#{CHANNEL}> · *{NAME}* · daily at 09:00 (Europe/Paris) · next <!date^" in text
    assert f"*{NAME}* · `{P}`" in text
    [show] = [b for a, b in buttons(home).items() if a.startswith(HOME_CAMPAIGN)]
    assert show["text"]["text"] == "Show campaign"

    after = len(slack.records())
    payload = slack_says.view_block_actions(show["action_id"], show["value"], home, "V0HOME")
    acked = slack_says.send_interaction(server.events_url, payload)
    assert (acked.status_code, acked.text) == (200, "")

    opened = wait_for(slack, "views.open", after)
    assert opened["trigger_id"] == payload["trigger_id"]
    assert "Loading the campaign" in view_text(opened["view"])
    card = wait_for(slack, "views.update", after)["view"]
    assert_is_campaign_card(card)


# The lookup form's Show campaign


def test_show_campaign_under_the_picker_opens_the_picked_campaign(
    server: AppInProcess, slack: SlackStandIn
) -> None:
    form = lookup_form(server, slack)
    picked = {"campaign": {"lookup.campaign": slack_says.selected_option(NAME, P)}}

    after = len(slack.records())
    payload = click_in_form(server, form, picked)

    pushed = wait_for(slack, "views.push", after)
    assert pushed["trigger_id"] == payload["trigger_id"]
    assert "Loading the campaign" in view_text(pushed["view"])
    card = wait_for(slack, "views.update", after)["view"]
    assert_is_campaign_card(card)

    # Refresh in the modal redraws it there: a modal has no response_url.
    refresh = buttons(card)["campaign.refresh"]
    after = len(slack.records())
    payload = slack_says.view_block_actions("campaign.refresh", refresh["value"], card, "V0CARD")
    assert slack_says.send_interaction(server.events_url, payload).status_code == 200
    redrawn = wait_for(slack, "views.update", after)
    assert redrawn["view_id"] == "V0CARD"
    assert_is_campaign_card(redrawn["view"])


def test_show_campaign_on_an_untouched_form_opens_the_campaign_it_offers(
    server: AppInProcess, slack: SlackStandIn
) -> None:
    """The form offers the campaign chosen last; pressed before touching the picker (no state
    for it yet), Show campaign opens that campaign."""
    form = lookup_modal(campaign=(P, NAME))

    after = len(slack.records())
    click_in_form(server, form, {})

    card = wait_for(slack, "views.update", after)["view"]
    assert_is_campaign_card(card)


def test_show_campaign_with_nothing_picked_says_to_pick_one(
    server: AppInProcess, slack: SlackStandIn
) -> None:
    form = lookup_form(server, slack)

    after = len(slack.records())
    click_in_form(server, form, {"campaign": {"lookup.campaign": slack_says.no_option()}})

    pushed = wait_for(slack, "views.push", after)["view"]
    assert "Pick a campaign first" in view_text(pushed)
    assert "Show campaign" in view_text(pushed)


def test_show_campaign_for_an_unknown_campaign_says_so_in_the_modal(
    server: AppInProcess, slack: SlackStandIn
) -> None:
    form = lookup_form(server, slack)
    picked = {"campaign": {"lookup.campaign": slack_says.selected_option("Use this ID", UNKNOWN)}}

    after = len(slack.records())
    click_in_form(server, form, picked)

    shown = wait_for(slack, "views.update", after)["view"]
    assert "No such campaign" in view_text(shown)
    assert shown["callback_id"] != "campaign_modal"


# Helpers


def wait_for(slack: SlackStandIn, method: str, after: int) -> dict[str, Any]:
    """The first call of `method` since the `after`th request."""

    def matches(record: Recorded) -> bool:
        return record.method_or_path == method

    return slack.wait_for_request(matches, after=after).body


def open_home(server: AppInProcess, slack: SlackStandIn) -> dict[str, Any]:
    """Opens the Home tab; the view published."""
    after = len(slack.records())
    acked = slack_says.send_event(server.events_url, slack_says.app_home_opened(USER))
    assert acked.status_code == 200
    view: dict[str, Any] = wait_for(slack, "views.publish", after)["view"]
    return view


def lookup_form(server: AppInProcess, slack: SlackStandIn) -> dict[str, Any]:
    """The global shortcut's lookup form, with its Show campaign button under the picker."""
    after = len(slack.records())
    acked = slack_says.send_interaction(server.events_url, slack_says.global_shortcut())
    assert acked.status_code == 200
    form: dict[str, Any] = wait_for(slack, "views.open", after)["view"]
    kinds = [(b["type"], b.get("block_id")) for b in form["blocks"]]
    assert kinds[:2] == [("input", "campaign"), ("actions", "show_campaign")]
    return form


def click_in_form(
    server: AppInProcess, form: dict[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    """Presses Show campaign, with the form's state as Slack sends it: the picker's value."""
    payload = slack_says.view_block_actions(SHOW_CAMPAIGN, None, form, "V0LOOKUP")
    payload["view"]["state"]["values"] = values
    acked: httpx.Response = slack_says.send_interaction(server.events_url, payload)
    assert (acked.status_code, acked.text) == (200, "")
    return payload


def assert_is_campaign_card(view: dict[str, Any]) -> None:
    """The campaign card as `/lead campaign` draws it, in a modal (where Share can't work)."""
    assert view["callback_id"] == "campaign_modal"
    text = view_text(view)
    assert NAME in text
    assert "🟢 Running" in text
    assert "*Calls today*\n87" in text
    shown = set(buttons(view))
    assert {"campaign.refresh", "campaign.attention", "campaign.pause"} <= shown
    assert "campaign.share" not in shown
