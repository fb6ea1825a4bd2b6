"""The Slack Web API and response URLs the app calls, answered from the console's workspace."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bot.demo.workspace import SlackError, Workspace, is_true

Json = dict[str, Any]
Method = Callable[[Workspace, Json], Json]

API_PREFIX = "/demo/slack/api/"
RESPONSE_PREFIX = "/demo/slack/respond/"
# Arguments slack_sdk sends as JSON strings inside a form.
JSON_ARGUMENTS = ("blocks", "view", "attachments", "metadata")
MAX_BODY_BYTES = 2_000_000


def web_api(workspace: Workspace, bot_token: str) -> Callable[[Request], Awaitable[Response]]:
    """The handler of `POST /demo/slack/api/{method}`."""

    async def handle(request: Request) -> Response:
        method = request.path_params["method"]
        if request.headers.get("authorization") != f"Bearer {bot_token}":
            return _answer({"ok": False, "error": "invalid_auth"})
        try:
            # slack_sdk reads (conversations.info, users.info, …) with GET and a query.
            arguments = dict(request.query_params) | _arguments(
                request.headers.get("content-type", ""), await request.body()
            )
        except ValueError:
            return _answer({"ok": False, "error": "invalid_arguments"})
        answer = METHODS.get(method)
        if answer is None:
            return _answer({"ok": False, "error": "unknown_method"})
        try:
            return _answer({"ok": True, **answer(workspace, arguments)})
        except SlackError as exc:
            return _answer({"ok": False, "error": exc.code})

    return handle


def response_urls(workspace: Workspace) -> Callable[[Request], Awaitable[Response]]:
    """The handler of `POST /demo/slack/respond/{name}`: replies through a response URL."""

    async def handle(request: Request) -> Response:
        try:
            body = strict_json(await request.body())
        except ValueError:
            return PlainTextResponse("invalid_payload", status_code=400)
        if not isinstance(body, dict):
            return PlainTextResponse("invalid_payload", status_code=400)
        try:
            workspace.respond(request.path_params["name"], body)
        except SlackError as exc:
            return PlainTextResponse(exc.code, status_code=404)
        return PlainTextResponse("ok")

    return handle


def _answer(body: Json) -> Response:
    return JSONResponse(body)


def _arguments(content_type: str, raw: bytes) -> Json:
    """A call's arguments, sent as JSON or as a form whose structured values are JSON."""
    if len(raw) > MAX_BODY_BYTES:
        raise ValueError("too large")
    if content_type.startswith("application/json"):
        parsed = strict_json(raw or b"{}")
        if not isinstance(parsed, dict):
            raise ValueError("not an object")
        return parsed
    form: Json = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
    for key in JSON_ARGUMENTS:
        if isinstance(form.get(key), str):
            form[key] = strict_json(form[key])
    return form


def strict_json(raw: bytes | str) -> Any:
    """JSON as Slack reads it: NaN and Infinity are not JSON, so they are refused."""
    return json.loads(raw, parse_constant=_refuse)


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _text(arguments: Json) -> str:
    return str(arguments.get("text") or "")


def _blocks(arguments: Json) -> list[Json] | None:
    blocks = arguments.get("blocks")
    return blocks if isinstance(blocks, list) else None


def _thread(arguments: Json) -> str | None:
    thread_ts = arguments.get("thread_ts")
    return str(thread_ts) if thread_ts else None


def auth_test(workspace: Workspace, _arguments: Json) -> Json:
    """Who the token is: the app's bot user in the demo workspace."""
    return {
        "url": f"https://{workspace.team_domain}.slack.com/",
        "team": workspace.team_name,
        "user": "lead_bot",
        "team_id": workspace.team_id,
        "user_id": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "is_enterprise_install": False,
    }


def post_message(workspace: Workspace, arguments: Json) -> Json:
    """chat.postMessage: a message, or a reply in a thread."""
    channel = str(arguments.get("channel") or "")
    message = workspace.post(
        channel,
        author_id=workspace.bot_user_id,
        text=_text(arguments),
        blocks=_blocks(arguments),
        thread_ts=_thread(arguments),
        metadata=arguments.get("metadata") if isinstance(arguments.get("metadata"), dict) else None,
    )
    shown = message.as_slack(workspace.bot_user_id, workspace.bot_id)
    return {"channel": channel, "ts": message.ts, "message": shown}


