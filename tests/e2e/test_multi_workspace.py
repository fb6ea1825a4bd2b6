"""One deployment, two workspaces: OAuth installs, each its own NLPearl account, kept apart.

Acme installs as a workspace, with token rotation; Globex installs org-wide in its Enterprise
Grid organisation, without. Each connects a different NLPearl account from the Home tab. Then
lookups, subscribing, webhooks, the Home tab and acting on leads are shown to stay within
their workspace both ways; Acme uninstalls and all of its data goes while Globex carries on;
the stored keys are sealed, and rotating ENCRYPTION_KEY keeps Globex working. On SQLite and
on PostgreSQL, through the real server process.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.blocks.ids import BlockId
from bot.storage.sealing import Sealer
from tests.harness.feed import bot_environment, run_migrate
from tests.harness.processes import ServerFactory
from tests.harness.slack_requests import blocks_text
from tests.harness.webhooks import lead_event, post_webhook
from tests.harness.workspaces import (
    ACME,
    GLOBEX,
    NEW_KEY,
    OLD_KEY,
    TENANTS,
    Deployment,
    eventually,
    install,
    multi_workspace_env,
    prepare,
    rows_of,
    sealed_secrets,
    team_of,
    uninstalled,
)
from tests.standins import NLPearlStandIn, SlackStandIn

pytestmark = pytest.mark.usefixtures("no_stack_traces")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database for the deployment: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'multi.db'}"
        return
    from tests.postgres import temporary_database

    with temporary_database() as url:
        yield url


def test_two_workspaces_install_connect_and_stay_apart_until_one_uninstalls(
    database_url: str,
    server_factory: ServerFactory,
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    tmp_path: Path,
) -> None:
    accounts = {tenant: prepare(tenant, slack, nlpearl) for tenant in TENANTS}
    env = multi_workspace_env(database_url, OLD_KEY)
    if not database_url.startswith("sqlite"):
        run_migrate(bot_environment(env, slack, nlpearl, tmp_path), tmp_path)
    server = server_factory(env)
    app = Deployment(server, slack)

    # Installs: a workspace with token rotation, and an Enterprise Grid organisation.
    for tenant in TENANTS:
        page = install(server.url, tenant)
        assert page.status_code == 200, page.text
        assert f"Lead Bot is installed in <strong>{tenant.name}</strong>" in page.text
        assert "Connect NLPearl" in page.text

    # Until it connects NLPearl, a workspace is told how to, not shown an error.
    reply = app.ask(ACME, f"{ACME.campaign} {ACME.lead_id}")
    assert "Connect NLPearl to look up leads" in blocks_text(reply)
    assert "Home" in blocks_text(reply)
    # Slack refreshed Acme's expiring token before the app used it, through SLACK_API_URL.
    assert slack.refreshes(ACME.installed_as) >= 1

    # Only an admin may connect; a wrong key is refused under its input; each connects its own.
    member_home = app.home(ACME, ACME.member)
    assert "Ask a workspace admin to connect NLPearl" in blocks_text(member_home)
    refused = app.connect(ACME, f"{ACME.account_id}:not-the-secret")
    assert refused.json()["response_action"] == "errors", refused.text
    assert BlockId.NLPEARL_SECRET in refused.json()["errors"]
    for tenant in TENANTS:
        connected = app.connect(tenant, tenant.nlpearl_key)
        assert connected.status_code == 200, connected.text
        shown = connected.json()
        assert shown["response_action"] == "update", shown
        assert tenant.account_name in blocks_text(shown["view"])
        assert "250.50" in blocks_text(shown["view"])

    # Lookups use the asking workspace's key, and never reach the other's account.
    for tenant, other in ((ACME, GLOBEX), (GLOBEX, ACME)):
        card = app.ask(tenant, f"{tenant.campaign} {tenant.lead_id}")
        assert f"{tenant.name}-lead" in blocks_text(card)
        requests_before = len(accounts[other].requests())
        crossed = app.ask(tenant, f"{other.campaign} {other.lead_id}")
        assert f"{other.name}-lead" not in blocks_text(crossed)
        assert len(accounts[other].requests()) == requests_before
    for tenant in TENANTS:
        keys = {request.api_key for request in accounts[tenant].requests()}
        assert keys == {tenant.nlpearl_key}
    assert not [r for r in nlpearl.requests() if r.api_key in {t.nlpearl_key for t in TENANTS}]

    # Acting on leads: each workspace adds to its own campaign; the other's is out of reach.
    added = app.ask(ACME, f"add {ACME.campaign} +14155550199")
    assert "Added to the campaign" in blocks_text(added)
    writes_before = len(accounts[GLOBEX].writes())
    app.ask(ACME, f"add {GLOBEX.campaign} +14155550198")
    assert len(accounts[GLOBEX].writes()) == writes_before

    # Subscriptions and webhooks: each token posts only in its own workspace's channel.
    paths = {tenant: app.subscribe(tenant) for tenant in TENANTS}
    not_here = app.ask(ACME, f"subscribe {ACME.campaign}", channel_id=GLOBEX.channel)
    assert "/nlpearl/webhooks/" not in blocks_text(not_here)
    for tenant in TENANTS:
        event = lead_event(
            tenant.lead_id,
            "+14155550137",
            100,
            first_name=f"{tenant.name}-lead",
            pearl_id=tenant.campaign,
        )
        answered = post_webhook(server.url, paths[tenant], event)
        assert answered.status_code == 200, answered.text
    for tenant in TENANTS:
        posts = eventually(lambda t=tenant: app.feed(t), f"{tenant.name}'s feed post")
        assert {post.team_id for post in posts} == {team_of(tenant)}
        assert f"{tenant.name}-lead" in blocks_text(posts[0].body)
    # Acme's refreshed token, not the one it installed with, posts its feed.
    assert all(post.token not in (None, ACME.token) for post in app.feed(ACME))

    # Home: each sees its own subscription, account and leads, nothing of the other's. (Acme's
    # own try at Globex's campaign ID is Acme's to see in its actions.)
    for tenant, other in ((ACME, GLOBEX), (GLOBEX, ACME)):
        home = blocks_text(app.home(tenant, tenant.admin))
        assert f"<#{tenant.channel}>" in home
        assert tenant.account_id in home
        assert f"{tenant.name}-lead" in home
        assert other.channel not in home
        assert other.account_id not in home
        assert f"{other.name}-lead" not in home

    # The keys are sealed: unreadable without ENCRYPTION_KEY, and opened by it.
    sealed = sealed_secrets(database_url)
    assert set(sealed) == {ACME.team_id, GLOBEX.team_id}
    for tenant in TENANTS:
        assert tenant.secret not in sealed[tenant.team_id]
        assert Sealer.from_setting(OLD_KEY).unseal(sealed[tenant.team_id]) == tenant.secret

    # Acme uninstalls: within a minute its data is gone and its webhook URL answers 404.
    assert rows_of(database_url, ACME.team_id, None)
    assert uninstalled(server.events_url, ACME).status_code == 200
    eventually(
        lambda: post_webhook(server.url, paths[ACME], {}).status_code == 404,
        "Acme's webhook URL answering 404",
        timeout=60,
    )
    assert rows_of(database_url, ACME.team_id, None) == {}
    # Globex carries on.
    globex_rows = rows_of(database_url, GLOBEX.team_id, GLOBEX.enterprise_id)
    assert {"webhook_endpoints", "subscriptions", "nlpearl_accounts", "slack_bots"} <= set(
        globex_rows
    )
    event = lead_event(GLOBEX.lead_id, "+14155550137", 130, pearl_id=GLOBEX.campaign)
    assert post_webhook(server.url, paths[GLOBEX], event).status_code == 200
    card = app.ask(GLOBEX, f"{GLOBEX.campaign} {GLOBEX.lead_id}")
    assert f"{GLOBEX.name}-lead" in blocks_text(card)

    # ENCRYPTION_KEY rotates: the new key first, then the old one dropped; Globex still works.
    assert server.terminate() in (0, -signal.SIGTERM)
    rotated = rotate_key(env | {"ENCRYPTION_KEY": f"{NEW_KEY},{OLD_KEY}"}, slack, nlpearl, tmp_path)
    assert "Re-encrypted 1 NLPearl key(s)" in rotated
    resealed = sealed_secrets(database_url)[GLOBEX.team_id]
    assert resealed != sealed[GLOBEX.team_id]
    assert Sealer.from_setting(NEW_KEY).unseal(resealed) == GLOBEX.secret
    server = server_factory(env | {"ENCRYPTION_KEY": NEW_KEY})
    app = Deployment(server, slack)
    card = app.ask(GLOBEX, f"{GLOBEX.campaign} {GLOBEX.lead_id}")
    assert f"{GLOBEX.name}-lead" in blocks_text(card)

    # Globex's organisation uninstalls the org-wide install: all of the org's data goes.
    assert uninstalled(server.events_url, GLOBEX).status_code == 200
    eventually(
        lambda: post_webhook(server.url, paths[GLOBEX], {}).status_code == 404,
        "Globex's webhook URL answering 404",
        timeout=60,
    )
    assert rows_of(database_url, GLOBEX.team_id, GLOBEX.enterprise_id) == {}
    assert sealed_secrets(database_url) == {}


def rotate_key(
    env: dict[str, str | None], slack: SlackStandIn, nlpearl: NLPearlStandIn, workdir: Path
) -> str:
    """`lead-bot rotate-key` as an operator runs it; what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "rotate-key"],
        env=bot_environment(env, slack, nlpearl, workdir),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
