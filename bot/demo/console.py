"""The local Slack console: a page, and the API it calls to act as a person in Slack would.

Every act becomes the request Slack would send the app (a slash command, block_actions,
view_submission, block_suggestion, app_home_opened), signed with the app's signing secret and
posted over loopback HTTP to its `/slack/events`; what the app answers is applied as Slack
applies it.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.demo import payloads
from bot.demo.payloads import Person
from bot.demo.slack_api import API_PREFIX, RESPONSE_PREFIX, response_urls, strict_json, web_api
from bot.demo.workspace import Message, SlackError, Workspace

Json = dict[str, Any]

# Slack gives an app three seconds to answer; a busy laptop or CI machine gets more here.
APP_TIMEOUT_SECONDS = 10.0
MAX_COMMAND_CHARS = 4000  # what Slack's message box accepts for a command's text
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
WEBHOOK_URL = re.compile(r"https?://[^\s`<>|\"']+/nlpearl/webhooks/[A-Za-z0-9_-]+")


class Pace(Protocol):
    """What the console asks of the NLPearl sandbox."""

    def status(self) -> Json: ...

    def set_pace(self, *, paused: bool | None = None, speed: float | None = None) -> None: ...

    def send_webhooks_to(self, url: str) -> bool: ...


@dataclass(frozen=True)
class AppLink:
    """How the console reaches the app: its base URL and the secret Slack signs with."""

    base_url: str
    signing_secret: str
    bot_token: str


class Console:
    """One person in one demo workspace, talking to the app as Slack does."""

    def __init__(self, workspace: Workspace, app: AppLink, sandbox: Pace) -> None:
        self.workspace = workspace
        self.app = app
        self.sandbox = sandbox
        self.person = Person(
            workspace.user_id, workspace.user_name, workspace.team_id, workspace.team_domain
        )
        # Only loopback, never through a proxy the environment names.
        self.http = httpx.AsyncClient(timeout=APP_TIMEOUT_SECONDS, trust_env=False)
        self._event_ids = itertools.count(1)
        workspace.on_message(self._learn_webhook_urls)

    async def aclose(self) -> None:
        """Closes the HTTP client."""
        await self.http.aclose()

    # What the person does

    async def command(self, channel_id: str, text: str) -> None:
        """A line typed in the message box: `/lead …` goes to the app, anything else is said."""
        channel = self.workspace.channel(channel_id)
        line = text.strip()
        if not line.startswith("/"):
            self.workspace.post(channel_id, author_id=self.workspace.user_id, text=line)
            return
        command, _, rest = line.partition(" ")
        if command != "/lead":
            raise ConsoleError(f"{command} is not a command here: try /lead help.")
        name = self.workspace.response_target(channel_id)
        body = payloads.slash_command(
            self.person,
            (channel.id, channel.name),
            rest.strip(),
            self._response_url(name),
            self.workspace.new_trigger(),
        )
        answer = await self._send(body, payloads.FORM)
        # An ack with a body is shown as the command's reply, as Slack shows it.
        reply = _json_or_text(answer)
        if reply:
            self.workspace.respond(name, reply)

    async def message_action(self, channel_id: str, ts: str, action: Json) -> None:
        """A button, menu or select in a message."""
        channel = self.workspace.channel(channel_id)
        message = self.workspace.message(channel_id, ts)
        payload = payloads.message_action(
            self.person,
            channel=(channel.id, channel.name),
            message=message.as_slack(self.workspace.bot_user_id, self.workspace.bot_id),
            ephemeral=message.ephemeral,
            action=action,
            response_url=self._response_url(self.workspace.response_target(channel_id, ts)),
            trigger_id=self.workspace.new_trigger(),
        )
        await self._send(payloads.interaction(payload), payloads.FORM)

    async def view_action(self, view_id: str, action: Json, values: Json) -> None:
        """A button, menu or select in a modal or the Home tab."""
        view = self.workspace.with_state(view_id, values)
        payload = payloads.view_action(self.person, view, action, self.workspace.new_trigger())
        await self._send(payloads.interaction(payload), payloads.FORM)

    async def submit(self, view_id: str, values: Json) -> Json:
        """A modal's submit button; the errors to show under its inputs, if any."""
        view = self.workspace.with_state(view_id, values)
        payload = payloads.view_submission(self.person, view, self.workspace.new_trigger())
        answer = _json_or_text(await self._send(payloads.interaction(payload), payloads.FORM))
        action = answer.get("response_action")
        if action == "errors":
            errors = answer.get("errors")
            return errors if isinstance(errors, dict) else {}
        if action == "update":
            self.workspace.update_view(answer.get("view"), view_id=view_id)
        elif action == "push":
            self.workspace.push_modal(answer.get("view"))
        else:
            self.workspace.close_view(view_id, clear=action == "clear")
        return {}

    async def close(self, view_id: str) -> None:
        """A modal's × or close button; the app hears of it if the view asked."""
        view = self.workspace.view(view_id)
        self.workspace.close_view(view_id)
        if view.get("notify_on_close"):
            payload = payloads.view_closed(self.person, view)
            await self._send(payloads.interaction(payload), payloads.FORM)

    async def options(
        self,
        *,
        view_id: str | None,
        channel_id: str | None,
        action_id: str,
        block_id: str,
        value: str,
    ) -> Json:
        """The options an external select offers for what was typed."""
        view = self.workspace.view(view_id) if view_id else None
        channel = self.workspace.channel(channel_id) if channel_id else None
        payload = payloads.with_container(
            payloads.block_suggestion(
                self.person, action_id=action_id, block_id=block_id, value=value
            ),
            view=view,
            channel=(channel.id, channel.name) if channel is not None else None,
        )
        answer = _json_or_text(await self._send(payloads.interaction(payload), payloads.FORM))
        return {key: answer[key] for key in ("options", "option_groups") if key in answer}

    async def open_home(self) -> None:
        """The person opens the app's Home tab."""
        now = time.time()
        body = payloads.home_opened(
            self.person,
            bot_user_id=self.workspace.bot_user_id,
            event_id=f"Ev0DEMO{next(self._event_ids):08d}",
            now=now,
        )
        await self._send(body, payloads.JSON)

    # Talking to the app

    def _response_url(self, name: str) -> str:
        return f"{self.app.base_url}{RESPONSE_PREFIX}{name}"

    async def _send(self, body: bytes, content_type: str) -> httpx.Response:
        """Posts a signed request to the app's /slack/events, as Slack does."""
        signed = payloads.sign(self.app.signing_secret, body, content_type)
        try:
            answer = await self.http.post(
                f"{self.app.base_url}/slack/events", content=signed.body, headers=signed.headers
            )
        except httpx.TimeoutException:
            raise ConsoleError("Lead Bot did not answer in time: try again.") from None
        except httpx.HTTPError:
            raise ConsoleError("Lead Bot is not running: see the terminal.") from None
        if answer.status_code != 200:
            raise ConsoleError(f"Lead Bot answered {answer.status_code}: see the terminal.")
        return answer

    def _learn_webhook_urls(self, message: Message) -> None:
        """A webhook URL the app shows is pasted into the sandbox, as a person would paste it."""
        shown = json.dumps([message.text, message.blocks])
        for url in sorted(set(WEBHOOK_URL.findall(shown))):
            if url.startswith(f"{self.app.base_url}/") and self.sandbox.send_webhooks_to(url):
                self.workspace.notice(
                    "The NLPearl sandbox now sends its Lead and Call webhooks to the URL "
                    "Lead Bot just showed, as if you had pasted it into NLPearl."
                )


