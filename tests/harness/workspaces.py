"""Several workspaces installing one deployment: the installs, and requests from each of them.

A `Tenant` is a workspace (or, for an org-wide install, an organisation) with its own Slack
install, admin, channel and NLPearl account. The request builders say which workspace (and
Enterprise Grid organisation) a request comes from, as Slack does.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.harness import interactions
from tests.harness.slack_requests import (
    API_APP_ID,
    CHANNEL_NAME,
    FORM_CONTENT_TYPE,
    SIGNING_SECRET,
    TEAM_DOMAIN,
    USER_NAME,
    VERIFICATION_TOKEN,
    new_trigger_id,
    post_signed,
)
from tests.standins import NLPearlStandIn, SlackStandIn

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
