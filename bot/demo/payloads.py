"""The requests Slack sends an app, built as Slack builds them and signed with its secret."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
APP_ID = "A0LEADBOT"
# Slack still sends the legacy verification token; Bolt ignores it once signatures verify.
VERIFICATION_TOKEN = "demo-verification-token"

Json = dict[str, Any]


@dataclass(frozen=True)
class Person:
    """Who acts in the console, and where."""

    user_id: str
    user_name: str
    team_id: str
    team_domain: str


@dataclass(frozen=True)
class Signed:
    """A request body with its content type and Slack's signature headers."""

    body: bytes
    headers: dict[str, str]


def sign(secret: str, body: bytes, content_type: str, now: float | None = None) -> Signed:
    """Slack's v0 signature over `body`, as the X-Slack-* headers carry it."""
    timestamp = str(int(time.time() if now is None else now))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    if signature is None:  # slack_sdk signs nothing without a secret
        raise ValueError("a signing secret is needed")
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    return Signed(body, headers)


def slash_command(
    person: Person, channel: tuple[str, str], text: str, response_url: str, trigger_id: str
) -> bytes:
    """A `/lead` invocation as a form, with every field Slack sends; `channel` is (id, name)."""
    channel_id, channel_name = channel
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": person.team_id,
        "team_domain": person.team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": person.user_id,
        "user_name": person.user_name,
        "command": "/lead",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urlencode(fields).encode()


def interaction(payload: Json) -> bytes:
    """An interaction (block_actions, view_submission, …) as Slack posts it: a `payload` form."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def _common(person: Person, kind: str, trigger_id: str | None) -> Json:
    common: Json = {
        "type": kind,
        "user": {
            "id": person.user_id,
            "username": person.user_name,
            "name": person.user_name,
            "team_id": person.team_id,
        },
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "team": {"id": person.team_id, "domain": person.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if trigger_id is not None:
        common["trigger_id"] = trigger_id
    return common


def message_action(
    person: Person,
    *,
    channel: tuple[str, str],
    message: Json,
    ephemeral: bool,
    action: Json,
    response_url: str,
    trigger_id: str,
) -> Json:
    """block_actions from a message: its container, channel, response_url and, if public, it."""
    channel_id, channel_name = channel
    payload = _common(person, "block_actions", trigger_id)
    payload |= {
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        },
        "channel": {"id": channel_id, "name": channel_name},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [_stamped(action)],
    }
    # Slack leaves an ephemeral message out: only its author's app ever saw it.
    if not ephemeral:
        payload["message"] = message
    return payload


def view_action(person: Person, view: Json, action: Json, trigger_id: str) -> Json:
    """block_actions from a modal or the Home tab: the view with its state, no response_url."""
    payload = _common(person, "block_actions", trigger_id)
    payload |= {
        "container": {"type": "view", "view_id": view["id"]},
        "view": view,
        "actions": [_stamped(action)],
    }
    return payload


def view_submission(person: Person, view: Json, trigger_id: str) -> Json:
    """A modal's submit, with the values typed in `view["state"]`."""
    payload = _common(person, "view_submission", trigger_id)
    payload |= {"view": view, "response_urls": []}
    return payload


def view_closed(person: Person, view: Json) -> Json:
    """A modal closed with its × or close button (sent when it asked: notify_on_close)."""
    payload = _common(person, "view_closed", None)
    payload |= {"view": view, "is_cleared": False}
    return payload


def block_suggestion(person: Person, *, action_id: str, block_id: str, value: str) -> Json:
    """An options request from an external select, with what was typed so far."""
    payload = _common(person, "block_suggestion", None)
    payload |= {"action_id": action_id, "block_id": block_id, "value": value}
    return payload


def with_container(payload: Json, *, view: Json | None, channel: tuple[str, str] | None) -> Json:
    """An options request says where its select is: a view, or a message in a channel."""
    if view is not None:
        return payload | {"container": {"type": "view", "view_id": view["id"]}, "view": view}
    if channel is not None:
        channel_id, channel_name = channel
        return payload | {
            "container": {"type": "message", "channel_id": channel_id},
            "channel": {"id": channel_id, "name": channel_name},
        }
    return payload


def home_opened(person: Person, *, bot_user_id: str, event_id: str, now: float) -> bytes:
    """The app_home_opened event as the Events API delivers it."""
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": person.team_id,
        "api_app_id": APP_ID,
        "event": {
            "type": "app_home_opened",
            "user": person.user_id,
            "channel": f"D{person.user_id[1:]}",
            "tab": "home",
            "event_ts": f"{now:.6f}",
        },
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(now),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": person.team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope).encode()


def _stamped(action: Json) -> Json:
    """An action with the `action_ts` Slack adds."""
    return {**action, "action_ts": f"{time.time():.6f}"}
