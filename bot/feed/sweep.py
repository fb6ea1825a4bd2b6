"""The sweep for missed webhooks: find the lead status changes NLPearl never sent."""

# NLPearl documents no webhook retries, so a webhook lost on the way is lost for good. A change
# the sweep finds goes down the webhook path (bot.feed.receive), marked as found by the sweep:
# dedupe, filters and the outbox apply as to NLPearl's own webhooks, so a change is posted once
# however many sweeps and webhooks race for it.

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.feed.deliver import FOUND_BY_KEY, FOUND_BY_SWEEP
from bot.feed.receive import UNAVAILABLE, receive_webhook
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import BadCredentials, NLPearlError, NotFound, RateLimited
from bot.nlpearl.models import Call, Lead
from bot.parsing.webhooks import lead_keys_of
from bot.storage.faults import in_few_words, unreachable
from bot.storage.rows import Workspace
from bot.storage.sweep import (
    LEAD_ID_LENGTH,
    KnownStatus,
    SweepTarget,
    known_statuses,
    remember,
    sweep_targets,
)

logger = logging.getLogger(__name__)

PAGE_BUDGET = 20
PAGE_SIZE = 100
# A call that ended this recently may still have its webhook on the way.
GRACE = timedelta(minutes=5)
# Statuses a lead passes through on its way to an outcome (queued, on a call): by the time a
# sweep could post one it is usually over, so the sweep waits for the status that follows.
PASSING_STATUSES = frozenset({20, 40})


class DatabaseUnavailable(ConnectionError):
    """The database could not store a change the sweep found; the run stops, nothing is lost."""


class _StopRun(Exception):
    """NLPearl rate-limited the account: the run ends here, and the next goes on from here."""


class _CampaignGone(Exception):
    """The campaign's webhook token no longer stores events: skip it this run."""


@dataclass
class SweepReport:
    """What one run did, for logs and tests."""

    pages: int = 0
    leads: int = 0
    baselines: int = 0
    changes: int = 0
    duplicates: int = 0
    deferred: int = 0
    campaigns_failed: int = 0
    stopped_early: str | None = None


@dataclass
class _Run:
    """A run's budget and report, and where it is."""

    budget: int
    report: SweepReport = field(default_factory=SweepReport)
    skip: int = 0
    # Workspaces whose NLPearl key was rejected (or never connected): their other campaigns
    # would be refused too, so they wait for the next run.
    refused: set[Workspace] = field(default_factory=set)


# The NLPearl client with the key of a workspace (one key, or each workspace's own).
NLPearlFor = Callable[[Workspace], Awaitable[NLPearlClient]]


