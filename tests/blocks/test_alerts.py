"""Alerts: each condition's start and end in plain words, with when it happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.blocks.alerts import alert_message, duration_words
from bot.blocks.ids import ActionId, AttentionRef
from bot.reports import Alert, AlertKind
from tests.blocks.hostile import PROPERTIES, any_text, hostile_text
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message

CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SINCE = AT - timedelta(hours=2, minutes=10)
AT_TOKEN = f"<!date^{int(AT.timestamp())}^{{date_short_pretty}} at {{time}}|2026-12-03 09:00 UTC>"
SINCE_TOKEN = (
    f"<!date^{int(SINCE.timestamp())}^{{date_short_pretty}} at {{time}}|2026-12-03 06:50 UTC>"
)
FIGURES = {
    AlertKind.NO_CREDIT: {"credit": 0.0},
    AlertKind.SUSPENDED: {},
    AlertKind.STOPPED: {},
    AlertKind.BUDGET: {"budget_share": 92.0, "threshold_share": 90.0},
    AlertKind.SILENT_WEBHOOK: {"silent_minutes": 125.0, "calls": 84.0, "threshold_minutes": 60},
    AlertKind.ERRORS: {"error_share": 35.0, "calls": 120.0, "errors": 42.0, "threshold_share": 20},
}
HINT = (
    "In NLPearl, open the campaign's Pearl → *Settings* → *Activity*: *Lead Webhook* and "
    "*Call Webhook* should hold the URL that `/lead subscribe 664e9a77f0e1d2c3b4a59687` shows in "
    "this channel."
)


def alert(
    kind: AlertKind,
    started: bool = True,
    *,
    name: str | None = "Solar – Spring",
    figures: dict[str, float] | None = None,
) -> Alert:
    return Alert(
        kind=kind,
        started=started,
        campaign_id=CAMPAIGN_ID,
        campaign_name=name,
        since=SINCE,
        at=AT,
        figures=dict(FIGURES[kind]) if figures is None else figures,
    )


def sound(message: dict[str, Any]) -> None:
    assert_valid_message(message)
    assert_no_injection(message)


def words(message: dict[str, Any]) -> str:
    return str(message["blocks"][0]["text"]["text"])


def context(message: dict[str, Any]) -> str:
    return str(message["blocks"][1]["elements"][0]["text"])


@pytest.mark.parametrize(
    ("kind", "started", "sentence", "hint"),
    [
        (
            AlertKind.NO_CREDIT,
            True,
            "🔴 Out of credit: NLPearl can't place calls for *Solar – Spring* (credit 0.00).",
            "Top up the account in NLPearl.",
        ),
        (
            AlertKind.NO_CREDIT,
            False,
            "✅ Credit is back for *Solar – Spring* after 2 h 10 min.",
            "",
        ),
        (
            AlertKind.SUSPENDED,
            True,
            "⛔ Account suspended: NLPearl can't place calls for *Solar – Spring* while it is "
            "suspended.",
            "Check the account's billing and status in NLPearl, or ask NLPearl's support why.",
        ),
        (
            AlertKind.SUSPENDED,
            False,
            "✅ The account is no longer suspended: calls can go out for *Solar – Spring* again, "
            "after 2 h 10 min.",
            "",
        ),
        (
            AlertKind.STOPPED,
            True,
            "⏹️ *Solar – Spring* stopped running, and nobody paused it from Slack.",
            "If it should be calling, check it in NLPearl, or resume it from its card: "
            f"`/lead campaign {CAMPAIGN_ID}`.",
        ),
        (
            AlertKind.STOPPED,
            False,
            "✅ *Solar – Spring* is running again, after 2 h 10 min stopped.",
            "",
        ),
        (
            AlertKind.BUDGET,
            True,
            "🟠 Budget nearly spent: *Solar – Spring* has used 92% of its budget (alert at 90%).",
            "NLPearl stops placing calls when it runs out; raise the budget in NLPearl if the "
            "campaign should keep calling.",
        ),
        (
            AlertKind.BUDGET,
            False,
            "✅ *Solar – Spring* is back under 90% of its budget (92% used).",
            "",
        ),
        (
            AlertKind.SILENT_WEBHOOK,
            True,
            "🔕 No webhook for *Solar – Spring* for 2 h 5 min while NLPearl shows 84 calls today. "
            "Is the webhook still connected?",
            HINT,
        ),
        (
            AlertKind.SILENT_WEBHOOK,
            False,
            "✅ Webhooks for *Solar – Spring* are arriving again; the alert was up 2 h 10 min.",
            "",
        ),
        (
            AlertKind.ERRORS,
            True,
            "⚠️ Calls failing for *Solar – Spring*: errors and wrong numbers were 35% of the "
            "last hour's 120 calls (threshold 20%).",
            "Check the leads needing attention for numbers to fix, and the campaign's settings "
            "in NLPearl.",
        ),
        (
            AlertKind.ERRORS,
            False,
            "✅ Calls are going through again for *Solar – Spring*: errors and wrong numbers "
            "were 35% of the last hour's 120 calls (threshold 20%).",
            "",
        ),
    ],
)
def test_each_alert_says_what_happened_and_what_to_do(
    kind: AlertKind, started: bool, sentence: str, hint: str
) -> None:
    message = alert_message(alert(kind, started))

    sound(message)
    assert words(message) == (f"{sentence} {hint}" if hint else sentence)
    assert message["text"] == sentence
    where = f"Campaign `{CAMPAIGN_ID}`"
    if started:
        assert context(message) == f"{where} · {AT_TOKEN}"
    else:
        assert context(message) == f"{where} · from {SINCE_TOKEN} to {AT_TOKEN}"


def test_every_kind_has_words_for_its_start_and_end() -> None:
    for kind in AlertKind:
        for started in (True, False):
            sound(alert_message(alert(kind, started, figures={})))


def test_failing_calls_offer_the_list_of_leads_needing_attention() -> None:
    message = alert_message(alert(AlertKind.ERRORS))

    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    [button] = actions["elements"]
    assert button["action_id"] == ActionId.CAMPAIGN_ATTENTION
    assert button["text"]["text"] == "⚠️ Leads needing attention"
    assert AttentionRef.model_validate_json(button["value"]) == AttentionRef(
        campaign_id=CAMPAIGN_ID
    )
    ended = alert_message(alert(AlertKind.ERRORS, started=False))
    assert not [b for b in ended["blocks"] if b["type"] == "actions"]


@pytest.mark.parametrize(
    ("kind", "figures", "sentence"),
    [
        (
            AlertKind.NO_CREDIT,
            {},
            "🔴 Out of credit: NLPearl can't place calls for *Solar – Spring*.",
        ),
        (
            AlertKind.NO_CREDIT,
            {"credit": -12.5},
            "🔴 Out of credit: NLPearl can't place calls for *Solar – Spring* (credit -12.50).",
        ),
        (
            AlertKind.BUDGET,
            {"threshold_share": 90.0},
            "🟠 Budget nearly spent: *Solar – Spring* has used more than 90% of its budget.",
        ),
        (
            AlertKind.BUDGET,
            {"budget_share": float("nan")},
            "🟠 Budget nearly spent: *Solar – Spring* has used most of its budget.",
        ),
        (
            AlertKind.SILENT_WEBHOOK,
            {},
            "🔕 No webhook for *Solar – Spring* for 2 h 10 min. Is the webhook still connected?",
        ),
        (
            AlertKind.ERRORS,
            {"errors": 6.0, "calls": 80.0},
            "⚠️ Calls failing for *Solar – Spring*: errors and wrong numbers were 7.5% of the "
            "last hour's 80 calls.",
        ),
        (
            AlertKind.ERRORS,
            {"errors": 6.0, "threshold_share": 20.0},
            "⚠️ Calls failing for *Solar – Spring*: errors and wrong numbers were too many of "
            "the last hour's calls (threshold 20%).",
        ),
        (
            AlertKind.ERRORS,
            {"error_share": float("inf")},
            "⚠️ Calls failing for *Solar – Spring*: errors and wrong numbers were too many of "
            "the last hour's calls.",
        ),
    ],
)
def test_missing_figures_are_left_out(
    kind: AlertKind, figures: dict[str, float], sentence: str
) -> None:
    message = alert_message(alert(kind, figures=figures))

    sound(message)
    assert message["text"] == sentence


def test_a_nameless_campaign_is_named_by_its_id() -> None:
    message = alert_message(alert(AlertKind.STOPPED, name="  \n"))

    assert message["text"] == (
        f"⏹️ campaign `{CAMPAIGN_ID}` stopped running, and nobody paused it from Slack."
    )


def test_a_hostile_name_is_shown_as_typed() -> None:
    message = alert_message(alert(AlertKind.NO_CREDIT, name="<!channel> *x* <https://evil|y>"))

    sound(message)
    assert message["text"] == (
        "🔴 Out of credit: NLPearl can't place calls for "
        "*&lt;!channel&gt; ∗x∗ &lt;https://evil|y&gt;* (credit 0.00)."
    )


def test_moments_that_cannot_be_subtracted_still_read() -> None:
    naive = Alert(
        kind=AlertKind.NO_CREDIT,
        started=False,
        campaign_id=CAMPAIGN_ID,
        campaign_name="Solar – Spring",
        since=SINCE.replace(tzinfo=None),
        at=AT,
    )

    message = alert_message(naive)
    sound(message)
    assert message["text"] == "✅ Credit is back for *Solar – Spring* after a while."


@pytest.mark.parametrize(
    ("span", "shown"),
    [
        (timedelta(seconds=59), "under a minute"),
        (timedelta(seconds=-5), "under a minute"),
        (timedelta(minutes=5, seconds=59), "5 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=5), "2 h 5 min"),
        (timedelta(days=3), "3 d"),
        (timedelta(days=3, hours=4, minutes=59), "3 d 4 h"),
    ],
)
def test_durations_read_as_words(span: timedelta, shown: str) -> None:
    assert duration_words(span) == shown


figure_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    # Too large for a float, as untyped data might bring.
    st.integers(0, 500).map(lambda exponent: 10**exponent),
)
figure_names = st.sampled_from(
    [
        "credit",
        "budget_share",
        "silent_minutes",
        "error_share",
        "calls",
        "errors",
        "threshold_minutes",
        "threshold_share",
    ]
)
moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@PROPERTIES
@given(
    kind=st.sampled_from(AlertKind),
    started=st.booleans(),
    name=st.one_of(st.none(), any_text),
    campaign_id=st.one_of(st.just(CAMPAIGN_ID), hostile_text),
    since=moments,
    at=moments,
    figures=st.dictionaries(st.one_of(figure_names, hostile_text), figure_values, max_size=8),
)
def test_hostile_alerts_stay_valid_and_mention_no_one(
    kind: AlertKind,
    started: bool,
    name: str | None,
    campaign_id: str,
    since: datetime,
    at: datetime,
    figures: dict[str, float],
) -> None:
    message = alert_message(
        Alert(
            kind=kind,
            started=started,
            campaign_id=campaign_id,
            campaign_name=name,
            since=since,
            at=at,
            figures=figures,
        )
    )

    sound(message)
    assert f"<!date^{int(at.timestamp())}^" in context(message)
