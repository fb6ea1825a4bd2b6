"""The value types of a campaign's daily digest and alerts, handed from use cases to builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True)
class DayPoint:
    """One day of the chart: how many calls, and the share that succeeded (percent, 0–100)."""

    day: date
    calls: int | None
    success_rate: float | None


@dataclass(frozen=True)
class Rate:
    """A rate for the day reported, and the average of the seven days before (percent)."""

    day: float | None
    week_before: float | None

    @property
    def change(self) -> float | None:
        """Percentage points up (positive) or down against the week before, when both are known."""
        if self.day is None or self.week_before is None:
            return None
        return self.day - self.week_before


@dataclass(frozen=True)
class Digest:
    """Everything a daily digest shows; None where NLPearl did not say."""

    campaign_id: str
    campaign_name: str | None
    # The day reported (yesterday, in the subscriber's time zone) and that zone's IANA name.
    day: date
    time_zone: str
    calls: int | None
    # (outcome label, count) for the day reported, in the order to show, zero counts left out.
    outcomes: tuple[tuple[str, int], ...]
    reached: Rate
    success: Rate
    voicemail: Rate
    bookings: int | None
    transfers: int | None
    budget_used: float | None
    budget_total: float | None
    # How many leads need attention now (Error, Wrong country code, Unreachable); None unknown.
    attention: int | None
    # The last 14 days, oldest first, for the chart's alt text and the fallback when none.
    days: tuple[DayPoint, ...]
    # Sentences where the feed's own counts and NLPearl's analytics differ (empty: they agree).
    differences: tuple[str, ...] = ()
    # The uploaded chart (a Slack file ID), when it could be drawn and uploaded.
    chart_file_id: str | None = None
    # How long after its time the digest went out, when the app was down at that time.
    late_by: timedelta | None = None
    # What NLPearl could not be asked for this time ("analytics", "campaign", …).
    missing: tuple[str, ...] = ()


class AlertKind(StrEnum):
    """The conditions a campaign is watched for."""

    NO_CREDIT = "no_credit"
    SUSPENDED = "suspended"
    STOPPED = "stopped"
    BUDGET = "budget"
    SILENT_WEBHOOK = "silent_webhook"
    ERRORS = "errors"


@dataclass(frozen=True)
class Alert:
    """A condition that started (or ended) for a campaign, to post once to its channels."""

    kind: AlertKind
    started: bool
    campaign_id: str
    campaign_name: str | None
    # When the condition started; for an end, how long it lasted is `at - since`.
    since: datetime
    at: datetime
    # The numbers behind it, by name, each optional: credit, budget_share, budget_used,
    # budget_total, silent_minutes, error_share, calls, errors, threshold_minutes,
    # threshold_share. Shares are percents (0–100), like every rate here.
    figures: dict[str, float] = field(default_factory=dict)
