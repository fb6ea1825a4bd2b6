"""Use case: queue each channel's daily digest when it is due, and build it when it is sent."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from typing import Any, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.digest import digest_message
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import NLPearlError, Unavailable
from bot.nlpearl.models import Analytics, Pearl, StatusOverview
from bot.nlpearl.statuses import NEEDING_ATTENTION, lead_status
from bot.parsing.schedule import last_due, local_day_bounds, next_due, report_day, zone_or_utc
from bot.parsing.slack_errors import SLACK_FAILURES, Kind, classify
from bot.reports import DayPoint, Digest, Rate
from bot.storage import digests as digest_rows
from bot.storage import notices
from bot.storage.notices import NewNotice, Notice
from bot.storage.rows import DigestInfo
from bot.storage.watch import FeedCounts, feed_counts, feed_endpoint
from bot.usecases.services import NLPearlFor, SlackFor

logger = logging.getLogger(__name__)

T = TypeVar("T")

CHART_DAYS = 14
WEEK = 7
# A digest this long after its time says it is late (the app was down when it was due).
LATE_AFTER = timedelta(minutes=10)
# While NLPearl answers nothing, a digest waits for it this long, then goes out with what it has.
WAIT_FOR_NLPEARL = timedelta(hours=2)
# The fields of Get Analytics' overview, in the order a digest lists them, with the lead
# status each counts (for its label and emoji) or a label of its own.
OUTCOMES: tuple[tuple[str, int | str], ...] = (
    ("successful", 100),
    ("unsuccessful", 110),
    ("completed", 130),
    ("voicemail_left", 70),
    ("need_follow_up", "📌 Needs follow-up"),
    ("need_retry", 10),
    ("unreachable", 150),
    ("wrong_number", "☎️ Wrong number"),
    ("wrong_country_code", 30),
    ("error", 500),
)
SUCCESS = 100


async def queue_due_digests(engine: Any, now: datetime) -> int:
    """Queue a digest for every subscription whose time has come; one each, never a backlog."""
    queued = 0
    for digest in await digest_rows.due_digests(engine, now):
        due = _latest_due(digest, now)
        day = report_day(due, digest.time_zone)
        notice = NewNotice(
            workspace=digest.workspace,
            channel_id=digest.channel_id,
            campaign_id=digest.campaign_id,
            kind="digest",
            # By channel and campaign, not the row's id: a digest stopped and started again the
            # same day is the same digest.
            key=notices.notice_key(
                "digest",
                digest.workspace.enterprise_id,
                digest.workspace.team_id,
                digest.channel_id,
                digest.campaign_id,
                day.isoformat(),
            ),
            due_at=due,
            digest_id=digest.id,
        )
        following = next_due(digest.at_time, digest.time_zone, now)
        if await notices.queue_digest(
            engine,
            notice,
            digest_id=digest.id,
            was_due=digest.next_due_at,
            next_due_at=following,
            now=now,
        ):
            queued += 1
    return queued


def _latest_due(digest: DigestInfo, now: datetime) -> datetime:
    """The most recent moment the digest was due: after downtime, only the last one missed."""
    latest = last_due(digest.at_time, digest.time_zone, now)
    return latest if digest.next_due_at <= latest else digest.next_due_at


@dataclass(frozen=True)
class DigestFigures:
    """What NLPearl and the feed said, before it is shaped into a digest."""

    campaign: Pearl | None
    day_analytics: Analytics | None
    range_analytics: Analytics | None
    attention: int | None
    feed: FeedCounts | None


class DigestBuilder:
    """Builds a queued digest: reads NLPearl and the feed, draws and uploads the chart."""

    def __init__(
        self,
        engine: Any,
        nlpearl_for: NLPearlFor,
        slack_for: SlackFor,
        now: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._nlpearl_for = nlpearl_for
        self._slack_for = slack_for
        self._now = now

    async def build(
        self, notice: Notice, keep_file: Callable[[str], Awaitable[None]]
    ) -> dict[str, Any] | None:
        """The digest's message; None when its subscription is gone (nothing is sent)."""
        info = await digest_rows.digest_by_id(self._engine, notice.digest_id or 0)
        if info is None:
            return None
        day = report_day(notice.due_at, info.time_zone)
        figures = await self._figures(await self._nlpearl_for(info.workspace), info, day)
        reached_nlpearl = figures.campaign or figures.day_analytics or figures.range_analytics
        if not reached_nlpearl and self._now() - notice.due_at < WAIT_FOR_NLPEARL:
            raise Unavailable("NLPearl answered none of the digest's questions yet")
        digest = shape_digest(info, day, figures, late_by=self._late_by(notice))
        file_id = notice.file_id or await self._upload_chart(
            await self._slack_for(info.workspace), digest, keep_file
        )
        return digest_message(replace(digest, chart_file_id=file_id))

    def _late_by(self, notice: Notice) -> timedelta | None:
        """How late it was queued: the app was not running when it was due (not NLPearl's wait)."""
        late = notice.created_at - notice.due_at
        return late if late > LATE_AFTER else None

    async def _figures(self, nlpearl: NLPearlClient, info: DigestInfo, day: date) -> DigestFigures:
        start, end = local_day_bounds(day, info.time_zone)
        range_start = start - timedelta(days=CHART_DAYS - 1)
        endpoint = await feed_endpoint(self._engine, info.workspace, info.campaign_id)
        campaign, day_analytics, range_analytics, attention = await asyncio.gather(
            self._quietly(nlpearl.get_campaign(info.campaign_id, fresh=True)),
            self._quietly(nlpearl.get_analytics(info.campaign_id, start=start, end=end)),
            self._quietly(nlpearl.get_analytics(info.campaign_id, start=range_start, end=end)),
            self._quietly(self._attention(nlpearl, info.campaign_id)),
        )
        feed = await feed_counts(self._engine, endpoint, start, end) if endpoint else None
        return DigestFigures(campaign, day_analytics, range_analytics, attention, feed)

    async def _attention(self, nlpearl: NLPearlClient, campaign_id: str) -> int | None:
        page = await nlpearl.search_leads(campaign_id, statuses=NEEDING_ATTENTION, skip=0, limit=1)
        return page.count if page.count is not None else len(page.results)

    async def _quietly(self, call: Awaitable[T]) -> T | None:
        """The answer, or None when NLPearl could not give it (the digest says what is missing)."""
        try:
            return await call
        except NLPearlError as exc:
            logger.warning("Digest: NLPearl could not answer: %s", exc)
            return None

    async def _upload_chart(
        self, slack: AsyncWebClient, digest: Digest, keep_file: Callable[[str], Awaitable[None]]
    ) -> str | None:
        """Draw the chart and upload it privately; its file ID, kept before anything else."""
        title = f"{digest.campaign_name or digest.campaign_id}: last {CHART_DAYS} days"
        if zone_or_utc(digest.time_zone).utcoffset(datetime.now(UTC)):
            # NLPearl's timelines are by UTC day; the subscriber's day may straddle two.
            title += " (UTC days)"
        try:
            png = await asyncio.to_thread(_draw_chart, digest.days, title)
        except Exception:
            # A chart that can't be drawn must not hold the numbers back.
            logger.exception("Digest chart for %s could not be drawn", digest.campaign_id)
            return None
        try:
            uploaded = await slack.files_upload_v2(
                content=png,
                filename=f"digest-{digest.day.isoformat()}.png",
                title=title[:200],
            )
        except SLACK_FAILURES as exc:
            failure = classify(exc)
            if failure.retryable or failure.kind is Kind.RATE_LIMITED:
                raise
            # A missing scope or a refused file: the digest goes out with its numbers in words.
            logger.warning("Digest chart not uploaded: %s", failure.describe())
            return None
        file_id = _file_id(uploaded)
        if file_id:
            await keep_file(file_id)
        return file_id


