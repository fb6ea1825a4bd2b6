"""Shortcuts: "Look up a lead" from anywhere, and "Look up lead" on a message."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import views
from bot.blocks.ids import CardRef, ViewId
from bot.listeners.inflight import Track
from bot.parsing.finder import find_leads, message_text
from bot.storage.memory import last_campaign
from bot.storage.rows import Workspace
from bot.usecases.cards import lead_card_answer
from bot.usecases.modals import remember
from bot.usecases.services import Services


def workspace_of(body: dict[str, Any]) -> Workspace:
    """The workspace a request comes from."""
    team = body.get("team") or {}
    enterprise = body.get("enterprise") or {}
    return Workspace(
        team_id=team.get("id") or body.get("team_id") or "",
        enterprise_id=(enterprise.get("id") if isinstance(enterprise, dict) else None)
        or body.get("enterprise_id")
        or "",
    )


async def lookup_form(
    services: Services,
    body: dict[str, Any],
    *,
    campaign: tuple[str, str | None] | None = None,
    key: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The lookup modal; without a campaign given, it offers the one this person chose last."""
    if campaign is None:
        user_id = (body.get("user") or {}).get("id", "")
        last = await last_campaign(services.engine, workspace_of(body), user_id)
        campaign = (last.campaign_id, last.name) if last else None
    return views.lookup_modal(campaign=campaign, key=key, note=note)


async def handle_global_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, services: Services
) -> None:
    """Open the lookup modal at once."""
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=await lookup_form(services, body))


async def handle_message_shortcut(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    services: Services,
) -> None:
    """One lead in the message: its card, privately. Several: a picker. None: the form."""
    await ack()
    found = find_leads(message_text(body.get("message") or {}))
    if len(found.leads) > 1:
        await client.views_open(
            trigger_id=body["trigger_id"], view=views.pick_modal(list(found.leads))
        )
        return
    if len(found.leads) == 1:
        campaign_id, key = found.leads[0]
        ref = CardRef(campaign_id=campaign_id, kind=key.kind, key=key.value)
        answer = await lead_card_answer(
            services.nlpearl,
            ref,
            now=services.now(),
            mask_shared=services.settings.mask_shared_phone_numbers,
        )
        await respond(**answer.message, response_type="ephemeral", replace_original=False)
        user_id = (body.get("user") or {}).get("id")
        await remember(services, workspace_of(body), user_id, answer, None)
        return
    partly = bool(found.campaigns or found.keys)
    form = await lookup_form(
        services,
        body,
        campaign=(found.campaigns[0], None) if found.campaigns else None,
        key=found.keys[0].value if found.keys else None,
        note="I found part of a lead in that message; fill in the rest." if partly else None,
    )
    await client.views_open(trigger_id=body["trigger_id"], view=form)


def register(app: AsyncApp, track: Track) -> None:
    """Listen for both shortcuts."""
    app.shortcut(ViewId.GLOBAL_SHORTCUT.value)(track(handle_global_shortcut))
    app.shortcut(ViewId.MESSAGE_SHORTCUT.value)(track(handle_message_shortcut))
