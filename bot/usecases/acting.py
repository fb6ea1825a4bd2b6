"""Use case: changing a lead in NLPearl from Slack, safely.

A click opens a view (refusal, confirmation, the edit form, or "it changed, ask again"); a
submission applies the change once, with NLPearl's answer as the truth, then redraws the card
that was clicked and notes the change in the lead's channel threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.blocks import lead_actions as action_blocks
from bot.blocks import messages, views
from bot.blocks.ids import ActRef, CardRef, Pending
from bot.blocks.lead_forms import edit_lead_view
from bot.blocks.notifications import parent_message
from bot.blocks.privacy import PRIVATE
from bot.blocks.text import MAX_VIEW_BLOCKS, one_line, prose
from bot.blocks.values import lead_name
from bot.nlpearl.changes import LeadUpdate
from bot.nlpearl.errors import (
    BadCredentials,
    NLPearlError,
    NotConnected,
    NotFound,
    RateLimited,
    Rejected,
    Unconfirmed,
)
from bot.nlpearl.lead_actions import EFFECTS, Verb, offered
from bot.nlpearl.models import Lead
from bot.nlpearl.names import campaign_or_none
from bot.parsing.lead_form import fingerprint, read_edit_form
from bot.parsing.slack_errors import SLACK_FAILURES, classify
from bot.parsing.webhooks import lead_keys_of
from bot.records import LeadReport, LeadSnapshot
from bot.storage import actions as audit
from bot.storage.rows import ActionRecord
from bot.storage.threads import LeadThread, set_snapshot_fields, thread_at, threads_of_lead
from bot.usecases.cards import card_of
from bot.usecases.lookup import CALLS_ON_CARD, fetch_latest_calls
from bot.usecases.modals import card_view
from bot.usecases.permissions import Actor
from bot.usecases.services import Services, Where

logger = logging.getLogger(__name__)

UNEXPECTED = "Lead Bot hit an unexpected error part-way"


def cant_check(what: str) -> dict[str, Any]:
    """Slack could not say who the person is: nothing was done, and trying again may work."""
    return messages.notice(
        "⚠️",
        "Couldn't check your permission",
        f"Slack didn't say who you are just now, so nothing was {what}. Try again in a minute.",
    )


def already_done(earlier: ActionRecord, what: str) -> dict[str, Any]:
    """A second submission of the same form (a double click, a retry): what the first did."""
    if earlier.result == "pending":
        detail = f"Lead Bot is working on this {what} right now; the card updates when it's done."
    elif earlier.result == "applied":
        detail = f"This {what} was already made; it was not sent again."
    else:
        detail = f"This {what} was already tried. Open the card again to retry."
    return messages.notice("👌", "Already done", detail)


def shown(label: str) -> str:
    """A lead's label (outside text) as it may appear in mrkdwn."""
    return prose(one_line(label), 150)


def lead_label(lead: Lead) -> str:
    """Who the lead is, for a confirmation: the name, else the number, external ID or ID."""
    return (
        lead_name(lead) or PRIVATE.phone(lead.phone_number) or lead.external_id or lead.id or "lead"
    )


def why_failed(exc: NLPearlError) -> str:
    """What went wrong with NLPearl, in words for the person who acted."""
    if isinstance(exc, Rejected):
        reason = f" ({exc.reason})" if exc.reason else ""
        return f"NLPearl refused the change{reason}"
    if isinstance(exc, NotFound):
        return "NLPearl no longer has this lead"
    if isinstance(exc, NotConnected):
        return "this workspace hasn't connected NLPearl yet; an admin can, from Lead Bot's Home tab"
    if isinstance(exc, BadCredentials):
        mend = (
            "connect NLPearl again on Lead Bot's Home tab" if exc.fix else "check NLPEARL_API_KEY"
        )
        return f"NLPearl rejected Lead Bot's API key; an admin should {mend}"
    if isinstance(exc, RateLimited):
        return "NLPearl is busy right now; try again in a minute"
    if isinstance(exc, Unconfirmed):
        return "NLPearl didn't confirm it in time"
    return "NLPearl isn't responding right now; try again in a minute"


