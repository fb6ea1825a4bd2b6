"""The value types that use cases hand to builders, and the one clock they read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from bot.nlpearl.models import Call, Lead, Pearl

# Zero but in tests and demos that start the app's clock at a chosen moment (CLOCK_START).
_clock_offset = timedelta(0)


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC) + _clock_offset


def start_clock_at(moment: datetime) -> None:
    """Make the process's clock read `moment` now and run on from there."""
    global _clock_offset
    _clock_offset = moment - datetime.now(UTC)


@dataclass(frozen=True)
class CallSlot:
    """One call of the lead: loaded, or known only by its ID because it failed to load."""

    call_id: str
    call: Call | None


@dataclass(frozen=True)
class LeadReport:
    """A lead with its campaign and its latest calls, newest first."""

    campaign_id: str
    campaign: Pearl | None
    lead: Lead
    calls: tuple[CallSlot, ...]

    @property
    def total_calls(self) -> int:
        """How many calls NLPearl has placed to the lead."""
        return max(len(self.lead.calls_id), len(self.calls))

    @property
    def campaign_name(self) -> str | None:
        """The campaign's name, when NLPearl told us."""
        return self.campaign.name if self.campaign else None


class LeadSnapshot(BaseModel):
    """The lead as the channel last saw it."""

    campaign_id: str
    campaign_name: str | None = None
    lead_id: str | None = None
    name: str | None = None
    phone: str | None = None
    external_id: str | None = None
    status: int | None = None
    on_call: bool = False
    calls: int = 0
    answers: dict[str, Any] = {}
    # Each answer's variable ID → the name its call gave it, so that the lead's own answers
    # (keyed by ID) land on the same line instead of a second one.
    answer_names: dict[str, str] = {}
    updated_at: datetime | None = None
