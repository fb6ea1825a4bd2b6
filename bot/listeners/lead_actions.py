"""Acting on a lead: the card's action button and menu, the confirmation and the edit form."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import ActionId, ActRef, BlockId, CardRef, Pending, ViewId
from bot.listeners.inflight import Track
from bot.listeners.request import fill_view, in_modal, open_loading, read_ref, where_of
from bot.listeners.submission import run_submission
from bot.nlpearl.models import Lead
from bot.parsing.lead_form import read_edit_form
from bot.usecases.acting import confirm, pending_from_click, save_edit, view_for_click
from bot.usecases.permissions import Actor, actor_of
from bot.usecases.services import Services, Where

BAD_ACTION = views.notice_modal(
    "Lead Bot",
    messages.notice(
        "⚠️", "That didn't work", "Look the lead up again and use the card's buttons from there."
    ),
)


def _card_ref_in(blocks: list[dict[str, Any]]) -> CardRef | None:
    """The card a message shows, read off its Refresh button (which carries the card's ref)."""
    for block in blocks:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == ActionId.REFRESH_CARD:
                return read_ref(CardRef, element.get("value"))
    return None


def _pending(act: ActRef, body: dict[str, Any], request: AsyncBoltRequest) -> Pending:
    """The action, and where the clicked card is so it can be redrawn in place."""
    if act.origin == "feed":
        # The feed's message is redrawn from its thread's snapshot, not as a card.
        container = body.get("container") or {}
        clicked = (str(container.get("channel_id") or ""), str(container.get("message_ts") or ""))
        return pending_from_click(act, None, message=clicked if all(clicked) else None)
    if in_modal(request):
        view = body["view"]
        # Only a card modal has a card to redraw; a list (the leads needing attention) has not.
        shows_card = view.get("callback_id") == ViewId.CARD
        card = read_ref(CardRef, view.get("private_metadata")) if shows_card else None
        return pending_from_click(act, card, view_id=view.get("id") if card else None)
    # Slack sends the message only when it is not ephemeral; an ephemeral card is never shared.
    message = body.get("message") or {}
    card = _card_ref_in(message.get("blocks") or []) or CardRef(
        campaign_id=act.campaign_id,
        kind="id",
        key=act.lead_id,
        # A channel's message without its Refresh button: masked, as a shared card is.
        shared_by=None if (body.get("container") or {}).get("is_ephemeral", True) else "someone",
    )
    return pending_from_click(act, card, response_url=body.get("response_url"))


def _as_shown(view: dict[str, Any]) -> Lead:
    """The lead as the edit form showed it, from its inputs' initial values."""
    # Enough to check formats before the ack: an untouched phone is the one NLPearl has, even
    # one it could not call, and clearing an external ID the lead has is refused.
    shown: dict[str, str] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if isinstance(block, dict) else None
        if isinstance(element, dict) and isinstance(element.get("initial_value"), str):
            shown[str(block.get("block_id"))] = element["initial_value"]
    return Lead(
        phone_number=shown.get(BlockId.PHONE.value),
        external_id=shown.get(BlockId.EXTERNAL_ID.value),
    )


async def handle_lead_action(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Open a view at once, then fill it: a confirmation, the edit form, or why not."""
    await ack()
    value = action.get("value") or (action.get("selected_option") or {}).get("value")
    view_id = await open_loading(body, request, client, "Lead Bot", "Checking the lead…")
    act = read_ref(ActRef, value)
    if act is None:
        await client.views_update(view_id=view_id, view=BAD_ACTION)
        return
    where = where_of(request)
    actor = await actor_of(client, services.engine, where.workspace, where.user_id)
    work = view_for_click(services, where, actor, _pending(act, body, request))
    await fill_view(client, view_id, "Lead Bot", work)


async def handle_confirm_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Apply the confirmed change, once, and show how it went in the same modal."""
    pending = read_ref(Pending, view.get("private_metadata"))
    if pending is None:
        await ack(response_action="update", view=BAD_ACTION)
        return

    def work(where: Where, actor: Actor, key: str) -> Awaitable[dict[str, Any]]:
        return confirm(services, client, where, actor, pending, key)

    await run_submission(
        ack, view, request, client, services, title="Lead Bot", doing="Working…", work=work
    )


async def handle_edit_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Check the form's fields in place, then save what changed."""
    pending = read_ref(Pending, view.get("private_metadata"))
    if pending is None:
        await ack(response_action="update", view=BAD_ACTION)
        return
    values = (view.get("state") or {}).get("values") or {}
    # Formats need no lead to check, so errors show under their fields at once.
    checked = read_edit_form(values, _as_shown(view))
    if checked.errors:
        await ack(response_action="errors", errors=checked.errors)
        return

    def work(where: Where, actor: Actor, key: str) -> Awaitable[dict[str, Any]]:
        return save_edit(services, client, where, actor, pending, values, key)

    await run_submission(
        ack, view, request, client, services, title="Edit lead", doing="Saving…", work=work
    )


def register(app: AsyncApp, track: Track) -> None:
    """Listen for the lead's actions and their confirmation and edit forms."""
    app.action(ActionId.LEAD_PRIMARY.value)(track(handle_lead_action))
    app.action(ActionId.LEAD_MENU.value)(track(handle_lead_action))
    app.view(ViewId.CONFIRM_ACTION.value)(track(handle_confirm_submission))
    app.view(ViewId.EDIT_LEAD.value)(track(handle_edit_submission))
