"""What the storage edge takes and returns: plain values, no database types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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


@dataclass(frozen=True)
class ActionRecord:
    """One action someone took (or was refused) on a lead, as the audit log keeps it."""

    workspace: Workspace
    user_id: str
    campaign_id: str
    lead_id: str
    # A Verb value ("stop", "retry", "won", "lost", "edit") or "add".
    action: str
    before_status: int | None
    # "pending" while it is being applied; then "applied", "denied", "stale" or "failed".
    result: str
    at: datetime
    after_status: int | None = None
    # What was sent to NLPearl (the Update or Add Lead body), for the record.
    changes: dict[str, Any] = field(default_factory=dict)
    # Why it was refused or failed, in words.
    detail: str | None = None


@dataclass(frozen=True)
class Grants:
    """Who besides workspace admins and owners may act on leads: people and user groups."""

    users: tuple[str, ...] = ()
    usergroups: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigestInfo:
    """A channel's daily digest of a campaign, as `/lead subscriptions` and Home show it."""

    id: int
    workspace: Workspace
    channel_id: str
    campaign_id: str
    # "HH:MM" in `time_zone` (an IANA name).
    at_time: str
    time_zone: str
    next_due_at: datetime
    created_by: str | None
    problem: str | None


@dataclass(frozen=True)
class StoredAccount:
    """A workspace's NLPearl account, its secret opened."""

    workspace: Workspace
    account_id: str
    # Kept out of repr, so that logging the value never logs the secret.
    secret: str = field(repr=False)
    account_name: str | None
    connected_by: str | None
    connected_at: datetime


@dataclass(frozen=True)
class Installed:
    """A workspace the app is installed in; team_id is "" for an org-wide install."""

    workspace: Workspace
    team_name: str | None
    enterprise_name: str | None
    is_enterprise_install: bool
    # When its current bot token was installed, in UTC.
    installed_at: datetime
