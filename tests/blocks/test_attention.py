"""The leads needing attention: wording, the fixes offered, paging, and hostile text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.blocks.attention import NOBODY, NOT_ALLOWED, attention_modal
from bot.blocks.ids import MAX_OPTION_VALUE, ActionId, ActRef, AttentionRef, ViewId
from bot.nlpearl.lead_actions import Verb
from bot.nlpearl.models import Call, Lead
from tests.blocks.hostile import PROPERTIES, any_text, hostile_text, phones
from tests.blocks.test_views import assert_valid_view

CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
REF = AttentionRef(campaign_id=CAMPAIGN_ID)
START = datetime(2026, 3, 5, 17, 3, 44, tzinfo=UTC)


def lead(number: int, status: int, **fields: Any) -> Lead:
    data: dict[str, Any] = {
        "id": f"{number:024x}",
        "phoneNumber": "+14155550137",
        "status": status,
        "callData": {"firstName": "Dana", "lastName": "Reyes"},
    }
    return Lead.model_validate({**data, **fields})


def call(**fields: Any) -> Call:
    data = {"id": "66523b11c2d3e4f5a6b7c8d9", "startTime": START.isoformat(), "status": 7}
    return Call.model_validate({**data, "conversationStatus": 150, **fields})


def valid(view: dict[str, Any]) -> dict[str, Any]:
    """The view, checked as Slack would; each lead's menu shares one action_id on purpose."""
    # Slack wants action_ids unique within a block only; the shared checker asks it of the view.
    copy = json.loads(json.dumps(view))
    for index, block in enumerate(copy["blocks"]):
        if "accessory" in block:
            block["accessory"]["action_id"] += f".{index}"
    assert_valid_view(copy)
    return view


def sections(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view["blocks"] if b["type"] == "section"]


def contexts(view: dict[str, Any]) -> list[str]:
    return [b["elements"][0]["text"] for b in view["blocks"] if b["type"] == "context"]