class ConsoleError(Exception):
    """Something the person should read, in one sentence."""


def _json_or_text(answer: httpx.Response) -> Json:
    """An ack's body: a JSON object, plain text as a message, or nothing."""
    if not answer.content:
        return {}
    try:
        body = answer.json()
    except ValueError:
        return {"text": answer.text}
    return body if isinstance(body, dict) else {}


def routes(console: Console) -> list[Route | Mount]:
    """The console's routes: the page, its static files, its API, and Slack's side."""
    static = resources.files("bot.demo") / "static"
    return [
        Route("/demo", _page(static.joinpath("console.html").read_text()), methods=["GET"]),
        Mount("/demo/static", StaticFiles(directory=str(static)), name="static"),
        Route("/demo/api/state", _state(console), methods=["GET"]),
        Route("/demo/api/command", _act(console, _command), methods=["POST"]),
        Route("/demo/api/action", _act(console, _action), methods=["POST"]),
        Route("/demo/api/submit", _act(console, _submit), methods=["POST"]),
        Route("/demo/api/close", _act(console, _close), methods=["POST"]),
        Route("/demo/api/options", _act(console, _options), methods=["POST"]),
        Route("/demo/api/home", _act(console, _home), methods=["POST"]),
        Route("/demo/api/sandbox", _act(console, _pace), methods=["POST"]),
        Route(
            API_PREFIX + "{method}",
            web_api(console.workspace, console.app.bot_token),
            methods=["GET", "POST"],
        ),
        Route(RESPONSE_PREFIX + "{name}", response_urls(console.workspace), methods=["POST"]),
    ]


