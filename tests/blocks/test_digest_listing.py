"""Daily digests as people see them: `/lead digest`'s replies and channel notes, the digests in
`/lead subscriptions`, and the Home tab's "Daily digests" and "Your campaigns"."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.blocks.home import CAMPAIGNS_SHOWN, DIGESTS_SHOWN, HomeCampaign, Setup, home_view
from bot.blocks.ids import ActionId, CampaignRef
from bot.blocks.subscriptions import (
    campaign_not_checked,
    cannot_digest_here,
    digest_campaign,
    digest_line,
    digest_note,
    digest_set,
    digest_stopped,
    digest_time,
    no_digest,
    personal_time,
    subscription_list,
)
from bot.storage.rows import DigestInfo, RecentLookup, SubscriptionInfo, Workspace
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message
from tests.blocks.test_views import action_ids, assert_valid_view
from tests.harness.slack_requests import blocks_text

CHANNEL = "C0LEADS"
OTHER = "C0OTHER"
CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
NAME = "Solar – Spring Re-engagement"
DUE = datetime(2025, 3, 15, 8, 0, tzinfo=UTC)
DUE_TOKEN = "<!date^1742025600^{date_short_pretty} at {time}|2025-03-15 08:00 UTC>"
WS = Workspace("T0TEST", "")
FINE = Setup(nlpearl_problem=None, database_problem=None)
HOSTILE = "<!channel> <@U123> <https://evil.example|click> `x` *bold* _it_ &amp; ~s~"
CHANNEL_MENTION = re.compile(r"<#[CG][0-9A-Z]+>")


def digest(channel_id: str = CHANNEL, **fields: Any) -> DigestInfo:
    data: dict[str, Any] = {
        "id": 1,
        "workspace": WS,
        "channel_id": channel_id,
        "campaign_id": CAMPAIGN_ID,
        "at_time": "09:00",
        "time_zone": "Europe/Paris",
        "next_due_at": DUE,
        "created_by": "U0TESS",
        "problem": None,
    }
    data.update(fields)
    return DigestInfo(**data)


def subscription(channel_id: str = CHANNEL) -> SubscriptionInfo:
    return SubscriptionInfo(channel_id, CAMPAIGN_ID, None, None, None, None)


def inert(message: dict[str, Any]) -> None:
    """Valid, and nothing in it mentions or links but our own channel mentions."""
    assert_valid_message(message)
    assert_no_injection(json.loads(CHANNEL_MENTION.sub("#channel", json.dumps(message))))


# the replies to /lead digest


def test_a_new_digest_says_where_when_and_when_the_first_one_comes() -> None:
    message = digest_set(
        campaign=digest_campaign(CAMPAIGN_ID, NAME),
        channel_id=CHANNEL,
        when=personal_time("09:00", "Europe/Paris", "Europe/Paris"),
        next_at=DUE,
        before=None,
        changed=True,
    )
    inert(message)
    assert blocks_text(message) == (
        f"📬 Daily digest of *{NAME}* in <#{CHANNEL}> at 09:00 (Europe/Paris). "
        f"The first one comes {DUE_TOKEN}."
    )


def test_a_moved_digest_says_from_what_to_what() -> None:
    message = digest_set(
        campaign=digest_campaign(CAMPAIGN_ID, NAME),
        channel_id=CHANNEL,
        when=personal_time("17:30", "Europe/Paris", "Europe/Paris"),
        next_at=DUE,
        before=digest_time("09:00", "Europe/Paris"),
        changed=True,
    )
    inert(message)
    assert blocks_text(message) == (
        f"📬 Moved the daily digest of *{NAME}* in <#{CHANNEL}> from 09:00 (Europe/Paris) "
        f"to 17:30 (Europe/Paris). The next one comes {DUE_TOKEN}."
    )


def test_the_same_digest_again_says_it_already_is() -> None:
    message = digest_set(
        campaign=digest_campaign(CAMPAIGN_ID, None),
        channel_id=CHANNEL,
        when=digest_time("09:00", "UTC"),
        next_at=DUE,
        before=digest_time("09:00", "UTC"),
        changed=False,
    )
    assert blocks_text(message).startswith(
        f"📬 The daily digest of `{CAMPAIGN_ID}` in <#{CHANNEL}> is already at 09:00 (UTC)."
    )


def test_without_a_time_zone_from_slack_the_reply_says_utc_and_why() -> None:
    assert personal_time("09:00", "UTC", None) == (
        "09:00 (UTC — Slack didn't tell us your time zone)"
    )
    unknown = personal_time("09:00", "UTC", "Mars/Olympus_Mons")
    assert unknown.startswith("09:00 (UTC — Lead Bot doesn't know your Slack time zone")


def test_stopping_and_nothing_to_stop() -> None:
    stopped = digest_stopped(digest_campaign(CAMPAIGN_ID, NAME), CHANNEL)
    nothing = no_digest(digest_campaign(CAMPAIGN_ID, NAME))
    inert(stopped)
    inert(nothing)
    assert blocks_text(stopped) == f"📭 Stopped the daily digest of *{NAME}* in <#{CHANNEL}>."
    assert blocks_text(nothing) == f"🤷 This channel has no digest of *{NAME}*."


def test_channel_notes_say_who_as_text_that_notifies_no_one() -> None:
    campaign = digest_campaign(CAMPAIGN_ID, NAME)
    when = digest_time("09:00", "Europe/Paris")

    new = digest_note(campaign, "tess", when=when)
    moved = digest_note(campaign, "tess", when=when, moved=True)
    stopped = digest_note(campaign, None)

    for note in (new, moved, stopped):
        inert(note)
    assert new["text"] == (
        f"📬 Daily digest of *{NAME}* set up here, every day at 09:00 (Europe/Paris) · by @tess"
    )
    assert moved["text"] == f"📬 Daily digest of *{NAME}* moved to 09:00 (Europe/Paris) · by @tess"
    assert stopped["text"] == f"📭 Daily digest of *{NAME}* stopped · by someone"


def test_refusals_name_the_digest_command() -> None:
    invite = "This is a private channel I'm not in. Invite me with `/invite @Lead Bot`, "
    refused = cannot_digest_here(invite + "then run `/lead subscribe` again.", CAMPAIGN_ID)
    inert(refused)
    assert f"then run `/lead digest {CAMPAIGN_ID}` again." in blocks_text(refused)
    unchecked = campaign_not_checked(CAMPAIGN_ID)
    inert(unchecked)
    assert "couldn't check campaign" in blocks_text(unchecked)
    assert "Nothing was set up" in blocks_text(unchecked)


@pytest.mark.parametrize("hostile", [HOSTILE, HOSTILE * 40, "مريم 🙂 \u202eevil"])
def test_hostile_names_and_zones_stay_inert(hostile: str) -> None:
    campaign = digest_campaign(hostile, hostile)
    message = digest_set(
        campaign=campaign,
        channel_id="not a channel",
        when=personal_time(hostile, hostile, hostile + "!"),
        next_at=DUE,
        before=digest_time(hostile, hostile),
        changed=True,
    )
    inert(message)
    inert(digest_note(campaign, hostile, when=digest_time(hostile, hostile)))
    inert(no_digest(digest_campaign(hostile, None)))


# /lead subscriptions


def test_the_list_shows_this_channels_digests_then_the_workspaces() -> None:
    here = digest(next_due_at=DUE)
    elsewhere = digest(OTHER, id=2, at_time="17:30", time_zone="America/New_York")
    message = subscription_list([subscription()], CHANNEL, [here, elsewhere])
    inert(message)

    lines = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert lines[0] == "*📣 This channel*"
    assert lines[2] == (
        f"📬 `{CAMPAIGN_ID}` · daily at 09:00 (Europe/Paris) · next <!date^1742025600^"
        "{date_short_pretty} at {time}|2025-03-15 08:00 UTC>"
    )
    assert lines[3] == "*🏢 Elsewhere in this workspace*"
    assert lines[4].startswith(
        f"📬 <#{OTHER}> · `{CAMPAIGN_ID}` · daily at 17:30 (America/New_York)"
    )
    assert message["text"] == "1 subscriptions, 2 daily digests"


def test_digests_alone_are_listed_too() -> None:
    message = subscription_list([], CHANNEL, [digest()])
    inert(message)
    assert "No subscriptions" not in blocks_text(message)
    assert "daily at 09:00 (Europe/Paris)" in blocks_text(message)


def test_nothing_at_all_says_how_to_start_either() -> None:
    shown = blocks_text(subscription_list([], CHANNEL, []))
    assert "`/lead subscribe CAMPAIGN_ID`" in shown
    assert "`/lead digest CAMPAIGN_ID`" in shown


def test_a_stopped_digest_says_why_in_words_and_how_to_restart_it() -> None:
    line = digest_line(digest(problem="not_in_channel"), show_channel=False)
    assert "· next" not in line
    assert line.endswith(
        "\n⚠️ Digest stopped: I was removed from the channel. Invite me with "
        f"`/invite @Lead Bot`, then run `/lead digest {CAMPAIGN_ID}` again. "
        "_(Slack: `not_in_channel`)_"
    )


def test_many_digests_and_subscriptions_fit_one_message() -> None:
    subs = [subscription(f"C{n:08d}") for n in range(100)]
    digests = [digest(f"C{n:08d}", id=n, campaign_id=HOSTILE, problem=HOSTILE) for n in range(100)]
    message = subscription_list(subs, "C00000001", digests)
    inert(message)
    assert len(message["blocks"]) <= 50
    assert message["blocks"][-1]["elements"][0]["text"] == "+ 178 more"


# the Home tab


def home(**kwargs: Any) -> dict[str, Any]:
    view = home_view(FINE, kwargs.pop("subs", []), kwargs.pop("recent", []), **kwargs)
    shown = json.loads(CHANNEL_MENTION.sub("#channel", json.dumps(view)))
    assert_valid_view(shown)
    return view


def section_after(view: dict[str, Any], heading: str) -> list[dict[str, Any]]:
    blocks = view["blocks"]
    start = next(i for i, b in enumerate(blocks) if b.get("text", {}).get("text") == heading)
    rest = []
    for block in blocks[start + 1 :]:
        if block["type"] == "divider":
            break
        rest.append(block)
    return rest


def test_home_lists_the_workspaces_digests_with_channel_campaign_and_time() -> None:
    view = home(digests=[digest(), digest(OTHER, id=2, at_time="17:30")], names={CAMPAIGN_ID: NAME})
    rows = section_after(view, "*📬 Daily digests*")
    assert [r["text"]["text"] for r in rows] == [
        f"📬 <#{CHANNEL}> · *{NAME}* · daily at 09:00 (Europe/Paris) · next {_next()}",
        f"📬 <#{OTHER}> · *{NAME}* · daily at 17:30 (Europe/Paris) · next {_next()}",
    ]


def _next() -> str:
    return "<!date^1742025600^{date_short_pretty} at {time}|2025-03-15 08:00 UTC>"


def test_an_empty_home_says_how_to_get_a_digest_and_offers_no_campaign() -> None:
    view = home()
    (hint,) = section_after(view, "*📬 Daily digests*")
    assert "`/lead digest CAMPAIGN_ID`" in hint["elements"][0]["text"]
    (none,) = section_after(view, "*🗂️ Your campaigns*")
    assert none["type"] == "context"
    assert not [a for a in action_ids(view) if a.startswith(ActionId.HOME_CAMPAIGN)]


def test_each_campaign_gets_a_show_campaign_button() -> None:
    campaigns = [HomeCampaign(CAMPAIGN_ID, NAME), HomeCampaign("f" * 24, None)]
    view = home(campaigns=campaigns)
    rows = section_after(view, "*🗂️ Your campaigns*")
    assert [r["text"]["text"] for r in rows] == [f"*{NAME}* · `{CAMPAIGN_ID}`", f"`{'f' * 24}`"]
    for row, campaign in zip(rows, campaigns, strict=True):
        button = row["accessory"]
        assert button["text"]["text"] == "Show campaign"
        assert re.fullmatch(rf"{re.escape(ActionId.HOME_CAMPAIGN)}\.\w+", button["action_id"])
        ref = CampaignRef.model_validate_json(button["value"])
        assert ref == CampaignRef(campaign_id=campaign.campaign_id)


def test_the_fullest_home_stays_within_slacks_limits() -> None:
    subs = [SubscriptionInfo(f"C{n:08d}", HOSTILE, None, DUE, HOSTILE, DUE) for n in range(200)]
    recent = [RecentLookup(CAMPAIGN_ID, f"{n:024x}", HOSTILE, DUE) for n in range(200)]
    digests = [digest(f"C{n:08d}", id=n, campaign_id=HOSTILE, problem=HOSTILE) for n in range(200)]
    campaigns = [HomeCampaign(f"{n:024x}" + HOSTILE * 10, HOSTILE * 10) for n in range(200)]
    view = home(subs=subs, recent=recent, digests=digests, campaigns=campaigns)
    assert len(view["blocks"]) <= 100
    assert len(section_after(view, "*🗂️ Your campaigns*")) == CAMPAIGNS_SHOWN
    rows = section_after(view, "*📬 Daily digests*")
    assert len(rows) == DIGESTS_SHOWN + 1
    assert rows[-1]["elements"][0]["text"] == f"+ {200 - DIGESTS_SHOWN} more"
