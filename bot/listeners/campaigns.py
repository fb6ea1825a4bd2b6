"""The campaign card's buttons, and those that open it in a modal (lookup form, Home tab)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import messages, views
from bot.blocks.ids import (
    ActionId,
    AttentionRef,
    BlockId,
    CampaignPending,
    CampaignRef,
    ViewId,
)
from bot.listeners.inflight import Track
from bot.listeners.request import fill_view, in_modal, open_loading, read_ref, where_of
from bot.listeners.submission import run_submission
from bot.usecases.attention import attention_view
from bot.usecases.campaign_card import campaign_answer, confirm, view_for_click
from bot.usecases.permissions import Actor, actor_of
from bot.usecases.services import Services, Where

logger = logging.getLogger(__name__)

TITLE = "Campaign"
BAD_BUTTON = messages.notice(
    "⚠️", "That button didn't work", "Show the campaign again with `/lead campaign CAMPAIGN_ID`."
)


async def handle_refresh(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    request: AsyncBoltRequest,
    respond: AsyncRespond,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Draw the campaign again in place: the message, or the modal it is shown in."""
    await ack()
    ref = read_ref(CampaignRef, action.get("value"))
    if in_modal(request):
        # A modal has no response_url: the card is redrawn with views.update instead.
        view_id = body["view"]["id"]
        if ref is None:
            await _bad_button(client, view_id)
            return
        await fill_view(client, view_id, TITLE, _campaign_view(services, request, ref))
        return
    if ref is None:
        await respond(**BAD_BUTTON, response_type="ephemeral", replace_original=False)
        return
    answer = await campaign_answer(services, where_of(request), ref)
    if not answer.found:
        # The card stays where it is (its Refresh with it); the problem goes to the clicker.
        await respond(**answer.message, response_type="ephemeral", replace_original=False)
        return
    refreshed = await respond(**answer.message, replace_original=True)
    if refreshed.status_code != 200:
        logger.warning("Slack refused the refreshed campaign card: HTTP %s", refreshed.status_code)


async def handle_share(
    ack: AsyncAck,
    action: dict[str, Any],
    request: AsyncBoltRequest,
    respond: AsyncRespond,
    services: Services,
) -> None:
    """Post the card for the whole channel, saying who shared it, then drop the private copy."""
    await ack()
    ref = read_ref(CampaignRef, action.get("value"))
    where = where_of(request)
    if ref is None:
        await respond(**BAD_BUTTON, response_type="ephemeral", replace_original=False)
        return
    shared = ref.model_copy(update={"shared_by": where.user_id})
    answer = await campaign_answer(services, where, shared)
    if not answer.found:
        # Never post a problem notice for the whole channel: tell the person who shared.
        await respond(**answer.message, response_type="ephemeral", replace_original=False)
        return
    posted = await respond(**answer.message, response_type="in_channel", replace_original=False)
    if posted.status_code == 200:
        await respond(delete_original=True)
        return
    logger.warning("Slack refused the shared campaign card: HTTP %s", posted.status_code)
    refused = messages.notice("⚠️", "Couldn't share", "Slack didn't accept the card. Try again.")
    await respond(**refused, response_type="ephemeral", replace_original=False)


