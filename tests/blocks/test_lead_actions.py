"""Acting on a lead: the action bar, confirmations, refusals, outcomes, thread notes, admin Home."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app.sample import SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID, sample_report
from bot.blocks import views
from bot.blocks.home import AdminHome, Setup, home_view
from bot.blocks.ids import (
    MAX_OPTION_VALUE,
    ActionId,
    ActRef,
    BlockId,
    CardRef,
    Pending,
    ViewId,
)
from bot.blocks.lead_actions import (
    ACTIONS_SHOWN,
    DENIED_TEXT,
    PEOPLE_SHOWN,
    action_elements,
    confirm_view,
    denied_message,
    denied_view,
    outcome_notice,
    outcome_view,
    recent_actions_blocks,
    stale_view,
    thread_note,
    who_may_act_blocks,
    who_may_act_modal,
)
from bot.blocks.lead_card import lead_card
from bot.nlpearl.lead_actions import EFFECTS, Verb, offered, primary
from bot.nlpearl.models import Lead, Pearl
from bot.nlpearl.statuses import LEAD_STATUSES
from bot.records import LeadReport
from bot.storage.rows import ActionRecord, Grants, RecentLookup, SubscriptionInfo, Workspace
from tests.blocks.hostile import PROPERTIES, any_text, hostile_text, text_with_phones
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message, text_objects
from tests.blocks.test_message_properties import assert_no_full_number
from tests.blocks.test_views import action_ids, assert_valid_view

CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
LEAD_ID = "6650f1c2a9e4b27d3c8e41a7"
PHONE = "+1 415-555-0137"
AT = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)
EPOCH = int(AT.timestamp())
FALLBACK = "2026-11-27 18:42 UTC"
STATUSES = [*LEAD_STATUSES, None, 999, -5]
HOSTILE_NAMES = [
    "<!channel>",
    "<@U123>",
    "*bold*",
    "<https://evil|x>",
    "<!subteam^S1|team>",
    "<!here> _it_ ~gone~ `code` &amp; > quote",
]
FINE = Setup(nlpearl_problem=None, database_problem=None)
WS = Workspace("T0TEAM")
USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")


# helpers


def bar(elements: list[dict[str, Any]]) -> dict[str, Any]:
    """The action elements as a message of their own, for Slack's checks."""
    return {"text": "Lead", "blocks": [{"type": "actions", "elements": elements}]}


def by_action(elements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {element["action_id"]: element for element in elements}
    assert len(found) == len(elements)
    return found


def menu_refs(elements: list[dict[str, Any]]) -> list[ActRef]:
    menu = by_action(elements)[ActionId.LEAD_MENU]
    return [ActRef.model_validate_json(option["value"]) for option in menu["options"]]


def pending(verb: Verb = Verb.STOP, seen: int | None = 10, **fields: Any) -> Pending:
    act = ActRef(verb=verb, campaign_id=CAMPAIGN_ID, lead_id=LEAD_ID, seen_status=seen)
    card = CardRef(campaign_id=CAMPAIGN_ID, kind="id", key=LEAD_ID)
    return Pending(act=act, card=card, **fields)


def sentences(view: dict[str, Any]) -> list[str]:
    """The text of each section in a view or message."""
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]


def rendered(node: dict[str, Any]) -> str:
    """Every text object's text, as Slack would parse it."""
    return "\n".join(obj["text"] for obj in text_objects(node["blocks"]))


def sound_view(view: dict[str, Any], users: tuple[str, ...] = ()) -> None:
    """Valid and injection-free; mentions of the given Slack user IDs are ours on purpose."""
    shown = json.dumps(view)
    for user in users:
        if USER_ID.fullmatch(user):
            shown = shown.replace(f"<@{user}>", "@user")
    assert_valid_view(json.loads(shown))


def sound_message(message: dict[str, Any]) -> None:
    assert_valid_message(message)
    assert_no_injection(message)


def record(n: int = 0, **fields: Any) -> ActionRecord:
    data: dict[str, Any] = {
        "workspace": WS,
        "user_id": "U0TESS",
        "campaign_id": CAMPAIGN_ID,
        "lead_id": LEAD_ID,
        "action": "stop",
        "before_status": 10,
        "result": "applied",
        "at": AT - timedelta(minutes=n),
    }
    data.update(fields)
    return ActionRecord(**data)


def report_with(status: int | None, lead_id: str | None = LEAD_ID) -> LeadReport:
    lead = Lead.model_validate({"id": lead_id, "phoneNumber": "+14155550137", "status": status})
    return LeadReport(CAMPAIGN_ID, Pearl(id=CAMPAIGN_ID, name="Spring"), lead, ())


