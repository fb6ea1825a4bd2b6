"""Request bodies read with a size limit, so an oversized one costs neither memory nor time."""

from __future__ import annotations

import re

from starlette.requests import ClientDisconnect, Request

_DIGITS = re.compile(r"[0-9]+")


def declared_too_large(content_length: str, limit: int) -> bool:
    """Whether the declared Content-Length is over `limit` (the server checks its syntax)."""
    if not _DIGITS.fullmatch(content_length):
        return False
    digits = content_length.lstrip("0") or "0"
    return len(digits) > len(str(limit)) or int(digits) > limit


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it passes `limit` bytes, declared or streamed.

    None too when the client hangs up mid-body: it will read no answer either way.
    """
    if declared_too_large(request.headers.get("content-length", ""), limit):
        return None
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return None
    except ClientDisconnect:
        return None
    return bytes(body)
