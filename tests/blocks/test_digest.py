"""The daily digest: the day's calls, outcomes, rates, budget, attention and chart."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.blocks.campaign_card import campaign_card
from bot.blocks.digest import digest_message, digest_without_chart
from bot.blocks.ids import ActionId, AttentionRef, CampaignRef
from bot.nlpearl.models import Pearl
from bot.reports import DayPoint, Digest, Rate
from tests.blocks.hostile import PROPERTIES, any_text, hostile_text
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message, text_objects

CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
DAY = date(2026, 12, 3)
FORTNIGHT = tuple(
    DayPoint(DAY - timedelta(days=13 - n), calls, rate)
    for n, (calls, rate) in enumerate(
        [
            (80, 12.5),
            (95, 10.0),
            (0, None),
            (None, None),
            (120, 14.0),
            (140, 15.2),
            (60, 8.0),
            (88, 11.0),
            (101, None),
            (130, 13.0),
            (150, 12.0),
            (77, 9.5),
            (99, 10.1),
            (1284, 12.3),
        ]
    )
)
LAST_WEEK = (
    "📈 Last 7 days, calls and success rate: Fri 27 Nov 88 · 11% | Sat 28 Nov 101 | "
    "Sun 29 Nov 130 · 13% | Mon 30 Nov 150 · 12% | Tue 1 Dec 77 · 10% | Wed 2 Dec 99 · 10% | "
    "Thu 3 Dec 1,284 · 12%"
)


def digest(**changes: Any) -> Digest:
    base = Digest(
        campaign_id=CAMPAIGN_ID,
        campaign_name="Solar – Spring",
        day=DAY,
        time_zone="Europe/Paris",
        calls=1284,
        outcomes=(("✅ Success", 133), ("❌ Not successful", 400), ("📭 Voicemail", 220)),
        reached=Rate(43.2, 38.0),
        success=Rate(12.0, 12.4),
        voicemail=Rate(30.0, 33.6),
        bookings=12,
        transfers=3,
        budget_used=312.0,
        budget_total=1500.0,
        attention=7,
        days=FORTNIGHT,
        chart_file_id="F0CHART123",
    )
    return dataclasses.replace(base, **changes)


def sound(message: dict[str, Any]) -> None:
    assert_valid_message(message)
    assert_no_injection(message)


def facts(message: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for block in message["blocks"]:
        for field in block.get("fields", []):
            label, value = field["text"].split("\n", 1)
            found[label.strip("*")] = value
    return found


def contexts(message: dict[str, Any]) -> list[str]:
    return [
        element["text"]
        for block in message["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
    ]


def of_type(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [block for block in message["blocks"] if block["type"] == kind]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [element for block in of_type(message, "actions") for element in block["elements"]]


# what it shows


def test_the_digest_shows_the_day_at_a_glance() -> None:
    message = digest_message(digest())

    sound(message)
    assert message["blocks"][0]["text"]["text"] == "📊 Daily digest · Thu 3 Dec · Solar – Spring"
    assert contexts(message)[0] == (
        f"Thursday 3 December 2026, Europe/Paris time · Campaign `{CAMPAIGN_ID}`"
    )
    assert of_type(message, "section")[0]["text"]["text"] == (
        "*📞 1,284 calls*\n✅ Success *133* · ❌ Not successful *400* · 📭 Voicemail *220*"
    )
    assert facts(message) == {
        "Reached": "43% · ▲ 5 pts",
        "Success": "12% · no change",
        "Voicemail": "30% · ▼ 4 pts",
        "Bookings": "12",
        "Transfers": "3",
        "Budget": "312 of 1,500 used (21%) · 1,188 left",
        "Needing attention now": "⚠️ 7 leads",
    }
    assert contexts(message)[1] == (
        "▲ ▼ against the average of the 7 days before · — NLPearl didn't say"
    )
    assert message["text"] == (
        "📊 Daily digest · Thu 3 Dec · Solar – Spring: "
        "1,284 calls, 12% success, 12 bookings, 7 leads need attention"
    )


def test_the_attention_button_opens_the_campaign_cards_list() -> None:
    card = campaign_card(
        Pearl.model_validate({"id": CAMPAIGN_ID}),
        campaign_id=CAMPAIGN_ID,
        account=None,
        last_webhook=None,
        now=datetime(2026, 12, 4, 8, 0, tzinfo=UTC),
        ref=CampaignRef(campaign_id=CAMPAIGN_ID),
    )
    on_card = next(b for b in buttons(card) if b["action_id"] == ActionId.CAMPAIGN_ATTENTION)

    [button] = buttons(digest_message(digest()))
    assert button == on_card
    assert AttentionRef.model_validate_json(button["value"]) == AttentionRef(
        campaign_id=CAMPAIGN_ID
    )


@pytest.mark.parametrize(
    ("attention", "shown", "button"),
    [(0, "None 🎉", False), (1, "⚠️ 1 lead", True), (None, "—", True), (-4, "—", True)],
)
def test_attention_now(attention: int | None, shown: str, button: bool) -> None:
    message = digest_message(digest(attention=attention))

    sound(message)
    assert facts(message)["Needing attention now"] == shown
    assert bool(buttons(message)) is button


@pytest.mark.parametrize(
    ("rate", "shown"),
    [
        (Rate(43.2, 38.0), "43% · ▲ 5 pts"),
        (Rate(10.0, 22.6), "10% · ▼ 13 pts"),
        (Rate(12.0, 12.4), "12% · no change"),
        (Rate(0.0, 0.0), "0% · no change"),
        (Rate(100.0, None), "100% · —"),
        (Rate(None, 40.0), "—"),
        (Rate(None, None), "—"),
        (Rate(float("nan"), 3.0), "—"),
        (Rate(50.0, float("inf")), "50% · —"),
    ],
)
def test_rates_show_the_change_against_the_week_before(rate: Rate, shown: str) -> None:
    assert facts(digest_message(digest(reached=rate)))["Reached"] == shown


@pytest.mark.parametrize(
    ("used", "total", "shown"),
    [
        (312.0, 1500.0, "312 of 1,500 used (21%) · 1,188 left"),
        (312.5, 1500.0, "312.50 of 1,500 used (21%) · 1,187.50 left"),
        (1600.0, 1500.0, "1,600 of 1,500 used (107%) · 100 over"),
        (0.0, 0.0, "0 of 0 used · 0 left"),
        (312.0, None, "312 used · no limit"),
        (None, 1500.0, "— of 1,500"),
        (None, None, "—"),
        (float("nan"), 1500.0, "— of 1,500"),
    ],
)
def test_budget_reads_as_used_of_total_and_left(
    used: float | None, total: float | None, shown: str
) -> None:
    message = digest_message(digest(budget_used=used, budget_total=total))

    assert facts(message)["Budget"] == shown


@pytest.mark.parametrize(
    ("calls", "outcomes", "text"),
    [
        (0, (), "*📞 No calls*"),
        (1, (("✅ Success", 1),), "*📞 1 call*\n✅ Success *1*"),
        (None, (), "*📞 Calls:* —"),
        (None, (("Voicemail", 4),), "*📞 Calls:* —\nVoicemail *4*"),
        (5, (("", 5), ("Bad", -1)), "*📞 5 calls*\n? *5*"),
    ],
)
def test_calls_and_outcomes(calls: int | None, outcomes: tuple[Any, ...], text: str) -> None:
    message = digest_message(digest(calls=calls, outcomes=outcomes))

    sound(message)
    assert of_type(message, "section")[0]["text"]["text"] == text


def test_many_outcomes_are_cut_with_a_count() -> None:
    outcomes = tuple((f"Outcome {n}", n) for n in range(45))
    text = of_type(digest_message(digest(outcomes=outcomes)), "section")[0]["text"]["text"]

    assert text.endswith("Outcome 19 *19* · + 25 more")


def test_unknown_numbers_show_as_a_dash_and_the_fallback_leaves_them_out() -> None:
    message = digest_message(
        digest(
            campaign_name=None,
            calls=None,
            outcomes=(),
            reached=Rate(None, None),
            success=Rate(None, None),
            voicemail=Rate(None, None),
            bookings=None,
            transfers=None,
            budget_used=None,
            budget_total=None,
            attention=None,
        )
    )

    sound(message)
    assert set(facts(message).values()) == {"—"}
    assert message["blocks"][0]["text"]["text"] == f"📊 Daily digest · Thu 3 Dec · {CAMPAIGN_ID}"
    assert message["text"] == f"📊 Daily digest · Thu 3 Dec · {CAMPAIGN_ID}"


# the chart


def test_the_chart_is_the_uploaded_file_with_alt_text() -> None:
    [image] = of_type(digest_message(digest()), "image")

    assert image["slack_file"] == {"id": "F0CHART123"}
    assert image["title"]["text"] == "Calls and success rate by day"
    assert image["alt_text"].startswith(
        "Chart of calls per day (bars) and success rate (line), 14 days from Fri 20 Nov to "
        "Thu 3 Dec 2026. 2,424 calls in all; the busiest day was Thu 3 Dec with 1,284."
    )


@pytest.mark.parametrize("file_id", [None, "", "<!channel>", "https://evil.example/x.png"])
def test_without_an_uploaded_chart_the_last_week_is_a_line(file_id: str | None) -> None:
    message = digest_message(digest(chart_file_id=file_id))

    sound(message)
    assert not of_type(message, "image")
    assert LAST_WEEK in contexts(message)


def test_without_days_the_line_says_so() -> None:
    message = digest_message(digest(chart_file_id=None, days=()))

    assert "📈 No earlier days to compare with yet." in contexts(message)


def test_a_refused_chart_leaves_its_numbers_in_words() -> None:
    message = digest_message(digest())
    [image] = of_type(message, "image")

    without = digest_without_chart(message)

    sound(without)
    assert not of_type(without, "image")
    assert f"📈 {image['alt_text']}" in contexts(without)
    assert len(without["blocks"]) == len(message["blocks"])
    assert without["text"] == message["text"]
    # A digest that had no picture is left as it is.
    plain = digest_message(digest(chart_file_id=None))
    assert digest_without_chart(plain) == plain


# the notes at the end


def test_a_late_digest_says_why() -> None:
    message = digest_message(digest(late_by=timedelta(hours=2, minutes=10)))

    sound(message)
    assert "⏰ Sent 2 h 10 min late: the app was not running when it was due." in contexts(message)
    assert not any("late" in c for c in contexts(digest_message(digest(late_by=timedelta(0)))))


def test_differences_between_the_feed_and_nlpearl() -> None:
    sentences = ("The feed saw 1,280 calls; NLPearl counts 1,284.", "Bookings: 11 in the feed.")
    message = digest_message(digest(differences=sentences))

    assert contexts(message)[-1] == (
        "🔎 Feed vs NLPearl: The feed saw 1,280 calls; NLPearl counts 1,284. "
        "Bookings: 11 in the feed."
    )
    many = contexts(digest_message(digest(differences=("Differs.",) * 9)))[-1]
    assert many.endswith("Differs. + 4 more")


def test_missing_figures_are_named() -> None:
    message = digest_message(digest(missing=("analytics", "campaign")))

    assert contexts(message)[-1] == (
        "⚠️ NLPearl could not give everything this time (missing: analytics, campaign); "
        "those figures show as —."
    )
    assert not any("missing" in c for c in contexts(digest_message(digest())))


def test_hostile_names_and_labels_are_shown_as_typed() -> None:
    hostile = "<!channel> *bold* <https://evil|x> <@U123>"
    message = digest_message(
        digest(
            campaign_name=hostile,
            time_zone=hostile,
            outcomes=((hostile, 3),),
            differences=(hostile,),
            missing=(hostile,),
        )
    )

    sound(message)
    escaped = "&lt;!channel&gt; ∗bold∗ &lt;https://evil|x&gt; &lt;@U123&gt;"
    assert message["blocks"][0]["text"]["text"].endswith(f"· {hostile}")
    assert escaped in of_type(message, "section")[0]["text"]["text"]
    assert message["text"].endswith(
        escaped + ": 1,284 calls, 12% success, 12 bookings, 7 leads need attention"
    )
    # The missing figures' names are cut shorter, with an ellipsis.
    zone, *_, differences, missing = contexts(message)
    assert zone == f"Thursday 3 December 2026, {escaped} time · Campaign `{CAMPAIGN_ID}`"
    assert differences == f"🔎 Feed vs NLPearl: {escaped}"
    assert missing.startswith("⚠️ NLPearl could not give everything this time (missing: &lt;!")


# properties

# Ints too large for a float, where a float or a count is expected, as untyped data might be.
huge = st.integers(0, 500).map(lambda exponent: 10**exponent)
counts = st.one_of(st.none(), st.integers(-(10**20), 10**20), huge)
floats = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), huge)
rates = st.builds(Rate, floats, floats)
points = st.builds(DayPoint, st.dates(), counts, floats)


@PROPERTIES
@given(
    name=st.one_of(st.none(), any_text),
    campaign_id=st.one_of(st.just(CAMPAIGN_ID), hostile_text),
    zone=hostile_text,
    outcomes=st.lists(st.tuples(any_text, st.one_of(st.integers(), huge)), max_size=40),
    sentences=st.lists(any_text, max_size=8),
    missing=st.lists(hostile_text, max_size=12),
    file_id=st.one_of(st.none(), st.just("F0CHART123"), hostile_text),
    late=st.one_of(st.none(), st.timedeltas()),
    data=st.data(),
)
def test_hostile_digests_stay_valid_and_mention_no_one(
    name: str | None,
    campaign_id: str,
    zone: str,
    outcomes: list[tuple[str, int]],
    sentences: list[str],
    missing: list[str],
    file_id: str | None,
    late: timedelta | None,
    data: st.DataObject,
) -> None:
    hostile = Digest(
        campaign_id=campaign_id,
        campaign_name=name,
        day=data.draw(st.dates()),
        time_zone=zone,
        calls=data.draw(counts),
        outcomes=tuple(outcomes),
        reached=data.draw(rates),
        success=data.draw(rates),
        voicemail=data.draw(rates),
        bookings=data.draw(counts),
        transfers=data.draw(counts),
        budget_used=data.draw(floats),
        budget_total=data.draw(floats),
        attention=data.draw(counts),
        days=tuple(data.draw(st.lists(points, max_size=30))),
        differences=tuple(sentences),
        chart_file_id=file_id,
        late_by=late,
        missing=tuple(missing),
    )

    message = digest_message(hostile)
    sound(message)
    without = digest_without_chart(message)
    sound(without)
    assert not of_type(without, "image")
    # Outside text can't reverse the words of ours that follow it.
    for obj in text_objects(message["blocks"]):
        assert obj["type"] == "plain_text" or "\u202e" not in obj["text"]
