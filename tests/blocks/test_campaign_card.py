"""The campaign card, its confirmation, stale notice, channel note and outcome."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.blocks.campaign_card import (
    NO_WEBHOOK,
    campaign_card,
    campaign_changed_view,
    campaign_note,
    campaign_outcome,
    confirm_campaign_view,
)
from bot.blocks.ids import ActionId, AttentionRef, CampaignPending, CampaignRef, ViewId
from bot.nlpearl.models import Account, Pearl
from tests.blocks.hostile import PROPERTIES, any_text, hostile_text, phones
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message, text_objects
from tests.blocks.test_views import assert_valid_view

CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
AT = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)
EPOCH = int(AT.timestamp())
FALLBACK = "2026-11-27 18:42 UTC"
SHARER = "U0TESS"
HOSTILE_NAMES = [
    "<!channel>",
    "<@U123>",
    "*bold*",
    "<https://evil|x>",
    "<!subteam^S1|team>",
    "<!here> _it_ ~gone~ `code` &amp; > quote",
]
PAUSE_QUESTION = (
    "Pause Spring renewals? It stops placing new calls until someone resumes it; "
    "calls already in progress finish."
)
RESUME_QUESTION = (
    "Resume Spring renewals? It starts calling its leads again within its calling hours."
)


# helpers


def pearl(**fields: Any) -> Pearl:
    data: dict[str, Any] = {
        "id": CAMPAIGN_ID,
        "name": "Spring renewals",
        "status": 1,
        "phoneNumber": "+1 415-555-0100",
        "totalTodayCalls": 1284,
        "totalOngoingCalls": 7,
        "totalLeads": 5000,
        "totalLeadsCompleted": 400,
        "totalLeadsSuccess": 133,
        "budgetConsumed": 312,
        "budgetTotal": 1500,
    }
    data.update(fields)
    return Pearl.model_validate(data)


def card(
    campaign: Pearl | None = None,
    *,
    account: Account | None = None,
    last_webhook: datetime | None = AT,
    ref: CampaignRef | None = None,
) -> dict[str, Any]:
    return campaign_card(
        campaign or pearl(),
        campaign_id=CAMPAIGN_ID,
        account=account,
        last_webhook=last_webhook,
        now=AT,
        ref=ref or CampaignRef(campaign_id=CAMPAIGN_ID),
    )


def facts(message: dict[str, Any]) -> dict[str, str]:
    """Each field's label and value, from every section."""
    found: dict[str, str] = {}
    for block in message["blocks"]:
        for field in block.get("fields", []):
            label, value = field["text"].split("\n", 1)
            found[label.strip("*")] = value
    return found


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def footer(message: dict[str, Any]) -> str:
    return str(message["blocks"][-2]["elements"][0]["text"])


def sentences(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]


def sound(message: dict[str, Any], shared_by: str | None = None) -> None:
    assert_valid_message(message)
    assert_no_injection(message, shared_by=shared_by)


# the card


def test_the_card_shows_the_campaign_at_a_glance() -> None:
    message = card()

    sound(message)
    assert message["blocks"][0]["text"]["text"] == "📣 Spring renewals"
    assert facts(message) == {
        "State": "🟢 Running",
        "Calls today": "1,284",
        "On a call now": "7",
        "Leads": "5,000",
        "Completed": "400",
        "Successful": "133 · 33% of completed",
        "Budget": "312 of 1,500 used (21%)",
        "Last webhook": f"<!date^{EPOCH}^{{date_short_pretty}} at {{time}}|{FALLBACK}>",
    }
    assert message["text"] == "Spring renewals: 🟢 Running · 1,284 calls today"
    assert footer(message) == f"Campaign `{CAMPAIGN_ID}` · 📞 +1 415-555-0100"


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (1, ActionId.CAMPAIGN_PAUSE),
        (2, ActionId.CAMPAIGN_RESUME),
        (3, None),
        (10, None),
        (None, None),
        (99, None),
    ],
)
def test_each_state_offers_its_own_button(status: int | None, offered: ActionId | None) -> None:
    message = card(pearl(status=status))

    sound(message)
    found = buttons(message)
    expected = [ActionId.CAMPAIGN_REFRESH, ActionId.CAMPAIGN_ATTENTION, ActionId.CAMPAIGN_SHARE]
    assert list(found) == ([*expected, offered] if offered else expected)
    if offered:
        seen = CampaignRef.model_validate_json(found[offered]["value"])
        assert seen == CampaignRef(campaign_id=CAMPAIGN_ID, seen_status=status)
    refresh = CampaignRef.model_validate_json(found[ActionId.CAMPAIGN_REFRESH]["value"])
    assert refresh == CampaignRef(campaign_id=CAMPAIGN_ID)
    assert found[ActionId.CAMPAIGN_SHARE]["style"] == "primary"
    attention = AttentionRef.model_validate_json(found[ActionId.CAMPAIGN_ATTENTION]["value"])
    assert attention == AttentionRef(campaign_id=CAMPAIGN_ID)
    assert found[ActionId.CAMPAIGN_ATTENTION]["text"]["text"] == "⚠️ Leads needing attention"