def card_bar(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    block = message["blocks"][-1]
    assert block["type"] == "actions"
    return by_action(block["elements"])


# the action bar


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("origin", ["card", "feed"])
def test_the_bar_offers_what_the_status_allows(status: int | None, origin: Any) -> None:
    elements = action_elements(CAMPAIGN_ID, LEAD_ID, status, origin)

    assert_valid_message(bar(elements))
    main = primary(status)
    found = by_action(elements)
    expected = {"campaign_id": CAMPAIGN_ID, "lead_id": LEAD_ID, "seen_status": status}
    if main is None:
        assert list(found) == [ActionId.LEAD_MENU]
    else:
        assert list(found) == [ActionId.LEAD_PRIMARY, ActionId.LEAD_MENU]
        button = found[ActionId.LEAD_PRIMARY]
        act = ActRef.model_validate_json(button["value"])
        assert act == ActRef(verb=main, origin=origin, **expected)
        assert button["text"]["text"] == f"{EFFECTS[main].emoji} {EFFECTS[main].label}"
        assert button.get("style") == ("primary" if main is Verb.RETRY else None)
    menu = found[ActionId.LEAD_MENU]
    assert menu["type"] == "overflow"
    assert 1 <= len(menu["options"]) <= 5
    refs = menu_refs(elements)
    assert [ref.verb for ref in refs] == [verb for verb in offered(status) if verb is not main]
    assert refs[-1].verb is Verb.EDIT
    assert refs == [ActRef(verb=ref.verb, origin=origin, **expected) for ref in refs]
    for option, ref in zip(menu["options"], refs, strict=True):
        assert len(option["value"]) <= MAX_OPTION_VALUE
        effect = EFFECTS[ref.verb]
        assert option["text"] == {
            "type": "plain_text",
            "text": f"{effect.emoji} {effect.label}",
            "emoji": True,
        }


def test_a_lead_still_being_called_offers_stop_calling_first() -> None:
    elements = action_elements(CAMPAIGN_ID, LEAD_ID, 40, "card")

    button = by_action(elements)[ActionId.LEAD_PRIMARY]
    assert button["text"]["text"] == "✋ Stop calling"
    assert "style" not in button
    assert [ref.verb for ref in menu_refs(elements)] == [Verb.WON, Verb.LOST, Verb.EDIT]


def test_a_lead_that_went_nowhere_offers_call_again_in_green() -> None:
    elements = action_elements(CAMPAIGN_ID, LEAD_ID, 130, "feed")

    button = by_action(elements)[ActionId.LEAD_PRIMARY]
    assert button["text"]["text"] == "🔁 Call again"
    assert button["style"] == "primary"
    assert [ref.verb for ref in menu_refs(elements)] == [Verb.WON, Verb.LOST, Verb.EDIT]


def test_an_unknown_status_hides_nothing_nlpearl_would_accept() -> None:
    for status in (None, 999):
        elements = action_elements(CAMPAIGN_ID, LEAD_ID, status, "card")
        assert [ref.verb for ref in menu_refs(elements)] == list(Verb)


@pytest.mark.parametrize("lead_id", [None, ""])
def test_no_lead_id_no_actions(lead_id: str | None) -> None:
    assert action_elements(CAMPAIGN_ID, lead_id, 40, "card") == []


def test_ids_too_long_for_an_option_give_no_actions_at_all() -> None:
    def longest(lead_id: str) -> int:
        return max(
            len(ActRef(verb=v, campaign_id=CAMPAIGN_ID, lead_id=lead_id, seen_status=1).value())
            for v in offered(1)
        )

    fits = next(n for n in range(200, 0, -1) if longest("a" * n) <= MAX_OPTION_VALUE)
    assert longest("a" * fits) == MAX_OPTION_VALUE
    assert action_elements(CAMPAIGN_ID, "a" * fits, 1, "card")
    assert action_elements(CAMPAIGN_ID, "a" * (fits + 1), 1, "card") == []


# the bar on the card


def test_the_card_ends_with_its_buttons_then_the_leads_actions() -> None:
    report = report_with(40)
    ref = CardRef(campaign_id=CAMPAIGN_ID, kind="phone", key="+14155550137")
    message = lead_card(report, ref, now=AT, mask=False)

    sound_message(message)
    found = card_bar(message)
    assert list(found) == [
        ActionId.REFRESH_CARD,
        ActionId.SHARE_CARD,
        ActionId.LEAD_PRIMARY,
        ActionId.LEAD_MENU,
    ]
    act = ActRef.model_validate_json(found[ActionId.LEAD_PRIMARY]["value"])
    assert act == ActRef(
        verb=Verb.STOP, campaign_id=CAMPAIGN_ID, lead_id=LEAD_ID, seen_status=40, origin="card"
    )


def test_beside_share_call_again_is_not_a_second_green_button() -> None:
    report = report_with(130)
    ref = CardRef(campaign_id=CAMPAIGN_ID, kind="id", key=LEAD_ID)
    private = card_bar(lead_card(report, ref, now=AT, mask=False))
    shared = card_bar(
        lead_card(report, ref.model_copy(update={"shared_by": "U1"}), now=AT, mask=True)
    )
    in_modal = card_bar(lead_card(report, ref, now=AT, mask=False, surface="modal"))

    assert private[ActionId.SHARE_CARD]["style"] == "primary"
    assert "style" not in private[ActionId.LEAD_PRIMARY]
    assert [e.get("style") for e in private.values()].count("primary") == 1
    for found in (shared, in_modal):
        assert ActionId.SHARE_CARD not in found
        assert found[ActionId.LEAD_PRIMARY]["style"] == "primary"


def test_shared_and_modal_cards_offer_the_same_actions() -> None:
    report = sample_report()
    ref = CardRef(campaign_id=SAMPLE_CAMPAIGN_ID, kind="id", key=SAMPLE_LEAD_ID)
    cards = [
        lead_card(report, ref, now=AT, mask=False),
        lead_card(report, ref.model_copy(update={"shared_by": "U1"}), now=AT, mask=True),
        lead_card(report, ref, now=AT, mask=False, surface="modal"),
    ]
    menus = [card_bar(card)[ActionId.LEAD_MENU] for card in cards]
    assert menus[0] == menus[1] == menus[2]
    refs = [ActRef.model_validate_json(option["value"]) for option in menus[0]["options"]]
    assert {(r.campaign_id, r.lead_id, r.seen_status, r.origin) for r in refs} == {
        (SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID, 100, "card")
    }


def test_a_card_of_a_lead_without_an_id_has_no_actions() -> None:
    report = report_with(40, lead_id=None)
    ref = CardRef(campaign_id=CAMPAIGN_ID, kind="phone", key="+14155550137")
    message = lead_card(report, ref, now=AT, mask=False)

    sound_message(message)
    assert set(card_bar(message)) == {ActionId.REFRESH_CARD, ActionId.SHARE_CARD}


# confirming


@pytest.mark.parametrize(
    ("verb", "question"),
    [
        (Verb.STOP, f"Stop calling Maria Gonzalez? The campaign will not call {PHONE} again."),
        (
            Verb.RETRY,
            f"Call Maria Gonzalez again? The campaign will call {PHONE} again in its next "
            "calling window.",
        ),
        (
            Verb.WON,
            "Mark Maria Gonzalez as won? NLPearl will record a success, and the campaign will "
            f"not call {PHONE} again.",
        ),
        (
            Verb.LOST,
            "Mark Maria Gonzalez as lost? NLPearl will record the lead as not successful, and "
            f"the campaign will not call {PHONE} again.",
        ),
    ],
)
def test_the_confirmation_names_the_lead_and_the_effect(verb: Verb, question: str) -> None:
    asked = pending(verb, response_url="https://hooks.slack.com/actions/T1/1/abc")
    view = confirm_view(asked, "Maria Gonzalez", PHONE)

    sound_view(view)
    assert sentences(view) == [question]
    assert view["callback_id"] == ViewId.CONFIRM_ACTION
    assert view["title"]["text"] == "Confirm"
    assert view["submit"]["text"] == EFFECTS[verb].label
    assert view["close"]["text"] == "Cancel"
    assert Pending.model_validate_json(view["private_metadata"]) == asked
    assert view["private_metadata"] == asked.model_dump_json(exclude_none=True)
    assert f"Lead `{LEAD_ID}` · Campaign `{CAMPAIGN_ID}`" in rendered(view)


def test_without_a_number_or_a_name_the_question_still_reads() -> None:
    no_phone = confirm_view(pending(Verb.STOP), "Maria Gonzalez", None)
    no_name = confirm_view(pending(Verb.RETRY), "  ", "")

    assert sentences(no_phone) == [
        "Stop calling Maria Gonzalez? The campaign will not call them again."
    ]
    assert sentences(no_name) == [
        "Call this lead again? The campaign will call them again in its next calling window."
    ]


def test_a_masked_number_is_shown_as_given() -> None:
    view = confirm_view(pending(Verb.LOST), "•••• 0137", "•••• 0137")

    assert sentences(view)[0].startswith("Mark •••• 0137 as lost?")
    assert "call •••• 0137 again." in sentences(view)[0]


def test_edit_reads_as_a_question_too() -> None:
    view = confirm_view(pending(Verb.EDIT), "Maria Gonzalez", PHONE)

    sound_view(view)
    assert sentences(view) == [
        "Edit Maria Gonzalez? The form opens with the lead as NLPearl has it now."
    ]
    assert view["submit"]["text"] == "Edit lead"


def test_too_much_to_carry_is_refused() -> None:
    huge = pending(response_url="https://hooks.slack.com/" + "a" * 3000)

    with pytest.raises(ValueError, match="3000"):
        confirm_view(huge, "Maria Gonzalez", PHONE)
    with pytest.raises(ValueError, match="3000"):
        stale_view(huge, "Maria Gonzalez", PHONE, 100, 10)


# asking again


def test_a_status_change_is_said_before_asking_again() -> None:
    again = pending(Verb.RETRY, seen=110)
    view = stale_view(again, "Maria Gonzalez", PHONE, 130, 110)

    sound_view(view)
    assert sentences(view) == [
        "Maria Gonzalez's status changed since the card was drawn: it was ☑️ Completed, "
        "it is now ❌ Not successful.",
        f"Call Maria Gonzalez again? The campaign will call {PHONE} again in its next calling "
        "window.",
    ]
    assert view["callback_id"] == ViewId.CONFIRM_ACTION
    assert view["submit"]["text"] == "Call again"
    assert view["close"]["text"] == "Cancel"
    assert Pending.model_validate_json(view["private_metadata"]) == again


def test_an_action_that_no_longer_applies_can_only_be_closed() -> None:
    view = stale_view(pending(Verb.STOP, seen=100), "Maria Gonzalez", PHONE, 10, 100)

    sound_view(view)
    assert sentences(view) == [
        "Maria Gonzalez's status changed since the card was drawn: it was 🔁 Needs retry, "
        "it is now ✅ Success.",
        "✋ Stop calling no longer applies to this lead, so nothing was changed. "
        "Refresh the card to see what you can do now.",
    ]
    assert "submit" not in view
    assert view["close"]["text"] == "Close"
    assert view["private_metadata"] == ""


def test_an_unchanged_status_is_not_called_a_change() -> None:
    view = stale_view(pending(Verb.WON, seen=100), "Maria Gonzalez", PHONE, 100, 100)

    assert sentences(view)[0] == "Maria Gonzalez's status is ✅ Success."
    assert "submit" not in view


def test_unknown_statuses_and_no_name_still_read() -> None:
    view = stale_view(pending(Verb.EDIT, seen=999), "", None, None, 999)

    sound_view(view)
    assert sentences(view)[0] == (
        "The lead's status changed since the card was drawn: it was ❔ Unknown, "
        "it is now ❔ Unknown (999)."
    )
    assert view["submit"]["text"] == "Edit lead"


# refusals


def test_the_refusal_says_who_may_and_whom_to_ask() -> None:
    message = denied_message()

    sound_message(message)
    assert DENIED_TEXT == (
        "Only workspace admins and owners, and the people they choose, can change leads and "
        "campaigns in NLPearl from Slack. Looking stays open to everyone. To get the right, ask a "
        "workspace admin or owner: they can grant it from Lead Bot's Home tab, under Who may act."
    )
    assert sentences(message) == [f"🔒 *You can't change leads from Slack*\n{DENIED_TEXT}"]
    assert DENIED_TEXT in message["text"]
    campaigns = denied_message("campaigns")
    assert sentences(campaigns) == [f"🔒 *You can't change campaigns from Slack*\n{DENIED_TEXT}"]


def test_the_refusal_as_a_modal_is_the_same_words() -> None:
    view = denied_view()

    sound_view(view)
    assert view == views.notice_modal("Lead Bot", denied_message())
    assert "submit" not in view


# outcomes


@pytest.mark.parametrize("verb", list(Verb))
def test_a_done_action_says_what_was_done_to_whom(verb: Verb) -> None:
    message = outcome_notice(verb, "Maria Gonzalez", ok=True, why=None)

    sound_message(message)
    effect = EFFECTS[verb]
    assert sentences(message) == [f"{effect.emoji} *{effect.done}: Maria Gonzalez*"]
    assert message["text"] == f"{effect.done}: Maria Gonzalez"


@pytest.mark.parametrize(
    ("verb", "title"),
    [
        (Verb.STOP, "Couldn't stop calling Maria Gonzalez"),
        (Verb.RETRY, "Couldn't call Maria Gonzalez again"),
        (Verb.WON, "Couldn't mark Maria Gonzalez as won"),
        (Verb.LOST, "Couldn't mark Maria Gonzalez as lost"),
        (Verb.EDIT, "Couldn't edit Maria Gonzalez"),
    ],
)
def test_a_failed_action_says_why_and_that_nothing_changed(verb: Verb, title: str) -> None:
    why = "NLPearl isn't responding right now; try again in a minute"
    message = outcome_notice(verb, "Maria Gonzalez", ok=False, why=why)

    sound_message(message)
    assert sentences(message) == [f"⚠️ *{title}*\n{why}. Nothing was changed."]


def test_a_reason_is_ended_once_and_may_be_missing() -> None:
    dotted = outcome_notice(Verb.STOP, "Ana", ok=False, why="NLPearl said no. ")
    missing = outcome_notice(Verb.STOP, "Ana", ok=False, why=None)

    assert sentences(dotted) == [
        "⚠️ *Couldn't stop calling Ana*\nNLPearl said no. Nothing was changed."
    ]
    assert sentences(missing) == ["⚠️ *Couldn't stop calling Ana*\nNothing was changed."]


@pytest.mark.parametrize("ok", [True, False])
def test_the_outcome_as_a_modal_is_a_notice_titled_by_the_action(ok: bool) -> None:
    view = outcome_view(Verb.WON, "Maria Gonzalez", ok=ok, why="NLPearl refused the change")

    sound_view(view)
    notice = outcome_notice(Verb.WON, "Maria Gonzalez", ok=ok, why="NLPearl refused the change")
    assert view == views.notice_modal("Mark won", notice)


# thread notes


@pytest.mark.parametrize(
    ("verb", "words"),
    [
        (Verb.STOP, "✋ Stopped calling"),
        (Verb.RETRY, "🔁 Set to call again"),
        (Verb.WON, "🏆 Marked won"),
        (Verb.LOST, "🚫 Marked lost"),
        (Verb.EDIT, "✏️ Edited the lead"),
        ("add", "➕ Added to the campaign"),
    ],
)
def test_a_thread_note_says_what_who_and_when(verb: Any, words: str) -> None:
    note = thread_note(verb, "tess", AT)

    sound_message(note)
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


def test_a_thread_note_without_a_name_says_someone() -> None:
    assert thread_note(Verb.STOP, " \n", AT)["text"] == "✋ Stopped calling · by someone"


# hostile names and reasons


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_never_mention_link_or_format(name: str) -> None:
    made = [
        confirm_view(pending(Verb.WON), name, name),
        stale_view(pending(Verb.RETRY, seen=110), name, name, 130, 110),
        stale_view(pending(Verb.STOP, seen=100), name, name, 10, 100),
        outcome_view(Verb.LOST, name, ok=False, why=name),
        outcome_view(Verb.LOST, name, ok=True, why=None),
    ]
    for view in made:
        sound_view(view)
        assert "<" not in rendered(view).replace("<!date^", "")
    messages = [
        outcome_notice(Verb.STOP, name, ok=False, why=name),
        outcome_notice(Verb.STOP, name, ok=True, why=None),
        thread_note(Verb.STOP, name, AT),
    ]
    for message in messages:
        sound_message(message)
    if name == "*bold*":
        assert "∗bold∗" in sentences(made[0])[0]
        assert thread_note(Verb.EDIT, name, AT)["text"] == "✏️ Edited the lead · by @∗bold∗"
    if name == "<!channel>":
        assert sentences(made[0])[0].startswith("Mark &lt;!channel&gt; as won?")


# properties

statuses = st.one_of(
    st.none(), st.sampled_from(sorted(LEAD_STATUSES)), st.integers(-(10**6), 10**6)
)
verbs = st.sampled_from(list(Verb))
origins = st.sampled_from(["card", "feed"])
maybe_text = st.one_of(st.none(), any_text)
# Actions happen now, not before 1970 (Slack's date tokens take no negative timestamps).
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@PROPERTIES
@given(hostile_text, st.one_of(st.none(), hostile_text), statuses, origins)
def test_any_bar_is_valid_or_absent(
    campaign_id: str, lead_id: str | None, status: int | None, origin: Any
) -> None:
    elements = action_elements(campaign_id, lead_id, status, origin)

    values = [
        ActRef(
            verb=verb,
            campaign_id=campaign_id,
            lead_id=lead_id or "x",
            seen_status=status,
            origin=origin,
        ).value()
        for verb in offered(status)
    ]
    if not lead_id or max(map(len, values)) > MAX_OPTION_VALUE:
        assert elements == []
        return
    assert_valid_message(bar(elements))
    shown = [e["value"] for e in elements if "value" in e]
    shown += [o["value"] for e in elements for o in e.get("options", [])]
    assert sorted(shown) == sorted(values)
    for value in shown:
        act = ActRef.model_validate_json(value)
        assert (act.campaign_id, act.lead_id, act.seen_status) == (campaign_id, lead_id, status)


@st.composite
def pendings(draw: st.DrawFn) -> Pending:
    act = ActRef(
        verb=draw(verbs),
        campaign_id=draw(hostile_text),
        lead_id=draw(hostile_text),
        seen_status=draw(statuses),
        origin=draw(origins),
    )
    url = draw(st.one_of(st.none(), st.just("https://hooks.slack.com/a"), any_text))
    return Pending(act=act, response_url=url)


@PROPERTIES
@given(pendings(), any_text, maybe_text, statuses, statuses)
def test_any_confirmation_or_retry_is_valid_and_inert(
    asked: Pending, label: str, phone: str | None, was: int | None, now: int | None
) -> None:
    too_big = len(asked.model_dump_json(exclude_none=True)) > 3000
    for build in (
        lambda: confirm_view(asked, label, phone),
        lambda: stale_view(asked, label, phone, was, now),
    ):
        try:
            view = build()
        except ValueError:
            assert too_big
            continue
        sound_view(view)
        if "submit" in view:
            assert Pending.model_validate_json(view["private_metadata"]) == asked


@PROPERTIES
@given(verbs, any_text, st.booleans(), maybe_text)
def test_any_outcome_is_valid_and_inert(verb: Verb, label: str, ok: bool, why: str | None) -> None:
    sound_message(outcome_notice(verb, label, ok=ok, why=why))
    sound_view(outcome_view(verb, label, ok=ok, why=why))


@PROPERTIES
@given(st.one_of(verbs, st.just("add")), any_text, moments)
def test_any_thread_note_is_valid_and_inert(verb: Any, name: str, at: datetime) -> None:
    note = thread_note(verb, name, at)

    sound_message(note)
    assert "\n" not in note["text"]


# the Home tab, for admins


def admin_home(admin: AdminHome, **kwargs: Any) -> dict[str, Any]:
    view = home_view(FINE, kwargs.get("subs", []), kwargs.get("recent", []), admin)
    sound_view(view, (*admin.grants.users, *(r.user_id for r in admin.actions)))
    return view


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_admins_see_who_may_act_and_recent_actions_after_the_setup() -> None:
    grants = Grants(users=("U0TESS",), usergroups=("S0SALES",))
    admin = AdminHome(grants, {"S0SALES": "sales"}, [record()], mask=True)
    view = admin_home(admin)

    texts = [b.get("text", {}).get("text", "") for b in view["blocks"]]
    setup = next(i for i, t in enumerate(texts) if t.startswith("*Set-up*"))
    kinds = [b["type"] for b in view["blocks"][setup + 1 : setup + 6]]
    assert kinds == ["divider", "section", "divider", "section", "section"]
    assert texts[setup + 2].startswith("*🔐 Who may act on leads*\n")
    assert texts[setup + 4] == "*🧾 Recent actions on leads*"
    assert view["blocks"][setup + 6]["type"] == "divider"
    assert texts[setup + 7] == "*🕘 Your recent lookups*"
    button = view["blocks"][setup + 2]["accessory"]
    assert button["action_id"] == ActionId.HOME_WHO_MAY_ACT
    assert button["text"]["text"] == "Change"


def test_people_who_are_not_admins_see_no_admin_sections() -> None:
    view = home_view(FINE, [], [])

    assert ActionId.HOME_WHO_MAY_ACT not in action_ids(view)
    assert "Who may act" not in json.dumps(view)
    assert "Recent actions" not in json.dumps(view)


def test_who_may_act_names_people_and_groups_by_handle() -> None:
    grants = Grants(users=("U0TESS", "W0BOB"), usergroups=("S0SALES", "S0GONE"))
    (section,) = who_may_act_blocks(grants, {"S0SALES": "@sales"})

    assert section["text"]["text"] == (
        "*🔐 Who may act on leads*\nWorkspace admins and owners, plus <@U0TESS>, <@W0BOB>, "
        "@sales and a user group `S0GONE`."
    )
    # A user group mention would notify everyone in it.
    assert "subteam" not in json.dumps(section)


def test_with_no_grants_only_admins_and_owners_may_act() -> None:
    (section,) = who_may_act_blocks(Grants(), {})

    assert section["text"]["text"] == (
        "*🔐 Who may act on leads*\nWorkspace admins and owners only."
    )


def test_stored_ids_that_are_not_slack_ids_are_never_mentions() -> None:
    grants = Grants(users=("<!channel>", "U1|x>", "u0lower"), usergroups=("<!here>",))
    blocks = who_may_act_blocks(grants, {"<!here>": "<!channel> *team*"})

    text = blocks[0]["text"]["text"]
    assert "<@" not in text
    assert "`&lt;!channel&gt;`" in text
    assert "@&lt;!channel&gt; ∗team∗" in text
    assert_valid_view({"type": "home", "blocks": blocks})


def test_many_people_are_counted_not_listed() -> None:
    grants = Grants(users=tuple(f"U{n:08d}" for n in range(100)))
    (section,) = who_may_act_blocks(grants, {})

    text = section["text"]["text"]
    assert text.count("<@U") == PEOPLE_SHOWN - 1
    assert text.endswith(f" and {100 - PEOPLE_SHOWN + 1} more.")


def test_an_action_line_says_what_how_who_when_and_which_lead() -> None:
    blocks = recent_actions_blocks([record()], mask=True)

    assert section_texts(blocks) == [
        "*🧾 Recent actions on leads*",
        f"✋ *Stop calling* · applied ✅ · by <@U0TESS> · "
        f"<!date^{EPOCH}^{{date_short_pretty}} at {{time}}|{FALLBACK}>\n"
        f"Lead `{LEAD_ID}` · Campaign `{CAMPAIGN_ID}`",
    ]


@pytest.mark.parametrize(
    ("result", "shown"),
    [("denied", "denied 🔒"), ("stale", "stale ↩️"), ("failed", "failed ⚠️")],
)
def test_refused_and_failed_actions_say_why(result: str, shown: str) -> None:
    (_, line) = section_texts(
        recent_actions_blocks([record(result=result, detail="NLPearl said no")], mask=False)
    )

    first, why, where = line.split("\n")
    assert f" · {shown} · by <@U0TESS> · " in first
    assert why == "_NLPearl said no_"
    assert where == f"Lead `{LEAD_ID}` · Campaign `{CAMPAIGN_ID}`"


def test_the_latest_ten_actions_come_first() -> None:
    taken = [
        record(n, action=["stop", "retry", "won", "lost", "edit", "add"][n % 6]) for n in range(15)
    ]
    blocks = recent_actions_blocks(list(reversed(taken)), mask=True)

    lines = section_texts(blocks)[1:]
    assert len(lines) == ACTIONS_SHOWN
    stamps = [int(re.findall(r"<!date\^(\d+)\^", line)[0]) for line in lines]
    assert stamps == sorted(stamps, reverse=True)
    assert stamps[0] == EPOCH
    assert lines[5].startswith("➕ *Add lead* · ")


def test_a_blank_detail_adds_no_line() -> None:
    (_, line) = section_texts(recent_actions_blocks([record(result="failed", detail=" \n")], True))

    assert line.count("\n") == 1


def test_no_actions_yet() -> None:
    blocks = recent_actions_blocks([], mask=True)

    assert blocks[1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "No actions yet.", "verbatim": True}],
    }


