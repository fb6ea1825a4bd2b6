"""Realistic NLPearl webhook bodies (reference §5), V2 camelCase and V1 PascalCase."""

from __future__ import annotations

import copy
from typing import Any

CAMPAIGN_ID = "664e9a77f0e1d2c3b4a59687"
LEAD_ID = "6650f1c2a9e4b27d3c8e41a7"
PHONE = "+14155550137"
FIRST_CALL_ID = "6651a0e4b1c2d3e4f5a6b7c8"
CALL_ID = "66523b11c2d3e4f5a6b7c8d9"
RECORDING = f"https://recordings.example-cdn.net/{CALL_ID}.mp3"
SUMMARY = "Maria wants a site survey next Tuesday morning; her roof is 12 years old."

_V2_LEAD: dict[str, Any] = {
    "id": LEAD_ID,
    "pearlId": CAMPAIGN_ID,
    "externalId": "crm-004512",
    "phoneNumber": PHONE,
    "timeZone": "-8.0",
    "status": 100,
    "created": "2025-03-04T15:22:10.512Z",
    "callsId": [FIRST_CALL_ID, CALL_ID],
    "lastCall": {
        "id": CALL_ID,
        "startTime": "2025-03-05T17:03:44Z",
        "pearlId": CAMPAIGN_ID,
        "status": 4,
        "from": "+12125550100",
        "name": "Maria Gonzalez",
        "collectedData": {
            "transcript": [
                {"role": 3, "content": "Hi Maria, is now a good time?", "startTime": 0},
                {"role": 2, "content": "Sure, go ahead.", "startTime": 5, "endTime": 6},
            ],
            "collectedInfos": [{"id": "interested", "name": "Interested", "value": True}],
        },
        "summary": SUMMARY,
        "duration": 142,
        "recording": RECORDING,
        "tags": ["survey"],
    },
    "callData": {"firstName": "Maria", "lastName": "Gonzalez", "agentName": "Ava"},
    "collectedData": {"interested": True, "roofAge": 12, "preferredDay": "Tuesday"},
}

_V1_LEAD: dict[str, Any] = {
    "Id": LEAD_ID,
    "PearlId": CAMPAIGN_ID,
    "ExternalId": "crm-004512",
    "PhoneNumber": PHONE,
    "TimeZone": "-8.0",
    "Status": 100,
    "Created": "2025-03-04T15:22:10.512Z",
    "CallsId": [FIRST_CALL_ID, CALL_ID],
    "CallData": {"FirstName": "Maria", "LastName": "Gonzalez"},
    "CollectedData": {"interested": True, "roofAge": 12, "preferredDay": "Tuesday"},
}

_V2_CALL_END: dict[str, Any] = {
    "id": CALL_ID,
    "pearlId": CAMPAIGN_ID,
    "startTime": "2025-03-05T17:03:44Z",
    "conversationStatus": 100,
    "status": 4,
    "from": "+12125550100",
    "to": PHONE,
    "name": "Maria Gonzalez",
    "duration": 142,
    "recording": RECORDING,
    "transcript": [
        {"role": 3, "content": "Hi Maria, is now a good time?", "startTime": 0, "endTime": 4},
        {"role": 2, "content": "Sure, go ahead.", "startTime": 5, "endTime": 6},
    ],
    "summary": SUMMARY,
    "collectedInfo": [
        {"id": "interested", "name": "Interested", "value": True},
        {"id": "roofAge", "name": "Roof age", "value": 12},
        {"id": "preferredDay", "name": "Preferred day", "value": "Tuesday"},
    ],
    "tags": ["survey"],
    "isCallTransferred": False,
    "overallSentiment": 4,
}

_V1_CALL_END: dict[str, Any] = {
    "Id": CALL_ID,
    "PearlId": CAMPAIGN_ID,
    "LeadId": LEAD_ID,
    "RelatedId": None,
    "StartTime": "2025-03-05T17:03:44Z",
    "From": "+12125550100",
    "To": PHONE,
    "Duration": 142,
    "ConversationStatus": 100,
    "Status": 4,
    "Summary": SUMMARY,
    "Transcript": [
        {"Role": 3, "Content": "Hi Maria, is now a good time?"},
        {"Role": 2, "Content": "Sure, go ahead."},
    ],
    "Recording": RECORDING,
    "CollectedInfo": [{"Id": "interested", "Name": "Interested", "Value": True}],
    "Tags": ["survey"],
    "OverallSentiment": 4,
    "IsCallTransferred": False,
}

# The first of a call's two deliveries: in progress, no outcome yet.
_V2_CALL_START: dict[str, Any] = {
    "id": CALL_ID,
    "pearlId": CAMPAIGN_ID,
    "startTime": "2025-03-05T17:03:44Z",
    "status": 3,
    "from": "+12125550100",
    "to": PHONE,
    "name": "Maria Gonzalez",
    "transcript": [],
    "collectedInfo": [],
}

_V1_CALL_START: dict[str, Any] = {
    "Id": CALL_ID,
    "PearlId": CAMPAIGN_ID,
    "LeadId": LEAD_ID,
    "StartTime": "2025-03-05T17:03:44Z",
    "From": "+12125550100",
    "To": PHONE,
    "Status": 3,
    "ConversationStatus": None,
}


def _with(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(base)
    body.update(changes)
    return body


def v2_lead(**changes: Any) -> dict[str, Any]:
    """A V2 Lead Webhook body, with top-level fields replaced."""
    return _with(_V2_LEAD, changes)


def v1_lead(**changes: Any) -> dict[str, Any]:
    """A V1 (PascalCase) Lead Webhook body."""
    return _with(_V1_LEAD, changes)


def v2_call_end(**changes: Any) -> dict[str, Any]:
    """A V2 Call Webhook body for a finished call."""
    return _with(_V2_CALL_END, changes)


def v1_call_end(**changes: Any) -> dict[str, Any]:
    """A V1 (PascalCase) Call Webhook body for a finished call."""
    return _with(_V1_CALL_END, changes)


def v2_call_start(**changes: Any) -> dict[str, Any]:
    """A V2 Call Webhook body at the start of a call."""
    return _with(_V2_CALL_START, changes)


def v1_call_start(**changes: Any) -> dict[str, Any]:
    """A V1 (PascalCase) Call Webhook body at the start of a call."""
    return _with(_V1_CALL_START, changes)