def post_ephemeral(workspace: Workspace, arguments: Json) -> Json:
    """chat.postEphemeral: a message only the person sees."""
    if arguments.get("user") != workspace.user_id:
        raise SlackError("user_not_in_channel")
    message = workspace.post(
        str(arguments.get("channel") or ""),
        author_id=workspace.bot_user_id,
        text=_text(arguments),
        blocks=_blocks(arguments),
        ephemeral=True,
        thread_ts=_thread(arguments),
    )
    return {"message_ts": message.ts}


def update_message(workspace: Workspace, arguments: Json) -> Json:
    """chat.update: new text and blocks for a message of the app's."""
    channel = str(arguments.get("channel") or "")
    ts = str(arguments.get("ts") or "")
    message = workspace.update(channel, ts, text=_text(arguments), blocks=_blocks(arguments))
    shown = message.as_slack(workspace.bot_user_id, workspace.bot_id)
    return {"channel": channel, "ts": ts, "text": message.text, "message": shown}


def conversation_info(workspace: Workspace, arguments: Json) -> Json:
    """conversations.info: a public channel the app is in."""
    channel = workspace.channel(str(arguments.get("channel") or ""))
    return {
        "channel": {
            "id": channel.id,
            "name": channel.name,
            "is_channel": True,
            "is_private": False,
            "is_archived": False,
            "is_member": True,
        }
    }


def history(workspace: Workspace, arguments: Json) -> Json:
    """conversations.history: the channel's messages, newest first, one page."""
    found = workspace.history(str(arguments.get("channel") or ""))
    return _page(workspace, found, arguments)


def replies(workspace: Workspace, arguments: Json) -> Json:
    """conversations.replies: a thread, its parent first."""
    found = workspace.history(str(arguments.get("channel") or ""), str(arguments.get("ts") or ""))
    if not found:
        raise SlackError("thread_not_found")
    return _page(workspace, found, arguments)


def _page(workspace: Workspace, found: list[Any], arguments: Json) -> Json:
    try:
        limit = max(1, min(1000, int(arguments.get("limit") or 100)))
    except (ValueError, TypeError, OverflowError):
        raise SlackError("invalid_arguments") from None
    metadata = is_true(arguments.get("include_all_metadata"))
    shown = [
        m.as_slack(workspace.bot_user_id, workspace.bot_id, with_metadata=metadata)
        for m in found[:limit]
    ]
    return {"messages": shown, "has_more": len(found) > limit, "response_metadata": {}}


def user_info(workspace: Workspace, arguments: Json) -> Json:
    """users.info: the person trying the demo, an admin of their own workspace."""
    if arguments.get("user") != workspace.user_id:
        raise SlackError("user_not_found")
    return {
        "user": {
            "id": workspace.user_id,
            "team_id": workspace.team_id,
            "name": workspace.user_name,
            "real_name": "You",
            "is_admin": True,
            "is_owner": True,
            "is_primary_owner": True,
            "is_bot": False,
            "deleted": False,
            "tz": "UTC",
            "profile": {"display_name": workspace.user_name, "real_name": "You"},
        }
    }


def usergroups(_workspace: Workspace, _arguments: Json) -> Json:
    """usergroups.list: the demo workspace has none."""
    return {"usergroups": []}


def usergroup_members(_workspace: Workspace, _arguments: Json) -> Json:
    """usergroups.users.list: there is no group to list."""
    raise SlackError("no_such_subteam")


def open_view(workspace: Workspace, arguments: Json) -> Json:
    """views.open."""
    return {"view": workspace.open_view(arguments.get("trigger_id"), arguments.get("view"))}


def push_view(workspace: Workspace, arguments: Json) -> Json:
    """views.push."""
    return {"view": workspace.push_view(arguments.get("trigger_id"), arguments.get("view"))}


def update_view(workspace: Workspace, arguments: Json) -> Json:
    """views.update, by view_id or external_id, with an optional hash."""
    view = workspace.update_view(
        arguments.get("view"),
        view_id=arguments.get("view_id"),
        external_id=arguments.get("external_id"),
        hash=arguments.get("hash"),
    )
    return {"view": view}


def publish_view(workspace: Workspace, arguments: Json) -> Json:
    """views.publish: the Home tab."""
    return {"view": workspace.publish_home(arguments.get("user_id"), arguments.get("view"))}


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "chat.postMessage": post_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.update": update_message,
    "conversations.info": conversation_info,
    "conversations.history": history,
    "conversations.replies": replies,
    "users.info": user_info,
    "usergroups.list": usergroups,
    "usergroups.users.list": usergroup_members,
    "views.open": open_view,
    "views.push": push_view,
    "views.update": update_view,
    "views.publish": publish_view,
}
