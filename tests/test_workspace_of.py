"""Which workspace a Slack request comes from (bot.listeners.request.workspace_of).

Requests are built from bodies as Slack sends them (tests/harness), parsed by Bolt's own
AsyncBoltRequest, which fills request.context as Bolt does before any middleware. The org-wide
shapes are also dispatched through a Bolt app, to read the workspace from inside a listener as
the app's listeners do, after Bolt's authorization middleware ran.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.listeners.request import where_of, workspace_of
from bot.storage.rows import Workspace
from tests.harness import interactions
from tests.harness.slack_requests import (
    API_APP_ID,
    FORM_CONTENT_TYPE,
    VERIFICATION_TOKEN,
    slash_command_body,
)

TEAM, OTHER_TEAM, ORG = "T0ACME", "T0OTHER", "E0GRID"
RESPONSE_URL = "https://hooks.slack.com/actions/T0ACME/1/abc"


def from_json(envelope: dict[str, Any]) -> AsyncBoltRequest:
    """An Events API request as it reaches the app over HTTP."""
    return AsyncBoltRequest(body=json.dumps(envelope), headers={"content-type": "application/json"})


def from_payload(payload: dict[str, Any]) -> AsyncBoltRequest:
    """An interactive request (`payload=<JSON>`) as it reaches the app over HTTP."""
    return AsyncBoltRequest(
        body=interactions.form(payload).decode(), headers={"content-type": FORM_CONTENT_TYPE}
    )


def from_form(body: bytes) -> AsyncBoltRequest:
    return AsyncBoltRequest(body=body.decode(), headers={"content-type": FORM_CONTENT_TYPE})


def org_wide_home_opened(team_id: str | None, *, user_id: str = "U0ADMIN") -> dict[str, Any]:
    """app_home_opened for an org-wide install: the authorization names the org alone."""
    envelope = interactions.app_home_opened(user_id, team_id=team_id or ORG)
    envelope["authorizations"][0] |= {
        "enterprise_id": ORG,
        "team_id": None,
        "is_enterprise_install": True,
    }
    envelope["enterprise_id"] = ORG
    if team_id is None:
        envelope.pop("team_id")
    return envelope


def org_wide(payload: dict[str, Any]) -> dict[str, Any]:
    """An interactive payload of an org-wide install: no team, the org, the person's team."""
    return payload | {
        "team": None,
        "enterprise": {"id": ORG, "name": "Grid Co"},
        "is_enterprise_install": True,
    }


def org_wide_button(user_team: str = TEAM) -> dict[str, Any]:
    payload = interactions.message_block_actions(
        "lead.refresh", "{}", RESPONSE_URL, user_id="U0ADMIN", team_id=user_team
    )
    return org_wide(payload)


