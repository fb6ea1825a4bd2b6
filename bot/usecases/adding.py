"""Use case: adding a lead to a campaign from Slack, without adding a twin by mistake."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from bot.blocks import lead_actions as action_blocks
from bot.blocks import messages
from bot.blocks.ids import AddDraft, CardRef
from bot.blocks.lead_forms import duplicate_blocks
from bot.blocks.text import MAX_MESSAGE_BLOCKS
from bot.nlpearl.changes import NewLead
from bot.nlpearl.errors import NLPearlError, NotFound, Unconfirmed
from bot.storage import actions as audit
from bot.storage.rows import ActionRecord
from bot.usecases.acting import why_failed
from bot.usecases.cards import CardAnswer, card_answer
from bot.usecases.permissions import Actor
from bot.usecases.services import Services, Where

logger = logging.getLogger(__name__)

Surface = Literal["message", "modal"]


@dataclass(frozen=True)
class Added:
    """How adding went, for the person: a message (or, for a modal, what to show in it)."""

    outcome: Literal["added", "twin", "denied", "failed", "already"]
    message: dict[str, Any]
    # The card of the lead (the new one, or its twin), when there is one.
    card: CardAnswer | None = None


async def add_lead(
    services: Services,
    where: Where,
    actor: Actor,
    draft: AddDraft,
    *,
    check_twin: bool,
    key: str | None,
    surface: Surface = "message",
) -> Added:
    """Add the lead unless its number is already in the campaign (shown instead), once per key."""
    record = _recorder(services, where, actor, draft)
    if not actor.may_act:
        if actor.unknown:
            return Added("denied", _cant_check())
        await audit.record(services.engine, record("denied", detail="no right to act"))
        return Added("denied", action_blocks.denied_message())
    if check_twin and (twin := await _twin(services, draft, surface)) is not None:
        return twin
    if key is not None and (earlier := await audit.claim(services.engine, key, record("pending"))):
        return Added("already", _already_added(earlier))
    new = NewLead(
        phone_number=draft.phone_number,
        external_id=draft.external_id,
        time_zone_id=draft.time_zone_id,
        call_data=dict(draft.call_data) or None,
    )
    try:
        lead_id = await services.nlpearl.add_lead(draft.campaign_id, new)
    except NLPearlError as exc:
        return await _not_added(services, record, key, new, exc)
    await _finish(services, record, key, "applied", changes=new.body(), lead_id=lead_id)
    return await _show_new(services, draft, lead_id, surface)


def _recorder(services: Services, where: Where, actor: Actor, draft: AddDraft) -> Any:
    def record(result: str, **fields: Any) -> ActionRecord:
        return ActionRecord(
            workspace=where.workspace,
            user_id=actor.user_id,
            campaign_id=draft.campaign_id,
            lead_id=fields.pop("lead_id", None) or "",
            action="add",
            before_status=None,
            result=result,
            at=services.now(),
            **fields,
        )

    return record


async def _finish(
    services: Services, record: Any, key: str | None, result: str, **fields: Any
) -> None:
    """Complete the claimed record, or write one when there was no key to claim."""
    lead_id = fields.pop("lead_id", None)
    if key is None:
        await audit.record(services.engine, record(result, lead_id=lead_id, **fields))
        return
    await audit.finish(
        services.engine, key, result=result, at=services.now(), lead_id=lead_id, **fields
    )


async def _twin(services: Services, draft: AddDraft, surface: Surface) -> Added | None:
    """The lead this number already is in the campaign, if any; the card says so."""
    ref = CardRef(campaign_id=draft.campaign_id, kind="phone", key=draft.phone_number)
    answer = await card_answer(services, ref, surface=surface)
    if answer.found:
        return Added("twin", duplicate_blocks(answer.message, draft), answer)
    if answer.problem and "No such lead" not in answer.problem:
        # Not knowing whether it exists is not a reason to add a twin: say why and stop.
        return Added("failed", answer.message)
    return None


async def _not_added(
    services: Services, record: Any, key: str | None, new: NewLead, exc: NLPearlError
) -> Added:
    logger.info("NLPearl did not add a lead: %s", exc)
    if isinstance(exc, Unconfirmed):
        await _finish(services, record, key, "unconfirmed", changes=new.body(), detail=str(exc))
        return Added(
            "failed",
            messages.notice(
                "⏳",
                "NLPearl didn't confirm",
                "NLPearl didn't answer in time, so the lead may or may not have been added. "
                "Look the number up before adding it again.",
            ),
        )
    why = why_failed(exc)
    if isinstance(exc, NotFound):
        why = "NLPearl has no such campaign"
    await _finish(services, record, key, "failed", changes=new.body(), detail=why)
    return Added(
        "failed", messages.notice("⚠️", "Couldn't add the lead", f"{why}. Nothing was added.")
    )


async def _show_new(
    services: Services, draft: AddDraft, lead_id: str | None, surface: Surface
) -> Added:
    """The new lead's card, under a line saying it was added."""
    ref = (
        CardRef(campaign_id=draft.campaign_id, kind="id", key=lead_id)
        if lead_id
        else CardRef(campaign_id=draft.campaign_id, kind="phone", key=draft.phone_number)
    )
    answer = await card_answer(services, ref, surface=surface)
    done = messages.notice("➕", "Added to the campaign", "NLPearl will call as the campaign runs.")
    if not answer.found:
        return Added("added", done)
    message = {
        "text": answer.message["text"],
        "blocks": [*done["blocks"], *answer.message["blocks"]][:MAX_MESSAGE_BLOCKS],
    }
    return Added("added", message, answer)


def _already_added(earlier: ActionRecord) -> dict[str, Any]:
    if earlier.result == "pending":
        detail = "Lead Bot is adding this lead right now."
    elif earlier.result == "applied":
        detail = "This lead was already added; it was not added twice."
    else:
        detail = "This was already tried. Start again to retry."
    return messages.notice("👌", "Already done", detail)


def _cant_check() -> dict[str, Any]:
    return messages.notice(
        "⚠️",
        "Couldn't check your permission",
        "Slack didn't say who you are just now, so nothing was added. Try again in a minute.",
    )
