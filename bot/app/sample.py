"""A realistic made-up lead, for `lead-bot preview --sample` and the README's pictures."""

from __future__ import annotations

from typing import Any

from bot.nlpearl.models import Call, Lead, Pearl
from bot.records import CallSlot, LeadReport

SAMPLE_CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
SAMPLE_LEAD_ID = "6650f1c2a9e4b27d3c8e41a7"

_CALLS: list[dict[str, Any]] = [
    {
        "id": "66523b11c2d3e4f5a6b7c8d9",
        "startTime": "2025-03-05T17:03:44Z",
        "conversationStatus": 100,
        "status": 4,
        "duration": 142,
        "recording": "https://recordings.example-cdn.net/66523b11c2d3e4f5a6b7c8d9.mp3",
        "summary": (
            "Maria agreed to a site survey on Thursday morning. Her roof is about 12 years old "
            "and she wants a quote that includes battery storage."
        ),
        "collectedInfo": [
            {"id": "preferredDay", "name": "Preferred day", "value": "Thursday"},
            {"id": "roofAge", "name": "Roof age (years)", "value": 12},
            {"id": "wantsBattery", "name": "Wants battery", "value": True},
            {"id": "monthlyBill", "name": "Monthly bill ($)", "value": 182.5},
        ],
        "tags": ["Survey booked", "Battery interest"],
        "transcript": [
            {
                "role": 3,
                "content": "Hi Maria, this is Ava from Brightline Solar. Is now a good time?",
                "startTime": 0,
                "endTime": 4,
            },
            {"role": 2, "content": "Sure, go ahead.", "startTime": 5, "endTime": 6},
            {
                "role": 3,
                "content": "You asked about a solar quote. How old is your roof?",
                "startTime": 7,
                "endTime": 10,
            },
            {
                "role": 2,
                "content": "About twelve years. And I'd want a battery too.",
                "startTime": 11,
                "endTime": 15,
            },
            {
                "role": 3,
                "content": "Great. Could a surveyor visit Thursday morning?",
                "startTime": 16,
                "endTime": 19,
            },
            {"role": 2, "content": "Thursday works.", "startTime": 20, "endTime": 21},
        ],
    },
    {
        "id": "6651e2a0b1c2d3e4f5a6b7c2",
        "startTime": "2025-03-04T21:40:12Z",
        "conversationStatus": 10,
        "status": 7,
        "duration": 0,
        "summary": None,
    },
    {
        "id": "6651a0e4b1c2d3e4f5a6b7c8",
        "startTime": "2025-03-04T16:15:02Z",
        "conversationStatus": 70,
        "status": 4,
        "duration": 31,
        "recording": "https://recordings.example-cdn.net/6651a0e4b1c2d3e4f5a6b7c8.mp3",
        "summary": "Reached voicemail; left the spring offer message and a call-back number.",
    },
]

_LEAD: dict[str, Any] = {
    "id": SAMPLE_LEAD_ID,
    "externalId": "crm-004512",
    "phoneNumber": "+14155550137",
    "timeZone": "-8.0",
    "status": 100,
    "created": "2025-03-04T15:22:10.512Z",
    "callsId": ["6651a0e4b1c2d3e4f5a6b7c8", "6651e2a0b1c2d3e4f5a6b7c2", "66523b11c2d3e4f5a6b7c8d9"],
    "callData": {"firstName": "Maria", "lastName": "Gonzalez", "plan": "Pro", "source": "Web form"},
    "collectedData": {
        "preferredDay": "Thursday",
        "roofAge": 12,
        "wantsBattery": True,
        "monthlyBill": 182.5,
    },
}


def sample_report() -> LeadReport:
    """The sample lead with its campaign and three calls, newest first."""
    calls = tuple(CallSlot(c["id"], Call.model_validate(c)) for c in _CALLS)
    campaign = Pearl(id=SAMPLE_CAMPAIGN_ID, name="Solar – Spring Re-engagement", type=2, status=1)
    return LeadReport(SAMPLE_CAMPAIGN_ID, campaign, Lead.model_validate(_LEAD), calls)
