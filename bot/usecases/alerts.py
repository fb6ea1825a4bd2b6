"""Use case: watch followed campaigns; tell their channels once when a problem starts and ends."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.blocks.alerts import alert_message
from bot.nlpearl.errors import NLPearlError
from bot.nlpearl.models import Account, Pearl
from bot.nlpearl.statuses import ACCOUNT_LOCKED, ACCOUNT_NO_CREDITS, CAMPAIGN_RUNNING
from bot.reports import Alert, AlertKind
from bot.storage import notices
from bot.storage.notices import NewNotice
from bot.storage.rows import Workspace
from bot.storage.watch import (
    AlertState,
    Watched,
    alert_states_of,
    feed_counts,
    paused_from_slack_since,
    set_alert_state,
    watched_campaigns,
)
from bot.usecases.services import NLPearlFor

logger = logging.getLogger(__name__)

# The campaign ID under which a workspace's account alerts are kept.
ACCOUNT = ""
# An errors alert ends only below this share of its threshold, so a share hovering around the
# threshold does not start and end it on every check.
ERRORS_END_BELOW = 0.75
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
        nlpearl_for: NLPearlFor,
        policy: AlertPolicy,
        now: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._nlpearl_for = nlpearl_for
        self._policy = policy
        self._now = now

    async def check_all(self) -> int:
        """Check every followed campaign once; how many alerts were queued (starts and ends)."""
        watched = await watched_campaigns(self._engine)
        if not watched:
            return 0
        now = self._now()
        changed = 0
        # Each workspace's own NLPearl account (one account in single-workspace mode).
        accounts: dict[Workspace, Account | None] = {}
        for followed in _accounts(watched):
            account = accounts[followed.workspace] = await self._account(followed.workspace)
            changed += await self._check_account(followed, account, now)
        for campaign in watched:
            changed += await self.check(campaign, accounts.get(campaign.workspace), now)
        return changed

    async def _check_account(
        self, followed: Watched, account: Account | None, now: datetime
    ) -> int:
        """The account's conditions, kept once per workspace: news for every channel at once."""
        states = {
            s.kind: s for s in await alert_states_of(self._engine, followed.workspace, ACCOUNT)
        }
        queued = 0
        for kind, condition in (
            (AlertKind.NO_CREDIT, _no_credit(account)),
            (AlertKind.SUSPENDED, _locked(account)),
        ):
            queued += await self._settle(followed, None, kind, condition, states.get(kind), now)
        return queued

    async def _account(self, ws: Workspace) -> Account | None:
        try:
            return await (await self._nlpearl_for(ws)).get_account()
        except NLPearlError as exc:
            logger.warning("Alerts: could not read the NLPearl account: %s", exc)
            return None

    async def check(self, watched: Watched, account: Account | None, now: datetime) -> int:
        """Check one campaign's conditions; how many alerts were queued."""
        try:
            nlpearl = await self._nlpearl_for(watched.workspace)
            campaign = await nlpearl.get_campaign(watched.campaign_id, fresh=True)
        except NLPearlError as exc:
            # Unknown now is not a change: every condition stays as it was.
            logger.warning("Alerts: could not read campaign %s: %s", watched.campaign_id, exc)
            return 0
        states = {
            s.kind: s
            for s in await alert_states_of(self._engine, watched.workspace, watched.campaign_id)
        }
        no_credit, locked = _no_credit(account), _locked(account)
        # An account that can't call explains a stopped campaign: one alert, not two. Unread,
        # it may explain it: the stop is then left for a check that can tell.
        unknown = no_credit.holds is None or locked.holds is None
        explained = None if unknown else bool(no_credit.holds or locked.holds)
        conditions = {
            AlertKind.STOPPED: await self._stopped(
                watched, campaign, states.get(AlertKind.STOPPED.value), explained, now
            ),
            AlertKind.BUDGET: _budget(campaign, self._policy),
            AlertKind.SILENT_WEBHOOK: self._silent(
                watched, campaign, states.get(AlertKind.SILENT_WEBHOOK.value), now
            ),
            AlertKind.ERRORS: await self._errors(watched, states.get(AlertKind.ERRORS.value), now),
        }
        queued = 0
        for kind, condition in conditions.items():
            queued += await self._settle(
                watched, campaign.name, kind, condition, states.get(kind), now
            )
        return queued

    async def _settle(
        self,
        watched: Watched,
        campaign_name: str | None,
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
                campaign_name=campaign_name,
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
        self,
        watched: Watched,
        campaign: Pearl,
        before: AlertState | None,
        explained: bool | None,
        now: datetime,
    ) -> Condition:
        """The campaign stopped running, nobody paused it from Slack, and it stayed stopped.

        A stop must be seen on two checks in a row: the account and the campaign are read a
        moment apart, so a stop the account explains can look unexplained for one check.
        """
        if campaign.status is None:
            return Condition(None, {})
        if campaign.status == CAMPAIGN_RUNNING:
            return Condition(False, {}, {"running_at": now.isoformat()})
        if before is not None and before.active:
            return Condition(True, {}, before.detail)
        running_at = _moment(before.detail.get("running_at")) if before else None
        if running_at is None or explained:
            return Condition(False, {}, {})
        if explained is None:
            return Condition(None, {})
        # Paused since it was last seen running (with a margin for clocks): someone meant it.
        paused_here = await paused_from_slack_since(
            self._engine, watched.workspace, watched.campaign_id, running_at - timedelta(minutes=1)
        )
        if paused_here:
            return Condition(False, {}, {})
        seen_once = before is not None and before.detail.get("stopped_at") is not None
        detail: dict[str, object] = {
            "running_at": running_at.isoformat(),
            "stopped_at": now.isoformat(),
        }
        return Condition(seen_once, {"status": float(campaign.status)}, detail)

    def _silent(
        self, watched: Watched, campaign: Pearl, before: AlertState | None, now: datetime
    ) -> Condition:
        """No webhook for too long while NLPearl is placing calls: is the webhook connected?"""
        if watched.endpoint_id is None:
            # No feed (any more): nothing to say about webhooks, and nothing to end in words.
            return Condition(None, {})
        last = watched.last_webhook_at
        detail: dict[str, object] = {"calls_today": campaign.total_today_calls}
        if before is not None and before.active:
            # Only a webhook ends it: a campaign that stops calling proves nothing.
            ended = last is not None and last > before.since
            return Condition(not ended, {}, detail)
        heard = last or watched.endpoint_created_at
        if heard is None or not _calling(campaign, before):
            return Condition(False, {}, detail)
        silent = now - heard
        figures = {
            "silent_minutes": silent.total_seconds() / 60,
            "calls": float(campaign.total_today_calls or 0),
            "threshold_minutes": self._policy.silent_webhook.total_seconds() / 60,
        }
        return Condition(silent > self._policy.silent_webhook, figures, detail)

    async def _errors(
        self, watched: Watched, before: AlertState | None, now: datetime
    ) -> Condition:
        """Errors and wrong numbers as a share of the last hour's calls, from the feed."""
        if watched.endpoint_id is None:
            return Condition(None, {})
        counts = await feed_counts(self._engine, watched.endpoint_id, now - ERROR_WINDOW, now)
        calls = counts.calls_ended
        errors = sum(counts.leads_by_status.get(status, 0) for status in ERROR_STATUSES)
        if calls < self._policy.min_calls_for_errors:
            # Too few calls to tell: an alert in force stays until the share can be measured.
            active = before is not None and before.active
            return Condition(None if active else False, {})
        share = errors / calls
        figures = {
            "error_share": 100 * share,
            "errors": float(errors),
            "calls": float(calls),
            "threshold_share": 100 * self._policy.error_share,
        }
        active = before is not None and before.active
        threshold = self._policy.error_share * (ERRORS_END_BELOW if active else 1.0)
        return Condition(share > threshold, figures)