def _draw_chart(days: tuple[DayPoint, ...], title: str) -> bytes:
    """The chart's PNG, drawn off the event loop."""
    # Imported here, in the drawing thread: matplotlib takes over a second to load, which only
    # a digest should pay, never a process's start-up or the loop that answers Slack.
    from bot.blocks.chart import daily_chart_png

    return daily_chart_png(days, title=title)


def _file_id(uploaded: Any) -> str | None:
    files = uploaded.get("files") or []
    first = files[0] if files and isinstance(files[0], dict) else uploaded.get("file") or {}
    found = first.get("id") if isinstance(first, dict) else None
    return str(found) if found else None


def shape_digest(
    info: DigestInfo, day: date, figures: DigestFigures, *, late_by: timedelta | None
) -> Digest:
    """The digest's figures for `day`, from NLPearl's analytics and the feed's own counts."""
    overview = figures.day_analytics.status_overview if figures.day_analytics else None
    timeline = figures.range_analytics
    campaign = figures.campaign
    answered = (
        ("the campaign", campaign is not None),
        ("the day's analytics", figures.day_analytics is not None),
        ("the 14-day analytics", timeline is not None),
        ("the leads needing attention", figures.attention is not None),
    )
    missing = tuple(name for name, got in answered if not got)
    events = figures.day_analytics.events if figures.day_analytics else None
    return Digest(
        campaign_id=info.campaign_id,
        campaign_name=campaign.name if campaign else None,
        day=day,
        time_zone=info.time_zone,
        calls=overview.total_calls if overview else None,
        outcomes=_outcomes(overview),
        reached=_rate(figures.day_analytics, timeline, day, _pickup_rate),
        success=_rate(figures.day_analytics, timeline, day, _success_rate),
        voicemail=_rate(figures.day_analytics, timeline, day, _voicemail_rate),
        bookings=events.calendar_booked if events else None,
        transfers=events.call_transferred if events else None,
        budget_used=campaign.budget_consumed if campaign else None,
        budget_total=campaign.budget_total if campaign else None,
        attention=figures.attention,
        days=fortnight(timeline, day),
        differences=differences(overview, figures.feed),
        late_by=late_by,
        missing=missing,
    )