def test_a_shared_card_names_who_shared_it_and_offers_no_share() -> None:
    ref = CampaignRef(campaign_id=CAMPAIGN_ID, shared_by=SHARER)
    message = card(ref=ref)

    sound(message, shared_by=SHARER)
    assert footer(message).endswith(f" · Shared by <@{SHARER}>")
    found = buttons(message)
    assert list(found) == [
        ActionId.CAMPAIGN_REFRESH,
        ActionId.CAMPAIGN_ATTENTION,
        ActionId.CAMPAIGN_PAUSE,
    ]
    for action in (ActionId.CAMPAIGN_REFRESH, ActionId.CAMPAIGN_PAUSE):
        assert CampaignRef.model_validate_json(found[action]["value"]).shared_by == SHARER
    # The attention list opens privately for whoever clicks: it carries no sharer.
    attention = AttentionRef.model_validate_json(found[ActionId.CAMPAIGN_ATTENTION]["value"])
    assert attention == AttentionRef(campaign_id=CAMPAIGN_ID)


def test_a_sharer_that_is_not_a_user_id_is_not_mentioned() -> None:
    message = card(ref=CampaignRef(campaign_id=CAMPAIGN_ID, shared_by="<!channel>"))

    sound(message)
    assert "Shared by" not in footer(message)


def test_an_oversized_value_drops_the_button() -> None:
    message = card(pearl(status=2), ref=CampaignRef(campaign_id=CAMPAIGN_ID, shared_by="U" * 2000))

    # Only the attention button, which carries no sharer, still fits.
    assert list(buttons(message)) == [ActionId.CAMPAIGN_ATTENTION]


@pytest.mark.parametrize(
    ("fields", "successful"),
    [
        ({"totalLeadsSuccess": 133, "totalLeadsCompleted": 400}, "133 · 33% of completed"),
        ({"totalLeadsSuccess": 2, "totalLeadsCompleted": 3}, "2 · 67% of completed"),
        ({"totalLeadsSuccess": 0, "totalLeadsCompleted": 0}, "0"),
        ({"totalLeadsSuccess": 5, "totalLeadsCompleted": None}, "5"),
        ({"totalLeadsSuccess": 1234, "totalLeadsCompleted": 1234}, "1,234 · 100% of completed"),
    ],
)
def test_success_rate_is_of_completed_leads(fields: dict[str, Any], successful: str) -> None:
    assert facts(card(pearl(**fields)))["Successful"] == successful


@pytest.mark.parametrize(
    ("consumed", "total", "budget"),
    [
        (312, 1500, "312 of 1,500 used (21%)"),
        (312, None, "312 used · no limit"),
        (312.5, 1500, "312.50 of 1,500 used (21%)"),
        (0, 0, "0 of 0 used"),
        (1600, 1500, "1,600 of 1,500 used (107%)"),
    ],
)
def test_budget_reads_as_used_of_total(consumed: float, total: float | None, budget: str) -> None:
    campaign = pearl(budgetConsumed=consumed, budgetTotal=total)

    assert facts(card(campaign))["Budget"] == budget