async def handle_pause_or_resume(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Open a view at once, then fill it: the confirmation, or why not."""
    await ack()
    view_id = await open_loading(body, request, client, TITLE, "Checking…")
    ref = read_ref(CampaignRef, action.get("value"))
    if ref is None:
        await _bad_button(client, view_id)
        return
    pending = CampaignPending(
        campaign_id=ref.campaign_id,
        active=action.get("action_id") == ActionId.CAMPAIGN_RESUME,
        seen_status=ref.seen_status,
        response_url=body.get("response_url"),
        shared_by=ref.shared_by,
    )
    where = where_of(request)
    actor = await actor_of(client, services.engine, where.workspace, where.user_id)
    await fill_view(client, view_id, TITLE, view_for_click(services, where, actor, pending))


async def handle_confirm_submission(
    ack: AsyncAck,
    view: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Pause or resume, once, and show how it went in the same modal."""
    pending = read_ref(CampaignPending, view.get("private_metadata"))
    if pending is None:
        await ack(response_action="update", view=views.notice_modal(TITLE, BAD_BUTTON))
        return

    def work(where: Where, actor: Actor, key: str) -> Awaitable[dict[str, Any]]:
        return confirm(services, client, where, actor, pending, key)

    await run_submission(
        ack, view, request, client, services, title=TITLE, doing="Working…", work=work
    )


async def handle_attention(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Open the list of leads needing attention: a loading modal at once, then the first page."""
    await ack()
    view_id = await open_loading(body, request, client, "Needs attention", "Loading…")
    await _show_attention(client, services, request, view_id, action)


async def handle_attention_page(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """Another page of the list, in the same modal."""
    await ack()
    await _show_attention(client, services, request, body["view"]["id"], action)


async def _show_attention(
    client: AsyncWebClient,
    services: Services,
    request: AsyncBoltRequest,
    view_id: str,
    action: dict[str, Any],
) -> None:
    ref = read_ref(AttentionRef, action.get("value"))
    if ref is None:
        await _bad_button(client, view_id)
        return
    work = attention_view(services, client, where_of(request), ref)
    await fill_view(client, view_id, "Needs attention", work)


async def handle_show_picked_campaign(
    ack: AsyncAck,
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """The lookup form's "Show campaign": the picked campaign's card, pushed onto the form."""
    await ack()
    campaign_id = _picked_campaign(body.get("view") or {})
    if not campaign_id:
        await client.views_push(trigger_id=body["trigger_id"], view=views.pick_a_campaign_first())
        return
    view_id = await open_loading(body, request, client, TITLE, "Loading the campaign…")
    ref = CampaignRef(campaign_id=campaign_id)
    await fill_view(client, view_id, TITLE, _campaign_view(services, request, ref))


async def handle_home_campaign(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    request: AsyncBoltRequest,
    client: AsyncWebClient,
    services: Services,
) -> None:
    """A Home tab campaign's "Show campaign": its card in a modal."""
    await ack()
    view_id = await open_loading(body, request, client, TITLE, "Loading the campaign…")
    ref = read_ref(CampaignRef, action.get("value"))
    if ref is None:
        await _bad_button(client, view_id)
        return
    await fill_view(client, view_id, TITLE, _campaign_view(services, request, ref))


async def _bad_button(client: AsyncWebClient, view_id: str) -> None:
    """A button whose value can't be read: say so in the modal it opened."""
    await client.views_update(view_id=view_id, view=views.notice_modal(TITLE, BAD_BUTTON))


def _picked_campaign(view: dict[str, Any]) -> str:
    """The campaign in the lookup form's picker now: Slack sends the form's state with a click."""
    values = (view.get("state") or {}).get("values") or {}
    picker = (values.get(BlockId.CAMPAIGN) or {}).get(ActionId.CAMPAIGN)
    if picker is None:
        # Untouched, the picker may have no state yet: it still shows the form's initial option.
        picker = _initial_picker(view)
    option = picker.get("selected_option") or {}
    value = option.get("value")
    return value.strip() if isinstance(value, str) else ""


def _initial_picker(view: dict[str, Any]) -> dict[str, Any]:
    """The picker as the form was drawn, its initial option as if selected."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("block_id") == BlockId.CAMPAIGN:
            element = block.get("element") or {}
            return {"selected_option": element.get("initial_option")}
    return {}


async def _campaign_view(
    services: Services, request: AsyncBoltRequest, ref: CampaignRef
) -> dict[str, Any]:
    """The campaign's card as a modal, as `/lead campaign` shows it, or why there is none."""
    answer = await campaign_answer(services, where_of(request), ref)
    if answer.found:
        return views.campaign_modal(answer.message)
    return views.notice_modal(TITLE, answer.message)


def register(app: AsyncApp, track: Track) -> None:
    """Listen for the campaign card's buttons, its confirmation, and the buttons that open it."""
    app.action(ActionId.CAMPAIGN_REFRESH.value)(track(handle_refresh))
    app.action(ActionId.CAMPAIGN_SHARE.value)(track(handle_share))
    app.action(ActionId.CAMPAIGN_PAUSE.value)(track(handle_pause_or_resume))
    app.action(ActionId.CAMPAIGN_RESUME.value)(track(handle_pause_or_resume))
    app.view(ViewId.CONFIRM_CAMPAIGN.value)(track(handle_confirm_submission))
    app.action(ActionId.CAMPAIGN_ATTENTION.value)(track(handle_attention))
    pager = re.compile(rf"^{re.escape(ActionId.ATTENTION_PAGE.value)}\.(prev|next)$")
    app.action(pager)(track(handle_attention_page))
    app.action(ActionId.LOOKUP_SHOW_CAMPAIGN.value)(track(handle_show_picked_campaign))
    home = re.compile(rf"^{re.escape(ActionId.HOME_CAMPAIGN.value)}\.\w+$")
    app.action(home)(track(handle_home_campaign))
