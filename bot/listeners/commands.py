"""`/lead`: help, lookups, and channel subscriptions."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages
from bot.blocks.ids import CardRef
from bot.listeners.inflight import Track
from bot.parsing.grammar import (
    Help,
    Invalid,
    ListSubscriptions,
    Lookup,
    Subscribe,
    Unsubscribe,
    parse_command,
)
from bot.storage.rows import Workspace
from bot.usecases.cards import lead_card_answer
from bot.usecases.modals import remember
from bot.usecases.services import Services
from bot.usecases.subscribing import Where, list_here, subscribe_here, unsubscribe_here

MAX_COMMAND_TEXT = 1000
# A host name or IP address (IPv6 in brackets), with an optional port.
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def _where(command: dict[str, Any], request: AsyncBoltRequest) -> Where:
    workspace = Workspace(
        team_id=command.get("team_id") or "", enterprise_id=command.get("enterprise_id") or ""
    )
    return Where(
        workspace=workspace,
        channel_id=command.get("channel_id") or "",
        user_id=command.get("user_id"),
        public_url=public_url_of(request),
    )


def public_url_of(request: AsyncBoltRequest) -> str | None:
    """The app's public base URL as Slack reached it (None over Socket Mode)."""
    # Only Host: a request reaches the app through its router only for a host the app
    # serves, while a client sets X-Forwarded-Host and -Proto to anything. Slack calls https.
    hosts = request.headers.get("host") or []
    if not hosts or request.mode == "socket_mode":
        return None
    host = hosts[0].strip()
    return f"https://{host}" if _HOST.fullmatch(host) else None


async def handle_lead_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    request: AsyncBoltRequest,
    services: Services,
) -> None:
    """Acknowledge at once; answer help and usage problems in the ack, lookups via response_url."""
    text = command.get("text") or ""
    name = command.get("command") or "/lead"
    parsed = parse_command(text) if len(text) <= MAX_COMMAND_TEXT else Invalid("That is too long.")
    match parsed:
        case Help():
            await ack(**messages.help_message(name))
        case Invalid(problem=problem):
            await ack(**messages.usage_problem(problem, name))
        case Subscribe(campaign_id=campaign_id, statuses=names):
            await ack()
            where = _where(command, request)
            reply = await subscribe_here(services, client, where, campaign_id, names)
            await respond(**reply, response_type="ephemeral", replace_original=False)
        case Unsubscribe(campaign_id=campaign_id):
            await ack()
            reply = await unsubscribe_here(services, _where(command, request), campaign_id)
            await respond(**reply, response_type="ephemeral", replace_original=False)
        case ListSubscriptions():
            await ack()
            reply = await list_here(services, _where(command, request))
            await respond(**reply, response_type="ephemeral", replace_original=False)
        case Lookup(campaign_id=campaign_id, key=key):
            await ack()
            ref = CardRef(campaign_id=campaign_id, kind=key.kind, key=key.value)
            answer = await lead_card_answer(
                services.nlpearl,
                ref,
                now=services.now(),
                mask_shared=services.settings.mask_shared_phone_numbers,
            )
            await respond(**answer.message, response_type="ephemeral", replace_original=False)
            where = _where(command, request)
            name = answer.report.campaign_name if answer.report else None
            await remember(services, where.workspace, where.user_id, answer, name)


def register(app: AsyncApp, track: Track) -> None:
    """Listen for `/lead`."""
    app.command("/lead")(track(handle_lead_command))