class Sweep:
    """Pages through followed campaigns' leads and stores the status changes no webhook brought."""

    def __init__(
        self,
        engine: AsyncEngine,
        nlpearl_for: NLPearlFor,
        *,
        page_budget: int = PAGE_BUDGET,
        page_size: int = PAGE_SIZE,
        grace: timedelta = GRACE,
    ) -> None:
        if page_budget < 1 or page_size < 1:
            raise ValueError("the sweep needs a page budget and a page size of at least 1")
        self._engine = engine
        self._nlpearl_for = nlpearl_for
        self._page_budget = page_budget
        self._page_size = page_size
        self._grace = grace
        self._tokenless_reported: set[int] = set()

    async def run_once(
        self, *, now: datetime, progress: dict[str, Any] | None
    ) -> tuple[SweepReport, dict[str, Any] | None]:
        """Sweep from `progress` within the page budget; the report, and where to go on or None."""
        # None once every campaign was swept to its end. Only the database being out of reach
        # raises: NLPearl failing a campaign skips it, and the next run comes back to it.
        start_id, start_skip = _resume_point(progress)
        run = _Run(budget=self._page_budget)
        for target in await sweep_targets(self._engine):
            if target.endpoint_id < start_id:
                continue
            run.skip = start_skip if target.endpoint_id == start_id else 0
            if target.token is None:
                self._report_tokenless(target)
                continue
            if run.budget <= 0:
                return run.report, _progress(target, run.skip)
            if target.workspace in run.refused:
                run.report.campaigns_failed += 1
                continue
            try:
                nlpearl = await self._nlpearl_for(target.workspace)
                done = await self._campaign(nlpearl, target, target.token, run, now)
            except _StopRun as stop:
                run.report.stopped_early = str(stop)
                logger.warning("Sweep stopped early: %s", stop)
                return run.report, _progress(target, run.skip)
            except BadCredentials as exc:
                run.refused.add(target.workspace)
                run.report.campaigns_failed += 1
                logger.warning(
                    "Sweep skipped workspace %s's campaigns this run: %s",
                    target.workspace.team_id,
                    in_few_words(exc),
                )
                continue
            except (NLPearlError, _CampaignGone) as exc:
                run.report.campaigns_failed += 1
                logger.warning(
                    "Sweep skipped campaign %s this run: %s", target.campaign_id, in_few_words(exc)
                )
                continue
            except Exception as exc:
                if isinstance(exc, DatabaseUnavailable) or unreachable(exc) is not None:
                    raise
                # A lead that trips a bug must not stop every later run at the same page.
                run.report.campaigns_failed += 1
                logger.exception("Sweep of campaign %s failed unexpectedly", target.campaign_id)
                continue
            if not done:
                return run.report, _progress(target, run.skip)
        return run.report, None

    async def _campaign(
        self, nlpearl: NLPearlClient, target: SweepTarget, token: str, run: _Run, now: datetime
    ) -> bool:
        """Sweep the campaign's pages from `run.skip` while the budget lasts; whether it ended."""
        while run.budget > 0:
            try:
                # Oldest first, so leads added between runs join the end instead of shifting pages.
                page = await nlpearl.search_leads(
                    target.campaign_id,
                    statuses=[],
                    skip=run.skip,
                    limit=self._page_size,
                    oldest_first=True,
                )
            except RateLimited as exc:
                raise _StopRun(in_few_words(exc)) from exc
            run.budget -= 1
            run.report.pages += 1
            run.report.leads += len(page.results)
            await self._page(nlpearl, target, token, page.results, run.report, now)
            run.skip += len(page.results)
            ended = len(page.results) < self._page_size or (
                page.count is not None and run.skip >= page.count
            )
            if ended:
                return True
        return False

    async def _page(
        self,
        nlpearl: NLPearlClient,
        target: SweepTarget,
        token: str,
        leads: list[Lead],
        report: SweepReport,
        now: datetime,
    ) -> None:
        """Baseline the leads the app never heard of; store the changes of the others."""
        rows = {
            lead.id: lead
            for lead in leads
            if lead.id and len(lead.id) <= LEAD_ID_LENGTH and lead.status is not None
        }
        keys = {lead_id: lead_keys_of(lead.phone_number, lead_id) for lead_id, lead in rows.items()}
        known = await known_statuses(self._engine, target.endpoint_id, keys)
        # Known before any channel now subscribed followed the campaign (an unsubscribe and a
        # subscribe months later), a status says nothing about what the channels have seen.
        known = {lead_id: was for lead_id, was in known.items() if was.at >= target.following_since}
        # A lead first seen now has a history the channel never asked for: its status is where
        # the sweep starts from, and nothing is posted.
        baselines = {lead_id: lead.status for lead_id, lead in rows.items() if lead_id not in known}
        await remember(self._engine, target.endpoint_id, baselines, now)
        report.baselines += len(baselines)
        for lead_id, lead in rows.items():
            was = known.get(lead_id)
            if was is None or was.status == lead.status or lead.status in PASSING_STATUSES:
                continue
            await self._changed(nlpearl, target, token, lead_id, was, report, now)

    async def _changed(
        self,
        nlpearl: NLPearlClient,
        target: SweepTarget,
        token: str,
        lead_id: str,
        was: KnownStatus,
        report: SweepReport,
        now: datetime,
    ) -> None:
        """Store the lead's new status as NLPearl's Lead webhook would have carried it."""
        try:
            # Search rows lack `callsId`, which the webhook's dedupe key counts.
            lead = await nlpearl.get_lead(target.campaign_id, lead_id)
        except NotFound:
            return
        except RateLimited as exc:
            raise _StopRun(in_few_words(exc)) from exc
        if lead.status is None or lead.status in PASSING_STATUSES:
            return
        if lead.status != was.status:
            if self._too_recent(lead.last_call, now):
                report.deferred += 1
                return
            await self._store(target, token, lead_id, lead, was, report, now)
        await remember(self._engine, target.endpoint_id, {lead_id: lead.status}, now)

    async def _store(
        self,
        target: SweepTarget,
        token: str,
        lead_id: str,
        lead: Lead,
        was: KnownStatus,
        report: SweepReport,
        now: datetime,
    ) -> None:
        """Send the lead down the webhook path, as NLPearl would have, and count what it became."""
        body = json.dumps(lead_webhook_body(target.campaign_id, lead_id, lead)).encode()
        receipt = await receive_webhook(self._engine, token, body, now, swept=True)
        if receipt.status_code == UNAVAILABLE.status_code:
            raise DatabaseUnavailable("the database cannot store the changes the sweep found")
        if receipt.status_code == 404:
            raise _CampaignGone("its webhook token is no longer known")
        if receipt.status_code != 200:
            # The same lead would be refused again: keep its status so it is not retried forever.
            logger.error(
                "Sweep could not store lead %s of campaign %s: %s",
                lead_id,
                target.campaign_id,
                receipt.body.get("error"),
            )
            return
        if receipt.body.get("status") == "stored":
            report.changes += 1
            logger.info(
                "Sweep found a change with no webhook: campaign %s, lead %s, %s → %s",
                target.campaign_id,
                lead_id,
                was.status,
                lead.status,
            )
        else:
            report.duplicates += 1

    def _too_recent(self, last_call: Call | None, now: datetime) -> bool:
        """Whether the lead's last call ended so lately that its webhook may still come."""
        if last_call is None or last_call.start_time is None:
            return False
        ended = last_call.start_time + timedelta(seconds=max(last_call.duration or 0.0, 0.0))
        return now - ended < self._grace

    def _report_tokenless(self, target: SweepTarget) -> None:
        if target.endpoint_id in self._tokenless_reported:
            return
        self._tokenless_reported.add(target.endpoint_id)
        logger.warning(
            "Sweep skips campaign %s: its webhook URL was made before Lead Bot kept tokens, so "
            "missed webhooks cannot be stored for it",
            target.campaign_id,
        )


