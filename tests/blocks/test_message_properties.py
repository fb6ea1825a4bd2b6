"""Properties of the lead card and the feed messages, built from hostile leads and calls."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.blocks.ids import CardRef
from bot.blocks.lead_card import lead_card
from bot.blocks.notifications import StatusChange, parent_message, thread_reply
from bot.nlpearl.models import Call, Lead, Pearl
from bot.records import CallSlot, LeadReport, LeadSnapshot
from tests.blocks.hostile import (
    MESSAGE_PROPERTIES,
    any_text,
    ascii_digits,
    digit_free_text,
    hostile_text,
    json_values,
    phones,
    text_with_phones,
)
from tests.blocks.slack_limits import assert_no_injection, assert_valid_message, text_objects

NOW = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)
CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
LEAD_ID = "6650f1c2a9e4b27d3c8e41a7"
SHARED_BY = "U0SHARER"
DATE_TOKEN = re.compile(r"<!date\^\d+\^[^<>|]*\|[^<>|]*>")
MASKED = re.compile(r"•••• \d{4}")
# Digits a phone number could be written across: phones never use commas or colons.
DIGIT_RUN = re.compile(r"\d(?:[^\w,:•]{0,3}\d)*")


def leads(
    text: st.SearchStrategy[str], phone: st.SearchStrategy[str], *, many: int = 25
) -> st.SearchStrategy[Lead]:
    """NLPearl leads as the API might send them, every field outside text."""
    names = st.sampled_from(["firstName", "lastName", "name", "fullName", "notes", "altPhone"])
    return st.fixed_dictionaries(
        {
            "id": st.just(LEAD_ID),
            "phoneNumber": st.one_of(st.none(), phone),
            "externalId": st.one_of(st.none(), text),
            "timeZone": st.one_of(st.none(), st.sampled_from(["-8.0", "Europe/Paris"]), text),
            "status": st.one_of(st.none(), st.integers(-5, 200)),
            "created": st.one_of(st.none(), st.just("2025-03-04T15:22:10Z"), text),
            "callsId": st.lists(text, max_size=3),
            "callData": st.dictionaries(st.one_of(names, text), st.one_of(text, phone), max_size=6),
            "collectedData": st.dictionaries(text, json_values(text), max_size=many),
        }
    ).map(Lead.model_validate)


def calls(text: st.SearchStrategy[str], *, many: int = 8) -> st.SearchStrategy[Call]:
    """NLPearl calls, every field outside text."""
    info = st.fixed_dictionaries(
        {"id": st.one_of(st.none(), text), "name": st.one_of(st.none(), text)},
        optional={"value": json_values(text)},
    )
    return st.fixed_dictionaries(
        {
            "id": st.one_of(st.none(), st.just("call0001"), text),
            "startTime": st.one_of(st.none(), st.just("2025-03-04T17:03:44Z")),
            "status": st.one_of(st.none(), st.integers(-1, 12)),
            "conversationStatus": st.one_of(st.none(), st.integers(-1, 200)),
            "duration": st.one_of(st.none(), st.floats(-10, 10**6)),
            "summary": st.one_of(st.none(), text),
            "recording": st.one_of(st.none(), st.just("https://rec.example/1.mp3"), text),
            "tags": st.lists(text, max_size=many - 1),
            "collectedInfo": st.lists(info, max_size=many),
            "transcript": st.just([{"role": 2, "content": "hi"}]),
        }
    ).map(Call.model_validate)


def reports(
    text: st.SearchStrategy[str], phone: st.SearchStrategy[str], *, many: int = 12
) -> st.SearchStrategy[LeadReport]:
    """A lookup's report: a lead, up to `many` calls (or calls that failed to load) and more."""
    return st.builds(
        lambda lead, found, name: LeadReport(
            CAMPAIGN_ID,
            Pearl(id=CAMPAIGN_ID, name=name),
            lead,
            tuple(
                CallSlot(call.id or "?", call) if call else CallSlot("gone", None) for call in found
            ),
        ),
        leads(text, phone, many=2 * many + 1),
        st.lists(st.one_of(st.none(), calls(text, many=min(many, 8))), max_size=many),
        st.one_of(st.none(), text),
    )


def snapshots(
    text: st.SearchStrategy[str], phone: st.SearchStrategy[str]
) -> st.SearchStrategy[LeadSnapshot]:
    """What the feed knows of a lead, every field outside text."""
    return st.builds(
        LeadSnapshot,
        campaign_id=st.just(CAMPAIGN_ID),
        campaign_name=st.one_of(st.none(), text),
        lead_id=st.one_of(st.none(), st.just(LEAD_ID)),
        name=st.one_of(st.none(), text),
        phone=st.one_of(st.none(), phone),
        external_id=st.one_of(st.none(), text),
        status=st.one_of(st.none(), st.integers(-5, 200)),
        on_call=st.booleans(),
        calls=st.integers(0, 10**4),
        answers=st.dictionaries(text, json_values(text), max_size=8),
        updated_at=st.one_of(st.none(), st.just(NOW)),
    )


changes = st.lists(
    st.builds(
        StatusChange,
        before=st.one_of(st.none(), st.integers(-5, 200)),
        after=st.one_of(st.none(), st.integers(-5, 200)),
        at=st.just(NOW),
    ),
    max_size=60,
)


def card(report: LeadReport, *, shared: bool) -> dict[str, Any]:
    ref = CardRef(
        campaign_id=CAMPAIGN_ID, kind="id", key=LEAD_ID, shared_by=SHARED_BY if shared else None
    )
    return lead_card(report, ref, now=NOW, mask=shared)


def assert_sendable(message: dict[str, Any], *, shared_by: str | None = None) -> None:
    assert_valid_message(message)
    assert_no_injection(message, shared_by=shared_by, allowed_urls=["https://rec.example/1.mp3"])