def _unconfirmed_notice(verb: Verb, label: str) -> dict[str, Any]:
    # "Nothing was changed" would be a claim we cannot make here.
    return messages.notice(
        "⏳",
        f"NLPearl didn't confirm: {EFFECTS[verb].label.lower()}",
        f"NLPearl didn't answer in time, so {shown(label)} may or may not have changed. "
        "Refresh the card to see where things stand before trying again.",
    )


@dataclass(frozen=True)
class Attempt:
    """One action as it is being decided: who, which lead, and what it would change."""

    services: Services
    where: Where
    actor: Actor
    pending: Pending

    @property
    def act(self) -> ActRef:
        """The action and the lead it names."""
        return self.pending.act

    def record(self, result: str, lead: Lead | None = None, **fields: Any) -> ActionRecord:
        """The audit record of this attempt."""
        return ActionRecord(
            workspace=self.where.workspace,
            user_id=self.actor.user_id,
            campaign_id=self.act.campaign_id,
            lead_id=self.act.lead_id,
            action=self.act.verb.value,
            before_status=lead.status if lead else self.act.seen_status,
            result=result,
            at=self.services.now(),
            **fields,
        )


async def _refuse(attempt: Attempt) -> dict[str, Any]:
    """The refusal view, recorded: a person without the right, or one Slack could not name."""
    unknown = attempt.actor.unknown
    detail = (
        "Slack could not say who this is"
        if unknown
        else "not a workspace admin or owner, nor granted the right to act"
    )
    await audit.record(attempt.services.engine, attempt.record("denied", detail=detail))
    if unknown:
        return views.notice_modal("Lead Bot", cant_check("changed"))
    return action_blocks.denied_view()


async def view_for_click(
    services: Services, where: Where, actor: Actor, pending: Pending
) -> dict[str, Any]:
    """What a click on an action opens: a refusal, the confirmation, the edit form, or a retry."""
    attempt = Attempt(services, where, actor, pending)
    if not actor.may_act:
        return await _refuse(attempt)
    try:
        lead = await services.nlpearl.get_lead(pending.act.campaign_id, pending.act.lead_id)
    except NLPearlError as exc:
        return _failure_view(pending.act.verb, None, exc)
    label = lead_label(lead)
    if pending.act.verb is Verb.EDIT:
        fresh = pending.model_copy(update={"fingerprint": fingerprint(lead)})
        return edit_lead_view(lead, fresh, now=services.now(), title_name=label)
    return _confirm_or_ask_again(pending, lead)


def _confirm_or_ask_again(pending: Pending, lead: Lead) -> dict[str, Any]:
    """The confirmation, or, if the lead moved on since the card was drawn, say so first."""
    label, phone = lead_label(lead), PRIVATE.phone(lead.phone_number)
    if lead.status != pending.act.seen_status or pending.act.verb not in offered(lead.status):
        now_seen = pending.model_copy(
            update={"act": pending.act.model_copy(update={"seen_status": lead.status})}
        )
        return action_blocks.stale_view(
            now_seen, label, phone, pending.act.seen_status, lead.status
        )
    return action_blocks.confirm_view(pending, label, phone)


async def confirm(
    services: Services,
    client: AsyncWebClient,
    where: Where,
    actor: Actor,
    pending: Pending,
    key: str,
) -> dict[str, Any]:
    """Apply a confirmed status change once, then redraw; the view saying how it went."""
    attempt = Attempt(services, where, actor, pending)
    return await _once(attempt, key, "change", lambda: _confirmed(attempt, client, key))


