"""Several workspaces installing one deployment: the installs, and requests from each of them.

A `Tenant` is a workspace (or, for an org-wide install, an organisation) with its own Slack
install, admin, channel and NLPearl account. The request builders say which workspace (and
Enterprise Grid organisation) a request comes from, as Slack does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.checks import run_checks
from bot.app.settings import Settings, load_settings
from bot.blocks.ids import ActionId, BlockId
from bot.storage.installations import installation_store
from tests.harness import interactions
from tests.harness.processes import ServerProcess
from tests.harness.slack_requests import (
    API_APP_ID,
    CHANNEL_NAME,
    FORM_CONTENT_TYPE,
    SIGNING_SECRET,
    TEAM_DOMAIN,
    USER_NAME,
    VERIFICATION_TOKEN,
    blocks_text,
    new_trigger_id,
    post_signed,
)
from tests.harness.webhooks import webhook_url
from tests.standins import NLPearlStandIn, SlackStandIn
from tests.standins.slack import Recorded

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "e2e-client-secret"
STATE_SECRET = "e2e-state-secret"
_STATE = re.compile(r"[?&]state=([^&\"']+)")


@dataclass(frozen=True)
class Tenant:
    """A workspace that installs the app, with what it owns in Slack and in NLPearl."""

    name: str
    # The workspace requests come from; for an org-wide install, one workspace of the org.
    team_id: str
    enterprise_id: str | None
    org_wide: bool
    code: str
    token: str
    rotating: bool
    admin: str
    member: str
    channel: str
    nlpearl_key: str
    account_name: str
    campaign: str
    lead_id: str

    @property
    def account_id(self) -> str:
        return self.nlpearl_key.split(":")[0]

    @property
    def secret(self) -> str:
        return self.nlpearl_key.split(":")[1]

    @property
    def installed_as(self) -> str:
        """The team (or, org-wide, the enterprise) the stand-in counts its refreshes under."""
        return self.enterprise_id if self.org_wide and self.enterprise_id else self.team_id


def prepare(tenant: Tenant, slack: SlackStandIn, nlpearl: NLPearlStandIn) -> NLPearlStandIn:
    """Program both stand-ins for the tenant; its own NLPearl account."""
    slack.set_oauth_client(CLIENT_ID, CLIENT_SECRET)
    slack.program_install(
        tenant.code,
        token=tenant.token,
        bot_user_id=f"U0BOT{tenant.team_id}",
        team_id=None if tenant.org_wide else tenant.team_id,
        team_name=None if tenant.org_wide else tenant.name,
        enterprise_id=tenant.enterprise_id,
        enterprise_name=tenant.name if tenant.enterprise_id else None,
        is_enterprise_install=tenant.org_wide,
        rotating=tenant.rotating,
        # Under the two hours before expiry in which a token is refreshed: the first use does.
        expires_in=600,
    )
    # The workspace and its channel; a token of another workspace gets channel_not_found.
    slack.add_workspace(
        tenant.team_id,
        f"xoxb-never-used-{tenant.team_id.lower()}",
        enterprise_id=tenant.enterprise_id,
        team_name=tenant.name,
        channels=[tenant.channel],
    )
    slack.add_user(tenant.admin, "admin", is_admin=True, team_id=tenant.team_id)
    slack.add_user(tenant.member, "member", team_id=tenant.team_id)
    account = nlpearl.add_account(tenant.nlpearl_key)
    account.set_account(name=tenant.account_name, creditBalance=250.5, status=1)
    account.add_pearl(
        {"id": tenant.campaign, "name": f"{tenant.name} outreach", "type": 2, "status": 1}
    )
    account.add_lead(tenant.campaign, _lead(tenant))
    return account


def _lead(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.lead_id,
        "externalId": f"crm-{tenant.team_id.lower()}",
        "phoneNumber": "+14155550137",
        "timeZone": "-8.0",
        "status": 100,
        "created": "2026-11-04T15:22:10.512Z",
        "callsId": [],
        "callData": {"firstName": f"{tenant.name}-lead", "lastName": "Person"},
        "collectedData": {},
    }


def install(base_url: str, tenant: Tenant) -> httpx.Response:
    """Press "Add to Slack", approve, and come back to the app as Slack redirects the browser."""
    page = httpx.get(f"{base_url}/slack/install", timeout=10)
    assert page.status_code == 200, page.text
    assert "slack.com/oauth/v2/authorize" in page.text
    state = _STATE.search(page.text)
    assert state, page.text
    # The state cookie is Secure, so a client on http:// would not send it back by itself.
    cookie = f"slack-app-oauth-state={state.group(1)}"
    return httpx.get(
        f"{base_url}/slack/oauth_redirect",
        params={"code": tenant.code, "state": state.group(1)},
        headers={"Cookie": cookie},
        timeout=10,
    )


# Requests from a tenant's workspace


def _grid(tenant: Tenant) -> dict[str, Any]:
    """What an interactive payload says of the organisation."""
    enterprise = {"id": tenant.enterprise_id, "name": tenant.name} if tenant.enterprise_id else None
    return {"enterprise": enterprise, "is_enterprise_install": tenant.org_wide}


def command(
    events_url: str,
    tenant: Tenant,
    text: str,
    response_url: str,
    *,
    user_id: str | None = None,
    channel_id: str | None = None,
) -> httpx.Response:
    """`/lead text` from the tenant's workspace, signed as Slack sends it."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": tenant.team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id or tenant.channel,
        "channel_name": CHANNEL_NAME,
        "user_id": user_id or tenant.admin,
        "user_name": USER_NAME,
        "command": "/lead",
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "true" if tenant.org_wide else "false",
        "response_url": response_url,
        "trigger_id": new_trigger_id(),
    }
    if tenant.enterprise_id:
        fields |= {"enterprise_id": tenant.enterprise_id, "enterprise_name": tenant.name}
    return post_signed(events_url, urlencode(fields).encode(), FORM_CONTENT_TYPE, SIGNING_SECRET)


