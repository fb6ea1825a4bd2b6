"""Webhooks the app cannot store as sent, and late redeliveries, through the real app, in process.

Every body of the hostile table (tests/notify/hostile.py) gets the same answer from a server
on SQLite and one on PostgreSQL. A late redelivery of a lead event, and a call's start sent
after its end, are answered 200 and never reach the channel: the Slack stand-in is read
after a barrier (a sentinel lead, delivered after everything queued before it in the channel).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from bot.demo.nlpearl_api import SAMPLE_LEAD_ID, SAMPLE_LEAD_PHONE, SAMPLE_PEARL_ID
from bot.nlpearl.statuses import lead_status
from tests.feed.hostile import Hostile, hostile_params
from tests.harness.feed import add_campaign, bot_environment, campaign_id, run_migrate, subscribe
from tests.harness.in_process import AppFactory, AppInProcess
from tests.harness.slack_requests import blocks_text
from tests.harness.webhooks import call_ended, call_started, lead_event, post_webhook
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.e2e

T = TypeVar("T")
CALL_ID = "66523b11c2d3e4f5a6b7c8d9"
RECORDING = f"https://recordings.example-cdn.net/{CALL_ID}.mp3"
QUEUED = lead_status(20).text
ON_A_CALL_NOW = "On a call now"
TIMEOUT = 45.0


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The server's database; asked for before the server, so it outlives it."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hostile.db'}"
    else:
        yield str(request.getfixturevalue("postgres_url"))


def wait_for(what: str, found: Callable[[], T | None], server: AppInProcess) -> T:
    """Polls `found` until it returns something, for at most TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while not (result := found()):
        if time.monotonic() > deadline or not server.running:
            raise AssertionError(f"no {what} within {TIMEOUT}s:\n{server.output()[-4000:]}")
        time.sleep(0.05)
    return result


def post(server: AppInProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POSTs a webhook; the answer's status code and body together."""
    answer = post_webhook(server.url, path, body)
    return {"code": answer.status_code, **answer.json()}


def stored() -> dict[str, Any]:
    return {"code": 200, "status": "stored", "queued": 1}


def test_every_hostile_body_gets_the_same_answer_through_the_server(
    database_url: str,
    server_factory: AppFactory,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    tmp_path: Path,
) -> None:
    env = {"DATABASE_URL": database_url}
    if not database_url.startswith("sqlite"):
        run_migrate(bot_environment(env, slack, nlpearl, tmp_path), tmp_path)
    server = server_factory(env)
    wrong: dict[str, Any] = {}
    for number, param in enumerate(hostile_params()):
        case: Hostile = param.values[0]
        campaign = campaign_id(900 + number)
        add_campaign(nlpearl, campaign)
        path = subscribe(server, slack, f"C0HOSTILE{number:03d}", campaign)
        answer = httpx.post(
            server.url + path,
            content=case.body,
            headers={"Content-Type": "application/json"},
            timeout=15,
        )
        said = answer.json()
        if answer.status_code != case.status_code or case.answer not in str(
            said.get("status") or said.get("error")
        ):
            wrong[str(param.id)] = (answer.status_code, said)
        elif case.status_code == 200:
            again = httpx.post(server.url + path, content=case.body, timeout=15)
            if again.json() != {"status": "duplicate"}:
                wrong[f"{param.id}, sent again"] = (again.status_code, again.json())

    assert wrong == {}
    over = post_webhook(server.url, path, b"{" + b" " * 1_100_000 + b"}")
    assert (over.status_code, over.json()) == (413, {"error": "the body is over 1 MB"})
    assert "Traceback" not in server.output()


def test_late_redeliveries_are_answered_and_never_posted(
    server: AppInProcess, slack: SlackStandIn
) -> None:
    channel = "C0LATE"
    path = subscribe(server, slack, channel, SAMPLE_PEARL_ID)
    queued = lead_event(SAMPLE_LEAD_ID, SAMPLE_LEAD_PHONE, 20)
    on_call = lead_event(SAMPLE_LEAD_ID, SAMPLE_LEAD_PHONE, 40)
    ended = call_ended(
        CALL_ID,
        SAMPLE_LEAD_PHONE,
        summary="Maria booked a survey.",
        recording=RECORDING,
        collected=[],
    )

    assert post(server, path, queued) == stored()
    assert post(server, path, on_call) == stored()
    # The first webhook again, late: the lead has had it.
    assert post(server, path, queued) == {"code": 200, "status": "duplicate"}
    assert post(server, path, ended) == stored()
    # A genuine change is still posted: the lead has had a call since it was last queued.
    success = lead_event(SAMPLE_LEAD_ID, SAMPLE_LEAD_PHONE, 100, calls=[CALL_ID])
    assert post(server, path, success) == stored()
    # The call's start, after its end.
    started = call_started(CALL_ID, SAMPLE_LEAD_PHONE)
    assert post(server, path, started) == {"code": 200, "status": "stale"}

    sentinel = lead_event("sentinel-late", None, 100, first_name="Sentinel", last_name="Barrier")
    assert post(server, path, sentinel)["status"] == "stored"
    wait_for("the sentinel's reply", lambda: _thread_of(slack, channel, "Sentinel")[1], server)

    parent, replies = _thread_of(slack, channel, "Maria")
    assert parent is not None
    thread = "\n".join(blocks_text(reply) for reply in replies)
    assert f"→ {QUEUED}" not in thread, thread
    assert "Call ended" in thread
    assert "Success" in thread
    assert ON_A_CALL_NOW not in blocks_text(parent)
    # The parent, as posted and as each update left it, never went back to the queue.
    headlines = [_headline(version) for version in _versions(slack, channel, parent["ts"])]
    assert headlines, "the parent was never posted"
    # (Deliveries may be batched, so the queue may show in the first version only, or none.)
    queued = [QUEUED in headline for headline in headlines]
    assert queued == sorted(queued, reverse=True), headlines


def _thread_of(
    slack: SlackStandIn, channel: str, name: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """A lead's parent message (as it is now) and its replies, found by the lead's name."""
    messages = slack.messages(channel)
    parent = next((m for m in messages if "thread_ts" not in m and name in blocks_text(m)), None)
    if parent is None:
        return None, []
    return parent, [m for m in messages if m.get("thread_ts") == parent["ts"]]


def _versions(slack: SlackStandIn, channel: str, ts: str) -> list[dict[str, Any]]:
    """The parent as first posted, then as each chat.update left it."""
    posted = [
        r.body
        for r in slack.records("chat.postMessage")
        if r.ok and r.reply is not None and r.reply.get("ts") == ts
    ]
    updates = [
        body
        for body in slack.calls("chat.update", ok_only=True)
        if body.get("channel") == channel and body.get("ts") == ts
    ]
    return posted + updates


def _headline(message: dict[str, Any]) -> str:
    return blocks_text(message).split("\n")[0]