async def _once(
    attempt: Attempt, key: str, what: str, work: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """Refuse, or claim the key and do the work; a key claimed before says what came of it."""
    if not attempt.actor.may_act:
        return await _refuse(attempt)
    earlier = await audit.claim(attempt.services.engine, key, attempt.record("pending"))
    if earlier is not None:
        return views.notice_modal("Lead Bot", already_done(earlier, what))
    async with settled(attempt.services, key):
        return await work()


async def _confirmed(attempt: Attempt, client: AsyncWebClient, key: str) -> dict[str, Any]:
    """With the claim held: check the lead is as the card showed it, then apply."""
    services, pending, verb = attempt.services, attempt.pending, attempt.act.verb
    try:
        lead = await services.nlpearl.get_lead(pending.act.campaign_id, pending.act.lead_id)
    except NLPearlError as exc:
        # Nothing was sent: the claim goes back, so the same confirmation may be tried again.
        await audit.release(services.engine, key)
        await audit.record(services.engine, attempt.record("failed", detail=why_failed(exc)))
        return _failure_view(verb, None, exc)
    if lead.status != pending.act.seen_status or verb not in offered(lead.status):
        await _stale(attempt, key, lead)
        return _confirm_or_ask_again(pending, lead)
    update = LeadUpdate(status=EFFECTS[verb].status)
    return await _apply(attempt, client, key, lead, update)


async def save_edit(
    services: Services,
    client: AsyncWebClient,
    where: Where,
    actor: Actor,
    pending: Pending,
    values: dict[str, Any],
    key: str,
) -> dict[str, Any]:
    """Send what the edit form changed, once, unless the lead changed while it was open."""
    attempt = Attempt(services, where, actor, pending)
    # Claimed before the lead is read, so a second Save of the form finds the first one's result.
    return await _once(attempt, key, "edit", lambda: _edited(attempt, client, values, key))


async def _edited(
    attempt: Attempt, client: AsyncWebClient, values: dict[str, Any], key: str
) -> dict[str, Any]:
    """With the claim held: check the lead did not change while the form was open, then save."""
    services, pending = attempt.services, attempt.pending
    try:
        lead = await services.nlpearl.get_lead(pending.act.campaign_id, pending.act.lead_id)
    except NLPearlError as exc:
        await audit.release(services.engine, key)
        return _failure_view(Verb.EDIT, None, exc)
    label = lead_label(lead)
    if fingerprint(lead) != pending.fingerprint:
        await audit.release(services.engine, key)
        stale = attempt.record("stale", lead, detail="the lead changed while the form was open")
        await audit.record(services.engine, stale)
        again = pending.model_copy(update={"fingerprint": fingerprint(lead)})
        return _changed_meanwhile(edit_lead_view(lead, again, now=services.now(), title_name=label))
    form = read_edit_form(values, lead)
    if form.errors or form.value is None or form.value.empty:
        # Nothing is sent, so the form may be saved again.
        await audit.release(services.engine, key)
        return _not_saved(label, form.errors)
    return await _apply(attempt, client, key, lead, form.value)


def _not_saved(label: str, errors: dict[str, str]) -> dict[str, Any]:
    """Why nothing was sent: the form's problems, or nothing changed."""
    if not errors:
        detail = f"{shown(label)} is unchanged."
        return views.notice_modal("Edit lead", messages.notice("👌", "Nothing to save", detail))
    problems = "; ".join(prose(e, 150) for e in errors.values())
    return views.notice_modal("Edit lead", messages.notice("⚠️", "Not saved", problems))


@asynccontextmanager
async def settled(services: Services, key: str) -> AsyncIterator[None]:
    """Whatever goes wrong while a claim is held, the claim ends saying so, never pending."""
    try:
        yield
    except BaseException:
        # It may have reached NLPearl before it failed: "unconfirmed", not "failed".
        with contextlib.suppress(Exception):
            await audit.finish(
                services.engine, key, result="unconfirmed", at=services.now(), detail=UNEXPECTED
            )
        raise


def _changed_meanwhile(view: dict[str, Any]) -> dict[str, Any]:
    """The edit form again, saying why: someone or something changed the lead meanwhile."""
    note = {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": "↩️ This lead changed while the form was open. Here it is as it is now: "
                "check your changes and save again.",
            }
        ],
    }
    blocks = [note, *view.get("blocks", [])][:MAX_VIEW_BLOCKS]
    return {**view, "blocks": blocks}


