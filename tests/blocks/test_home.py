"""The App Home tab: set-up, recent lookups and subscriptions, within Slack's limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.blocks.home import RECENT_SHOWN, SUBSCRIPTIONS_SHOWN, Setup, home_view
from bot.blocks.ids import ActionId, CardRef
from bot.storage.rows import RecentLookup, SubscriptionInfo
from tests.blocks.test_views import action_ids, assert_valid_view

CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
LEAD_ID = "6650f1c2a9e4b27d3c8e41a7"
NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
HEARD = "<!date^1741944413^{date_short_pretty} at {time}|2025-03-14 09:26 UTC>"
FINE = Setup(nlpearl_problem=None, database_problem=None)
HOSTILE = (
    "<!channel> <!here> <@U123> <#C42> <!subteam^S1> <https://evil.example|click> "
    "&lt;b&gt; &amp; *bold* `x` > q"
)


def subscription(n: int = 0, **fields: Any) -> SubscriptionInfo:
    data: dict[str, Any] = {
        "channel_id": f"C{n:08d}",
        "campaign_id": CAMPAIGN_ID,
        "statuses": None,
        "last_received_at": NOW,
        "problem": None,
        "problem_at": None,
    }
    data.update(fields)
    return SubscriptionInfo(**data)


def lookup(n: int = 0, **fields: Any) -> RecentLookup:
    data: dict[str, Any] = {
        "campaign_id": CAMPAIGN_ID,
        "lead_id": f"{n:024x}",
        "label": f"Lead number {n}",
        "looked_up_at": NOW - timedelta(minutes=n),
    }
    data.update(fields)
    return RecentLookup(**data)


def checked(
    setup: Setup = FINE,
    subscriptions: list[SubscriptionInfo] | None = None,
    recent: list[RecentLookup] | None = None,
) -> dict[str, Any]:
    subscriptions = subscriptions or []
    view = home_view(setup, subscriptions, recent or [])
    assert view["type"] == "home"
    channels = [s.channel_id for s in subscriptions[:SUBSCRIPTIONS_SHOWN]]
    assert_valid_view(view, channels=[c for c in channels if re.fullmatch(r"[CG][0-9A-Z]+", c)])
    return view


def texts(view: dict[str, Any]) -> list[str]:
    found = []
    for block in view["blocks"]:
        for obj in [block.get("text"), *block.get("elements", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                found.append(obj["text"])
    return found


def section_after(view: dict[str, Any], heading: str) -> list[dict[str, Any]]:
    """The blocks after a heading section, up to the next divider."""
    blocks = view["blocks"]
    start = next(i for i, b in enumerate(blocks) if b.get("text", {}).get("text") == heading)
    rest = []
    for block in blocks[start + 1 :]:
        if block["type"] == "divider":
            break
        rest.append(block)
    return rest


def recent_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    return section_after(view, "*🕘 Your recent lookups*")


def subscription_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    return section_after(view, "*📣 Channel subscriptions*")


# set-up


def test_an_empty_home_when_all_is_well() -> None:
    view = checked()
    assert view["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "📇 Lead Bot", "emoji": True},
    }
    assert "*Set-up*\n✅ NLPearl key accepted\n✅ Database healthy" in texts(view)
    assert set(action_ids(view)) == {ActionId.HOME_LOOKUP, ActionId.HOME_HELP}
    assert [b["type"] for b in recent_rows(view)] == ["context"]
    assert "Leads you look up appear here" in recent_rows(view)[0]["elements"][0]["text"]
    assert [b["type"] for b in subscription_rows(view)] == ["context"]
    assert "None yet" in subscription_rows(view)[0]["elements"][0]["text"]


def test_setup_problems_are_shown_and_escaped() -> None:
    setup = Setup(
        nlpearl_problem="the API key was rejected; an admin should check NLPEARL_API_KEY.",
        database_problem=HOSTILE * 20,
    )
    view = checked(setup)
    (text,) = [t for t in texts(view) if t.startswith("*Set-up*")]
    lines = text.split("\n")
    assert lines[1] == (
        "⚠️ NLPearl: the API key was rejected; an admin should check NLPEARL_API_KEY."
    )
    assert lines[2].startswith("⚠️ Database: &lt;!channel&gt;")
    assert "✅" not in text


# subscriptions


def test_a_subscription_line() -> None:
    view = checked(subscriptions=[subscription(1, statuses=(100,))])
    (row,) = subscription_rows(view)
    line = row["text"]["text"]
    assert line.startswith(f"<#C00000001> · `{CAMPAIGN_ID}` · ")
    assert "Success" in line
    assert line.endswith(f" · last webhook {HEARD}")


def test_a_subscription_that_never_heard_from_nlpearl() -> None:
    view = checked(subscriptions=[subscription(last_received_at=None)])
    (row,) = subscription_rows(view)
    assert row["text"]["text"].endswith(" · every status change · no webhook yet")


def test_a_subscription_with_a_problem_says_what_to_do_in_words() -> None:
    view = checked(
        subscriptions=[subscription(problem="not_in_channel", problem_at=NOW), subscription(2)]
    )
    first, second = subscription_rows(view)
    # A sentence people can act on; Slack's code only in a quiet suffix, for support.
    assert first["text"]["text"].endswith(
        "\n⚠️ Delivery stopped: I was removed from the channel. Invite me with "
        "`/invite @Lead Bot`, then run `/lead subscribe` again. _(Slack: `not_in_channel`)_"
    )
    assert "Delivery stopped" not in second["text"]["text"]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("channel_not_found", "I can't find the channel any more"),
        ("is_archived", "The channel was archived."),
        ("token_revoked", "Slack no longer accepts my token. Ask an admin to reinstall"),
        ("something_new_from_slack", "Slack refused my posts there."),
    ],
)
def test_each_kind_of_stopped_delivery_reads_as_a_sentence(code: str, words: str) -> None:
    (row,) = subscription_rows(checked(subscriptions=[subscription(problem=code)]))
    text = row["text"]["text"]
    assert f"⚠️ Delivery stopped: {words}" in text
    assert text.endswith(f" _(Slack: `{code}`)_")
    assert "Slack said" not in text


def test_200_subscriptions_show_30_and_count_the_rest() -> None:
    view = checked(subscriptions=[subscription(n) for n in range(200)])
    assert len(view["blocks"]) <= 100
    rows = subscription_rows(view)
    assert len(rows) == SUBSCRIPTIONS_SHOWN + 1
    assert rows[-1]["type"] == "context"
    assert rows[-1]["elements"][0]["text"] == "+ 170 more"
    assert rows[0]["text"]["text"].startswith("<#C00000000>")
    assert rows[SUBSCRIPTIONS_SHOWN - 1]["text"]["text"].startswith("<#C00000029>")


def test_exactly_30_subscriptions_have_no_more_line() -> None:
    view = checked(subscriptions=[subscription(n) for n in range(SUBSCRIPTIONS_SHOWN)])
    assert not [t for t in texts(view) if "more" in t and t.startswith("+")]


def test_200_subscriptions_with_problems_and_200_lookups_stay_within_limits() -> None:
    subs = [
        subscription(n, problem=HOSTILE, statuses=tuple(range(0, 200, 10)), campaign_id=HOSTILE)
        for n in range(200)
    ]
    view = checked(
        Setup(HOSTILE * 50, HOSTILE * 50), subs, [lookup(n, label=HOSTILE * 9) for n in range(200)]
    )
    assert len(view["blocks"]) <= 100


# recent lookups


def test_recent_lookups_reopen_their_card() -> None:
    recent = [lookup(n) for n in range(7)]
    view = checked(recent=recent)
    rows = recent_rows(view)
    assert len(rows) == RECENT_SHOWN
    for row, expected in zip(rows, recent, strict=False):
        assert row["text"]["text"].startswith(f"*{expected.label}* · <!date^")
        button = row["accessory"]
        assert button["type"] == "button"
        assert button["text"]["text"] == "Open"
        assert re.fullmatch(rf"{re.escape(ActionId.HOME_RECENT)}\.\w+", button["action_id"])
        assert CardRef.model_validate_json(button["value"]) == CardRef(
            campaign_id=expected.campaign_id, kind="id", key=expected.lead_id
        )
    recent_ids = [r["accessory"]["action_id"] for r in rows]
    assert len(set(recent_ids)) == RECENT_SHOWN


def test_recent_lookup_too_big_for_a_button_has_none() -> None:
    view = checked(recent=[lookup(campaign_id="c" * 2100), lookup(1)])
    first, second = recent_rows(view)
    assert "accessory" not in first
    assert "accessory" in second


@pytest.mark.parametrize("label", [HOSTILE, HOSTILE * 30, "مريم 🙂 \u202eevil", "*_~`"])
def test_hostile_labels_are_escaped(label: str) -> None:
    view = checked(recent=[lookup(label=label)])
    (row,) = recent_rows(view)
    text = row["text"]["text"]
    assert "<!channel>" not in text
    if label.startswith("<!channel>"):
        assert text.startswith("*&lt;!channel&gt; &lt;!here&gt;")


def test_hostile_subscription_fields_are_escaped() -> None:
    sub = subscription(channel_id="C1> <!channel", campaign_id=HOSTILE, problem=HOSTILE)
    view = checked(subscriptions=[sub])
    (row,) = subscription_rows(view)
    line = row["text"]["text"]
    # A channel ID that is not a Slack ID is not made into a channel mention.
    assert not line.startswith("<#")
    assert "&lt;!channel&gt;" in line