def shown_strings(message: dict[str, Any]) -> list[str]:
    """Every string a person reads: the fallback and all text objects."""
    return [message["text"], *(obj["text"] for obj in text_objects(message["blocks"]))]


def assert_no_full_number(message: dict[str, Any], numbers: list[str]) -> None:
    """No seven digits in a row of any of the numbers appear, however they are written."""
    windows = set()
    for number in numbers:
        digits = ascii_digits(number)
        windows |= {digits[i : i + 7] for i in range(len(digits) - 6)}
    for text in shown_strings(message):
        rest = MASKED.sub(" ", DATE_TOKEN.sub(" ", text))
        for run in DIGIT_RUN.findall(rest):
            digits = ascii_digits(run)
            leaked = [w for w in windows if w in digits]
            assert not leaked, f"{leaked[0]} shown in {text[:200]!r}"


class DrawnNumbers:
    """The phone numbers drawn into the case being drawn, so its strategies are built once.

    Strategies built inside each draw (closures over a list of numbers) were built again, with
    everything beneath them, for every example: some 40% of what these tests spent.
    """

    def __init__(self) -> None:
        self._open: list[list[str]] = []

    def record(self, numbers: list[str]) -> None:
        """Note numbers drawn into the case being drawn (so only while drawing a `case`)."""
        self._open[-1].extend(numbers)

    def case(self, value: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, list[str]]]:
        """`value`, and every number drawn while drawing it."""

        @st.composite
        def with_numbers(draw: st.DrawFn) -> tuple[Any, list[str]]:
            self._open.append([])
            try:
                drawn = draw(value)
                return drawn, self._open[-1]
            finally:
                self._open.pop()

        return with_numbers()


drawn_numbers = DrawnNumbers()
_texts_with_phones = text_with_phones()


@st.composite
def _text_hiding_phones(draw: st.DrawFn) -> str:
    text, numbers = draw(_texts_with_phones)
    drawn_numbers.record(numbers)
    return text


@st.composite
def _recorded_phone(draw: st.DrawFn) -> str:
    number = draw(phones)
    drawn_numbers.record([number])
    return number


# Text whose every field may hide phone numbers: digit-free hostile text, or such text around
# phone numbers written every which way.
hiding_text = st.one_of(digit_free_text, _text_hiding_phones())


def masked_case(kind: str) -> st.SearchStrategy[tuple[Any, list[str]]]:
    """A report or snapshot whose every text field may hide phone numbers, and those numbers."""
    if kind == "report":
        return drawn_numbers.case(reports(hiding_text, _recorded_phone(), many=3))
    return drawn_numbers.case(snapshots(hiding_text, _recorded_phone()))


# The lead card


@MESSAGE_PROPERTIES
@given(reports(any_text, any_text), st.booleans())
def test_a_card_from_any_lead_is_valid_and_mentions_no_one(
    report: LeadReport, shared: bool
) -> None:
    message = card(report, shared=shared)
    assert_sendable(message, shared_by=SHARED_BY if shared else None)


@MESSAGE_PROPERTIES
@given(masked_case("report"))
def test_a_shared_card_shows_no_full_phone_number(case: tuple[LeadReport, list[str]]) -> None:
    report, numbers = case
    message = card(report, shared=True)
    assert_sendable(message, shared_by=SHARED_BY)
    assert_no_full_number(message, numbers)


# The feed


@MESSAGE_PROPERTIES
@given(snapshots(any_text, any_text), st.booleans())
def test_a_parent_from_any_lead_is_valid_and_mentions_no_one(
    snapshot: LeadSnapshot, mask: bool
) -> None:
    assert_sendable(parent_message(snapshot, mask=mask))


@MESSAGE_PROPERTIES
@given(masked_case("snapshot"))
def test_a_masked_parent_shows_no_full_phone_number(case: tuple[LeadSnapshot, list[str]]) -> None:
    snapshot, numbers = case
    message = parent_message(snapshot, mask=True)
    assert_sendable(message)
    assert_no_full_number(message, numbers)


@MESSAGE_PROPERTIES
@given(changes, st.lists(calls(any_text), max_size=8), st.booleans())
def test_a_reply_from_any_calls_is_valid_and_mentions_no_one(
    status_changes: list[StatusChange], ended: list[Call], mask: bool
) -> None:
    reply = thread_reply(status_changes, ended, mask=mask)
    if reply is None:
        assert not status_changes
        assert not ended
        return
    assert_sendable(reply)


def calls_hiding_phones() -> st.SearchStrategy[tuple[list[Call], list[str]]]:
    """One to four ended calls whose text fields may hide phone numbers, and those numbers."""
    return drawn_numbers.case(st.lists(calls(hiding_text, many=3), min_size=1, max_size=4))


@MESSAGE_PROPERTIES
@given(calls_hiding_phones())
def test_a_masked_reply_shows_no_full_phone_number(case: tuple[list[Call], list[str]]) -> None:
    ended, numbers = case
    reply = thread_reply([], ended, mask=True)
    assert reply is not None
    assert_sendable(reply)
    assert_no_full_number(reply, numbers)


@MESSAGE_PROPERTIES
@given(hostile_text)
def test_the_checker_sees_a_full_number(text: str) -> None:
    # The masking checks can fail: an unmasked parent shows the number drawn into its answers.
    snapshot = LeadSnapshot(
        campaign_id=CAMPAIGN_ID, answers={"Callback": f"+1 (415) 555-0123 {text}"}
    )
    message = parent_message(snapshot, mask=False)
    try:
        assert_no_full_number(message, ["+1 (415) 555-0123"])
    except AssertionError:
        return
    raise AssertionError("the full number went unnoticed")