def console_app(console: Console) -> Starlette:
    """The console as an ASGI app of its own (the demo routes `/demo…` to it).

    Only for pages served from loopback by name: a page elsewhere that renamed itself to
    127.0.0.1 (DNS rebinding) would otherwise read and drive it.
    """
    trusted = Middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK_HOSTS))
    return Starlette(routes=routes(console), middleware=[trusted])


def _page(html: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(_request: Request) -> Response:
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    return page


def _state(console: Console) -> Callable[[Request], Awaitable[Response]]:
    """The page's poll: everything, or only the version when it has not moved since `since`."""

    async def state(request: Request) -> Response:
        sandbox = console.sandbox.status()
        seen = zlib.crc32(json.dumps(sandbox, sort_keys=True).encode())
        version = f"{console.workspace.version}.{seen}"
        if request.query_params.get("since") == version:
            return JSONResponse({"version": version}, headers={"Cache-Control": "no-store"})
        snapshot = console.workspace.snapshot() | {"version": version, "sandbox": sandbox}
        return JSONResponse(snapshot, headers={"Cache-Control": "no-store"})

    return state


Act = Callable[[Console, Json], Awaitable[Json]]


def _act(console: Console, act: Act) -> Callable[[Request], Awaitable[Response]]:
    """A console API call: a JSON object in, `{"ok": …}` out, a sentence when it fails."""

    async def handle(request: Request) -> Response:
        # Only the page's own fetch sends JSON: another site's form or no-cors post cannot.
        if not request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"ok": False, "error": "The console sent a malformed request."})
        try:
            body = strict_json(await request.body() or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"ok": False, "error": "The console sent a malformed request."})
        try:
            return JSONResponse({"ok": True, **await act(console, body)})
        except ConsoleError as exc:
            return JSONResponse({"ok": False, "error": str(exc)})
        except (SlackError, KeyError, TypeError, ValueError):
            return JSONResponse({"ok": False, "error": "That is no longer on the page: reload."})

    return handle


def _text(body: Json, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise KeyError(key)
    return value


def _object(body: Json, key: str) -> Json:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


async def _command(console: Console, body: Json) -> Json:
    text = _text(body, "text")
    if len(text) > MAX_COMMAND_CHARS:
        raise ConsoleError("That is longer than Slack accepts: shorten it.")
    if text.strip():
        await console.command(_text(body, "channel"), text)
    return {}


async def _action(console: Console, body: Json) -> Json:
    action = _object(body, "action")
    if body.get("surface") == "view":
        await console.view_action(_text(body, "view_id"), action, _object(body, "values"))
    else:
        await console.message_action(_text(body, "channel"), _text(body, "ts"), action)
    return {}


async def _submit(console: Console, body: Json) -> Json:
    errors = await console.submit(_text(body, "view_id"), _object(body, "values"))
    return {"errors": errors} if errors else {}


async def _close(console: Console, body: Json) -> Json:
    await console.close(_text(body, "view_id"))
    return {}


async def _options(console: Console, body: Json) -> Json:
    view_id, channel_id = body.get("view_id"), body.get("channel")
    return await console.options(
        view_id=view_id if isinstance(view_id, str) else None,
        channel_id=channel_id if isinstance(channel_id, str) else None,
        action_id=_text(body, "action_id"),
        block_id=_text(body, "block_id"),
        value=str(body.get("value") or ""),
    )


async def _home(console: Console, _body: Json) -> Json:
    await console.open_home()
    return {}


async def _pace(console: Console, body: Json) -> Json:
    paused = body.get("paused")
    console.sandbox.set_pace(
        paused=paused if isinstance(paused, bool) else None, speed=_speed(body.get("speed"))
    )
    return {}


def _speed(value: object) -> float | None:
    """A speed the page sent, if it is a number; one too large for a float is simply fast."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