def test_an_added_lead_without_an_id_and_odd_records_still_read() -> None:
    odd = record(action="<!channel>", result="<@U1>", lead_id="", user_id="<!here>")
    (_, line) = section_texts(recent_actions_blocks([odd], mask=True))

    assert line.startswith("❔ &lt;!channel&gt; · &lt;@U1&gt; ❔ · by `&lt;!here&gt;` · ")
    assert line.endswith(f"\nCampaign `{CAMPAIGN_ID}`")


def test_a_detail_in_a_masked_home_hides_phone_numbers() -> None:
    detail = "NLPearl refused +1 415 555 0199"
    (_, line) = section_texts(recent_actions_blocks([record(result="failed", detail=detail)], True))
    (_, clear) = section_texts(
        recent_actions_blocks([record(result="failed", detail=detail)], False)
    )

    assert "_NLPearl refused •••• 0199_" in line
    assert "+1 415 555 0199" in clear


def test_the_fullest_admin_home_stays_within_slacks_limits() -> None:
    hostile = "<!channel> *x* " * 40
    grants = Grants(
        users=tuple(f"U{n:08d}" for n in range(500)),
        usergroups=tuple(f"S{n:08d}" for n in range(500)),
    )
    names = {f"S{n:08d}": hostile for n in range(500)}
    records = [record(n, detail=hostile, result="failed", lead_id=hostile) for n in range(200)]
    subs = [SubscriptionInfo(f"C{n:08d}", hostile, None, AT, hostile, AT) for n in range(200)]
    recent = [RecentLookup(CAMPAIGN_ID, LEAD_ID, hostile, AT) for _ in range(200)]
    view = home_view(FINE, subs, recent, AdminHome(grants, names, records, mask=True))

    shown = json.dumps(view)
    for n in range(200):
        shown = shown.replace(f"<#C{n:08d}>", "#channel")
    assert len(json.loads(shown)["blocks"]) <= 100
    sound_view(json.loads(shown), (*grants.users, "U0TESS"))