def test_unknown_numbers_are_left_out() -> None:
    campaign = Pearl.model_validate({"id": CAMPAIGN_ID})
    message = card(campaign, last_webhook=None)

    sound(message)
    assert facts(message) == {"State": "❔ Unknown", "Last webhook": NO_WEBHOOK}
    assert message["blocks"][0]["text"]["text"] == f"📣 {CAMPAIGN_ID}"
    assert message["text"] == f"{CAMPAIGN_ID}: ❔ Unknown"
    assert footer(message) == f"Campaign `{CAMPAIGN_ID}`"


@pytest.mark.parametrize(
    ("account", "credit"),
    [
        (None, None),
        ({"creditBalance": 250, "status": 1}, None),
        ({"creditBalance": 10, "status": 1}, None),
        ({"creditBalance": 4.2, "status": 1}, "⚠️ 4.20 (low)"),
        ({"creditBalance": 4.2}, "⚠️ 4.20 (low)"),
        ({"creditBalance": 250, "status": 2}, None),
        ({"creditBalance": 0, "status": 3}, "🪫 No credits · 0.00"),
        ({"creditBalance": 900, "status": 4}, "⛔ Suspended · 900.00"),
        ({"status": 5}, "🚫 Debt limit reached"),
        ({}, None),
    ],
)
def test_credit_is_shown_only_when_low(account: dict[str, Any] | None, credit: str | None) -> None:
    shown = facts(card(account=None if account is None else Account.model_validate(account)))

    assert shown.get("Credit balance") == credit


def test_the_fields_fit_one_section_each_at_most_ten() -> None:
    message = card(account=Account(credit_balance=1.5, status=3))

    sections = [b for b in message["blocks"] if b["type"] == "section"]
    assert all(len(s["fields"]) <= 10 for s in sections)
    assert len(facts(message)) == 9


@PROPERTIES
@given(name=any_text, phone=st.one_of(phones, any_text), why=hostile_text, data=st.data())
def test_hostile_campaigns_stay_valid_and_mention_no_one(
    name: str, phone: str, why: str, data: st.DataObject
) -> None:
    numbers = st.one_of(st.none(), st.integers(-(10**12), 10**12))
    money = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))
    campaign = Pearl(
        id=CAMPAIGN_ID,
        name=name,
        phone_number=phone,
        status=data.draw(st.sampled_from([1, 2, 3, 10, None, 7])),
        total_today_calls=data.draw(numbers),
        total_ongoing_calls=data.draw(numbers),
        total_leads=data.draw(numbers),
        total_leads_completed=data.draw(numbers),
        total_leads_success=data.draw(numbers),
        budget_consumed=data.draw(money),
        budget_total=data.draw(money),
    )
    account = Account(credit_balance=data.draw(money), status=data.draw(st.sampled_from([1, 4])))
    shared_by = data.draw(st.sampled_from([None, SHARER, name[:40]]))
    ref = CampaignRef(campaign_id=CAMPAIGN_ID, shared_by=shared_by)

    message = card(campaign, account=account, ref=ref)
    assert_valid_message(message)
    assert_no_injection(message, shared_by=SHARER if shared_by == SHARER else None)

    for active in (True, False):
        pending = CampaignPending(campaign_id=CAMPAIGN_ID, active=active)
        assert_valid_view(confirm_campaign_view(pending, name))
        assert_valid_view(campaign_changed_view(name, campaign.status))
        for note in (
            campaign_note(active, name, name, AT),
            campaign_outcome(active, name, ok=True, why=None),
            campaign_outcome(active, name, ok=False, why=why),
        ):
            sound(note)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_shown_as_typed(name: str) -> None:
    message = card(pearl(name=name, phoneNumber=name))

    sound(message)
    # Plain text (the header) is never parsed, so it shows the name itself.
    assert message["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": f"📣 {name}",
        "emoji": True,
    }
    assert "&lt;" in footer(message) or "<" not in name


# pausing and resuming


