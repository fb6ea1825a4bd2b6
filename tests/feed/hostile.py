"""Webhook bodies the app cannot store as they are, and the answer each must get on any database.

One table, used in process against SQLite and PostgreSQL (tests/storage/test_hostile_webhooks.py)
and through the real server process (tests/e2e/test_webhook_hostile.py). A body is raw bytes,
as it comes over HTTP; `stored` says what the kept body must hold, so the app kept the data
in a safe form instead of refusing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.parsing.storable import MAX_DEPTH

PHONE = "+14155550137"
LEAD_ID = "6650f1c2a9e4b27d3c8e41a7"
CALL_ID = "66523b11c2d3e4f5a6b7c8d9"
LONG_ID = "L" * 300
Json = dict[str, Any]


@dataclass(frozen=True)
class Hostile:
    """A body and the answer it must get: an HTTP status and the answer's `status` or error."""

    body: bytes
    status_code: int
    answer: str
    # What the body as stored must satisfy (only for bodies that are stored).
    kept: Callable[[Json], bool] | None = None


def lead(**fields: Any) -> Json:
    """A V2 Lead Webhook body with some fields replaced."""
    return {
        "id": LEAD_ID,
        "phoneNumber": PHONE,
        "status": 20,
        "callsId": [],
        "callData": {"firstName": "Maria"},
        "collectedData": {},
        **fields,
    }


def call_end(**fields: Any) -> Json:
    """A V2 Call Webhook body for a call that ended."""
    return {"id": CALL_ID, "to": PHONE, "status": 4, "conversationStatus": 100, **fields}


def raw(body: Json) -> bytes:
    """The body as JSON bytes, escapes and all (lone surrogates and NUL as \\u escapes)."""
    return json.dumps(body).encode()


def nested(depth: int) -> bytes:
    """A lead whose collectedData holds `depth` nested objects."""
    inner = '{"a": ' * depth + "1" + "}" * depth
    return f'{{"id": "{LEAD_ID}", "phoneNumber": "{PHONE}", "collectedData": {inner}}}'.encode()


def _data(body: Json) -> Json:
    return dict(body.get("collectedData") or {})


