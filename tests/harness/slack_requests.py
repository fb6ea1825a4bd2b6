"""Builds and signs requests exactly as Slack sends them to the app, and reads its answers."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

if TYPE_CHECKING:
    from tests.standins import SlackStandIn

SIGNING_SECRET = "e2e-signing-secret"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
API_APP_ID = "A0LEADBOT"
VERIFICATION_TOKEN = "legacy-verification-token"
TEAM_DOMAIN = "test"
CHANNEL_NAME = "leads"
USER_NAME = "e2e.user"

_trigger_sequence = itertools.count(1)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 signature headers for `body` (HMAC-SHA256 of `v0:{timestamp}:{body}`)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": str(timestamp)}


def new_trigger_id() -> str:
    """A fresh trigger_id in Slack's format."""
    return f"1337.{next(_trigger_sequence)}.0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def slash_command_body(
    text: str,
    response_url: str,
    user_id: str = "U0USER",
    channel_id: str = "C0CHAN",
    team_id: str = "T0TEST",
    command: str = "/lead",
    *,
    trigger_id: str | None = None,
) -> bytes:
    """The form-encoded body of a slash command invocation, with every field Slack sends."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": CHANNEL_NAME,
        "user_id": user_id,
        "user_name": USER_NAME,
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }
    return urlencode(fields).encode()


def block_actions_body(
    action_id: str,
    value: str,
    response_url: str,
    *,
    block_id: str = "actions",
    button_text: str = "Button",
    user_id: str = "U0USER",
    channel_id: str = "C0CHAN",
    team_id: str = "T0TEST",
    message_ts: str = "1700000000.000100",
    is_ephemeral: bool = False,
    message: dict[str, Any] | None = None,
    trigger_id: str | None = None,
) -> bytes:
    """The `payload=` form body of a button click on a message (ephemeral messages carry none)."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": USER_NAME, "name": USER_NAME, "team_id": team_id},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": CHANNEL_NAME},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if message is not None:
        payload["message"] = message
    return urlencode({"payload": json.dumps(payload)}).encode()


def post_signed(
    url: str,
    body: bytes,
    content_type: str,
    secret: str,
    timestamp: int | None = None,
) -> httpx.Response:
    """POSTs `body` to `url` with Slack's signature headers."""
    headers = {"Content-Type": content_type, **sign(secret, body, timestamp)}
    return httpx.post(url, content=body, headers=headers, timeout=10)


def send_command(
    events_url: str,
    text: str,
    response_url: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    **fields: Any,
) -> httpx.Response:
    """Invokes `/lead text` as Slack does: a signed form POST to the events URL."""
    body = slash_command_body(text, response_url, **fields)
    return post_signed(events_url, body, FORM_CONTENT_TYPE, secret, timestamp)


def click_button(
    events_url: str,
    action_id: str,
    value: str,
    response_url: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    **fields: Any,
) -> httpx.Response:
    """Clicks a button as Slack reports it: a signed `block_actions` payload."""
    body = block_actions_body(action_id, value, response_url, **fields)
    return post_signed(events_url, body, FORM_CONTENT_TYPE, secret, timestamp)


# Reading what the app posts

SETTLE_CAMPAIGN = "settle-campaign"
STACK_TRACE_MARKERS = ("Traceback", "Exception", 'File "')

_settle_sequence = itertools.count(1)


def settle(events_url: str, slack: SlackStandIn) -> dict[str, Any]:
    """Sends a lookup in a campaign nobody has and waits for its answer.

    The app handles requests in order of arrival, so by the time this answer arrives the
    work of earlier requests has had its turn: "nothing was posted or fetched" can then be
    asserted without sleeping. NLPearl requests it caused name SETTLE_CAMPAIGN.
    """
    name = f"settle-{next(_settle_sequence)}"
    acked = send_command(events_url, f"{SETTLE_CAMPAIGN} ext:nobody", slack.response_url(name))
    assert acked.status_code == 200, acked.text
    return slack.wait_for_responses(1, name)[0]


def _texts(value: Any) -> Iterator[str]:
    """Every `text` string anywhere inside a message, a block or an element."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def message_text(message: dict[str, Any]) -> str:
    """All the text a person could read in a message (fallback, blocks, buttons), one per line."""
    return "\n".join(_texts(message))


def blocks_text(message: dict[str, Any]) -> str:
    """The text of the message's blocks only, without the notification fallback."""
    return "\n".join(_texts(message.get("blocks", [])))


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The message's buttons (in actions blocks and as accessories) by action_id."""
    found: dict[str, dict[str, Any]] = {}
    for block in message.get("blocks", []):
        elements = [*block.get("elements", []), block.get("accessory") or {}]
        for element in elements:
            if isinstance(element, dict) and element.get("type") == "button":
                found[element["action_id"]] = element
    return found


def assert_no_stack_traces(bodies: Iterable[dict[str, Any]]) -> None:
    """Fails if any posted message shows a stack trace or an exception to people."""
    for body in bodies:
        text = "\n".join(_strings(body))
        shown = [marker for marker in STACK_TRACE_MARKERS if marker in text]
        assert not shown, f"a message shows {shown} to people: {json.dumps(body, indent=2)}"


def _strings(value: Any) -> Iterator[str]:
    """Every string anywhere inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
