"""What the storage edge takes and returns: plain values, no database types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Marks a token wherever it appears (a URL, a database driver's debug log) so logs can redact it.
TOKEN_PREFIX = "lbwh_"


@dataclass(frozen=True)
class Workspace:
    """A Slack workspace: its team, and its Enterprise Grid org when there is one."""

    team_id: str
    enterprise_id: str = ""


@dataclass(frozen=True)
class Subscribed:
    """What subscribing did, and the campaign's webhook token (None on rows that never kept it)."""

    token: str | None
    already_subscribed: bool
    last_received_at: datetime | None


@dataclass(frozen=True)
class SubscriptionInfo:
    """A subscription as `/lead subscriptions` shows it."""

    channel_id: str
    campaign_id: str
    statuses: tuple[int, ...] | None
    last_received_at: datetime | None
    problem: str | None
    problem_at: datetime | None


@dataclass(frozen=True)
class RecentLookup:
    """A lead someone looked up."""

    campaign_id: str
    lead_id: str
    label: str
    looked_up_at: datetime


@dataclass(frozen=True)
class LastCampaign:
    """The campaign someone chose last."""

    campaign_id: str
    name: str | None
