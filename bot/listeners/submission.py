"""A modal submission that changes something: ack at once, then show how it went in place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import views
from bot.listeners.request import fill_view, where_of
from bot.usecases.permissions import Actor, actor_of
from bot.usecases.services import Services, Where

# What to do for whom: the person, where they are, and the submission's idempotency key.
Work = Callable[[Where, Actor, str], Awaitable[dict[str, Any]]]


async def run_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
    *,
    title: str,
    doing: str,
    work: Work,
) -> None:
    """Ack with a "working" view, check who is asking, do the work once, show its outcome."""
    # Asking Slack who this is, and NLPearl, may take longer than an ack may wait.
    await ack(response_action="update", view=views.loading_modal(title, doing))
    where = where_of(request)
    actor = await actor_of(client, services.engine, where.workspace, where.user_id)
    # The view's ID is the same for every submission of this form, retries included.
    key = f"{where.workspace.team_id}:{view['id']}"
    await fill_view(client, view["id"], title, work(where, actor, key))
