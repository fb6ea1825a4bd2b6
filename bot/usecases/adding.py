"""Use case: adding a lead to a campaign from Slack, without adding a twin by mistake."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bot.blocks import lead_actions as action_blocks
from bot.blocks import messages
from bot.blocks.ids import AddDraft, CardRef
from bot.blocks.lead_forms import duplicate_blocks
from bot.blocks.text import MAX_MESSAGE_BLOCKS, prose
from bot.nlpearl.changes import NewLead
from bot.nlpearl.errors import NLPearlError, NotFound, Unconfirmed
from bot.storage import actions as audit
from bot.storage.rows import ActionRecord
from bot.usecases.acting import already_done, cant_check, settled, why_failed
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
        why = "Slack could not say who this is" if actor.unknown else "no right to act"
        await audit.record(services.engine, record("denied", detail=why))
        refusal = cant_check("added") if actor.unknown else action_blocks.denied_message()
        return Added("denied", refusal)
    if check_twin and (twin := await _twin(services, draft, surface)) is not None:
        return twin
    if key is None:
        return await _add(services, record, None, draft, surface)
    if earlier := await audit.claim(services.engine, key, record("pending")):
        return Added("already", already_done(earlier, "addition"))
    async with settled(services, key):
        return await _add(services, record, key, draft, surface)


async def _add(
    services: Services, record: Recorder, key: str | None, draft: AddDraft, surface: Surface
) -> Added:
    """Send the lead to NLPearl; record and show what came of it."""
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


# Makes the audit record of this addition with a result and any further fields.
Recorder = Callable[..., ActionRecord]


def _recorder(services: Services, where: Where, actor: Actor, draft: AddDraft) -> Recorder:
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
    services: Services, record: Recorder, key: str | None, result: str, **fields: Any
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
    if not answer.missing:
        # Not knowing whether it exists is not a reason to add a twin: say why and stop.
        return Added("failed", answer.message)
    return None


async def _not_added(
    services: Services, record: Recorder, key: str | None, new: NewLead, exc: NLPearlError
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
    # NLPearl's own words are in `why`: escaped, like every outside text shown as mrkdwn.
    shown = prose(why, action_blocks.WHY_CHARS)
    return Added(
        "failed", messages.notice("⚠️", "Couldn't add the lead", f"{shown}. Nothing was added.")
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