# the Who may act form


def test_the_form_starts_from_the_current_grants() -> None:
    grants = Grants(users=("U0TESS", "bad id"), usergroups=("S0SALES",))
    view = who_may_act_modal(grants, [("S0SALES", "sales"), ("S0SUPPORT", "@support")])

    sound_view(view)
    assert view["callback_id"] == ViewId.WHO_MAY_ACT
    assert view["submit"]["text"] == "Save"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == [BlockId.GRANT_USERS, BlockId.GRANT_USERGROUPS]
    assert all(block["optional"] for block in inputs.values())
    people = inputs[BlockId.GRANT_USERS]["element"]
    assert people["type"] == "multi_users_select"
    assert people["action_id"] == "users"
    assert people["initial_users"] == ["U0TESS"]
    groups = inputs[BlockId.GRANT_USERGROUPS]["element"]
    assert groups["type"] == "multi_static_select"
    assert groups["action_id"] == ActionId.GRANT_USERGROUPS
    assert [(o["value"], o["text"]["text"]) for o in groups["options"]] == [
        ("S0SALES", "@sales"),
        ("S0SUPPORT", "@support"),
    ]
    assert groups["initial_options"] == [groups["options"][0]]


def test_a_workspace_without_user_groups_gets_people_only() -> None:
    view = who_may_act_modal(Grants(), [])

    sound_view(view)
    assert BlockId.GRANT_USERGROUPS not in json.dumps(view)
    people = next(b for b in view["blocks"] if b["type"] == "input")
    assert "initial_users" not in people["element"]
    assert rendered(view).endswith(
        "This workspace has no user groups, so you can choose people only."
    )


