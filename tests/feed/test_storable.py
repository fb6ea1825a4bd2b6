"""Making webhook bodies storable: examples, then properties over generated hostile JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.feed.receive import incoming
from bot.parsing.storable import HASH_PREFIX, MAX_DEPTH, bounded, read_json, storable
from bot.parsing.webhooks import (
    DEDUPE_KEY_LENGTH,
    KEY_PART_LENGTH,
    LEAD_KEY_LENGTH,
    BadPayload,
    lead_key,
    parse_webhook,
)
from bot.storage.tables import deliveries, events, lead_threads
from tests.blocks.hostile import pieces_and_runs
from tests.feed.hostile import assert_storable, depth

PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def nest(levels: int, inner: Any = 1) -> Any:
    """`inner` wrapped in `levels` objects, built without recursion."""
    value = inner
    for _ in range(levels):
        value = {"a": value}
    return value


def attempt(function: Callable[[Any], Any], value: Any) -> Any:
    """The function's result, or the payload error it raised (any other error fails the test)."""
    try:
        return function(value)
    except BadPayload as refused:
        return refused


# Examples


def test_non_finite_numbers_become_none_and_the_rest_stays() -> None:
    body = {"a": math.nan, "b": [math.inf, -math.inf], "c": 1.5, "d": 7, "e": True, "f": None}

    assert storable(body) == {"a": None, "b": [None, None], "c": 1.5, "d": 7, "e": True, "f": None}


def test_nul_is_dropped_from_keys_and_values() -> None:
    assert storable({"na\x00me": "Ma\x00ria\x00"}) == {"name": "Maria"}


def test_lone_surrogates_become_the_replacement_character_and_pairs_are_joined() -> None:
    body = {"\ud800": "a\udfffb", "pair": "\ud83d\ude00", "emoji": "😀"}

    assert storable(body) == {"\ufffd": "a\ufffdb", "pair": "😀", "emoji": "😀"}


def test_nesting_up_to_the_limit_is_kept_and_deeper_is_refused() -> None:
    assert storable(nest(MAX_DEPTH)) == nest(MAX_DEPTH)
    with pytest.raises(BadPayload, match=f"nested deeper than {MAX_DEPTH} levels"):
        storable(nest(MAX_DEPTH + 1))
    with pytest.raises(BadPayload, match="nested deeper"):
        storable(nest(5000))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"n": NaN, "i": Infinity, "m": -Infinity}', {"n": None, "i": None, "m": None}),
        (
            '{"big": 1e999, "small": -1e999, "fine": 1e300}',
            {"big": None, "small": None, "fine": 1e300},
        ),
        ('{"n": ' + "9" * 5000 + ', "m": 12}', {"n": None, "m": 12}),
        ('{"id": "\\ud800x"}', {"id": "\ud800x"}),
    ],
)
def test_read_json_keeps_what_it_can(text: str, expected: dict[str, Any]) -> None:
    assert read_json(text.encode()) == expected


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"\xff\xfe\x00{", b"[" * 100_000 + b"]" * 100_000],
    ids=["empty", "cut-short", "not-utf8", "deeper-than-python-can-parse"],
)
def test_read_json_refuses_what_is_not_json_with_a_reason(body: bytes) -> None:
    with pytest.raises(BadPayload) as refused:
        read_json(body)

    assert str(refused.value) in {
        "the body is not JSON",
        "the body is nested deeper than 32 levels",
    }


def test_a_value_json_cannot_hold_is_refused() -> None:
    with pytest.raises(BadPayload, match="JSON cannot"):
        storable({"a": {1, 2}})


def test_bounded_keeps_short_keys_and_hashes_long_ones_stably() -> None:
    assert bounded("lead:abc", 120) == "lead:abc"
    long_key = "lead:" + "x" * 200
    hashed = bounded(long_key, 120)

    assert hashed.startswith(HASH_PREFIX)
    assert len(hashed) == KEY_PART_LENGTH <= 120
    assert bounded(long_key, 120) == hashed
    assert bounded(long_key + "y", 120) != hashed


def test_the_key_lengths_are_the_columns_widths() -> None:
    assert events.c.dedupe_key.type.length == DEDUPE_KEY_LENGTH  # type: ignore[attr-defined]
    for table in (events, deliveries, lead_threads):
        assert table.c.lead_key.type.length == LEAD_KEY_LENGTH  # type: ignore[attr-defined]