def uninstalled_envelope(team_id: str | None, org: str | None, *, org_wide: bool) -> dict[str, Any]:
    """app_uninstalled as tests/harness/workspaces.py sends it (the envelope's team: the org's)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id or org,
        "enterprise_id": org,
        "api_app_id": API_APP_ID,
        "event": {"type": "app_uninstalled", "event_ts": "1700000000.000100"},
        "type": "event_callback",
        "event_id": "Ev0GONE000001",
        "event_time": 1700000000,
        "authorizations": [
            {
                "enterprise_id": org,
                "team_id": None if org_wide else team_id,
                "user_id": "U0BOT",
                "is_bot": True,
                "is_enterprise_install": org_wide,
            }
        ],
    }


# Requests Bolt already names the workspace of


def test_a_command_comes_from_its_team() -> None:
    request = from_form(slash_command_body("help", RESPONSE_URL, team_id=TEAM))

    assert workspace_of(request) == Workspace(TEAM)


def test_a_command_in_a_grid_workspace_names_its_org() -> None:
    fields = {
        "team_id": TEAM,
        "enterprise_id": ORG,
        "enterprise_name": "Grid Co",
        "user_id": "U0ADMIN",
        "channel_id": "C0LEADS",
        "command": "/lead",
        "text": "help",
        "response_url": RESPONSE_URL,
        "is_enterprise_install": "true",
    }
    request = from_form(urlencode(fields).encode())

    assert workspace_of(request) == Workspace(TEAM, enterprise_id=ORG)
    where = where_of(request)
    assert (where.workspace, where.user_id, where.channel_id) == (
        Workspace(TEAM, enterprise_id=ORG),
        "U0ADMIN",
        "C0LEADS",
    )


def test_a_workspace_install_keeps_bolts_team_whatever_the_body_says() -> None:
    # Not org-wide: Bolt's team (the authorization's) is the workspace, even where the
    # envelope's team differs (a Slack Connect channel shared from another workspace).
    envelope = interactions.app_home_opened("U0ADMIN", team_id=OTHER_TEAM)
    envelope["authorizations"][0]["team_id"] = TEAM

    assert workspace_of(from_json(envelope)) == Workspace(TEAM)


def test_a_button_of_a_workspace_install_keeps_bolts_team() -> None:
    payload = interactions.message_block_actions(
        "lead.refresh", "{}", RESPONSE_URL, user_id="U0ADMIN", team_id=TEAM
    )
    payload["user"]["team_id"] = OTHER_TEAM

    assert workspace_of(from_payload(payload)) == Workspace(TEAM)


# Org-wide installs: the authorization names the org alone


def test_org_wide_home_opened_is_in_the_envelopes_workspace() -> None:
    request = from_json(org_wide_home_opened(TEAM))
    assert not request.context.team_id  # what Bolt could not tell

    assert workspace_of(request) == Workspace(TEAM, enterprise_id=ORG)


def test_org_wide_button_is_in_its_persons_workspace() -> None:
    assert workspace_of(from_payload(org_wide_button())) == Workspace(TEAM, enterprise_id=ORG)


def test_org_wide_home_button_is_in_its_views_workspace() -> None:
    home = {"type": "home", "blocks": []}
    payload = org_wide(
        interactions.view_block_actions("home.connect", None, home, "V0HOME", user_id="U0ADMIN")
    )
    # Only the view says which workspace: not the person, not an installed team.
    payload["user"].pop("team_id")
    payload["view"] |= {"team_id": TEAM, "app_installed_team_id": None}
    request = from_payload(payload)
    assert not request.context.team_id

    assert workspace_of(request) == Workspace(TEAM, enterprise_id=ORG)


def test_org_wide_view_installed_in_the_org_is_in_its_views_workspace() -> None:
    # Should Slack name the org as the view's installed team, the org is not a workspace.
    form = {"type": "modal", "callback_id": "connect_nlpearl_modal", "blocks": []}
    payload = org_wide(interactions.view_submission(form, "V0FORM", {}, user_id="U0ADMIN"))
    payload["view"] |= {"team_id": TEAM, "app_installed_team_id": ORG}
    request = from_payload(payload)
    assert request.context.team_id == ORG

    assert workspace_of(request) == Workspace(TEAM, enterprise_id=ORG)


def test_org_wide_request_naming_only_the_org_is_the_org() -> None:
    # An org-wide uninstall: the envelope's team is the org's own ID, not a workspace's.
    request = from_json(uninstalled_envelope(None, ORG, org_wide=True))

    assert workspace_of(request) == Workspace("", enterprise_id=ORG)


def test_org_wide_request_naming_no_team_at_all_is_the_org() -> None:
    assert workspace_of(from_json(org_wide_home_opened(None))) == Workspace("", enterprise_id=ORG)


def test_a_workspace_uninstall_is_its_workspace() -> None:
    request = from_json(uninstalled_envelope(TEAM, None, org_wide=False))

    assert workspace_of(request) == Workspace(TEAM)


# Through Bolt: the workspace a listener sees, after Bolt's middleware


async def authorize(**kwargs: Any) -> AuthorizeResult:
    """Every workspace and org is installed (Bolt asks with the IDs it read)."""
    return AuthorizeResult(
        enterprise_id=kwargs.get("enterprise_id"),
        team_id=kwargs.get("team_id"),
        bot_token="xoxb-fake",
        bot_user_id="U0BOT",
        bot_id="B0BOT",
    )


@pytest.fixture
def seen() -> list[Workspace]:
    return []


@pytest.fixture
def bolt(seen: list[Workspace]) -> AsyncApp:
    """A Bolt app whose listeners note the workspace of each request they get."""
    app = AsyncApp(
        signing_secret="unused",
        authorize=authorize,
        request_verification_enabled=False,
        process_before_response=True,
    )

    @app.event("app_home_opened")
    async def home_opened(request: AsyncBoltRequest) -> None:
        seen.append(workspace_of(request))

    @app.action("lead.refresh")
    async def refreshed(ack: Any, request: AsyncBoltRequest) -> None:
        await ack()
        seen.append(workspace_of(request))

    return app


@pytest.mark.parametrize(
    "request_of",
    [
        lambda: from_json(org_wide_home_opened(TEAM)),
        lambda: from_payload(org_wide_button()),
    ],
    ids=["home-opened", "button"],
)
async def test_a_listener_sees_the_workspace_of_an_org_wide_request(
    bolt: AsyncApp, seen: list[Workspace], request_of: Any
) -> None:
    response = await bolt.async_dispatch(request_of())

    assert response.status == 200, response.body
    assert seen == [Workspace(TEAM, enterprise_id=ORG)]
