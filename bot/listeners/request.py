"""Who a Slack request comes from and where, and the refs its buttons carry: read in one place."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from slack_bolt.async_app import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import CardRef
from bot.storage.rows import Workspace
from bot.usecases.cards import Reply
from bot.usecases.services import Where

logger = logging.getLogger(__name__)

# What a button carries (blocks.ids: CardRef, CallRef, CallsRef), for the listeners' generics.
Ref = TypeVar("Ref", bound=BaseModel)
# A host name or IP address (IPv6 in brackets), with an optional port.
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def where_of(request: AsyncBoltRequest) -> Where:
    """Who sent the request, from which channel of which workspace."""
    context = request.context
    return Where(
        workspace=workspace_of(request),
        user_id=context.user_id,
        channel_id=context.channel_id or "",
        public_url=public_url_of(request),
    )


def workspace_of(request: AsyncBoltRequest) -> Workspace:
    """The workspace the request comes from, whichever way the app was installed there."""
    # Bolt's context already picked the installed workspace out of every payload shape
    # (commands, interactions, events, Slack Connect channels and Enterprise Grid). For an
    # org-wide install an event's authorization names the org alone: the workspace it
    # happened in is the envelope's (or the view's) team.
    context = request.context
    team_id = context.team_id
    if team_id and team_id == context.enterprise_id:
        # A view of an org-wide install may name the org where its workspace belongs.
        team_id = None
    if not team_id and context.is_enterprise_install:
        team_id = _team_in(request.body)
        team_id = team_id if team_id != context.enterprise_id else None
    return Workspace(team_id=team_id or "", enterprise_id=context.enterprise_id or "")


def _team_in(body: dict[str, Any]) -> str | None:
    """The workspace an event or payload names: its envelope's, its view's or its person's."""
    for holder, key in (
        (body, "team_id"),
        (body.get("view"), "team_id"),
        (body.get("user"), "team_id"),
    ):
        team_id = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(team_id, str) and team_id:
            return team_id
    return None


def in_modal(request: AsyncBoltRequest) -> bool:
    """Whether the request came from a modal (a button in it), not a message or the Home tab."""
    view = request.body.get("view")
    return isinstance(view, dict) and view.get("type") == "modal"


def public_url_of(request: AsyncBoltRequest) -> str | None:
    """The app's public base URL as Slack reached it (None over Socket Mode)."""
    # Only Host: a request reaches the app through its router only for a host the app
    # serves, while a client sets X-Forwarded-Host and -Proto to anything. Slack calls https.
    hosts = request.headers.get("host") or []
    if not hosts or request.mode == "socket_mode":
        return None
    host = hosts[0].strip()
    return f"https://{host}" if _HOST.fullmatch(host) else None


def read_ref(model: type[Ref], value: object) -> Ref | None:
    """The ref a button's value (or a view's metadata) carries, or None if it is unreadable."""
    try:
        return model.model_validate_json(value if isinstance(value, str) else "")
    except ValidationError:
        if model is CardRef:
            logger.warning("Ignoring a card button with an unreadable value")
        else:
            logger.warning("Ignoring a button with an unreadable value")
        return None


def private_reply(respond: AsyncRespond) -> Reply:
    """Answers only the person who asked, leaving the message they acted on as it was."""

    async def reply(message: dict[str, Any]) -> None:
        await respond(**message, response_type="ephemeral", replace_original=False)

    return reply


async def open_loading(
    body: dict[str, Any], request: AsyncBoltRequest, client: AsyncWebClient, title: str, what: str
) -> str:
    """A loading modal, opened (or pushed onto the modal the button is in) at once; its id."""
    # Slack's trigger_id lasts 3 seconds: the view opens before anyone else is asked anything.
    trigger_id = body["trigger_id"]
    view = views.loading_modal(title, what)
    opened = await (
        client.views_push(trigger_id=trigger_id, view=view)
        if in_modal(request)
        else client.views_open(trigger_id=trigger_id, view=view)
    )
    return str(opened["view"]["id"])


async def fill_view(
    client: AsyncWebClient, view_id: str, title: str, work: Awaitable[dict[str, Any]]
) -> None:
    """Show in a modal what `work` returns; if it fails unexpectedly, say so with a reference."""
    # A modal has no response_url for Bolt's error handler to answer through: without this a
    # failure would leave "Working…" on screen for good.
    try:
        view = await work
    except Exception:
        reference = uuid.uuid4().hex[:12]
        logger.exception("Unexpected error filling a modal (reference %s)", reference)
        detail = (
            "Lead Bot hit an unexpected error, so it can't say whether anything changed. "
            f"Refresh the card to see. Reference for your admin: `{reference}`"
        )
        view = views.notice_modal(title, messages.notice("💥", "Something went wrong", detail))
    await client.views_update(view_id=view_id, view=view)