async def _stale(attempt: Attempt, key: str, lead: Lead) -> None:
    """Give the claim back (asking again must be able to apply) and record why nothing changed."""
    engine = attempt.services.engine
    await audit.release(engine, key)
    detail = "the lead's status changed since the card was drawn"
    await audit.record(engine, attempt.record("stale", lead, detail=detail))


async def _apply(
    attempt: Attempt, client: AsyncWebClient, key: str, lead: Lead, update: LeadUpdate
) -> dict[str, Any]:
    """Send the change; record and redraw what NLPearl answers."""
    services, verb, label = attempt.services, attempt.act.verb, lead_label(lead)
    try:
        answered = await services.nlpearl.update_lead(
            attempt.act.campaign_id, attempt.act.lead_id, update
        )
    except NLPearlError as exc:
        logger.info("NLPearl did not apply %s: %s", verb.value, exc)
        result = "unconfirmed" if isinstance(exc, Unconfirmed) else "failed"
        await audit.finish(
            services.engine,
            key,
            result=result,
            at=services.now(),
            changes=update.body(),
            detail=why_failed(exc),
        )
        return _failure_view(verb, label, exc)
    # NLPearl took the change: from here on nothing may say it did not happen.
    after = answered or await _read_again(attempt)
    await audit.finish(
        services.engine,
        key,
        result="applied",
        at=services.now(),
        after_status=after.status if after else update.status,
        changes=update.body(),
    )
    await _after_change(attempt, client, lead, after, update)
    done = action_blocks.outcome_view(verb, lead_label(after or lead), ok=True, why=None)
    return done if after else _add_refresh_hint(done)


async def _read_again(attempt: Attempt) -> Lead | None:
    """The lead after a change NLPearl answered without it; None if it can't be read now."""
    act = attempt.act
    try:
        return await attempt.services.nlpearl.get_lead(act.campaign_id, act.lead_id)
    except NLPearlError as exc:
        logger.info("The lead could not be read after its change: %s", exc)
        return None


def _add_refresh_hint(view: dict[str, Any]) -> dict[str, Any]:
    """The outcome, saying the card could not be redrawn (NLPearl did not say how it is now)."""
    hint = {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": "NLPearl took the change but didn't say how the lead looks now, so the "
                "card wasn't redrawn. Press Refresh on it in a moment.",
            }
        ],
    }
    return {**view, "blocks": [*view.get("blocks", []), hint][:MAX_VIEW_BLOCKS]}


def _failure_view(verb: Verb, label: str | None, exc: NLPearlError) -> dict[str, Any]:
    name = label or "the lead"
    if isinstance(exc, Unconfirmed):
        return views.notice_modal("Lead Bot", _unconfirmed_notice(verb, name))
    return action_blocks.outcome_view(verb, name, ok=False, why=why_failed(exc))


