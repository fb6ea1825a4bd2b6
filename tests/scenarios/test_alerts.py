"""Alerts end to end: each condition posts once when it starts and once when it ends.

The real app runs in process against the stand-ins, its alert check every fraction of a second.
A channel follows a campaign with `/lead subscribe`; the test then changes what NLPearl says
(credit, account status, the campaign's state and budget) or what the feed receives (webhooks),
and reads the channel. "Only once" is proven by letting several more checks pass (counted by
NLPearl's Get Account requests) before counting the alerts.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.blocks.slack_limits import assert_no_injection, assert_valid_message
from tests.harness import interactions as slack_says
from tests.harness.acting import ack_view
from tests.harness.in_process import AppFactory, AppInProcess
from tests.harness.slack_requests import blocks_text, buttons, send_command
from tests.harness.webhooks import call_ended, lead_event, post_webhook, webhook_url
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.e2e

NOTICE_EVENT = "lead_bot_notice"
CHECK_MINUTES = "0.005"  # an alert check every 0.3 s
WAIT_SECONDS = 30.0
EXTRA_CHECKS = 4
_numbers = itertools.count(1)

Json = dict[str, Any]


def _campaign(nlpearl: NLPearlStandIn, **fields: Any) -> str:
    campaign = f"{0xA1E47000 + next(_numbers):024x}"
    pearl = {"id": campaign, "name": "Solar – Spring", "type": 2, "status": 1, **fields}
    nlpearl.add_pearl(pearl)
    return campaign


def _change(nlpearl: NLPearlStandIn, campaign: str, **fields: Any) -> None:
    pearl = {"id": campaign, "name": "Solar – Spring", "type": 2, "status": 1}
    nlpearl.add_pearl({**pearl, **fields})


def _start(server_factory: AppFactory, **env: str) -> AppInProcess:
    return server_factory(
        {"ALERT_CHECK_MINUTES": CHECK_MINUTES, "SCHEDULE_TICK_SECONDS": "0.1", **env}
    )


def _subscribe(server: AppInProcess, slack: SlackStandIn, channel: str, campaign: str) -> str:
    name = f"sub-{channel}-{campaign}"
    acked = send_command(
        server.events_url,
        f"subscribe {campaign}",
        slack.response_url(name),
        channel_id=channel,
    )
    assert acked.status_code == 200, acked.text
    [reply] = slack.wait_for_responses(1, name, timeout=15)
    return webhook_url(reply).group(3)


def _alerts(slack: SlackStandIn, channel: str) -> list[Json]:
    """The alerts posted in the channel, oldest first."""
    return [
        m
        for m in slack.messages(channel)
        if (m.get("metadata") or {}).get("event_type") == NOTICE_EVENT
    ]


def _wait_for(what: str, found: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not found():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _alert_count(slack: SlackStandIn, channel: str, count: int) -> list[Json]:
    _wait_for(f"{count} alert(s) in {channel}", lambda: len(_alerts(slack, channel)) >= count)
    return _alerts(slack, channel)


def _more_checks(nlpearl: NLPearlStandIn) -> None:
    """Let a few more alert checks pass, and the posts of the one before the last."""
    # Each check reads the account once (nothing else here does); a round's alerts are posted
    # in the same tick, so after these rounds anything raised before them is in the channel.
    seen = len(nlpearl.requests("/Account"))
    _wait_for(
        "more alert checks",
        lambda: len(nlpearl.requests("/Account")) >= seen + EXTRA_CHECKS,
    )


def _words(message: Json) -> str:
    assert_valid_message(message)
    assert_no_injection(message)
    return blocks_text(message) + " " + str(message.get("text", ""))


def test_running_out_of_credit_is_told_once_and_its_end_once_in_every_channel(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """Credit 0 → one alert per subscribed channel; credit back → one "back" each; no repeats."""
    campaign = _campaign(nlpearl)
    nlpearl.set_account(creditBalance=120.0, status=1)
    server = _start(server_factory)
    channels = ["CALERT1A", "CALERT1B"]
    for channel in channels:
        _subscribe(server, slack, channel, campaign)
    _more_checks(nlpearl)
    assert all(_alerts(slack, c) == [] for c in channels)

    nlpearl.set_account(creditBalance=0.0)
    for channel in channels:
        [started] = _alert_count(slack, channel, 1)
        assert "credit" in _words(started).lower()
    _more_checks(nlpearl)
    assert all(len(_alerts(slack, c)) == 1 for c in channels)

    nlpearl.set_account(creditBalance=55.0)
    for channel in channels:
        _, ended = _alert_count(slack, channel, 2)
        assert "credit" in _words(ended).lower()
    _more_checks(nlpearl)
    assert all(len(_alerts(slack, c)) == 2 for c in channels)


def test_a_suspended_account_is_told_once_and_its_end_once(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """A suspended account (status 4) → one alert; allowed again → one more."""
    campaign = _campaign(nlpearl)
    nlpearl.set_account(creditBalance=120.0, status=1)
    server = _start(server_factory)
    _subscribe(server, slack, "CALERT2", campaign)
    _more_checks(nlpearl)

    nlpearl.set_account(status=4)
    [started] = _alert_count(slack, "CALERT2", 1)
    _more_checks(nlpearl)
    nlpearl.set_account(status=1)
    _, ended = _alert_count(slack, "CALERT2", 2)
    _more_checks(nlpearl)

    assert len(_alerts(slack, "CALERT2")) == 2
    assert _words(started) != _words(ended)


def test_an_account_out_of_credit_is_one_alert_per_channel_however_many_campaigns_stop(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """NLPearl's "no credits" status stops two campaigns a channel follows: one alert there,
    about the credit; not "suspended", not "stopped" once per campaign."""
    first, second = _campaign(nlpearl), _campaign(nlpearl)
    nlpearl.set_account(creditBalance=5.0, status=1)
    server = _start(server_factory)
    for campaign in (first, second):
        _subscribe(server, slack, "CALERT8", campaign)
    _more_checks(nlpearl)

    nlpearl.set_account(status=3)
    for campaign in (first, second):
        _change(nlpearl, campaign, status=3)
    [alert] = _alert_count(slack, "CALERT8", 1)
    assert "credit" in _words(alert).lower()
    _more_checks(nlpearl)
    assert len(_alerts(slack, "CALERT8")) == 1


def test_a_campaign_paused_from_slack_raises_no_alert(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """Pause from the campaign card: the campaign stops, and that is no news to anyone."""
    campaign = _campaign(nlpearl)
    nlpearl.set_account(creditBalance=120.0, status=1)
    slack.add_user("U0ALERTADM", "ada", is_admin=True)
    server = _start(server_factory)
    _subscribe(server, slack, "CALERT9", campaign)
    _more_checks(nlpearl)

    _pause_from_the_card(server, slack, campaign, "U0ALERTADM")
    _wait_for("the pause", lambda: bool(nlpearl.writes(f"/Pearl/{campaign}/Active")))
    _more_checks(nlpearl)

    assert _alerts(slack, "CALERT9") == []


def _pause_from_the_card(
    server: AppInProcess, slack: SlackStandIn, campaign: str, admin: str
) -> None:
    """`/lead campaign`, Pause, confirm: as a person does it."""
    url = slack.response_url(f"card-{campaign}")
    acked = send_command(server.events_url, f"campaign {campaign}", url, user_id=admin)
    assert acked.status_code == 200, acked.text
    [card] = slack.wait_for_responses(1, f"card-{campaign}", timeout=15)
    view_id = f"V0ALERT{campaign[-4:].upper()}"
    slack.set_response("views.open", {"ok": True, "view": {"id": view_id, "type": "modal"}})
    click = slack_says.message_block_actions(
        "campaign.pause", buttons(card)["campaign.pause"]["value"], url, user_id=admin
    )
    assert slack_says.send_interaction(server.events_url, click).status_code == 200
    _wait_for(
        "the pause confirmation",
        lambda: any(
            c.get("view_id") == view_id
            and (c.get("view") or {}).get("callback_id") == "confirm_campaign_modal"
            for c in slack.calls("views.update")
        ),
    )
    confirm = next(
        c["view"]
        for c in slack.calls("views.update")
        if c.get("view_id") == view_id
        and (c.get("view") or {}).get("callback_id") == "confirm_campaign_modal"
    )
    submission = slack_says.view_submission(confirm, view_id, {}, user_id=admin)
    ack_view(slack_says.send_interaction(server.events_url, submission))


def test_a_campaign_that_stops_by_itself_is_told_once_and_its_restart_once(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """Running → Suspended in NLPearl (nobody paused it from Slack) → alert; Running → ended."""
    campaign = _campaign(nlpearl)
    nlpearl.set_account(creditBalance=120.0, status=1)
    server = _start(server_factory)
    _subscribe(server, slack, "CALERT3", campaign)
    _more_checks(nlpearl)

    _change(nlpearl, campaign, status=3)
    [started] = _alert_count(slack, "CALERT3", 1)
    assert "Solar – Spring" in _words(started)
    _more_checks(nlpearl)
    _change(nlpearl, campaign, status=1)
    _alert_count(slack, "CALERT3", 2)
    _more_checks(nlpearl)

    assert len(_alerts(slack, "CALERT3")) == 2


def test_the_budget_passing_ninety_percent_is_told_once_and_its_end_once(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """95 of 100 used → one alert; the budget raised to 200 → one "ended"."""
    campaign = _campaign(nlpearl, budgetConsumed=50, budgetTotal=100)
    nlpearl.set_account(creditBalance=120.0, status=1)
    server = _start(server_factory)
    _subscribe(server, slack, "CALERT4", campaign)
    _more_checks(nlpearl)

    _change(nlpearl, campaign, budgetConsumed=95, budgetTotal=100)
    [started] = _alert_count(slack, "CALERT4", 1)
    assert "95" in _words(started)
    _more_checks(nlpearl)
    _change(nlpearl, campaign, budgetConsumed=95, budgetTotal=200)
    _alert_count(slack, "CALERT4", 2)
    _more_checks(nlpearl)

    assert len(_alerts(slack, "CALERT4")) == 2


def test_a_silent_webhook_while_nlpearl_shows_calls_is_told_once_and_ends_with_a_webhook(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """No webhook for longer than the setting while calls are placed → alert; one arrives → end."""
    campaign = _campaign(nlpearl, totalTodayCalls=0)
    nlpearl.set_account(creditBalance=120.0, status=1)
    # 0.03 minutes: 1.8 s of silence is "too long" here, 2 hours by default.
    server = _start(server_factory, ALERT_SILENT_WEBHOOK_MINUTES="0.03")
    path = _subscribe(server, slack, "CALERT5", campaign)
    time.sleep(2.0)
    _more_checks(nlpearl)
    # Silent, but NLPearl shows no calls today: nothing to worry about.
    assert _alerts(slack, "CALERT5") == []

    _change(nlpearl, campaign, totalTodayCalls=12)
    [started] = _alert_count(slack, "CALERT5", 1)
    assert "webhook" in _words(started).lower()
    _more_checks(nlpearl)
    assert len(_alerts(slack, "CALERT5")) == 1

    stored = post_webhook(
        server.url, path, lead_event("6650f1c2a9e4b27d3c8e41a7", "+14155550137", 40)
    )
    assert stored.status_code == 200, stored.text
    ended = _alert_count(slack, "CALERT5", 2)[-1]
    assert "webhook" in _words(ended).lower()


def test_errors_past_the_share_of_the_last_hours_calls_are_told_once_and_their_end_once(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """10 calls with 3 errored leads (30% > 20%) → alert; 10 more clean calls (15%) → ended."""
    campaign = _campaign(nlpearl)
    nlpearl.set_account(creditBalance=120.0, status=1)
    server = _start(server_factory)
    path = _subscribe(server, slack, "CALERT6", campaign)

    def calls(first: int, count: int) -> None:
        for n in range(first, first + count):
            body = call_ended(
                f"{0xCA11 + n:024x}",
                f"+1415555{n:04d}",
                summary="Left early.",
                recording="https://recordings.example-cdn.net/x.mp3",
                collected=[],
            )
            assert post_webhook(server.url, path, body).status_code == 200

    calls(0, 10)
    for n in range(3):
        lead = lead_event(f"{0xE770 + n:024x}", f"+1628555{n:04d}", 500)
        assert post_webhook(server.url, path, lead).status_code == 200
    [started] = _alert_count(slack, "CALERT6", 1)
    assert "30%" in _words(started)
    _more_checks(nlpearl)
    assert len(_alerts(slack, "CALERT6")) == 1

    calls(10, 10)
    _alert_count(slack, "CALERT6", 2)
    _more_checks(nlpearl)
    assert len(_alerts(slack, "CALERT6")) == 2


def test_checks_never_alert_when_nlpearl_cannot_be_read(
    server_factory: AppFactory, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    """NLPearl failing is not a condition changing: no alert starts or ends while it is down."""
    campaign = _campaign(nlpearl, budgetConsumed=95, budgetTotal=100)
    nlpearl.set_account(creditBalance=120.0, status=1)
    server = _start(server_factory)
    _subscribe(server, slack, "CALERT7", campaign)
    [started] = _alert_count(slack, "CALERT7", 1)
    assert "95" in _words(started)

    nlpearl.fail_next(f"/v2/Pearl/{campaign}", status=503, times=50)
    _change(nlpearl, campaign, budgetConsumed=10, budgetTotal=100)
    failing = len(nlpearl.requests(f"/Pearl/{campaign}"))
    # Several checks meet the failure (each tries a few times): none may end the alert.
    _wait_for(
        "checks while NLPearl fails",
        lambda: len(nlpearl.requests(f"/Pearl/{campaign}")) >= failing + 8,
    )
    assert len(_alerts(slack, "CALERT7")) == 1
