"""Numbered NLPearl Lead Webhooks for the feed benchmarks, every one distinct.

Event `n` of a plan is a V2 Lead Webhook (the body `tests/e2e/webhooks.lead_event` builds) for
lead `n // per_lead` (within blocks, see below) moving to the next of STATUSES. A lead's
statuses never repeat, so no event is a duplicate of another. The load generator builds the
bodies itself from the plan (a few numbers), so they need not cross a process boundary.

With `per_lead` > 1 the events come in blocks of `block` leads: first each lead of the block
in its first status (a new lead: a parent message and its first reply), then each in its
second (a reply in the thread, and the parent updated), and so on, as a campaign's leads move
through it together. Lead `k` belongs to campaign `k % len(paths)` and is posted to that
campaign's webhook path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.harness.webhooks import lead_event

# Lead statuses in the order a lead may pass through them (reference §4.1); at most this many
# events per lead.
STATUSES = (1, 20, 40, 10, 70, 100, 130, 110, 150, 300)
JSON_HEADERS = {"Content-Type": "application/json"}
LEAD_ID_BASE = 0x5EED0000  # lead IDs are 24 hex digits from here
FIRST_NAMES = ("Ana", "Ben", "Chen", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jae")


@dataclass(frozen=True)
class WebhookPlan:
    """Which body goes to which path for event number `first + n`."""

    paths: list[str]  # one webhook path (`/nlpearl/webhooks/TOKEN`) per campaign
    campaigns: list[str]  # the campaign (Pearl) ID of each path
    first: int = 0  # the number of event 0, so consecutive loads never repeat an event
    per_lead: int = 1  # events (distinct statuses) per lead
    block: int = 1  # leads per block when per_lead > 1
    lead_base: int = LEAD_ID_BASE  # lets two benchmarks' leads differ

    def __post_init__(self) -> None:
        if not 1 <= self.per_lead <= len(STATUSES):
            raise ValueError(f"per_lead must be 1 to {len(STATUSES)}")
        if len(self.paths) != len(self.campaigns) or not self.paths:
            raise ValueError("one campaign per path, at least one")

    def lead_and_status(self, n: int) -> tuple[int, int]:
        """The lead number and the status code of event `first + n`."""
        number = self.first + n
        size = self.block * self.per_lead
        block, within = divmod(number, size)
        step, lead = divmod(within, self.block)
        return block * self.block + lead, STATUSES[step]

    def event(self, n: int) -> tuple[str, bytes]:
        """The path and JSON body of event `first + n`."""
        lead, status = self.lead_and_status(n)
        campaign = lead % len(self.paths)
        step = STATUSES.index(status)
        lead_id = f"{self.lead_base + lead:024x}"
        body = lead_event(
            lead_id,
            f"+1415{2_000_000 + (self.lead_base + lead) % 8_000_000:07d}",
            status,
            first_name=FIRST_NAMES[lead % len(FIRST_NAMES)],
            last_name=f"#{lead}",
            external_id=f"crm-{lead}",
            calls=[f"{lead_id[:20]}{k:04x}" for k in range(step)],
            collected={"step": step},
            pearl_id=self.campaigns[campaign],
        )
        return self.paths[campaign], json.dumps(body).encode()
