"""`/lead`: help, lookups, adding leads, channel subscriptions and daily digests."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages
from bot.blocks.ids import AddDraft, CampaignRef, CardRef
from bot.listeners.inflight import Track
from bot.listeners.request import private_reply, where_of
from bot.parsing.grammar import (
    AddLead,
    Digest,
    Help,
    Invalid,
    ListSubscriptions,
    Lookup,
    ShowCampaign,
    StopDigest,
    Subscribe,
    Unsubscribe,
    parse_command,
)
from bot.usecases.adding import add_lead
from bot.usecases.campaign_card import campaign_message
from bot.usecases.cards import Reply, show_card
from bot.usecases.digest_subscribing import digest_here, stop_digest_here
from bot.usecases.permissions import actor_of
from bot.usecases.services import Services, Where
from bot.usecases.subscribing import list_here, subscribe_here, unsubscribe_here

MAX_COMMAND_TEXT = 1000
# The commands answered through response_url, after the ack.
Answered = (
    Subscribe
    | Unsubscribe
    | ListSubscriptions
    | Lookup
    | AddLead
    | ShowCampaign
    | Digest
    | StopDigest
)


async def handle_lead_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    request: AsyncBoltRequest,
    services: Services,
) -> None:
    """Acknowledge at once; answer help and usage problems in the ack, the rest via response_url."""
    text = command.get("text") or ""
    name = command.get("command") or "/lead"
    parsed = parse_command(text) if len(text) <= MAX_COMMAND_TEXT else Invalid("That is too long.")
    if isinstance(parsed, Help):
        await ack(**messages.help_message(name))
    elif isinstance(parsed, Invalid):
        await ack(**messages.usage_problem(parsed.problem, name, parsed.usage))
    else:
        await ack()
        await _answer(parsed, private_reply(respond), client, where_of(request), services)


async def _answer(
    parsed: Answered,
    reply: Reply,
    client: AsyncWebClient,
    where: Where,
    services: Services,
) -> None:
    """Run what the command asks for and reply privately."""
    match parsed:
        case Subscribe(campaign_id=campaign_id, statuses=names):
            await reply(await subscribe_here(services, client, where, campaign_id, names))
        case Unsubscribe(campaign_id=campaign_id):
            await reply(await unsubscribe_here(services, where, campaign_id))
        case ListSubscriptions():
            await reply(await list_here(services, where))
        case Lookup(campaign_id=campaign_id, key=key):
            ref = CardRef(campaign_id=campaign_id, kind=key.kind, key=key.value)
            await show_card(services, where, ref, reply)
        case AddLead():
            await reply(await _add(parsed, client, where, services))
        case ShowCampaign(campaign_id=campaign_id):
            await reply(
                await campaign_message(services, where, CampaignRef(campaign_id=campaign_id))
            )
        case Digest(campaign_id=campaign_id, at_time=at_time):
            await reply(await digest_here(services, client, where, campaign_id, at_time))
        case StopDigest(campaign_id=campaign_id):
            await reply(await stop_digest_here(services, client, where, campaign_id))


async def _add(
    parsed: AddLead, client: AsyncWebClient, where: Where, services: Services
) -> dict[str, Any]:
    """Add the lead the command describes (the twin's card instead, if the number is there)."""
    actor = await actor_of(client, services.engine, where.workspace, where.user_id)
    draft = AddDraft(
        campaign_id=parsed.campaign_id,
        phone_number=parsed.phone,
        external_id=parsed.external_id,
        call_data=dict(parsed.call_data),
    )
    # Slack does not retry slash commands, so there is no second delivery to guard against.
    added = await add_lead(services, where, actor, draft, check_twin=True, key=None)
    return added.message


def register(app: AsyncApp, track: Track) -> None:
    """Listen for `/lead`."""
    app.command("/lead")(track(handle_lead_command))
