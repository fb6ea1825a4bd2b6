"""Multi-workspace mode's NLPearl account on Home, and the modals that connect it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.blocks.connection import (
    Connection,
    connect_modal,
    connected_modal,
    connection_blocks,
    not_admin_modal,
)
from bot.blocks.home import AdminHome, HomeCampaign, Setup, home_view
from bot.blocks.ids import ActionId, BlockId, ViewId
from bot.nlpearl.models import Account
from bot.storage.rows import Grants, RecentLookup, SubscriptionInfo
from tests.blocks.hostile import MESSAGE_PROPERTIES, PROPERTIES, any_text, hostile_text
from tests.blocks.slack_limits import (
    MAX_BUTTON_TEXT,
    MAX_SECTION_TEXT,
    text_objects,
)
from tests.blocks.test_digest_listing import digest
from tests.blocks.test_lead_actions import record, sound_view
from tests.blocks.test_views import action_ids, assert_valid_view, buttons, inputs, mrkdwn_texts

ACCOUNT_ID = "65f0c0ffee1234567890abcd"
NAME = "Sunrise Solar Calls"
AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
AT_TOKEN = "<!date^1741944413^{date_short_pretty} at {time}|2025-03-14 09:26 UTC>"
FINE = Setup(nlpearl_problem=None, database_problem=None)
HOSTILE = (
    "<!channel> <!here> <@U123> <#C42> <!subteam^S1> <https://evil.example|click> "
    "<mailto:x@evil.example|mail> &lt;b&gt; &amp; *bold* `x` > q"
)
CONTROL = "".join(chr(c) for c in [*range(0, 32), 127, *range(0x80, 0xA0)])
GRANTED = tuple(f"U{n:08d}" for n in range(500))
CONNECTED = Connection(ACCOUNT_ID, NAME, AT, may_change=True)
NOT_CONNECTED = Connection(None, None, None, may_change=True)


def on_home(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """The blocks as a Home tab, checked as Slack would check it."""
    view = {"type": "home", "blocks": blocks}
    assert_valid_view(view)
    return view


def texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(obj["text"] for obj in text_objects(blocks))


def the_section(blocks: list[dict[str, Any]]) -> str:
    (section,) = [b for b in blocks if b["type"] == "section"]
    text: str = section["text"]["text"]
    return text


# connection_blocks: connected or not, admin or not


def test_connected_for_an_admin_names_the_account_and_offers_replace_and_disconnect() -> None:
    blocks = connection_blocks(CONNECTED)
    view = on_home(blocks)

    assert the_section(blocks) == (
        f"*🔌 NLPearl account*\n*{NAME}* · `{ACCOUNT_ID}` · connected {AT_TOKEN}"
    )
    assert action_ids(view) == [ActionId.HOME_CONNECT_NLPEARL, ActionId.HOME_DISCONNECT_NLPEARL]
    replace, disconnect = buttons(view)
    assert replace["text"]["text"] == "Replace key"
    assert "style" not in replace
    assert "confirm" not in replace
    assert disconnect["text"]["text"] == "Disconnect"
    assert disconnect["style"] == "danger"


def test_disconnect_asks_for_confirmation_first() -> None:
    (_, disconnect) = buttons(on_home(connection_blocks(CONNECTED)))

    confirm = disconnect["confirm"]
    assert confirm["title"]["text"] == "Disconnect NLPearl?"
    assert confirm["confirm"]["text"] == "Disconnect"
    assert confirm["deny"]["text"] == "Cancel"
    assert confirm["style"] == "danger"
    assert "forgets this workspace's NLPearl key" in confirm["text"]["text"]
    for key in ("title", "confirm", "deny"):
        assert 0 < len(confirm[key]["text"]) <= 30
    assert len(confirm["text"]["text"]) <= 300


def test_connected_for_a_member_shows_the_account_and_no_button() -> None:
    blocks = connection_blocks(Connection(ACCOUNT_ID, NAME, AT, may_change=False))
    view = on_home(blocks)

    assert [b["type"] for b in blocks] == ["section"]
    assert action_ids(view) == []
    assert f"*{NAME}* · `{ACCOUNT_ID}`" in the_section(blocks)


def test_not_connected_for_an_admin_offers_to_connect_and_says_what_is_needed() -> None:
    blocks = connection_blocks(NOT_CONNECTED)
    view = on_home(blocks)

    text = the_section(blocks)
    assert text.startswith("*🔌 NLPearl account*\nNot connected yet. ")
    assert "Account ID and Secret Key" in text
    assert "platform.nlpearl.ai → Settings → API" in text
    (connect,) = buttons(view)
    assert connect["action_id"] == ActionId.HOME_CONNECT_NLPEARL
    assert connect["text"]["text"] == "Connect NLPearl"
    assert connect["style"] == "primary"


def test_not_connected_for_a_member_says_whom_to_ask_and_has_no_button() -> None:
    blocks = connection_blocks(Connection(None, None, None, may_change=False))
    view = on_home(blocks)

    assert action_ids(view) == []
    assert the_section(blocks) == (
        "*🔌 NLPearl account*\nNot connected yet. "
        "Ask a workspace admin to connect NLPearl from this tab."
    )


def test_an_account_without_a_name_or_date_shows_its_id() -> None:
    blocks = connection_blocks(Connection(ACCOUNT_ID, None, None, may_change=False))

    assert the_section(blocks) == f"*🔌 NLPearl account*\n`{ACCOUNT_ID}`"


def test_a_blank_account_name_shows_no_empty_bold() -> None:
    shown = {
        name: the_section(connection_blocks(Connection(ACCOUNT_ID, name, None, may_change=False)))
        for name in ("   ", "\n", "\u00a0")
    }

    # "*   *" is not bold in Slack: it shows its asterisks. No name: the ID alone.
    assert shown == dict.fromkeys(shown, f"*🔌 NLPearl account*\n`{ACCOUNT_ID}`")


def test_an_account_name_with_line_breaks_stays_on_its_line() -> None:
    name = "Acme\n> quoted\n*Forged heading*"
    on_home_text = the_section(connection_blocks(Connection(ACCOUNT_ID, name, AT, may_change=True)))
    (in_modal,) = mrkdwn_texts(connected_modal(ACCOUNT_ID, Account(name=name)))

    # Home: the heading, then one line with the name, ID and date. The modal: the name on
    # its first line, as campaign names are shown on Home (one_line).
    assert on_home_text.count("\n") == 1
    assert on_home_text.endswith(f"`{ACCOUNT_ID}` · connected {AT_TOKEN}")
    assert in_modal.splitlines()[0].endswith(f"`{ACCOUNT_ID}`.")


def test_hostile_account_fields_are_escaped() -> None:
    blocks = connection_blocks(Connection(HOSTILE, HOSTILE, AT, may_change=True))
    on_home(blocks)

    text = the_section(blocks)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text


# the modals


@pytest.mark.parametrize("replacing", [False, True])
def test_the_connect_form_asks_for_the_id_and_the_key(replacing: bool) -> None:
    view = connect_modal(replacing=replacing)
    assert_valid_view(view)

    assert view["callback_id"] == ViewId.CONNECT_NLPEARL
    assert view["title"]["text"] == ("Replace NLPearl key" if replacing else "Connect NLPearl")
    assert view["submit"]["text"] == "Connect"
    assert view["close"]["text"] == "Cancel"
    fields = inputs(view)
    assert list(fields) == [BlockId.NLPEARL_ACCOUNT_ID, BlockId.NLPEARL_SECRET]
    for block, action_id in zip(
        fields.values(), [ActionId.NLPEARL_ACCOUNT_ID, ActionId.NLPEARL_SECRET], strict=True
    ):
        assert block["element"]["type"] == "plain_text_input"
        assert block["element"]["action_id"] == action_id
        assert block["element"]["max_length"] >= 100
        assert not block.get("optional", False)
    said = " ".join(mrkdwn_texts(view))
    assert "platform.nlpearl.ai → Settings → API" in said
    assert "encrypted" in said
    assert ("replace the key" in said) is replacing


def test_the_connect_form_never_prefills_a_secret() -> None:
    for replacing in (False, True):
        for block in inputs(connect_modal(replacing=replacing)).values():
            assert "initial_value" not in block["element"]


def test_the_connected_modal_names_the_account_and_its_balance() -> None:
    account = Account.model_validate(
        {"name": NAME, "creditBalance": 1234.5, "remainingMinutes": 987.6}
    )
    view = connected_modal(ACCOUNT_ID, account)
    assert_valid_view(view)

    assert view["title"]["text"] == "NLPearl connected"
    assert "submit" not in view
    (text,) = mrkdwn_texts(view)
    assert text.splitlines() == [
        f"✅ Connected to NLPearl account *{NAME}* `{ACCOUNT_ID}`.",
        "Credit balance: 1,234.50",
        "Minutes left: 988",
        "Lookups, campaign cards and channel feeds in this workspace now use it.",
    ]


def test_the_connected_modal_without_name_or_figures() -> None:
    view = connected_modal(ACCOUNT_ID, Account())
    assert_valid_view(view)

    (text,) = mrkdwn_texts(view)
    assert text.splitlines()[0] == f"✅ Connected to NLPearl account `{ACCOUNT_ID}`."
    assert "Credit balance" not in text
    assert "Minutes left" not in text


def test_the_not_admin_modal_says_who_can() -> None:
    view = not_admin_modal()
    assert_valid_view(view)

    assert view["title"]["text"] == "Admins only"
    assert action_ids(view) == []
    (text,) = mrkdwn_texts(view)
    assert "workspace admins and owners" in text
    assert "Home tab" in text


# any account name or ID


hostile_or_control = st.one_of(
    any_text,
    st.text(alphabet=CONTROL, max_size=40),
    st.builds(lambda text: (text * 10_000)[:10_000], hostile_text.filter(bool)),
)
moments = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@PROPERTIES
@given(hostile_or_control, st.none() | hostile_or_control, moments, st.booleans())
def test_any_connection_is_valid_and_mentions_no_one(
    account_id: str, name: str | None, at: datetime | None, admin: bool
) -> None:
    blocks = connection_blocks(Connection(account_id, name, at, may_change=admin))

    on_home(blocks)
    text = the_section(blocks)
    assert len(text) <= MAX_SECTION_TEXT
    assert text.startswith("*🔌 NLPearl account*\n")
    assert ("connected <!date^" in text) is (at is not None)
    assert len(action_ids({"blocks": blocks})) == (2 if admin else 0)


@PROPERTIES
@given(
    hostile_or_control,
    st.none() | hostile_or_control,
    st.none() | st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.none() | st.floats(min_value=-1e12, max_value=1e12),
)
def test_any_connected_account_makes_a_valid_modal_that_mentions_no_one(
    account_id: str, name: str | None, credit: float | None, minutes: float | None
) -> None:
    account = Account(name=name, credit_balance=credit, remaining_minutes=minutes)

    view = connected_modal(account_id, account)

    assert_valid_view(view)
    (text,) = mrkdwn_texts(view)
    assert len(text) <= MAX_SECTION_TEXT
    assert text.startswith("✅ Connected to NLPearl account ")
    for button in buttons(view):
        assert len(button["text"]["text"]) <= MAX_BUTTON_TEXT


@MESSAGE_PROPERTIES
@given(st.none() | hostile_or_control, st.none() | hostile_or_control, st.booleans())
def test_any_connection_on_home_keeps_home_valid(
    account_id: str | None, name: str | None, admin: bool
) -> None:
    connection = Connection(account_id, name, AT, may_change=admin)

    view = home_view(FINE, [], [], connection=connection)

    assert_valid_view(view)
    assert "🔌 NLPearl account" in texts(view["blocks"])


# the fullest Home, with the NLPearl account


def fullest_home(connection: Connection | None) -> dict[str, Any]:
    """Every section of Home at its fullest, all of it hostile (tests/blocks/test_lead_actions.py
    and test_digest_listing.py each fill some of them)."""
    hostile = "<!channel> *x* " * 40
    grants = Grants(users=GRANTED, usergroups=tuple(f"S{n:08d}" for n in range(500)))
    names = {f"S{n:08d}": hostile for n in range(500)}
    records = [record(n, detail=hostile, result="failed", lead_id=hostile) for n in range(200)]
    subs = [SubscriptionInfo(f"C{n:08d}", hostile, None, AT, hostile, AT) for n in range(200)]
    recent = [RecentLookup(ACCOUNT_ID, f"{n:024x}", hostile, AT) for n in range(200)]
    digests = [digest(f"C{n:08d}", id=n, campaign_id=hostile, problem=hostile) for n in range(200)]
    campaigns = [HomeCampaign(f"{n:024x}" + hostile, hostile) for n in range(200)]
    return home_view(
        Setup(hostile * 50, hostile * 50),
        subs,
        recent,
        AdminHome(grants, names, records, mask=True),
        campaigns=campaigns,
        digests=digests,
        names={f"{n:024x}": hostile for n in range(200)},
        connection=connection,
    )


@pytest.mark.parametrize(
    "connection",
    [
        Connection(HOSTILE * 100, HOSTILE * 100, AT, may_change=True),
        Connection(None, None, None, may_change=True),
        Connection(HOSTILE * 100, HOSTILE * 100, AT, may_change=False),
    ],
    ids=["connected-admin", "not-connected-admin", "connected-member"],
)
def test_the_fullest_home_with_the_account_stays_within_slacks_limits(
    connection: Connection,
) -> None:
    without = fullest_home(None)
    view = fullest_home(connection)

    assert len(view["blocks"]) <= 100
    assert len(view["blocks"]) == len(without["blocks"]) + len(connection_blocks(connection))
    # Subscribed channels and granted people are mentioned on purpose.
    shown = json.dumps(view)
    for n in range(200):
        shown = shown.replace(f"<#C{n:08d}>", "#channel")
    sound_view(json.loads(shown), (*GRANTED, "U0TESS"))


def test_the_account_comes_right_after_the_set_up() -> None:
    view = home_view(FINE, [], [], connection=CONNECTED)

    kinds = [b.get("text", {}).get("text", "").split("\n")[0] for b in view["blocks"][:7]]
    setup_at = kinds.index("*Set-up*")
    assert kinds[setup_at + 1] == "*🔌 NLPearl account*"


def test_single_workspace_home_has_no_account_section() -> None:
    view = home_view(FINE, [], [])

    assert "NLPearl account" not in texts(view["blocks"])
    assert ActionId.HOME_CONNECT_NLPEARL not in action_ids(view)
