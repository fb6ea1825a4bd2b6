"""Make a webhook body storable on any database, or say in plain words why it never can be.

SQLite and PostgreSQL refuse different things: PostgreSQL has no NUL in text and no NaN in
JSON, both refuse lone surrogates and over-long keys, and Python itself cannot walk JSON that
is nested too deep. Cleaning the body once, at the boundary, gives every database the same
data, so every body gets the same answer.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

# Real bodies nest five levels (lead, lastCall, collectedData, transcript, message).
MAX_DEPTH = 32
# Python refuses to turn an int of over 4,300 digits into text, so it could never be saved;
# 13,000 bits is about 3,900 digits.
MAX_INT_BITS = 13_000
MAX_INT_DIGITS = 3_900
HASH_PREFIX = "sha256:"
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadPayload(ValueError):
    """The body is not a webhook Lead Bot can read or keep; the message says why."""


def read_json(body: bytes | str) -> Any:
    """The decoded body; numbers no database can hold (NaN, Infinity, 1e999) become None."""
    try:
        return json.loads(body, parse_constant=_no_number, parse_float=_float, parse_int=_int)
    except RecursionError as exc:
        raise BadPayload(f"the body is nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # also UnicodeDecodeError
        raise BadPayload("the body is not JSON") from exc


def storable(value: Any) -> Any:
    """The value with NUL dropped, lone surrogates replaced by U+FFFD, non-finite numbers None.

    Everything else is kept as it was. Refuses (BadPayload) nesting deeper than MAX_DEPTH
    and values that are not JSON at all.
    """
    return _clean(value, 1)


def bounded(key: str, limit: int) -> str:
    """The key if it fits a column of `limit` characters, else a stable hash of it."""
    if len(key) <= limit:
        return key
    return HASH_PREFIX + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def clean_text(text: str) -> str:
    """Text every database takes: no NUL, lone surrogates replaced (valid pairs are joined)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii() and _SURROGATE.search(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _clean(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int):
        return value if value.bit_length() <= MAX_INT_BITS else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict | list):
        if depth > MAX_DEPTH:
            raise BadPayload(f"the body is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, list):
            return [_clean(item, depth + 1) for item in value]
        # Keys are text in JSON; two that differ only by a NUL become one (the later wins).
        return {clean_text(str(k)): _clean(v, depth + 1) for k, v in value.items()}
    raise BadPayload(f"the body holds a {type(value).__name__}, which JSON cannot")


def _no_number(name: str) -> None:
    return None


def _float(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None


def _int(text: str) -> int | None:
    return int(text) if len(text) <= MAX_INT_DIGITS else None