def home_opened(events_url: str, tenant: Tenant, user_id: str) -> httpx.Response:
    """The tenant's person opens the app's Home tab."""
    envelope = interactions.app_home_opened(user_id, team_id=tenant.team_id)
    # An org-wide install's authorization names the org alone; the envelope names the workspace.
    envelope["authorizations"][0] |= {
        "enterprise_id": tenant.enterprise_id,
        "team_id": None if tenant.org_wide else tenant.team_id,
        "is_enterprise_install": tenant.org_wide,
    }
    if tenant.enterprise_id:
        envelope["enterprise_id"] = tenant.enterprise_id
    return interactions.send_event(events_url, envelope)


def uninstalled(events_url: str, tenant: Tenant) -> httpx.Response:
    """Slack telling the app it was uninstalled from the tenant's workspace (or org)."""
    now = time.time()
    team_id = None if tenant.org_wide else tenant.team_id
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id or tenant.enterprise_id,
        "enterprise_id": tenant.enterprise_id,
        "api_app_id": API_APP_ID,
        "event": {"type": "app_uninstalled", "event_ts": f"{now:.6f}"},
        "type": "event_callback",
        "event_id": f"Ev0GONE{int(now * 1000) % 10**9:09d}",
        "event_time": int(now),
        "authorizations": [
            {
                "enterprise_id": tenant.enterprise_id,
                "team_id": team_id,
                "user_id": f"U0BOT{tenant.team_id}",
                "is_bot": True,
                "is_enterprise_install": tenant.org_wide,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return interactions.send_event(events_url, envelope)


def home_click(
    events_url: str, tenant: Tenant, user_id: str, action_id: str, home: dict[str, Any]
) -> httpx.Response:
    """A button on the tenant's person's Home tab."""
    payload = interactions.view_block_actions(
        action_id, None, home, "V0HOME" + tenant.team_id, user_id=user_id, team_id=tenant.team_id
    )
    payload |= _grid(tenant)
    return interactions.send_interaction(events_url, payload)


def submit(
    events_url: str,
    tenant: Tenant,
    user_id: str,
    view: dict[str, Any],
    values: dict[str, dict[str, dict[str, Any]]],
) -> httpx.Response:
    """The tenant's person submits a modal the app opened."""
    payload = interactions.view_submission(
        view, "V0FORM" + tenant.team_id, values, user_id=user_id, team_id=tenant.team_id
    )
    payload |= _grid(tenant)
    return interactions.send_interaction(events_url, payload)


def message_click(
    events_url: str,
    tenant: Tenant,
    action_id: str,
    value: str,
    response_url: str,
    *,
    user_id: str | None = None,
    message: dict[str, Any] | None = None,
) -> httpx.Response:
    """A button on a message the app showed in the tenant's channel."""
    payload = interactions.message_block_actions(
        action_id,
        value,
        response_url,
        message=message,
        user_id=user_id or tenant.admin,
        team_id=tenant.team_id,
        channel_id=tenant.channel,
    )
    payload |= _grid(tenant)
    payload["user"]["name"] = USER_NAME
    return interactions.send_interaction(events_url, payload)


# Two tenants: a workspace with token rotation, and an org-wide Enterprise Grid install.

OLD_KEY = base64.urlsafe_b64encode(b"e2e old sealing key, 32 bytes!!!").decode()
NEW_KEY = base64.urlsafe_b64encode(b"e2e new sealing key, 32 bytes!!!").decode()

ACME = Tenant(
    name="Acme",
    team_id="T0ACME",
    enterprise_id=None,
    org_wide=False,
    code="code-acme",
    token="xoxb-acme-first",
    rotating=True,
    admin="U0ACMEADM",
    member="U0ACMEMEM",
    channel="C0ACME",
    nlpearl_key="acctAcme:secretAcme77",
    account_name="Acme Calls",
    campaign="a00000000000000000000001",
    lead_id="a000000000000000000000f1",
)
GLOBEX = Tenant(
    name="Globex",
    team_id="T0GLBX",
    enterprise_id="E0GLBX",
    org_wide=True,
    code="code-globex",
    token="xoxb-globex-first",
    rotating=False,
    admin="U0GLBXADM",
    member="U0GLBXMEM",
    channel="C0GLBX",
    nlpearl_key="acctGlobex:secretGlobex88",
    account_name="Globex Dialers",
    campaign="b00000000000000000000002",
    lead_id="b000000000000000000000f2",
)
TENANTS = (ACME, GLOBEX)


def multi_workspace_env(database_url: str, encryption_key: str) -> dict[str, str | None]:
    """Multi-workspace mode: no bot token or NLPearl key in the environment."""
    return {
        "SLACK_BOT_TOKEN": None,
        "NLPEARL_API_KEY": None,
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_STATE_SECRET": STATE_SECRET,
        "ENCRYPTION_KEY": encryption_key,
        "DATABASE_URL": database_url,
        "SWEEP_MINUTES": "0",
    }


def eventually(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    """The first truthy answer of `check` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = check()
        if answer:
            return answer
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


class Deployment:
    """The server and the stand-ins, seen from each tenant's workspace."""

    def __init__(self, server: ServerProcess, slack: SlackStandIn) -> None:
        self.server = server
        self.slack = slack
        self._replies = 0

    def ask(self, tenant: Tenant, text: str, **options: Any) -> dict[str, Any]:
        """`/lead text` in the tenant's workspace: the reply the person sees."""
        self._replies += 1
        name = f"{tenant.team_id}-{self._replies}"
        acked = command(
            self.server.events_url, tenant, text, self.slack.response_url(name), **options
        )
        assert acked.status_code == 200, acked.text
        reply: dict[str, Any] = self.slack.wait_for_responses(1, name, timeout=20)[0]
        return reply

    def home(self, tenant: Tenant, user_id: str) -> dict[str, Any]:
        """The Home tab the app publishes when the person opens it."""
        before = len(self.slack.calls("views.publish", team_id=team_of(tenant)))
        assert home_opened(self.server.events_url, tenant, user_id).status_code == 200
        published = self.slack.wait_for_calls(
            "views.publish", before + 1, team_id=team_of(tenant), timeout=20
        )
        return _view(published[-1])

    def connect(self, tenant: Tenant, key: str) -> httpx.Response:
        """The tenant's admin opens "Connect NLPearl" on Home and submits the key."""
        home = self.home(tenant, tenant.admin)
        assert "Connect NLPearl" in blocks_text(home) or "Replace key" in blocks_text(home)
        before = len(self.slack.calls("views.update", team_id=team_of(tenant)))
        clicked = home_click(
            self.server.events_url, tenant, tenant.admin, ActionId.HOME_CONNECT_NLPEARL, home
        )
        assert clicked.status_code == 200, clicked.text
        updates = self.slack.wait_for_calls(
            "views.update", before + 1, team_id=team_of(tenant), timeout=20
        )
        form = _view(updates[-1])
        account_id, secret = key.split(":")
        values = {
            BlockId.NLPEARL_ACCOUNT_ID: {
                ActionId.NLPEARL_ACCOUNT_ID: {"type": "plain_text_input", "value": account_id}
            },
            BlockId.NLPEARL_SECRET: {
                ActionId.NLPEARL_SECRET: {"type": "plain_text_input", "value": secret}
            },
        }
        return submit(self.server.events_url, tenant, tenant.admin, form, values)

    def subscribe(self, tenant: Tenant) -> str:
        """Subscribe the tenant's channel to its campaign; the webhook URL's path."""
        reply = self.ask(tenant, f"subscribe {tenant.campaign}")
        return webhook_url(reply).group(3)

    def feed(self, tenant: Tenant) -> list[Recorded]:
        """What the app posted in the tenant's channel."""
        return [
            record
            for record in self.slack.records("chat.postMessage")
            if record.body.get("channel") == tenant.channel and record.status == 200
        ]


def _view(call: dict[str, Any]) -> dict[str, Any]:
    """The view a views.* call carried (slack_sdk sends it as JSON text in a form body)."""
    view = call["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def team_of(tenant: Tenant) -> str:
    """The team the Slack stand-in files the tenant's calls under."""
    return tenant.enterprise_id if tenant.org_wide and tenant.enterprise_id else tenant.team_id


def sealed_secrets(database_url: str) -> dict[str, str]:
    """The stored NLPearl secrets as they are in the database, by team."""
    query = "SELECT team_id, secret FROM nlpearl_accounts"
    return dict(_rows(database_url, query))


def rows_of(database_url: str, team_id: str, enterprise_id: str | None) -> dict[str, int]:
    """Rows kept for a workspace, table by table (only tables that have any)."""
    counts: dict[str, int] = {}
    for table in (
        "webhook_endpoints",
        "subscriptions",
        "recent_lookups",
        "user_preferences",
        "lead_threads",
        "channel_pacing",
        "lead_actions",
        "nlpearl_accounts",
    ):
        [(count,)] = _rows(
            database_url, f"SELECT count(*) FROM {table} WHERE team_id = '{team_id}'"
        )
        if count:
            counts[table] = count
    condition = f"enterprise_id = '{enterprise_id}'" if enterprise_id else f"team_id = '{team_id}'"
    for table in ("slack_bots", "slack_installations"):
        [(count,)] = _rows(database_url, f"SELECT count(*) FROM {table} WHERE {condition}")
        if count:
            counts[table] = count
    return counts


def _rows(database_url: str, query: str) -> list[tuple[Any, ...]]:
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
            return [tuple(row) for row in conn.execute(query).fetchall()]

    async def fetch() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(database_url.replace("+asyncpg", ""), timeout=10)
        try:
            return [tuple(row) for row in await conn.fetch(query)]
        finally:
            await conn.close()

    return asyncio.run(fetch())


# The app's settings and installs in multi-workspace mode, for tests that build them directly.


def multi_settings(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, **more: Any
) -> Settings:
    """Multi-workspace mode's settings, Slack and NLPearl on the stand-ins; `more` on top."""
    return load_settings(
        **{
            "slack_client_id": CLIENT_ID,
            "slack_client_secret": CLIENT_SECRET,
            "slack_state_secret": STATE_SECRET,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack.api_url,
            "nlpearl_api_url": nlpearl.url,
            "database_url": database_url,
        }
        | more
    )


async def save_install(engine: AsyncEngine, team_id: str, name: str, token: str) -> None:
    """A workspace's install, saved as Bolt's OAuth flow saves it."""
    await installation_store(engine, CLIENT_ID).async_save(
        Installation(
            app_id="A0LEADBOT",
            team_id=team_id,
            team_name=name,
            bot_token=token,
            bot_id=f"B{team_id}",
            bot_user_id=f"U0BOT{team_id}",
            user_id="U0INSTALLER",
        )
    )


async def run_check(settings: Settings) -> tuple[int, list[str]]:
    """`lead-bot check`'s exit status and the lines it printed."""
    lines: list[str] = []
    status = await run_checks(settings, out=lines.append)
    return status, lines