def _accounts(watched: list[Watched]) -> list[Watched]:
    """One entry per workspace: its account, and every channel following any of its campaigns."""
    channels: dict[Workspace, set[str]] = {}
    for followed in watched:
        channels.setdefault(followed.workspace, set()).update(followed.channels)
    return [
        Watched(ws, ACCOUNT, tuple(sorted(found)), None, None, None)
        for ws, found in channels.items()
    ]


def _moment(value: object) -> datetime | None:
    """A moment kept as ISO text in an alert's detail, if it reads as one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _calling(campaign: Pearl, before: AlertState | None) -> bool:
    """Whether NLPearl is placing calls now: some in progress, or more today than last look."""
    if campaign.status != CAMPAIGN_RUNNING:
        return False
    if (campaign.total_ongoing_calls or 0) > 0:
        return True
    seen = before.detail.get("calls_today") if before is not None else None
    today = campaign.total_today_calls
    return isinstance(seen, int) and today is not None and today > seen


def _budget(campaign: Pearl, policy: AlertPolicy) -> Condition:
    used, total = campaign.budget_consumed, campaign.budget_total
    if total is None or total <= 0:
        # No budget (NLPearl's null means no limit): nothing to run out of.
        return Condition(False, {})
    if used is None:
        return Condition(None, {})
    share = used / total
    figures = {"budget_share": 100 * share, "budget_used": used, "budget_total": total}
    return Condition(share > policy.budget_share, figures)


def _no_credit(account: Account | None) -> Condition:
    """Out of credit: a balance of 0 or less, or NLPearl's "no credits" status."""
    if account is None or (account.credit_balance is None and account.status is None):
        return Condition(None, {})
    credit = account.credit_balance
    empty = (credit is not None and credit <= 0) or account.status == ACCOUNT_NO_CREDITS
    return Condition(empty, {"credit": credit} if credit is not None else {})


def _locked(account: Account | None) -> Condition:
    """The account may not call for another reason: suspended, or past its debt limit."""
    if account is None or account.status is None:
        return Condition(None, {})
    return Condition(account.status in ACCOUNT_LOCKED, {"status": float(account.status)})
