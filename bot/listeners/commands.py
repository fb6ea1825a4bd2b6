"""`/lead`: help, lookups and (later) channel subscriptions."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.blocks import messages
from bot.cards import lead_card_answer
from bot.grammar import (
    Help,
    Invalid,
    ListSubscriptions,
    Lookup,
    Subscribe,
    Unsubscribe,
    parse_command,
)
from bot.ids import CardRef
from bot.services import Services

MAX_COMMAND_TEXT = 1000


async def handle_lead_command(
    ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, services: Services
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
        case Subscribe() | Unsubscribe() | ListSubscriptions():
            await ack(**messages.not_available_yet("Channel subscriptions"))
        case Lookup(campaign_id=campaign_id, key=key):
            await ack()
            ref = CardRef(campaign_id=campaign_id, kind=key.kind, key=key.value)
            answer = await lead_card_answer(services.nlpearl, ref, now=services.now(), mask=False)
            await respond(**answer.message, response_type="ephemeral", replace_original=False)


def register(app: AsyncApp) -> None:
    """Listen for `/lead`."""
    app.command("/lead")(handle_lead_command)