async def _after_change(
    attempt: Attempt, client: AsyncWebClient, before: Lead, after: Lead | None, update: LeadUpdate
) -> None:
    """Redraw the card that was clicked and note the change in the lead's threads."""
    # Each is best effort: the change happened whatever Slack does with these.
    leads = [before, after] if after else [before]
    jobs = [_note_in_threads(attempt, client, leads, _shown_fields(after, update))]
    if after:
        jobs.append(_redraw_card(attempt, client, after))
    results = await asyncio.gather(*jobs, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            logger.warning("After a lead action, Slack could not be updated: %r", result)


async def _redraw_card(attempt: Attempt, client: AsyncWebClient, lead: Lead) -> None:
    """The clicked card, drawn again from the lead NLPearl answered with, in place."""
    pending, services = attempt.pending, attempt.services
    if pending.card is None:
        return
    report = await report_of(services, pending.act.campaign_id, lead)
    if pending.view_id:
        answer = card_of(
            report, pending.card, now=services.now(), mask_shared=True, surface="modal"
        )
        await client.views_update(view_id=pending.view_id, view=card_view(answer))
    elif pending.response_url:
        answer = card_of(
            report,
            pending.card,
            now=services.now(),
            mask_shared=services.mask_shared_phone_numbers,
        )
        webhook = AsyncWebhookClient(pending.response_url)
        sent = await webhook.send_dict({**answer.message, "replace_original": True})
        if sent.status_code != 200:
            logger.warning("Slack refused the redrawn card: HTTP %s", sent.status_code)


async def report_of(services: Services, campaign_id: str, lead: Lead) -> LeadReport:
    """Everything the card shows for a lead already fetched: one round trip for its calls."""
    calls, campaign = await asyncio.gather(
        fetch_latest_calls(services.nlpearl, lead, CALLS_ON_CARD),
        campaign_or_none(services.nlpearl, campaign_id, wait=None),
    )
    return LeadReport(campaign_id, campaign, lead, calls)


async def _threads(attempt: Attempt, leads: list[Lead]) -> list[LeadThread]:
    """The lead's threads in subscribed channels, by its old and new keys, and the one clicked."""
    services, act, ws = attempt.services, attempt.act, attempt.where.workspace
    keys = {
        key for lead in leads for key in lead_keys_of(lead.phone_number, lead.id or act.lead_id)
    }
    found = await threads_of_lead(services.engine, ws, act.campaign_id, sorted(keys))
    channel, ts = attempt.pending.channel_id, attempt.pending.message_ts
    if channel and ts and all((t.channel_id, t.parent_ts) != (channel, ts) for t in found):
        # The clicked feed message, even in a channel whose subscription has stopped.
        clicked = await thread_at(services.engine, ws, channel, ts)
        found += [clicked] if clicked else []
    return found


def _shown_fields(after: Lead | None, update: LeadUpdate) -> dict[str, Any]:
    """What the feed's parent message shows that the change may have changed."""
    if after is None:
        return {} if update.status is None else {"status": update.status}
    fields = {"status": after.status, "phone": after.phone_number, "external_id": after.external_id}
    if name := lead_name(after):
        fields["name"] = name
    return {key: value for key, value in fields.items() if value is not None}


async def _note_in_threads(
    attempt: Attempt, client: AsyncWebClient, leads: list[Lead], fields: dict[str, Any]
) -> None:
    """In each channel with a thread for the lead: the lead as it is now, and who did what."""
    services = attempt.services
    note = action_blocks.thread_note(attempt.act.verb, attempt.actor.name, services.now())
    for thread in await _threads(attempt, leads):
        if fields:
            await _redraw_parent(attempt, client, thread, fields)
        try:
            await client.chat_postMessage(
                channel=thread.channel_id, thread_ts=thread.parent_ts, unfurl_links=False, **note
            )
        except SLACK_FAILURES as exc:
            logger.info("No note in %s: %s", thread.channel_id, classify(exc).describe())


async def _redraw_parent(
    attempt: Attempt, client: AsyncWebClient, thread: LeadThread, fields: dict[str, Any]
) -> None:
    """The lead's parent message in a channel, showing the lead as it is now."""
    services = attempt.services
    snapshot = await set_snapshot_fields(services.engine, thread.id, fields, services.now())
    if snapshot is None:
        return
    message = parent_message(
        LeadSnapshot.model_validate(snapshot), mask=services.mask_shared_phone_numbers
    )
    try:
        await client.chat_update(channel=thread.channel_id, ts=thread.parent_ts, **message)
    except SLACK_FAILURES as exc:
        logger.info("Parent in %s not redrawn: %s", thread.channel_id, classify(exc).describe())


def pending_from_click(
    act: ActRef,
    card: CardRef | None,
    *,
    response_url: str | None = None,
    view_id: str | None = None,
    message: tuple[str, str] | None = None,
) -> Pending:
    """What a confirmation carries about the click: the action, and what to redraw."""
    channel_id, message_ts = message or (None, None)
    return Pending(
        act=act,
        card=card,
        response_url=response_url,
        view_id=view_id,
        channel_id=channel_id,
        message_ts=message_ts,
    )