def lead_webhook_body(campaign_id: str, lead_id: str, lead: Lead) -> dict[str, Any]:
    """The V2 Lead webhook NLPearl would have sent for the lead as it is now, marked as swept."""
    body: dict[str, Any] = {
        "id": lead.id or lead_id,
        "pearlId": lead.pearl_id or campaign_id,
        "externalId": lead.external_id,
        "phoneNumber": lead.phone_number,
        "timeZone": lead.time_zone,
        "status": lead.status,
        "created": _iso(lead.created),
        "callsId": list(lead.calls_id),
        "lastCall": _last_call(lead.last_call),
        "callData": dict(lead.call_data),
        "collectedData": dict(lead.collected_data),
        FOUND_BY_KEY: FOUND_BY_SWEEP,
    }
    return {key: value for key, value in body.items() if value is not None}


def _last_call(call: Call | None) -> dict[str, Any] | None:
    """The lead's `lastCall` summary, without its transcript and answers."""
    # A Lead event's reply shows neither; the call's own webhook or the card does.
    if call is None:
        return None
    fields = {
        "id": call.id,
        "startTime": _iso(call.start_time),
        "pearlId": call.pearl_id,
        "status": call.status,
        "from": call.from_number,
        "name": call.name,
        "summary": call.summary,
        "duration": call.duration,
        "recording": call.recording,
        "tags": list(call.tags) or None,
    }
    return {key: value for key, value in fields.items() if value is not None}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _resume_point(progress: dict[str, Any] | None) -> tuple[int, int]:
    """The endpoint and offset a run starts at; the beginning when `progress` is unreadable."""
    if not isinstance(progress, dict):
        return 0, 0
    endpoint_id, skip = progress.get("endpoint_id"), progress.get("skip")
    if type(endpoint_id) is not int or type(skip) is not int or skip < 0:
        return 0, 0
    return endpoint_id, skip


def _progress(target: SweepTarget, skip: int) -> dict[str, Any]:
    return {"endpoint_id": target.endpoint_id, "skip": skip}
