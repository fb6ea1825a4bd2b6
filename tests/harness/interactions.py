"""Builds the interactive payloads and events Slack sends for shortcuts, modals and the Home tab.

Each builder returns the body exactly as Slack sends it: interactive payloads as a form body
`payload=<urlencoded JSON>`, events as JSON. `send_*` signs and posts them.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.harness.slack_requests import (
    API_APP_ID,
    CHANNEL_NAME,
    FORM_CONTENT_TYPE,
    SIGNING_SECRET,
    TEAM_DOMAIN,
    USER_NAME,
    VERIFICATION_TOKEN,
    new_trigger_id,
    sign,
)

JSON_CONTENT_TYPE = "application/json"
BOT_USER_ID = "U0BOT"
DEFAULT_TEAM = "T0TEST"
DEFAULT_USER = "U0USER"
DEFAULT_CHANNEL = "C0CHAN"
HTTP_TIMEOUT = 10.0

_sequence = itertools.count(1)


def _next() -> int:
    return next(_sequence)


def action_ts() -> str:
    """An `action_ts` as Slack writes it."""
    return f"{time.time():.6f}"


def user(user_id: str = DEFAULT_USER, team_id: str = DEFAULT_TEAM) -> dict[str, Any]:
    """The `user` object of an interactive payload."""
    return {"id": user_id, "username": USER_NAME, "name": USER_NAME, "team_id": team_id}


def team(team_id: str = DEFAULT_TEAM) -> dict[str, Any]:
    """The `team` object of an interactive payload."""
    return {"id": team_id, "domain": TEAM_DOMAIN}


def _common(type_: str, user_id: str, team_id: str) -> dict[str, Any]:
    return {
        "type": type_,
        "token": VERIFICATION_TOKEN,
        "api_app_id": API_APP_ID,
        "team": team(team_id),
        "user": user(user_id, team_id),
        "enterprise": None,
        "is_enterprise_install": False,
    }


def form(payload: dict[str, Any]) -> bytes:
    """An interactive payload as Slack posts it: `payload=<urlencoded JSON>`."""
    return urlencode({"payload": json.dumps(payload)}).encode()


# Shortcuts


def global_shortcut(
    *,
    callback_id: str = "lead_lookup",
    user_id: str = DEFAULT_USER,
    team_id: str = DEFAULT_TEAM,
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """A global shortcut (`type: shortcut`): no channel, no response_url."""
    return {
        **_common("shortcut", user_id, team_id),
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "action_ts": action_ts(),
    }


def message_shortcut(
    message: dict[str, Any],
    response_url: str,
    *,
    callback_id: str = "lead_from_message",
    user_id: str = DEFAULT_USER,
    team_id: str = DEFAULT_TEAM,
    channel_id: str = DEFAULT_CHANNEL,
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """A message shortcut (`type: message_action`) on `message`."""
    return {
        **_common("message_action", user_id, team_id),
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "response_url": response_url,
        "action_ts": action_ts(),
        "message_ts": message["ts"],
        "channel": {"id": channel_id, "name": CHANNEL_NAME},
        "message": message,
    }


def chat_message(
    text: str,
    *,
    author: str = "U0AUTHOR",
    blocks: list[dict[str, Any]] | None = None,
    ts: str | None = None,
    bot_id: str | None = None,
) -> dict[str, Any]:
    """A message as Slack includes it in a `message_action` payload."""
    message: dict[str, Any] = {
        "type": "message",
        "user": author,
        "ts": ts or f"1700001000.{_next():06d}",
        "text": text,
    }
    if blocks is not None:
        message["blocks"] = blocks
    if bot_id is not None:
        message["bot_id"] = bot_id
    return message


# Views as Slack echoes them back


def view_as_slack_has_it(
    view: dict[str, Any],
    view_id: str,
    *,
    values: dict[str, dict[str, dict[str, Any]]] | None = None,
    team_id: str = DEFAULT_TEAM,
) -> dict[str, Any]:
    """A view the app sent, as Slack puts it in payloads: id, hash, state and the rest."""
    return {
        "id": view_id,
        "team_id": team_id,
        "type": view.get("type", "modal"),
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": values or {}},
        "hash": f"{int(time.time())}.{_next():08d}",
        "title": view.get("title"),
        "clear_on_close": False,
        "notify_on_close": False,
        "close": view.get("close"),
        "submit": view.get("submit"),
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": API_APP_ID,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": "B0BOT",
    }


def view_submission(
    view: dict[str, Any],
    view_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    user_id: str = DEFAULT_USER,
    team_id: str = DEFAULT_TEAM,
) -> dict[str, Any]:
    """The submission of a modal the app sent, with its input blocks' `state.values`."""
    return {
        **_common("view_submission", user_id, team_id),
        "trigger_id": new_trigger_id(),
        "view": view_as_slack_has_it(view, view_id, values=values, team_id=team_id),
        "response_urls": [],
    }


