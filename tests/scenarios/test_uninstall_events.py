"""Slack saying the app left: app_uninstalled, tokens_revoked and team_access_revoked.

Single-workspace mode (the app with its one bot token) ignores them: its one workspace keeps
its subscriptions and webhook URLs whatever happens to a token. Multi-workspace mode forgets
the workspace that left: on a bot token revoked (not on user tokens, which it never keeps), and
for an org-wide install, on each workspace of the org it lost access to. And the connect form
answers within Slack's three seconds when Slack is slow to say who is an admin.

The real app runs in process (tests/harness/in_process.py); multi-workspace mode gets the
settings tests/e2e/test_multi_workspace.py gives the process, on a migrated SQLite file.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.blocks.ids import ActionId, BlockId
from bot.demo.nlpearl_api import SAMPLE_LEAD_ID, SAMPLE_LEAD_PHONE, SAMPLE_PEARL_ID
from bot.listeners.connect import ADMIN_CHECK_SECONDS
from tests.harness import interactions
from tests.harness.in_process import AppInProcess, settings_from
from tests.harness.log_scan import assert_no_leaks, watch
from tests.harness.processes import server_environment
from tests.harness.slack_requests import (
    API_APP_ID,
    FORM_CONTENT_TYPE,
    SIGNING_SECRET,
    VERIFICATION_TOKEN,
    blocks_text,
    sign,
    slash_command_body,
)
from tests.harness.webhooks import lead_event, post_webhook, webhook_url
from tests.harness.workspaces import (
    ACME,
    GLOBEX,
    NEW_KEY,
    Deployment,
    Tenant,
    eventually,
    home_click,
    install,
    multi_workspace_env,
    prepare,
    rows_of,
    sealed_secrets,
    submit,
)
from tests.migrated import migrated_sqlite
from tests.standins import NLPearlStandIn, SlackStandIn

# slack_sdk sends oauth.v2.access's client credentials with aiohttp's BasicAuth, which the
# installed aiohttp deprecates: the SDK's business, not these tests'.
pytestmark = [
    pytest.mark.usefixtures("no_stack_traces"),
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
]

# A second workspace of Globex's Enterprise Grid org, served by the same org-wide install.
GLOBEX_WEST = Tenant(
    name="Globex West",
    team_id="T0GLBW",
    enterprise_id=GLOBEX.enterprise_id,
    org_wide=True,
    code="code-globex-west-unused",
    token="xoxb-globex-west-unused",
    rotating=False,
    admin="U0GLBWADM",
    member="U0GLBWMEM",
    channel="C0GLBW",
    nlpearl_key="acctGlobexWest:secretGlobexWest99",
    account_name="Globex West Dialers",
    campaign="c00000000000000000000003",
    lead_id="c000000000000000000000f3",
)
# Time enough for an event's listener to have run, were it registered (they take milliseconds).
SETTLE_SECONDS = 1.5
PHONE = "+14155550137"
_events = itertools.count(1)


def event(
    events_url: str,
    inner: dict[str, Any],
    *,
    team_id: str | None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> httpx.Response:
    """An Events API envelope carrying `inner`, as Slack sends one about the app's install."""
    now = time.time()
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id or enterprise_id,
        "enterprise_id": enterprise_id,
        "api_app_id": API_APP_ID,
        "event": inner | {"event_ts": f"{now:.6f}"},
        "type": "event_callback",
        "event_id": f"Ev0LEFT{next(_events):06d}",
        "event_time": int(now),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": None if org_wide else team_id,
                "user_id": "U0BOT",
                "is_bot": True,
                "is_enterprise_install": org_wide,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return interactions.send_event(events_url, envelope)


def tokens_revoked(**tokens: list[str]) -> dict[str, Any]:
    return {"type": "tokens_revoked", "tokens": tokens}