HOSTILE: dict[str, Hostile] = {
    "ordinary-lead": Hostile(raw(lead()), 200, "stored", lambda b: b["status"] == 20),
    "ordinary-call": Hostile(raw(call_end()), 200, "stored", lambda b: b["id"] == CALL_ID),
    "nested-30-deep": Hostile(nested(29), 200, "stored"),
    "nested-33-deep": Hostile(nested(32), 400, "nested deeper than 32 levels"),
    "nested-990-deep": Hostile(nested(990), 400, "nested deeper than 32 levels"),
    "nested-100000-deep": Hostile(b"[" * 100_000 + b"]" * 100_000, 400, "nested deeper"),
    "lone-surrogate-in-a-value": Hostile(
        raw(lead(callData={"firstName": "Ma\ud800ria"})),
        200,
        "stored",
        lambda b: b["callData"]["firstName"] == "Ma\ufffdria",
    ),
    "lone-surrogate-in-the-id": Hostile(
        raw(lead(id="\udfff" + LEAD_ID, phoneNumber=None)),
        200,
        "stored",
        lambda b: b["id"] == "\ufffd" + LEAD_ID,
    ),
    "lone-surrogate-in-a-key": Hostile(
        raw(lead(collectedData={"\ud83dkey": 1})),
        200,
        "stored",
        lambda b: _data(b) == {"\ufffdkey": 1},
    ),
    "surrogate-pair-escaped": Hostile(
        raw(lead(callData={"firstName": "\ud83d\ude00"})),
        200,
        "stored",
        lambda b: b["callData"]["firstName"] == "😀",
    ),
    "NaN": Hostile(
        b'{"id": "%s", "phoneNumber": "%s", "status": 20, "collectedData": {"score": NaN}}'
        % (LEAD_ID.encode(), PHONE.encode()),
        200,
        "stored",
        lambda b: _data(b) == {"score": None},
    ),
    "Infinity-and-minus-Infinity": Hostile(
        b'{"id": "%s", "phoneNumber": "%s", "collectedData": {"a": Infinity, "b": [-Infinity]}}'
        % (LEAD_ID.encode(), PHONE.encode()),
        200,
        "stored",
        lambda b: _data(b) == {"a": None, "b": [None]},
    ),
    "1e999": Hostile(
        b'{"id": "%s", "phoneNumber": "%s", "collectedData": {"big": 1e999, "ok": 1.5}}'
        % (LEAD_ID.encode(), PHONE.encode()),
        200,
        "stored",
        lambda b: _data(b) == {"big": None, "ok": 1.5},
    ),
    "an-integer-of-5000-digits": Hostile(
        b'{"id": "%s", "phoneNumber": "%s", "collectedData": {"n": %s, "m": 12}}'
        % (LEAD_ID.encode(), PHONE.encode(), b"9" * 5000),
        200,
        "stored",
        lambda b: _data(b) == {"n": None, "m": 12},
    ),
    "NUL-in-a-value": Hostile(
        raw(lead(callData={"firstName": "Ma\x00ria"})),
        200,
        "stored",
        lambda b: b["callData"]["firstName"] == "Maria",
    ),
    "NUL-in-the-id-and-phone": Hostile(
        raw(lead(id=LEAD_ID + "\x00", phoneNumber="\x00" + PHONE)),
        200,
        "stored",
        lambda b: (b["id"], b["phoneNumber"]) == (LEAD_ID, PHONE),
    ),
    "NUL-in-a-key": Hostile(
        raw(lead(collectedData={"a\x00b": 1})),
        200,
        "stored",
        lambda b: _data(b) == {"ab": 1},
    ),
    "lead-id-over-120-characters-without-phone": Hostile(
        raw(lead(id=LONG_ID, phoneNumber=None)), 200, "stored", lambda b: b["id"] == LONG_ID
    ),
    "lead-id-over-250-characters": Hostile(
        raw(lead(id="I" * 600)), 200, "stored", lambda b: b["id"] == "I" * 600
    ),
    "phone-of-500-characters": Hostile(
        raw(lead(id=None, phoneNumber="call me " * 60)), 200, "stored"
    ),
    "call-id-over-250-characters-without-number": Hostile(
        raw(call_end(id=LONG_ID, to=None)), 200, "stored", lambda b: b["id"] == LONG_ID
    ),
    "a-key-of-10000-characters": Hostile(
        raw(lead(collectedData={"k" * 10_000: "v"})),
        200,
        "stored",
        lambda b: _data(b) == {"k" * 10_000: "v"},
    ),
    "not-json": Hostile(b'{"id": ', 400, "not JSON"),
    "not-utf8": Hostile(b"\xff\xfe\x00{", 400, "not JSON"),
    "empty": Hostile(b"", 400, "not JSON"),
    "not-an-object": Hostile(b"[1, 2]", 400, "not a JSON object"),
    "neither-lead-nor-call": Hostile(b'{"hello": 1}', 400, "neither a Lead nor a Call"),
    "lead-without-id-or-phone": Hostile(
        raw({"status": 20, "callData": {}}), 400, "neither an id nor a phone"
    ),
    "lead-whose-id-is-only-NUL": Hostile(
        raw(lead(id="\x00\x00", phoneNumber="\x00")), 400, "neither an id nor a phone"
    ),
}


def depth(value: Any) -> int:
    """How deeply containers nest (a scalar is 0, `[]` is 1), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def assert_storable(value: Any) -> None:
    """What every database takes: strict UTF-8 JSON, no NUL, no deeper than MAX_DEPTH."""
    text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogate
    assert "\x00" not in text
    assert "\\u0000" not in json.dumps(value, allow_nan=False)
    assert depth(value) <= MAX_DEPTH


def hostile_params() -> list[Any]:
    """The table as pytest parameters, one id per body."""
    return [pytest.param(case, id=name) for name, case in HOSTILE.items()]