def block_suggestion(
    value: str,
    *,
    view: dict[str, Any] | None = None,
    view_id: str = "V0LOOKUP",
    action_id: str = "lookup.campaign",
    block_id: str = "campaign",
    user_id: str = DEFAULT_USER,
    team_id: str = DEFAULT_TEAM,
) -> dict[str, Any]:
    """An options request from an `external_select` in a modal, with what was typed."""
    shown = view or {"type": "modal", "callback_id": "lookup_modal", "blocks": []}
    return {
        **_common("block_suggestion", user_id, team_id),
        "container": {"type": "view", "view_id": view_id},
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "view": view_as_slack_has_it(shown, view_id, team_id=team_id),
    }


# Values of input blocks in view.state.values


def selected_option(text: str, value: str) -> dict[str, Any]:
    """An external/static select's state with an option chosen."""
    return {
        "type": "external_select",
        "selected_option": {
            "text": {"type": "plain_text", "text": text, "emoji": True},
            "value": value,
        },
    }


def no_option(kind: str = "external_select") -> dict[str, Any]:
    """A select's state with nothing chosen."""
    return {"type": kind, "selected_option": None}


def text_input(value: str | None) -> dict[str, Any]:
    """A plain_text_input's state (Slack sends null for an empty field)."""
    return {"type": "plain_text_input", "value": value or None}


def conversation(channel_id: str | None) -> dict[str, Any]:
    """A conversations_select's state."""
    return {"type": "conversations_select", "selected_conversation": channel_id}


# Buttons


def button_action(action_id: str, value: str, *, block_id: str = "b1") -> dict[str, Any]:
    """One button click in `actions`."""
    return {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": "Button", "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": action_ts(),
    }


def overflow_action(action_id: str, value: str, *, block_id: str = "b1") -> dict[str, Any]:
    """One choice in an overflow menu in `actions`: the chosen option carries the value."""
    return {
        "action_id": action_id,
        "block_id": block_id,
        "type": "overflow",
        "selected_option": {
            "text": {"type": "plain_text", "text": "Option", "emoji": True},
            "value": value,
        },
        "action_ts": action_ts(),
    }


def view_block_actions(
    action_id: str,
    value: str | None,
    view: dict[str, Any],
    view_id: str,
    *,
    user_id: str = DEFAULT_USER,
    team_id: str = DEFAULT_TEAM,
) -> dict[str, Any]:
    """A button click inside a modal or the Home tab: no channel, no response_url."""
    action = button_action(action_id, value or "")
    if value is None:
        action.pop("value")
    return {
        **_common("block_actions", user_id, team_id),
        "container": {"type": "view", "view_id": view_id},
        "trigger_id": new_trigger_id(),
        "view": view_as_slack_has_it(view, view_id, team_id=team_id),
        "actions": [action],
        "state": {"values": {}},
    }


def message_block_actions(
    action_id: str,
    value: str,
    response_url: str,
    *,
    message: dict[str, Any] | None = None,
    user_id: str = DEFAULT_USER,
    team_id: str = DEFAULT_TEAM,
    channel_id: str = DEFAULT_CHANNEL,
    is_ephemeral: bool = True,
) -> dict[str, Any]:
    """A button click on a message (an ephemeral one carries no `message`)."""
    ts = (message or {}).get("ts") or f"1700002000.{_next():06d}"
    payload: dict[str, Any] = {
        **_common("block_actions", user_id, team_id),
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": new_trigger_id(),
        "channel": {"id": channel_id, "name": CHANNEL_NAME},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [button_action(action_id, value)],
    }
    if message is not None and not is_ephemeral:
        payload["message"] = message
    return payload


# Events


def app_home_opened(
    user_id: str, *, tab: str = "home", team_id: str = DEFAULT_TEAM, event_id: str | None = None
) -> dict[str, Any]:
    """An `event_callback` carrying `app_home_opened`."""
    now = time.time()
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": {
            "type": "app_home_opened",
            "user": user_id,
            "channel": f"D0{user_id[1:]}",
            "tab": tab,
            "event_ts": f"{now:.6f}",
        },
        "type": "event_callback",
        "event_id": event_id or f"Ev0HOME{_next():06d}",
        "event_time": int(now),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-eyJldCI6ImFwcF9ob21lX29wZW5lZCJ9-{_next()}",
    }


# Sending


def send_interaction(
    events_url: str,
    payload: dict[str, Any],
    *,
    timeout: float = HTTP_TIMEOUT,
    secret: str = SIGNING_SECRET,
) -> httpx.Response:
    """Posts an interactive payload, form-encoded and signed, as Slack does."""
    body = form(payload)
    headers = {"Content-Type": FORM_CONTENT_TYPE, **sign(secret, body)}
    return httpx.post(events_url, content=body, headers=headers, timeout=timeout)


def send_event(
    events_url: str,
    envelope: dict[str, Any],
    *,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    secret: str = SIGNING_SECRET,
) -> httpx.Response:
    """Posts an Events API envelope as JSON, signed; with `retry_num`, as Slack's retry."""
    body = json.dumps(envelope).encode()
    headers = {"Content-Type": JSON_CONTENT_TYPE, **sign(secret, body)}
    if retry_num is not None:
        headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
    return httpx.post(events_url, content=body, headers=headers, timeout=HTTP_TIMEOUT)