@pytest.mark.parametrize(
    ("active", "question", "submit"),
    [(False, PAUSE_QUESTION, "Pause campaign"), (True, RESUME_QUESTION, "Resume campaign")],
)
def test_the_confirmation_says_what_follows(active: bool, question: str, submit: str) -> None:
    pending = CampaignPending(
        campaign_id=CAMPAIGN_ID,
        active=active,
        seen_status=2 if active else 1,
        response_url="https://hooks.slack.com/actions/T1/1/abc",
    )
    view = confirm_campaign_view(pending, "Spring renewals")

    assert_valid_view(view)
    assert sentences(view) == [question]
    assert view["callback_id"] == ViewId.CONFIRM_CAMPAIGN
    assert view["title"]["text"] == "Confirm"
    assert view["submit"]["text"] == submit
    assert view["close"]["text"] == "Cancel"
    assert view["private_metadata"] == pending.model_dump_json(exclude_none=True)
    assert CampaignPending.model_validate_json(view["private_metadata"]) == pending
    assert f"Campaign `{CAMPAIGN_ID}`" in json.dumps(view["blocks"][-1])


def test_a_nameless_campaign_is_asked_about_as_this_campaign() -> None:
    view = confirm_campaign_view(CampaignPending(campaign_id=CAMPAIGN_ID, active=False), " \n")

    assert sentences(view)[0].startswith("Pause this campaign? It stops")


def test_too_much_to_carry_is_refused() -> None:
    huge = CampaignPending(
        campaign_id=CAMPAIGN_ID, active=True, response_url="https://hooks.slack.com/" + "a" * 3000
    )

    with pytest.raises(ValueError, match="3000"):
        confirm_campaign_view(huge, "Spring renewals")


@pytest.mark.parametrize(
    ("name", "status", "sentence"),
    [
        ("Spring renewals", 2, "Spring renewals is already ⏸️ Paused; nothing was changed."),
        ("Spring renewals", 1, "Spring renewals is already 🟢 Running; nothing was changed."),
        ("", 3, "This campaign is already ⛔ Suspended; nothing was changed."),
    ],
)
def test_a_stale_click_changes_nothing(name: str, status: int, sentence: str) -> None:
    view = campaign_changed_view(name, status)

    assert_valid_view(view)
    assert sentences(view) == [sentence]
    assert "submit" not in view


@pytest.mark.parametrize(
    ("active", "words"),
    [(False, "⏸️ Spring renewals paused"), (True, "▶️ Spring renewals resumed")],
)
def test_the_channel_note_says_what_who_and_when(active: bool, words: str) -> None:
    note = campaign_note(active, "Spring renewals", "tess", AT)

    sound(note)
    assert note["text"] == f"{words} · by @tess"
    assert note["blocks"] == [
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{words} · by @tess · <!date^{EPOCH}^{{time}}|{FALLBACK}>",
                    "verbatim": True,
                }
            ],
        }
    ]


def test_the_note_never_mentions_the_person() -> None:
    note = campaign_note(False, "Spring", "<@U0TESS> *tess*", AT)
    blank = campaign_note(True, "Spring", "  ", AT)

    sound(note)
    assert note["text"] == "⏸️ Spring paused · by @&lt;@U0TESS&gt; ∗tess∗"
    assert blank["text"] == "▶️ Spring resumed · by someone"


@pytest.mark.parametrize(
    ("active", "ok", "why", "sentence"),
    [
        (False, True, None, "⏸️ Paused Spring renewals."),
        (True, True, None, "▶️ Resumed Spring renewals."),
        (
            False,
            False,
            "NLPearl is not responding.",
            "⚠️ Couldn't pause Spring renewals: NLPearl is not responding. Nothing was changed.",
        ),
        (True, False, None, "⚠️ Couldn't resume Spring renewals. Nothing was changed."),
        (
            True,
            False,
            "<!here> no",
            "⚠️ Couldn't resume Spring renewals: &lt;!here&gt; no. Nothing was changed.",
        ),
    ],
)
def test_the_outcome_says_how_it_went(
    active: bool, ok: bool, why: str | None, sentence: str
) -> None:
    message = campaign_outcome(active, "Spring renewals", ok=ok, why=why)

    sound(message)
    assert message["text"] == sentence
    assert [obj["text"] for obj in text_objects(message["blocks"])] == [sentence]
