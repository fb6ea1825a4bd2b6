"""The gate in front of Bolt on `/slack/events`: only requests Slack signed get through."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from urllib.parse import parse_qsl

from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.app.bodies import declared_too_large, read_limited
from bot.app.settings import Settings

logger = logging.getLogger(__name__)

# Slack refuses views over 250 kB; a view_submission carries the view plus up to 100 inputs of
# 3,000 characters, form-encoded. That stays under 2.5 MB even when every typed character is
# non-ASCII (9 bytes once percent-encoded); ordinary payloads are 2-20 kB. Only a request with
# fresh, well-formed signature headers is read this far; an unsigned one, 1 kB at most.
MAX_BODY_BYTES = 4 * 1024 * 1024
# Slack's certificate check, `ssl_check=1&token=…`, is the one request it sends unsigned.
MAX_SSL_CHECK_BYTES = 1024
MAX_AGE_SECONDS = 300
TIMESTAMP_HEADER = "x-slack-request-timestamp"
SIGNATURE_HEADER = "x-slack-signature"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_ANSWERS = {
    400: "the body cannot be read",
    401: "not signed by Slack",
    404: "not found",
    413: "the body is too large",
}


class _NoUnverifiedBodies(logging.Filter):
    """Bolt logs the whole body of a request it fails to verify; keep only that it happened."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Invalid request signature detected"):
            record.msg, record.args = "Bolt refused a request whose signature did not verify", ()
        return True


# Behind the gate Bolt only sees verified requests; this holds should that ever change.
logging.getLogger("slack_bolt.RequestVerification").addFilter(_NoUnverifiedBodies())


def signing_secret_for(settings: Settings) -> str | None:
    """The secret Slack signs HTTP requests with; None in Socket Mode, where HTTP serves none."""
    secret = settings.slack_signing_secret
    return None if settings.socket_mode or secret is None else secret.get_secret_value()


async def admit(request: Request, bolt: AsyncApp, secret: str | None) -> Response:
    """Hand the request to Bolt if Slack signed it; otherwise a 4xx and nothing else happens."""
    checked = await _check(request, secret)
    if isinstance(checked, Response):
        return checked
    return to_starlette_response(await bolt.async_dispatch(checked))


async def _check(request: Request, secret: str | None) -> AsyncBoltRequest | Response:
    """The Bolt request for a verified, readable body, or the answer that refuses it."""
    if secret is None:
        return _refuse(404, "Bolt verifies no HTTP requests (Socket Mode)")
    if declared_too_large(request.headers.get("content-length", ""), MAX_BODY_BYTES):
        return _refuse(413, "declared body over the limit")
    timestamps = request.headers.getlist(TIMESTAMP_HEADER)
    signatures = request.headers.getlist(SIGNATURE_HEADER)
    if not timestamps and not signatures:
        return await _ssl_check(request)
    problem = header_problem(timestamps, signatures, time.time())
    if problem is not None:
        return _refuse(401, problem)
    body = await read_limited(request, MAX_BODY_BYTES)
    if body is None:
        return _refuse(413, "body over the limit, or the client hung up")
    if not signature_matches(secret, timestamps[0], signatures[0], body):
        return _refuse(401, "signature does not match")
    parsed = bolt_request(request, body)
    if parsed is None:
        return _refuse(400, "signed body Bolt cannot parse")
    return parsed


async def _ssl_check(request: Request) -> Response:
    """An empty 200 for Slack's unsigned certificate check, which runs nothing; 401 otherwise."""
    body = await read_limited(request, MAX_SSL_CHECK_BYTES)
    if body is None or not is_ssl_check(body):
        return _refuse(401, "no signature headers")
    return Response(status_code=200)


def _refuse(status: int, reason: str) -> Response:
    """A tiny fixed answer, logged as one line that carries nothing from the request."""
    logger.info("Refused a request to /slack/events (%d): %s", status, reason)
    return JSONResponse({"error": _ANSWERS[status]}, status_code=status)


def header_problem(timestamps: list[str], signatures: list[str], now: float) -> str | None:
    """Why these signature headers cannot verify any body, or None if they are usable."""
    if len(timestamps) != 1 or len(signatures) != 1:
        return "signature headers missing or repeated"
    if not _TIMESTAMP.fullmatch(timestamps[0]):
        return "timestamp is not an integer"
    if abs(now - int(timestamps[0])) > MAX_AGE_SECONDS:
        return "timestamp more than five minutes away"
    if not _SIGNATURE.fullmatch(signatures[0]):
        return "signature is malformed"
    return None


def signature_matches(secret: str, timestamp: str, signature: str, body: bytes) -> bool:
    """Whether `signature` is Slack's v0 HMAC of the raw body, compared in constant time."""
    # Over the raw bytes: slack_sdk's verifier decodes the body as UTF-8 first and raises on
    # a body that is not, which a forger controls. Bolt's check, behind this one, agrees on
    # every body it can decode (tests/test_slack_gate.py).
    if not (timestamp + signature).isascii():
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode())


def is_ssl_check(body: bytes) -> bool:
    """Whether the body is Slack's certificate check and nothing else."""
    try:
        fields = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return False
    names = [name for name, _ in fields]
    return ("ssl_check", "1") in fields and set(names) <= {"ssl_check", "token"}


def bolt_request(request: Request, body: bytes) -> AsyncBoltRequest | None:
    """The request as Bolt reads it, or None when Bolt cannot read the body."""
    # Bolt parses while building the request (UTF-8, JSON, `payload=`, then fields it expects
    # to be objects) and raises whatever the body provokes; any of it means "unreadable".
    try:
        parsed = to_async_bolt_request(request, body)
    except Exception:
        return None
    return parsed if isinstance(parsed.body, dict) else None
