"""Use case: watch followed campaigns; tell their channels once when a problem starts and ends."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.blocks.alerts import alert_message
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import NLPearlError
from bot.nlpearl.models import Account, Pearl
from bot.nlpearl.statuses import ACCOUNT_CAN_CALL
from bot.reports import Alert, AlertKind
from bot.storage import notices
from bot.storage.notices import NewNotice
from bot.storage.watch import (
    AlertState,
    Watched,
    alert_states_of,
    feed_counts,
    paused_from_slack_since,
    set_alert_state,
    watched_campaigns,
)

logger = logging.getLogger(__name__)

RUNNING = 1
ERROR_STATUSES = (500, 30)  # Error and WrongCountryCode: the lead's number or call failed
ERROR_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class AlertPolicy:
    """When a condition counts as a problem; the settings tune these."""

    silent_webhook: timedelta = timedelta(hours=2)
    error_share: float = 0.2
    budget_share: float = 0.9
    # Fewer calls than this in the hour say nothing about an error share.
    min_calls_for_errors: int = 10


@dataclass(frozen=True)
class Condition:
    """Whether a condition holds now (None: cannot tell, so nothing changes), and its numbers."""

    holds: bool | None
    figures: dict[str, float]
    detail: dict[str, object] | None = None


class AlertWatch:
    """Checks every followed campaign and queues an alert when a condition starts or ends."""

    def __init__(
        self,
        engine: AsyncEngine,
        nlpearl: NLPearlClient,
        policy: AlertPolicy,
        now: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._nlpearl = nlpearl
        self._policy = policy
        self._now = now

    async def check_all(self) -> int:
        """Check every followed campaign once; how many alerts were queued (starts and ends)."""
        watched = await watched_campaigns(self._engine)
        if not watched:
            return 0
        account = await self._account()
        changed = 0
        for campaign in watched:
            changed += await self.check(campaign, account)
        return changed

    async def _account(self) -> Account | None:
        try:
            return await self._nlpearl.get_account()
        except NLPearlError as exc:
            logger.warning("Alerts: could not read the NLPearl account: %s", exc)
            return None

    async def check(self, watched: Watched, account: Account | None) -> int:
        """Check one campaign's conditions; how many alerts were queued."""
        try:
            campaign = await self._nlpearl.get_campaign(watched.campaign_id, fresh=True)
        except NLPearlError as exc:
            # Unknown now is not a change: every condition stays as it was.
            logger.warning("Alerts: could not read campaign %s: %s", watched.campaign_id, exc)
            return 0
        now = self._now()
        states = {
            s.kind: s
            for s in await alert_states_of(self._engine, watched.workspace, watched.campaign_id)
        }
        conditions = {
            AlertKind.NO_CREDIT: _no_credit(account),
            AlertKind.SUSPENDED: _suspended(account),
            AlertKind.STOPPED: await self._stopped(watched, campaign, states.get("stopped"), now),
            AlertKind.BUDGET: self._budget(campaign),
            AlertKind.SILENT_WEBHOOK: self._silent(watched, campaign, now),
            AlertKind.ERRORS: await self._errors(watched, now),
        }
        queued = 0
        for kind, condition in conditions.items():
            queued += await self._settle(watched, campaign, kind, condition, states.get(kind), now)
        return queued

    async def _settle(
        self,
        watched: Watched,
        campaign: Pearl,
        kind: AlertKind,
        condition: Condition,
        before: AlertState | None,
        now: datetime,
    ) -> int:
        """Record the condition as checked now; queue an alert per channel if it began or ended."""
        if condition.holds is None:
            return 0
        was_active = before.active if before else False
        detail = dict(condition.detail or {})
        started = condition.holds and not was_active
        ended = was_active and not condition.holds
        since = now if (started or ended or before is None) else before.since
        after = AlertState(kind.value, condition.holds, since, detail)
        to_post: list[NewNotice] = []
        if started or ended:
            alert = Alert(
                kind=kind,
                started=started,
                campaign_id=watched.campaign_id,
                campaign_name=campaign.name,
                since=now if started else (before.since if before else now),
                at=now,
                figures=condition.figures,
            )
            to_post = self._notices(watched, alert)
        done = await set_alert_state(
            self._engine,
            watched.workspace,
            watched.campaign_id,
            before=before,
            after=after,
            notices=to_post,
            now=now,
        )
        return len(to_post) if done else 0

    def _notices(self, watched: Watched, alert: Alert) -> list[NewNotice]:
        body = alert_message(alert)
        phase = "start" if alert.started else "end"
        ws = watched.workspace
        return [
            NewNotice(
                workspace=ws,
                channel_id=channel,
                campaign_id=watched.campaign_id,
                kind="alert",
                key=notices.notice_key(
                    "alert",
                    ws.enterprise_id,
                    ws.team_id,
                    channel,
                    watched.campaign_id,
                    alert.kind.value,
                    alert.since.isoformat(),
                    phase,
                ),
                due_at=alert.at,
                body=body,
            )
            for channel in watched.channels
        ]

    async def _stopped(
        self, watched: Watched, campaign: Pearl, before: AlertState | None, now: datetime
    ) -> Condition:
        """The campaign stopped running, and nobody paused it from Slack."""
        running = campaign.status == RUNNING
        detail: dict[str, object] = {"running": running}
        if campaign.status is None:
            return Condition(None, {})
        if before is not None and before.active:
            return Condition(not running, {}, detail)
        if before is None or before.detail.get("running") is not True or running:
            return Condition(False, {}, detail)
        # Checked since the last look (with a margin for clocks), so a pause from Slack is seen.
        paused_here = await paused_from_slack_since(
            self._engine,
            watched.workspace,
            watched.campaign_id,
            (before.checked_at or before.since) - timedelta(minutes=1),
        )
        return Condition(not paused_here, {"status": float(campaign.status)}, detail)

    def _budget(self, campaign: Pearl) -> Condition:
        used, total = campaign.budget_consumed, campaign.budget_total
        if used is None or not total or total <= 0:
            return Condition(None, {})
        share = used / total
        figures = {"budget_share": 100 * share, "budget_used": used, "budget_total": total}
        return Condition(share > self._policy.budget_share, figures)

    def _silent(self, watched: Watched, campaign: Pearl, now: datetime) -> Condition:
        """No webhook for too long while NLPearl shows calls today: is the webhook connected?"""
        if watched.endpoint_id is None:
            return Condition(False, {})
        last = watched.last_webhook_at or watched.endpoint_created_at
        calling = campaign.status == RUNNING and (campaign.total_today_calls or 0) > 0
        if last is None or not calling:
            return Condition(False, {})
        silent = now - last
        figures = {
            "silent_minutes": silent.total_seconds() / 60,
            "calls": float(campaign.total_today_calls or 0),
            "threshold_minutes": self._policy.silent_webhook.total_seconds() / 60,
        }
        return Condition(silent > self._policy.silent_webhook, figures)

    async def _errors(self, watched: Watched, now: datetime) -> Condition:
        """Errors and wrong numbers as a share of the last hour's calls, from the feed."""
        if watched.endpoint_id is None:
            return Condition(False, {})
        counts = await feed_counts(self._engine, watched.endpoint_id, now - ERROR_WINDOW, now)
        calls = counts.calls_ended
        errors = sum(counts.leads_by_status.get(status, 0) for status in ERROR_STATUSES)
        if calls < self._policy.min_calls_for_errors:
            return Condition(False, {})
        share = errors / calls
        figures = {
            "error_share": 100 * share,
            "errors": float(errors),
            "calls": float(calls),
            "threshold_share": 100 * self._policy.error_share,
        }
        return Condition(share > self._policy.error_share, figures)


def _no_credit(account: Account | None) -> Condition:
    if account is None or account.credit_balance is None:
        return Condition(None, {})
    credit = account.credit_balance
    return Condition(credit <= 0, {"credit": credit})


def _suspended(account: Account | None) -> Condition:
    if account is None or account.status is None:
        return Condition(None, {})
    return Condition(account.status not in ACCOUNT_CAN_CALL, {"status": float(account.status)})