def view_of(call: dict[str, Any]) -> dict[str, Any]:
    """The view a views.* call carried (slack_sdk sends it as JSON text in a form body)."""
    view = call["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


# Single-workspace mode

SOLO_TEAM = "T0SOLO"
SOLO_CHANNEL = "C0SOLO"


def solo_command(server: AppInProcess, slack: SlackStandIn, text: str) -> dict[str, Any]:
    """`/lead text` in the one workspace's channel; the reply."""
    name = f"solo-{next(_events)}"
    body = slash_command_body(
        text, slack.response_url(name), channel_id=SOLO_CHANNEL, team_id=SOLO_TEAM
    )
    headers = {"Content-Type": FORM_CONTENT_TYPE, **sign(SIGNING_SECRET, body)}
    acked = httpx.post(server.events_url, content=body, headers=headers, timeout=10)
    assert acked.status_code == 200, acked.text
    [reply] = slack.wait_for_responses(1, name, timeout=20)
    return dict(reply)


def queued(server: AppInProcess, path: str, status: int) -> int:
    answered = post_webhook(server.url, path, lead_event(SAMPLE_LEAD_ID, SAMPLE_LEAD_PHONE, status))
    assert answered.status_code == 200, answered.text
    return int(answered.json()["queued"])


@pytest.mark.parametrize(
    "inner",
    [
        {"type": "app_uninstalled"},
        tokens_revoked(bot=["U0BOT"]),
        tokens_revoked(oauth=["U0USER"], bot=["U0BOT"]),
    ],
    ids=["app_uninstalled", "tokens_revoked", "tokens_revoked-with-user-tokens"],
)
def test_single_workspace_mode_keeps_its_data_whatever_slack_says(
    server: AppInProcess, slack: SlackStandIn, nlpearl: NLPearlStandIn, inner: dict[str, Any]
) -> None:
    path = webhook_url(solo_command(server, slack, f"subscribe {SAMPLE_PEARL_ID}")).group(3)
    assert queued(server, path, 20) == 1

    answered = event(server.events_url, inner, team_id=SOLO_TEAM)
    assert answered.status_code < 500, answered.text
    time.sleep(SETTLE_SECONDS)

    # The webhook URL still feeds the channel, and the app still serves.
    assert queued(server, path, 30) == 1
    again = blocks_text(solo_command(server, slack, f"subscribe {SAMPLE_PEARL_ID}"))
    assert "Subscription updated" in again
    assert "NLPearl is already sending" in again
    assert server.running
    assert "Uninstalled from" not in server.output()


# Multi-workspace mode


@pytest.fixture
def multi_factory(slack: SlackStandIn, nlpearl: NLPearlStandIn, tmp_path: Path) -> Iterator[Any]:
    """Starts the app in multi-workspace mode on a migrated SQLite file; stops it after."""
    started: list[AppInProcess] = []

    def start() -> tuple[AppInProcess, str]:
        database = tmp_path / f"multi-{len(started)}.db"
        migrated_sqlite(database)
        url = f"sqlite+aiosqlite:///{database}"
        env = server_environment(0, tmp_path, slack, nlpearl, multi_workspace_env(url, NEW_KEY))
        # ENCRYPTION_KEY is no prefix the in-process harness passes on: given here.
        settings = settings_from(env).model_copy(
            update={"encryption_key": SecretStr(env["ENCRYPTION_KEY"])}
        )
        assert settings.oauth_enabled
        log_path = tmp_path / f"multi-{len(started)}.log"
        watch(log_path, env)
        app = AppInProcess(settings, log_path).start()
        started.append(app)
        return app, url

    yield start
    for app in started:
        app.terminate()
    assert_no_leaks(app.log_path for app in started)


def core(database_url: str, team_id: str) -> dict[str, int]:
    """What a workspace keeps that only a forget removes (the feed adds threads as it posts)."""
    counts = rows_of(database_url, team_id, None)
    tables = ("webhook_endpoints", "subscriptions", "nlpearl_accounts", "slack_bots")
    return {table: counts.get(table, 0) for table in tables}


def uninstalled_from(server: AppInProcess, team_or_org: str) -> bool:
    return f"Uninstalled from workspace {team_or_org}:" in server.output()


def test_multi_workspace_mode_forgets_workspaces_that_left(
    multi_factory: Any, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    tenants = (ACME, GLOBEX, GLOBEX_WEST)
    for tenant in tenants:
        prepare(tenant, slack, nlpearl)
    server, database_url = multi_factory()
    app = Deployment(server, slack)  # type: ignore[arg-type]
    for tenant in (ACME, GLOBEX):
        page = install(server.url, tenant)
        assert page.status_code == 200, page.text
        assert "Lead Bot is installed" in page.text
        # Only a workspace's own install has one workspace to open Lead Bot in.
        if tenant.org_wide:
            assert "slack://" not in page.text
        else:
            assert f"slack://app?team={tenant.team_id}&amp;" in page.text
    # Both of Globex's workspaces connect their own account and subscribe, under one install.
    for tenant in tenants:
        connected = app.connect(tenant, tenant.nlpearl_key)
        assert connected.json()["response_action"] == "update", connected.text
    paths = {tenant: app.subscribe(tenant) for tenant in tenants}
    for tenant in tenants:
        sent = post_webhook(
            server.url,
            paths[tenant],
            lead_event(tenant.lead_id, PHONE, 100, pearl_id=tenant.campaign),
        )
        assert sent.status_code == 200, sent.text
    kept = {tenant: core(database_url, tenant.team_id) for tenant in tenants}
    for tenant in tenants:
        assert kept[tenant]["webhook_endpoints"] == kept[tenant]["subscriptions"] == 1
        assert kept[tenant]["nlpearl_accounts"] == 1
    assert kept[ACME]["slack_bots"] == 1
    # The org-wide install: one bot, of the org (no team).
    org_bots = rows_of(database_url, GLOBEX.team_id, GLOBEX.enterprise_id).get("slack_bots")
    assert org_bots == 1

    # Acme's installer's user token is revoked: Lead Bot keeps none, so nothing changes.
    revoked = event(server.events_url, tokens_revoked(oauth=[ACME.admin]), team_id=ACME.team_id)
    assert revoked.status_code == 200, revoked.text

    # Globex's org-wide install loses one of its workspaces: that workspace's data goes.
    lost = event(
        server.events_url,
        {"type": "team_access_revoked", "team_ids": [GLOBEX_WEST.team_id]},
        team_id=None,
        enterprise_id=GLOBEX.enterprise_id,
        org_wide=True,
    )
    assert lost.status_code == 200, lost.text
    eventually(
        lambda: post_webhook(server.url, paths[GLOBEX_WEST], {}).status_code == 404,
        "Globex West's webhook URL answering 404",
    )
    eventually(lambda: uninstalled_from(server, GLOBEX_WEST.team_id), "the forget's log line")
    assert rows_of(database_url, GLOBEX_WEST.team_id, None) == {}
    # The org's other workspace, and the org's install, stay.
    assert core(database_url, GLOBEX.team_id) == kept[GLOBEX]
    assert rows_of(database_url, GLOBEX.team_id, GLOBEX.enterprise_id).get("slack_bots") == 1
    globex = lead_event(GLOBEX.lead_id, PHONE, 130, pearl_id=GLOBEX.campaign)
    assert post_webhook(server.url, paths[GLOBEX], globex).json()["queued"] == 1
    card = app.ask(GLOBEX, f"{GLOBEX.campaign} {GLOBEX.lead_id}")
    assert f"{GLOBEX.name}-lead" in blocks_text(card)
    # And the user token's revocation, long handled, deleted nothing of Acme's.
    assert not uninstalled_from(server, ACME.team_id)
    assert core(database_url, ACME.team_id) == kept[ACME]
    acme = lead_event(ACME.lead_id, PHONE, 130, pearl_id=ACME.campaign)
    assert post_webhook(server.url, paths[ACME], acme).json()["queued"] == 1

    # Acme's bot token is revoked: an uninstall in all but name.
    revoked = event(
        server.events_url,
        tokens_revoked(oauth=[ACME.admin], bot=[f"U0BOT{ACME.team_id}"]),
        team_id=ACME.team_id,
    )
    assert revoked.status_code == 200, revoked.text
    eventually(
        lambda: post_webhook(server.url, paths[ACME], {}).status_code == 404,
        "Acme's webhook URL answering 404",
    )
    eventually(lambda: uninstalled_from(server, ACME.team_id), "the forget's log line")
    assert rows_of(database_url, ACME.team_id, None) == {}
    assert set(sealed_secrets(database_url)) == {GLOBEX.team_id}
    assert core(database_url, GLOBEX.team_id) == kept[GLOBEX]
    assert server.running


def test_the_connect_form_answers_in_time_when_slack_is_slow_to_say_who_is_admin(
    multi_factory: Any, slack: SlackStandIn, nlpearl: NLPearlStandIn
) -> None:
    account = prepare(ACME, slack, nlpearl)
    server, database_url = multi_factory()
    assert install(server.url, ACME).status_code == 200
    app = Deployment(server, slack)  # type: ignore[arg-type]
    home = app.home(ACME, ACME.admin)
    before = len(slack.calls("views.update", team_id=ACME.team_id))
    clicked = home_click(server.events_url, ACME, ACME.admin, ActionId.HOME_CONNECT_NLPEARL, home)
    assert clicked.status_code == 200, clicked.text
    updates = slack.wait_for_calls("views.update", before + 1, team_id=ACME.team_id, timeout=20)
    form = view_of(updates[-1])
    assert form.get("callback_id"), form
    account_id, secret = ACME.nlpearl_key.split(":")
    values = {
        BlockId.NLPEARL_ACCOUNT_ID: {
            ActionId.NLPEARL_ACCOUNT_ID: {"type": "plain_text_input", "value": account_id}
        },
        BlockId.NLPEARL_SECRET: {
            ActionId.NLPEARL_SECRET: {"type": "plain_text_input", "value": secret}
        },
    }
    checks_before = len(account.requests())
    infos_before = len(slack.calls("users.info"))

    # Slack takes three seconds to say who the person is: past what the form may wait.
    slack.answer_late("users.info", 3)
    started = time.monotonic()
    answered = submit(server.events_url, ACME, ACME.admin, form, values)
    took = time.monotonic() - started

    assert answered.status_code == 200, answered.text
    shown = answered.json()
    assert shown["response_action"] == "errors", shown
    assert list(shown["errors"]) == [BlockId.NLPEARL_SECRET]
    assert "nothing was saved" in shown["errors"][BlockId.NLPEARL_SECRET]
    # Within Slack's three seconds, for having stopped waiting at the cap.
    assert ADMIN_CHECK_SECONDS <= took < 2.5, took
    assert len(slack.calls("users.info")) == infos_before + 1
    # Nothing saved, and the key was never tried.
    assert sealed_secrets(database_url) == {}
    assert len(account.requests()) == checks_before

    # Once Slack answers in time again, the same form connects.
    slack.answer_late("users.info", 0)
    again = submit(server.events_url, ACME, ACME.admin, form, values)
    assert again.json()["response_action"] == "update", again.text
    assert set(sealed_secrets(database_url)) == {ACME.team_id}