def pager(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def menu_acts(block: dict[str, Any]) -> list[ActRef]:
    return [ActRef.model_validate_json(o["value"]) for o in block["accessory"]["options"]]


ONE_OF_EACH = [
    (lead(1, 500), call(status=6, conversationStatus=500)),
    (lead(2, 30, callData={}, phoneNumber="+44 20 7946 0958"), None),
    (lead(3, 150, callData={}, phoneNumber=None, externalId="crm-004512"), call()),
]


# wording


def test_nothing_needing_attention_says_so() -> None:
    view = valid(attention_modal(REF, "Spring renewals", [], 0, may_act=True))

    assert view["callback_id"] == ViewId.ATTENTION
    assert view["title"]["text"] == "Needs attention"
    assert view["close"]["text"] == "Close"
    assert AttentionRef.model_validate_json(view["private_metadata"]) == REF
    assert [s["text"]["text"] for s in sections(view)] == [NOBODY]
    assert NOBODY == "No leads need attention right now. 🎉"
    assert pager(view) == []
    assert contexts(view) == []


@pytest.mark.parametrize(
    ("count", "name", "heading"),
    [
        (1, "Spring renewals", "*1 lead needs attention* in Spring renewals"),
        (1234, "Spring renewals", "*1,234 leads need attention* in Spring renewals"),
        (3, None, "*3 leads need attention*"),
        (3, "<!channel> *x*", "*3 leads need attention* in &lt;!channel&gt; ∗x∗"),
    ],
)
def test_the_heading_counts_the_leads(count: int, name: str | None, heading: str) -> None:
    view = valid(attention_modal(REF, name, ONE_OF_EACH[:1], count, may_act=True))

    assert sections(view)[0]["text"]["text"] == heading


def test_each_lead_shows_who_its_status_number_and_last_call() -> None:
    view = valid(attention_modal(REF, "Spring renewals", ONE_OF_EACH, 3, may_act=True))

    token = (
        f"<!date^{int(START.timestamp())}^{{date_short_pretty}} at {{time}}|2026-03-05 17:03 UTC>"
    )
    assert [s["text"]["text"] for s in sections(view)[1:]] == [
        f"*Dana Reyes* · ⚠️ Error\n+1 415-555-0137 · last call: ⚠️ Error (failed) {token}",
        # Named only by its number, which is not repeated; never called, so no last call.
        "*+44 20 7946 0958* · 🌐 Wrong country code",
        f"*crm-004512* · 📵 Unreachable\nlast call: 📵 Unreachable (no answer) {token}",
    ]


# the fixes


def test_those_who_may_act_get_fix_number_and_call_again_where_it_helps() -> None:
    view = valid(attention_modal(REF, "Spring renewals", ONE_OF_EACH, 3, may_act=True))

    leads = sections(view)[1:]
    labels = [[o["text"]["text"] for o in b["accessory"]["options"]] for b in leads]
    # Calling again can't help a number NLPearl won't dial (wrong country code).
    assert labels == [
        ["✏️ Fix number", "🔁 Call again"],
        ["✏️ Fix number"],
        ["✏️ Fix number", "🔁 Call again"],
    ]
    verbs = [[act.verb for act in menu_acts(block)] for block in leads]
    assert verbs == [[Verb.EDIT, Verb.RETRY], [Verb.EDIT], [Verb.EDIT, Verb.RETRY]]
    for block, (shown, _) in zip(leads, ONE_OF_EACH, strict=True):
        assert block["accessory"]["action_id"] == ActionId.LEAD_MENU
        for act in menu_acts(block):
            assert act.campaign_id == CAMPAIGN_ID
            assert act.lead_id == shown.id
            assert act.seen_status == shown.status
            assert act.origin == "card"
        assert all(len(o["value"]) <= MAX_OPTION_VALUE for o in block["accessory"]["options"])
    assert NOT_ALLOWED not in contexts(view)


def test_others_see_the_list_and_who_can_fix_it() -> None:
    view = valid(attention_modal(REF, "Spring renewals", ONE_OF_EACH, 3, may_act=False))

    assert not any("accessory" in block for block in view["blocks"])
    assert contexts(view) == [NOT_ALLOWED]
    assert view["blocks"][-1]["elements"][0]["text"] == NOT_ALLOWED


def test_a_lead_without_an_id_or_with_an_oversized_value_gets_no_menu() -> None:
    leads = [(lead(1, 500, id=None), None), (lead(2, 150, id="x" * 200), None)]
    view = valid(attention_modal(REF, "Spring renewals", leads, 2, may_act=True))

    assert [b.get("accessory") for b in sections(view)[1:]] == [None, None]
    assert [s["text"]["text"].split("*")[1] for s in sections(view)[1:]] == ["Dana Reyes"] * 2


# paging


@pytest.mark.parametrize(
    ("page", "labels", "targets"),
    [
        (0, ["Older →"], [1]),
        (1, ["← Newer", "Older →"], [0, 2]),
        (2, ["← Newer"], [1]),
    ],
)
def test_the_pager_offers_the_pages_either_side(
    page: int, labels: list[str], targets: list[int]
) -> None:
    ref = REF.model_copy(update={"page": page})
    view = valid(attention_modal(ref, "Spring renewals", ONE_OF_EACH, 25, may_act=True))

    buttons = pager(view)
    assert [b["text"]["text"] for b in buttons] == labels
    assert all(b["action_id"].startswith(f"{ActionId.ATTENTION_PAGE}.") for b in buttons)
    refs = [AttentionRef.model_validate_json(b["value"]) for b in buttons]
    assert refs == [AttentionRef(campaign_id=CAMPAIGN_ID, page=to) for to in targets]
    assert contexts(view)[-1] == f"Page {page + 1} of 3"


def test_a_page_past_a_shrunken_list_still_leads_back() -> None:
    """The list shrank while page 3 was open: no leads here any more, but Newer goes back."""
    ref = REF.model_copy(update={"page": 2})
    view = valid(attention_modal(ref, "Spring renewals", [], 5, may_act=True))

    assert [b["text"]["text"] for b in pager(view)] == ["← Newer"]


def test_one_page_has_no_pager() -> None:
    view = valid(attention_modal(REF, "Spring renewals", ONE_OF_EACH, 3, may_act=True))

    assert pager(view) == []
    assert not any(text.startswith("Page ") for text in contexts(view))


def test_a_huge_page_stays_within_a_modal() -> None:
    leads = [(lead(n, 150), call()) for n in range(150)]
    view = valid(attention_modal(REF, "Spring", leads, 400, may_act=False, page_size=150))

    assert len(view["blocks"]) <= 100
    assert contexts(view)[-1].startswith("Page 1 of ")


# hostile text


@PROPERTIES
@given(
    name=any_text,
    campaign=st.none() | any_text,
    phone=st.none() | phones | hostile_text,
    external=st.none() | hostile_text,
    status=st.sampled_from([500, 30, 150]),
    may_act=st.booleans(),
)
def test_hostile_text_stays_text_and_within_slack_limits(
    name: str,
    campaign: str | None,
    phone: str | None,
    external: str | None,
    status: int,
    may_act: bool,
) -> None:
    fields = {"callData": {"name": name}, "phoneNumber": phone, "externalId": external}
    leads = [(lead(n, status, **fields), call(summary=name)) for n in range(10)]
    view = valid(attention_modal(REF, campaign, leads, 31, may_act=may_act))

    assert len(view["blocks"]) <= 100