def test_with_over_100_groups_the_granted_ones_stay_choosable() -> None:
    options = [(f"S{n:08d}", f"group{n}") for n in range(150)]
    granted = ("S00000149", "S00000120")
    view = who_may_act_modal(Grants(usergroups=granted), options)

    sound_view(view)
    groups = next(b for b in view["blocks"] if b.get("block_id") == BlockId.GRANT_USERGROUPS)
    values = [o["value"] for o in groups["element"]["options"]]
    assert len(values) == 100
    assert set(granted) <= set(values)
    assert values == sorted(values)
    assert {o["value"] for o in groups["element"]["initial_options"]} == set(granted)
    assert "Showing 100 of 150 user groups." in rendered(view)


# properties of the admin pieces

slack_ids = st.from_regex(r"\A[UWS][A-Z0-9]{2,12}\Z")
ids = st.one_of(slack_ids, hostile_text)


@st.composite
def records(draw: st.DrawFn) -> ActionRecord:
    return record(
        user_id=draw(ids),
        campaign_id=draw(hostile_text),
        lead_id=draw(hostile_text),
        action=draw(st.one_of(st.sampled_from([*Verb, "add"]), hostile_text)),
        result=draw(
            st.one_of(st.sampled_from(["applied", "denied", "stale", "failed"]), hostile_text)
        ),
        detail=draw(maybe_text),
        at=draw(moments),
    )


