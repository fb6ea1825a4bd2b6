"""Adding a lead: the "Add a lead" and "Add to a campaign" shortcuts, their form, "Add anyway"."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import ActionId, AddDraft, ViewId
from bot.blocks.lead_actions import denied_view
from bot.blocks.lead_forms import add_lead_view, duplicate_view
from bot.listeners.inflight import Track
from bot.listeners.request import open_loading, read_ref, where_of
from bot.listeners.submission import run_submission
from bot.parsing.lead_form import read_add_form
from bot.parsing.message_leads import AddPrefill, prefill_from_message
from bot.storage.memory import last_campaign
from bot.usecases.adding import add_lead
from bot.usecases.permissions import Actor, actor_of
from bot.usecases.services import Services, Where

TITLE = "Add a lead"
BAD_FORM = messages.notice("⚠️", "That didn't work", "Open “Add a lead” again and retry.")


async def _open_form(
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
    prefill: AddPrefill,
) -> None:
    """Open the form at once, then fill it in for someone with the right to act."""
    view_id = await open_loading(body, request, client, TITLE, "Loading…")
    where = where_of(request)
    actor = await actor_of(client, services.engine, where.workspace, where.user_id)
    # Looking is open to everyone; adding is not, and the form says so before it is filled.
    view = (
        add_lead_view(
            await _campaign_block(services, where),
            prefill=prefill,
            private_metadata="",
            now=services.now(),
        )
        if actor.may_act
        else denied_view()
    )
    await client.views_update(view_id=view_id, view=view)


async def _campaign_block(services: Services, where: Where) -> dict[str, Any]:
    """The campaign picker, offering the campaign this person chose last."""
    last = await last_campaign(services.engine, where.workspace, where.user_id or "")
    return views.campaign_input((last.campaign_id, last.name) if last else None)


async def handle_add_shortcut(
    ack: AsyncAck,
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """ "Add a lead" from anywhere: the empty form."""
    await ack()
    await _open_form(body, request, client, services, AddPrefill())


async def handle_add_from_message(
    ack: AsyncAck,
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """ "Add to a campaign" on a message: the form, with the numbers and names it mentions."""
    await ack()
    prefill = prefill_from_message(body.get("message") or {})
    await _open_form(body, request, client, services, prefill)


async def handle_add_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Check the form in place; then add, unless the number is already a lead there."""
    form = read_add_form((view.get("state") or {}).get("values") or {})
    if form.errors or form.value is None:
        await ack(response_action="errors", errors=form.errors)
        return
    campaign_id, new = form.value
    draft = AddDraft(
        campaign_id=campaign_id,
        phone_number=new.phone_number,
        external_id=new.external_id,
        time_zone_id=new.time_zone_id,
        call_data=new.call_data or {},
    )
    await _add_in_modal(ack, view, request, client, services, draft, check_twin=True)


async def handle_duplicate_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """ "Add anyway", after seeing the lead the number already is."""
    draft = read_ref(AddDraft, view.get("private_metadata"))
    if draft is None:
        await ack(response_action="update", view=views.notice_modal(TITLE, BAD_FORM))
        return
    await _add_in_modal(ack, view, request, client, services, draft, check_twin=False)


async def _add_in_modal(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
    draft: AddDraft,
    *,
    check_twin: bool,
) -> None:

    def work(where: Where, actor: Actor, key: str) -> Awaitable[dict[str, Any]]:
        return _added_view(services, where, actor, draft, key, check_twin=check_twin)

    await run_submission(
        ack, view, request, client, services, title=TITLE, doing="Adding the lead…", work=work
    )


async def _added_view(
    services: Services,
    where: Where,
    actor: Actor,
    draft: AddDraft,
    key: str,
    *,
    check_twin: bool,
) -> dict[str, Any]:
    """What the form shows once the lead is added, or its twin, or why not."""
    added = await add_lead(
        services, where, actor, draft, check_twin=check_twin, key=key, surface="modal"
    )
    if added.outcome == "twin" and added.card is not None:
        return duplicate_view(added.card.message, draft)
    if added.outcome == "added" and added.card is not None:
        # A card modal, so the new lead's own buttons (Refresh, its actions) know their card.
        return views.card_modal(added.message, added.card.ref.model_dump_json(exclude_none=True))
    return views.notice_modal(TITLE, added.message)


async def handle_add_anyway(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    request: AsyncBoltRequest,
    respond: AsyncRespond,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """ "Add anyway" under `/lead add`'s answer: add the twin, once, and show its card."""
    await ack()
    value = action.get("value")
    draft = read_ref(AddDraft, value)
    if draft is None:
        await respond(**BAD_FORM, response_type="ephemeral", replace_original=False)
        return
    where = where_of(request)
    actor = await actor_of(client, services.engine, where.workspace, where.user_id)
    # One message, one add: a double click or a retried click finds the claim taken.
    message_ts = (body.get("container") or {}).get("message_ts") or ""
    digest = hashlib.sha256(f"{message_ts}|{value}".encode()).hexdigest()[:32]
    key = f"{where.workspace.team_id}:add:{digest}"
    added = await add_lead(services, where, actor, draft, check_twin=False, key=key)
    # Only the new lead's card takes the twin's place; anything else is said beside it.
    replace = added.outcome == "added"
    await respond(**added.message, response_type="ephemeral", replace_original=replace)


def register(app: AsyncApp, track: Track) -> None:
    """Listen for the add shortcuts, the form and "Add anyway"."""
    app.shortcut(ViewId.ADD_SHORTCUT.value)(track(handle_add_shortcut))
    app.shortcut(ViewId.ADD_FROM_MESSAGE.value)(track(handle_add_from_message))
    app.view(ViewId.ADD_LEAD.value)(track(handle_add_submission))
    app.view(ViewId.ADD_DUPLICATE.value)(track(handle_duplicate_submission))
    app.action(ActionId.ADD_ANYWAY.value)(track(handle_add_anyway))
