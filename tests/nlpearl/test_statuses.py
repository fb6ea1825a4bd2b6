"""Status codes read as people read them; unknown codes and odd names never fail."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.nlpearl.statuses import (
    Status,
    call_status,
    conversation_status,
    lead_status,
    lead_status_by_name,
)

# The codes documented in the NLPearl reference (§4.1-§4.3), written out here rather than read
# from the module, so a code missing from the module's tables fails the test.
DOCUMENTED_LEAD_CODES = [1, 10, 20, 30, 40, 70, 100, 110, 130, 150, 220, 500]
DOCUMENTED_CONVERSATION_CODES = [10, 20, 70, 100, 110, 130, 150, 200, 220, 300, 500]
DOCUMENTED_CALL_CODES = [3, 4, 5, 6, 7, 8]

UNKNOWN_EMOJI = "❔"


def _assert_known(status: Status, code: int) -> None:
    assert status.code == code
    assert status.label
    assert not status.label.startswith("Unknown")
    assert status.emoji
    assert status.emoji != UNKNOWN_EMOJI
    assert status.text == f"{status.emoji} {status.label}"


@pytest.mark.parametrize("code", DOCUMENTED_LEAD_CODES)
def test_documented_lead_codes_have_label_and_emoji(code: int) -> None:
    _assert_known(lead_status(code), code)


@pytest.mark.parametrize("code", DOCUMENTED_CONVERSATION_CODES)
def test_documented_conversation_codes_have_label_and_emoji(code: int) -> None:
    _assert_known(conversation_status(code), code)


@pytest.mark.parametrize("code", DOCUMENTED_CALL_CODES)
def test_documented_call_codes_have_label_and_emoji(code: int) -> None:
    _assert_known(call_status(code), code)


@pytest.mark.parametrize(
    ("lookup", "code", "label"),
    [
        (lead_status, 1, "New"),
        (lead_status, 10, "Needs retry"),
        (lead_status, 70, "Voicemail left"),
        (lead_status, 100, "Success"),
        (lead_status, 110, "Not successful"),
        (lead_status, 130, "Completed"),
        (lead_status, 220, "Blacklisted"),
        (lead_status, 500, "Error"),
        # The older V1 Get Call page calls 200 Error; V2 uses 500. Both read as Error.
        (conversation_status, 200, "Error"),
        (conversation_status, 500, "Error"),
        (conversation_status, 100, "Success"),
        (call_status, 3, "In progress"),
        (call_status, 4, "Answered"),
        (call_status, 5, "Busy"),
        (call_status, 7, "No answer"),
    ],
)
def test_labels_mean_what_the_docs_say(
    lookup: Callable[[int | None], Status], code: int, label: str
) -> None:
    assert lookup(code).label == label


def test_the_same_code_means_different_things_in_each_enum() -> None:
    # 4 is a telephony result (Completed/answered) but no lead or conversation status.
    assert call_status(4).label == "Answered"
    assert lead_status(4).label == "Unknown (4)"
    assert conversation_status(4).label == "Unknown (4)"


@pytest.mark.parametrize("lookup", [lead_status, conversation_status, call_status])
@pytest.mark.parametrize("code", [999, 2, -1, 0])
def test_unknown_code_reads_unknown_with_its_number(
    lookup: Callable[[int | None], Status], code: int
) -> None:
    status = lookup(code)

    assert status == Status(code, f"Unknown ({code})", UNKNOWN_EMOJI)
    assert status.text == f"{UNKNOWN_EMOJI} Unknown ({code})"


@pytest.mark.parametrize("lookup", [lead_status, conversation_status, call_status])
def test_missing_code_reads_unknown(lookup: Callable[[int | None], Status]) -> None:
    assert lookup(None) == Status(None, "Unknown", UNKNOWN_EMOJI)


def test_lead_only_codes_are_unknown_as_call_statuses() -> None:
    assert call_status(220).label == "Unknown (220)"
    assert conversation_status(1).label == "Unknown (1)"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("notsuccessful", 110),
        ("NotSuccessfull", 110),
        ("NotSuccessful", 110),
        ("not successful", 110),
        ("Not-Successful", 110),
        ("success", 100),
        ("SUCCESS", 100),
        ("Success", 100),
        ("voicemail", 70),
        ("VoiceMail", 70),
        ("VoiceMailLeft", 70),
        ("voicemail left", 70),
        ("new", 1),
        ("retry", 10),
        ("InCallQueue", 20),
        ("WrongCountryCode", 30),
        ("Complete", 130),
        ("completed", 130),
        ("Unreachable", 150),
        ("blacklisted", 220),
        ("Error", 500),
        ("100", 100),
        ("70", 70),
        (" 110 ", 110),
    ],
)
def test_lead_status_by_name(name: str, code: int) -> None:
    assert lead_status_by_name(name) == code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        # The documented enum names of §4.1, as a user would copy them from NLPearl's docs.
        ("NeedRetry", 10),
        ("OnCall", 40),
    ],
)
def test_lead_status_by_documented_enum_name(name: str, code: int) -> None:
    assert lead_status_by_name(name) == code


@pytest.mark.parametrize(
    "name",
    ["", "   ", "abc", "successes", "maybe", "!!!", "unknown", "Success!!!x", "status100", "²"],
)
def test_lead_status_by_name_rejects_nonsense(name: str) -> None:
    assert lead_status_by_name(name) is None


@pytest.mark.parametrize("name", ["999", "0", "2", "200", "4", "00", "-100", "+100", "1e2"])
def test_lead_status_by_name_refuses_codes_that_are_not_lead_statuses(name: str) -> None:
    # 200 is a conversation status and 4 a call status: neither is ever a lead's status.
    assert lead_status_by_name(name) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_a_number_is_a_lead_status_only_if_documented(code: int) -> None:
    # 300 (left the queue) is a lead status too, by NLPearl's enum name QueueAbandon.
    expected = code if code in {*DOCUMENTED_LEAD_CODES, 300} else None
    assert lead_status_by_name(str(code)) == expected
    assert lead_status_by_name(f" {code} ") == expected
