"""The webhook URL `/lead subscribe` shows: stable, from a trusted base, never in a log.

The real server process runs against the Slack and NLPearl stand-ins. Each test subscribes in
a workspace (team) of its own, so tests sharing a server never share a campaign's endpoint.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from bot.demo.nlpearl_api import SAMPLE_LEAD_ID, SAMPLE_LEAD_PHONE, SAMPLE_PEARL_ID
from tests.harness.in_process import AppFactory, AppInProcess
from tests.harness.slack_requests import (
    FORM_CONTENT_TYPE,
    SIGNING_SECRET,
    blocks_text,
    message_text,
    sign,
    slash_command_body,
)
from tests.harness.webhooks import WEBHOOK_PATH, lead_event, post_webhook, webhook_url
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.e2e

P = SAMPLE_PEARL_ID
PUBLIC_URL_UNSET = "`PUBLIC_URL` is not set"
COMMAND_TIMEOUT = 15.0
DELIVERY_TIMEOUT = 45.0

Json = dict[str, Any]
_teams = itertools.count(1)
_replies = itertools.count(1)


class Workspace:
    """One test's team on a running server: commands in its channels, answered by the stand-in."""

    def __init__(self, server: AppInProcess, slack: SlackStandIn) -> None:
        self.server = server
        self.slack = slack
        self.team_id = f"TURL{next(_teams):03d}"

    def command(self, text: str, channel: str, headers: dict[str, str] | None = None) -> Json:
        """`/lead text` in `channel`, signed as Slack signs it, plus any proxy `headers`."""
        name = f"{self.team_id}-{next(_replies)}"
        body = slash_command_body(
            text, self.slack.response_url(name), channel_id=channel, team_id=self.team_id
        )
        sent = {"Content-Type": FORM_CONTENT_TYPE, **sign(SIGNING_SECRET, body), **(headers or {})}
        acked = httpx.post(self.server.events_url, content=body, headers=sent, timeout=10)
        assert (acked.status_code, acked.text) == (200, ""), acked.text
        [reply] = self.slack.wait_for_responses(1, name, timeout=COMMAND_TIMEOUT)
        return reply

    def subscribe_url(self, channel: str, headers: dict[str, str] | None = None) -> str:
        """The whole webhook URL a `/lead subscribe` in `channel` shows."""
        return webhook_url(self.command(f"subscribe {P}", channel, headers)).group(0)


@pytest.fixture
def workspace(
    shared_server: AppInProcess, shared_slack: SlackStandIn, shared_nlpearl: NLPearlStandIn
) -> Workspace:
    """A fresh team on the shared server."""
    return Workspace(shared_server, shared_slack)


def _path(url: str) -> str:
    return url[url.index(WEBHOOK_PATH) :]


def _queued(server: AppInProcess, url: str, status: int = 20) -> int:
    answer = post_webhook(
        server.url, _path(url), lead_event(SAMPLE_LEAD_ID, SAMPLE_LEAD_PHONE, status)
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["queued"])


# Stable URLs


def test_subscribing_again_shows_the_same_url_and_it_keeps_working(workspace: Workspace) -> None:
    first = workspace.subscribe_url("CURLA")
    again = workspace.subscribe_url("CURLA")
    # A double-submit: two commands at once, each answered with the URL.
    with ThreadPoolExecutor(2) as pool:
        doubled = list(pool.map(lambda _: workspace.subscribe_url("CURLA"), range(2)))
    elsewhere = workspace.subscribe_url("CURLB")

    assert {again, *doubled, elsewhere} == {first}
    reply = workspace.command(f"subscribe {P}", "CURLA")
    assert "It never changes" in blocks_text(reply)
    # The one URL feeds both channels.
    assert _queued(workspace.server, first) == 2


def test_concurrent_first_subscribes_share_one_url(workspace: Workspace) -> None:
    channels = ["CRACEA", "CRACEB", "CRACEA", "CRACEC"]
    with ThreadPoolExecutor(len(channels)) as pool:
        urls = list(pool.map(workspace.subscribe_url, channels))

    assert len(set(urls)) == 1, urls
    assert _queued(workspace.server, urls[0]) == 3