@PROPERTIES
@given(
    st.lists(ids, max_size=60),
    st.lists(ids, max_size=30),
    st.dictionaries(ids, any_text, max_size=10),
    st.lists(records(), max_size=14),
    st.booleans(),
)
def test_any_admin_home_is_valid_and_inert(
    users: list[str],
    groups: list[str],
    names: dict[str, str],
    actions: list[ActionRecord],
    mask: bool,
) -> None:
    admin = AdminHome(Grants(tuple(users), tuple(groups)), names, actions, mask)
    view = admin_home(admin)

    assert len(view["blocks"]) <= 100


@PROPERTIES
@given(
    st.lists(ids, max_size=40),
    st.lists(ids, max_size=20),
    st.lists(st.tuples(ids, any_text), max_size=130),
)
def test_any_who_may_act_form_is_valid(
    users: list[str], groups: list[str], options: list[tuple[str, str]]
) -> None:
    view = who_may_act_modal(Grants(tuple(users), tuple(groups)), options)

    sound_view(view)
    block = next((b for b in view["blocks"] if b.get("block_id") == BlockId.GRANT_USERGROUPS), None)
    if block is not None:
        shown = block["element"]["options"]
        assert 0 < len(shown) <= 100
        assert all(o in shown for o in block["element"].get("initial_options", []))


@PROPERTIES
@given(text_with_phones())
def test_a_masked_admin_home_shows_no_full_number(case: tuple[str, list[str]]) -> None:
    detail, numbers = case
    blocks = recent_actions_blocks([record(result="failed", detail=detail)], mask=True)

    assert_no_full_number({"text": "Home", "blocks": blocks}, numbers)