def test_two_long_phone_numbers_that_begin_alike_are_two_leads() -> None:
    one = parse_webhook({"phoneNumber": "call me on " + "1" * 200, "status": 20})
    two = parse_webhook({"phoneNumber": "call me on " + "1" * 199 + "2", "status": 20})

    assert lead_key(one) != lead_key(two)
    assert one.dedupe_key != two.dedupe_key


def test_the_same_long_lead_id_always_gets_the_same_keys() -> None:
    body = {"id": "L" * 300, "externalId": "crm-1", "status": 20, "callsId": []}
    first, again = parse_webhook(body), parse_webhook(dict(body))

    assert lead_key(first) == lead_key(again)
    assert len(lead_key(first)) <= LEAD_KEY_LENGTH
    assert first.dedupe_key == again.dedupe_key
    assert len(first.dedupe_key) <= DEDUPE_KEY_LENGTH


# Properties

HOSTILE_PIECES = ["\x00", "\ud800", "\udfff", "\ud83d\ude00", "\ud83d", "😀", "é"]
TEXT = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=20),
    pieces_and_runs(HOSTILE_PIECES, st.text(max_size=3), max_size=6),
    st.integers(100, 600).map(lambda n: "x" * n),
)
NUMBERS = st.one_of(
    st.integers(),
    # Built lazily: Hypothesis cannot even print an int of over 4,300 digits.
    st.integers(13_000, 20_000).map(lambda bits: 2**bits),
    st.floats(allow_nan=True, allow_infinity=True),
)
# Keys a webhook reader looks at, in every casing NLPearl has been seen to use and then some.
WEBHOOK_KEYS = st.sampled_from(
    [
        "id",
        "Id",
        "ID",
        "phoneNumber",
        "PhoneNumber",
        "phonenumber",
        "externalId",
        "status",
        "Status",
        "callsId",
        "CallsId",
        "lastCall",
        "callData",
        "collectedData",
        "to",
        "To",
        "conversationStatus",
        "ConversationStatus",
        "LeadId",
        "leadId",
        "collectedInfo",
    ]
)
KEYS = WEBHOOK_KEYS | TEXT
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON_LIKE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=30,
)
DEEP = st.tuples(st.integers(MAX_DEPTH - 2, MAX_DEPTH + 40), JSON_LIKE).map(
    lambda pair: nest(*pair)
)
BODIES = st.dictionaries(KEYS, JSON_LIKE | DEEP, max_size=8)


@PROPERTIES
@given(JSON_LIKE | DEEP)
def test_storable_refuses_only_too_deep_and_otherwise_returns_storable_json(value: Any) -> None:
    clean = attempt(storable, value)
    if isinstance(clean, BadPayload):
        assert "nested deeper" in str(clean)
        assert depth(value) > MAX_DEPTH
        return
    assert_storable(clean)
    assert storable(clean) == clean


@PROPERTIES
@given(JSON_LIKE | DEEP)
def test_read_json_then_storable_handles_anything_json_dumps_can_write(value: Any) -> None:
    try:
        text = json.dumps(value)  # NaN and Infinity written as such, surrogates as \\u escapes
    except ValueError:  # an int too long for Python to write
        return
    clean = attempt(lambda body: storable(read_json(body)), text.encode())
    if isinstance(clean, BadPayload):
        assert "nested deeper" in str(clean)
        return
    assert_storable(clean)


@PROPERTIES
@given(st.binary(max_size=200))
def test_read_json_refuses_arbitrary_bytes_only_with_the_payload_error(body: bytes) -> None:
    try:
        clean = storable(read_json(body))
    except BadPayload:
        return
    assert_storable(clean)


@PROPERTIES
@given(BODIES)
def test_parse_webhook_gives_a_storable_event_whose_keys_fit_their_columns(body: Any) -> None:
    try:
        event = parse_webhook(body)
    except BadPayload:
        return
    assert_storable(event.payload)
    stored = incoming(event)
    assert len(stored.dedupe_key) <= DEDUPE_KEY_LENGTH
    assert len(stored.lead_key) <= LEAD_KEY_LENGTH
    for key in (*stored.stale_after, stored.serial or ""):
        assert len(key) <= DEDUPE_KEY_LENGTH
    for key in (stored.dedupe_key, stored.lead_key, *stored.stale_after):
        key.encode("utf-8")
        assert "\x00" not in key
    # Delivery reads the stored body again: it must be the same event.
    again = incoming(parse_webhook(event.payload))
    assert (again.kind, again.dedupe_key, again.lead_key) == (
        stored.kind,
        stored.dedupe_key,
        stored.lead_key,
    )
