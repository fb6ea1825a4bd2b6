"""NLPearl webhook bodies as NLPearl sends them, and the webhook URL that `/lead subscribe` shows.

Lead Webhook bodies follow reference §5.5 (V2, camelCase) and §5.6 (V1, PascalCase); Call
Webhook bodies follow §5.4: one delivery when the call starts (`status` 3, no outcome yet)
and one when it ends (`status` 4 with the conversation's outcome, summary and answers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from bot.demo.nlpearl_api import SAMPLE_PEARL_ID
from tests.harness.log_scan import remember_webhook_token
from tests.harness.slack_requests import message_text

JSON_TYPE = "application/json"
WEBHOOK_PATH = "/nlpearl/webhooks/"
# The URL inside the reply's code block: scheme, host (with port), path with the token.
WEBHOOK_URL = re.compile(r"(https?)://([^/\s`]+)(/nlpearl/webhooks/([A-Za-z0-9_-]+))")

Json = dict[str, Any]


def webhook_url(reply: dict[str, Any]) -> re.Match[str]:
    """The webhook URL a subscribe reply shows (exactly one, in a code block)."""
    found = list(WEBHOOK_URL.finditer(message_text(reply)))
    assert found, f"no webhook URL in the reply: {json.dumps(reply, indent=2)}"
    assert len({m.group(0) for m in found}) == 1, f"several webhook URLs: {found}"
    code_blocks = [
        block
        for block in reply["blocks"]
        if block.get("type") == "section" and block["text"]["text"].startswith("```")
    ]
    assert any(found[0].group(0) in b["text"]["text"] for b in code_blocks), (
        "the webhook URL is not in a code block"
    )
    remember_webhook_token(found[0].group(4))
    return found[0]


def lead_event(
    lead_id: str | None,
    phone: str | None,
    status: int,
    *,
    first_name: str = "Maria",
    last_name: str = "Gonzalez",
    external_id: str | None = "crm-004512",
    calls: Iterable[str] = (),
    collected: Json | None = None,
    pearl_id: str = SAMPLE_PEARL_ID,
) -> Json:
    """A V2 Lead Webhook body: the lead after its status changed."""
    return {
        "id": lead_id,
        "pearlId": pearl_id,
        "externalId": external_id,
        "phoneNumber": phone,
        "timeZone": "-8.0",
        "status": status,
        "callsId": list(calls),
        "callData": {"firstName": first_name, "lastName": last_name},
        "collectedData": collected or {},
    }


def v1_lead_event(
    lead_id: str,
    phone: str,
    status: int,
    *,
    first_name: str,
    last_name: str,
    external_id: str,
    pearl_id: str = SAMPLE_PEARL_ID,
) -> Json:
    """A V1 Lead Webhook body: the same fields in PascalCase."""
    return {
        "Id": lead_id,
        "PearlId": pearl_id,
        "ExternalId": external_id,
        "PhoneNumber": phone,
        "Status": status,
        "CallsId": [],
        "CallData": {"FirstName": first_name, "LastName": last_name},
        "CollectedData": {},
    }


def call_started(call_id: str, to: str, *, name: str = "Maria Gonzalez") -> Json:
    """A V2 Call Webhook body at the start of a call: in progress, no outcome yet."""
    return {
        "id": call_id,
        "pearlId": SAMPLE_PEARL_ID,
        "startTime": "2025-03-05T17:03:44Z",
        "conversationStatus": None,
        "status": 3,
        "from": "+12125550100",
        "to": to,
        "name": name,
        "duration": 0,
        "recording": None,
        "transcript": [],
        "summary": None,
        "collectedInfo": [],
    }


def call_ended(
    call_id: str,
    to: str,
    *,
    summary: str,
    recording: str,
    collected: list[Json],
    conversation_status: int = 100,
    duration: int = 95,
    name: str = "Maria Gonzalez",
) -> Json:
    """A V2 Call Webhook body at the end of a call: outcome, summary, recording, answers."""
    return {
        **call_started(call_id, to, name=name),
        "conversationStatus": conversation_status,
        "status": 4,
        "duration": duration,
        "recording": recording,
        "transcript": [
            {"role": 3, "content": "Hi, I'm calling about your solar quote.", "startTime": 0},
            {"role": 2, "content": "Yes, Thursday works for me.", "startTime": 4},
        ],
        "summary": summary,
        "collectedInfo": collected,
    }


def v1_call_ended(call_id: str, to: str, *, summary: str, recording: str) -> Json:
    """A V1 Call Webhook body at the end of a call, in PascalCase."""
    return {
        "Id": call_id,
        "PearlId": SAMPLE_PEARL_ID,
        "StartTime": "2025-03-05T17:03:44Z",
        "ConversationStatus": 110,
        "Status": 4,
        "From": "+12125550100",
        "To": to,
        "Duration": 67,
        "Recording": recording,
        "Transcript": [{"Role": 2, "Content": "I already went with another installer."}],
        "Summary": summary,
        "CollectedInfo": [{"Id": "interested", "Name": "Interested", "Value": False}],
    }


def post_webhook(
    base_url: str, path: str, body: Json | list[Any] | bytes, content_type: str = JSON_TYPE
) -> httpx.Response:
    """POSTs a webhook body as NLPearl does: JSON, no signature."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        base_url + path, content=content, headers={"Content-Type": content_type}, timeout=15
    )


def post_chunked(base_url: str, path: str, chunks: Iterable[bytes]) -> httpx.Response:
    """POSTs a body in chunks, without a Content-Length, so only its size as read can tell."""

    def stream() -> Iterator[bytes]:
        yield from chunks

    return httpx.post(
        base_url + path, content=stream(), headers={"Content-Type": JSON_TYPE}, timeout=15
    )