def _outcomes(overview: StatusOverview | None) -> tuple[tuple[str, int], ...]:
    if overview is None:
        return ()
    counts = ((_outcome_label(what), getattr(overview, field) or 0) for field, what in OUTCOMES)
    return tuple((label, count) for label, count in counts if count > 0)


def _outcome_label(what: int | str) -> str:
    if isinstance(what, str):
        return what
    status = lead_status(what)
    return f"{status.emoji} {status.label}"


DayRate = Callable[[Analytics, date], float | None]


def _pickup_rate(analytics: Analytics, day: date) -> float | None:
    return _finite(analytics.pickup_rate_by_day.get(day))


def _success_rate(analytics: Analytics, day: date) -> float | None:
    return _finite(analytics.success_rate_by_day.get(day))


def _voicemail_rate(analytics: Analytics, day: date) -> float | None:
    figures = analytics.status_by_day.get(day)
    if figures is None or not figures.total_calls or figures.voicemail_left is None:
        return None
    return _share(figures.voicemail_left, figures.total_calls)


def _rate(
    day_analytics: Analytics | None, fortnight: Analytics | None, day: date, of_day: DayRate
) -> Rate:
    """The rate on the subscriber's day, and its average over the seven days before.

    The day's figure comes from the analytics asked for that local day (NLPearl's timeline
    entries falling in it, weighted by their calls), so it matches the day's counts; the week
    before comes from the fortnight's daily entries, where half a day's shift evens out.
    """
    today = _over_span(day_analytics, of_day) if day_analytics else None
    if today is None and fortnight is not None:
        today = of_day(fortnight, day)
    if fortnight is None:
        return Rate(today, None)
    before = [of_day(fortnight, day - timedelta(days=n)) for n in range(1, WEEK + 1)]
    return Rate(today, _mean([value for value in before if value is not None]))


def _over_span(analytics: Analytics, of_day: DayRate) -> float | None:
    """The rate over every day the analytics cover, each weighted by its calls."""
    days = (
        set(analytics.status_by_day)
        | set(analytics.pickup_rate_by_day)
        | set(analytics.success_rate_by_day)
    )
    pairs = []
    for day in sorted(days):
        value = of_day(analytics, day)
        if value is None:
            continue
        counted = analytics.status_by_day.get(day)
        weight = counted.total_calls if counted and counted.total_calls else 0
        pairs.append((value, weight))
    if not pairs:
        return None
    if not any(weight for _, weight in pairs):
        return _mean([value for value, _ in pairs])
    try:
        total = sum(weight for _, weight in pairs)
        return _finite(sum(value * weight for value, weight in pairs) / total)
    except (OverflowError, ValueError, ZeroDivisionError):
        return None


def _mean(values: list[float]) -> float | None:
    """The mean of the finite values; None when there are none or they overflow."""
    finite = [value for value in values if math.isfinite(value)]
    if not finite:
        return None
    try:
        return _finite(fmean(finite))
    except (OverflowError, ValueError):
        return None


def _share(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, or None when it can't be worked out as a float."""
    try:
        return _finite(100.0 * part / whole)
    except (OverflowError, ZeroDivisionError):
        return None


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def fortnight(analytics: Analytics | None, last: date) -> tuple[DayPoint, ...]:
    """The chart's 14 days, oldest first; a day NLPearl did not report has no numbers."""
    points = []
    for n in range(CHART_DAYS - 1, -1, -1):
        day = last - timedelta(days=n)
        figures = analytics.status_by_day.get(day) if analytics else None
        rate = analytics.success_rate_by_day.get(day) if analytics else None
        points.append(DayPoint(day, figures.total_calls if figures else None, rate))
    return tuple(points)


def differences(overview: StatusOverview | None, feed: FeedCounts | None) -> tuple[str, ...]:
    """Where the feed's own counts and NLPearl's analytics disagree, in words."""
    if overview is None or feed is None:
        return ()
    said = []
    pairs = (
        ("calls", overview.total_calls, feed.calls_ended, "call results"),
        (
            "successful leads",
            overview.successful,
            feed.leads_by_status.get(SUCCESS, 0),
            "successes",
        ),
    )
    for what, nlpearl, heard, heard_what in pairs:
        if nlpearl is None or nlpearl == heard:
            continue
        if heard < nlpearl:
            said.append(
                f"NLPearl counted {nlpearl} {what}; the feed received {heard} {heard_what} "
                f"({nlpearl - heard} webhook(s) may not have arrived)."
            )
        else:
            said.append(
                f"The feed received {heard} {heard_what}, NLPearl counted {nlpearl} {what} "
                "(NLPearl may count by another day boundary or still be catching up)."
            )
    return tuple(said)