def test_once_nlpearl_uses_the_url_it_is_not_shown_again(workspace: Workspace) -> None:
    url = workspace.subscribe_url("CUSEDA")
    assert _queued(workspace.server, url) == 1

    for channel in ("CUSEDA", "CUSEDB"):
        reply = workspace.command(f"subscribe {P}", channel)
        assert WEBHOOK_PATH not in message_text(reply)
        assert "NLPearl is already sending" in blocks_text(reply)
    assert _queued(workspace.server, url, status=100) == 2


# A trusted base URL


def test_forwarded_headers_do_not_choose_the_host_shown(workspace: Workspace) -> None:
    forged = {"X-Forwarded-Host": "leads.attacker.example", "X-Forwarded-Proto": "http"}
    reply = workspace.command(f"subscribe {P}", "CHOSTA", forged)

    url = webhook_url(reply).group(0)
    host = workspace.server.url.removeprefix("http://")
    assert url == f"https://{host}{_path(url)}"
    assert "attacker" not in message_text(reply)
    # Without PUBLIC_URL the reply says where the address came from, and how to set it.
    note = blocks_text(reply)
    assert PUBLIC_URL_UNSET in note
    assert "set `PUBLIC_URL`" in note


def test_public_url_decides_the_url_shown(
    shared_server_factory: AppFactory, shared_slack: SlackStandIn, shared_nlpearl: NLPearlStandIn
) -> None:
    server = shared_server_factory({"PUBLIC_URL": "https://leads.example.com/"})
    workspace = Workspace(server, shared_slack)
    forged = {"X-Forwarded-Host": "leads.attacker.example", "Host": "other.example"}

    reply = workspace.command(f"subscribe {P}", "CPUBA", forged)

    url = webhook_url(reply).group(0)
    assert url.startswith("https://leads.example.com/nlpearl/webhooks/")
    assert PUBLIC_URL_UNSET not in blocks_text(reply)
    assert _queued(server, url) == 1


# Status filters


@pytest.mark.parametrize("status", ["999", "0", "200", "4"])
def test_a_code_that_is_not_a_lead_status_is_refused(workspace: Workspace, status: str) -> None:
    reply = workspace.command(f"subscribe {P} success {status}", "CSTATA")

    shown = blocks_text(reply)
    assert "Unknown status" in shown
    assert f"`{status}`" in shown
    assert "`success`" in shown
    assert "`notsuccessful`" in shown
    assert WEBHOOK_PATH not in message_text(reply)
    assert "No subscriptions" in blocks_text(workspace.command("subscriptions", "CSTATA"))


def test_a_documented_lead_status_code_is_accepted(workspace: Workspace) -> None:
    reply = workspace.command(f"subscribe {P} 100 notsuccessful", "CSTATB")

    assert "✅ Success, ❌ Not successful" in blocks_text(reply)
    webhook_url(reply)


# Logs


def test_no_webhook_token_reaches_the_log_even_at_debug(
    server_factory: AppFactory, slack: SlackStandIn
) -> None:
    server = server_factory({"LOG_LEVEL": "DEBUG"})
    workspace = Workspace(server, slack)
    url = workspace.subscribe_url("CLOGA")
    token = _path(url).removeprefix(WEBHOOK_PATH)
    assert _queued(server, url) == 1
    assert _queued(server, url, status=100) == 1
    # A guess at a token is a path like any other: it is not logged either.
    guess = token[::-1]
    missed = post_webhook(server.url, WEBHOOK_PATH + guess, {"id": "x"})
    assert missed.status_code == 404
    slack.wait_for_calls("chat.postMessage", 2, timeout=DELIVERY_TIMEOUT, ok_only=True)

    assert server.terminate() in (0, -15)
    log = server.output()
    assert " DEBUG " in log  # the level really was DEBUG
    assert token not in log
    assert guess not in log
    access = [line for line in log.splitlines() if "uvicorn.access" in line]
    assert sum('"POST /nlpearl/webhooks/[redacted] HTTP/1.1" 200' in line for line in access) == 2
    assert sum('"POST /nlpearl/webhooks/[redacted] HTTP/1.1" 404' in line for line in access) == 1
