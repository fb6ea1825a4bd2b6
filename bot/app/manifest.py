"""The Slack app manifest, with this deployment's request URLs filled in."""

from __future__ import annotations

from typing import Any

import yaml

from bot.blocks.ids import ViewId

PLACEHOLDER_URL = "https://YOUR-APP-HOST"
EVENTS_PATH = "/slack/events"
REDIRECT_PATH = "/slack/oauth_redirect"
INSTALL_PATH = "/slack/install"
HTTP_HEADER = (
    "# Slack app manifest for Lead Bot.\n"
    "# Print it with your host's URLs filled in: lead-bot manifest --url https://HOST\n"
)
DISTRIBUTION_HEADER = (
    "# Slack app manifest for Lead Bot, installed in any workspace (multi-workspace mode).\n"
    "# Set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET from Basic Information,\n"
    "# SLACK_STATE_SECRET and ENCRYPTION_KEY (lead-bot rotate-key --generate), then turn on\n"
    "# Manage Distribution; the install page is /slack/install.\n"
)
SOCKET_MODE_HEADER = (
    "# Slack app manifest for Lead Bot over Socket Mode, for local development.\n"
    "# Slack traffic comes over a WebSocket: set SLACK_APP_TOKEN to an app-level token\n"
    "# (xapp-) with the connections:write scope, from Basic Information > App-Level Tokens.\n"
)
BOT_SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    # Who may change leads: users.info says who is an admin or owner, usergroups.* who is in a
    # group an admin granted the right to.
    "users:read",
    "usergroups:read",
    # The daily digest's chart: a PNG uploaded privately (files.uploadV2), then shown in the post.
    "files:write",
]


# The Home tab.
BOT_EVENTS = ["app_home_opened"]
# Installed in many workspaces: the app leaving a workspace, or an org's (its data goes then).
DISTRIBUTION_EVENTS = ["app_uninstalled", "tokens_revoked", "team_access_revoked"]


def redirect_url(base_url: str) -> str:
    """Where Slack sends the installer back, from the app's base URL."""
    return events_url(base_url).removesuffix(EVENTS_PATH) + REDIRECT_PATH


def events_url(base_url: str) -> str:
    """Where Slack sends requests, from the app's base URL or from that events URL itself."""
    base = base_url.rstrip("/").removesuffix(EVENTS_PATH).rstrip("/")
    return base + EVENTS_PATH


def build_manifest(
    base_url: str = PLACEHOLDER_URL, *, socket_mode: bool = False, distribution: bool = False
) -> dict[str, Any]:
    """The manifest as a dict: Slack requests go to `/slack/events`, or over Socket Mode.

    `distribution`: installed in any workspace through OAuth, org-wide in Enterprise Grid too.
    """
    url = events_url(base_url)
    oauth: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES)}}
    bot_events = BOT_EVENTS + (DISTRIBUTION_EVENTS if distribution else [])
    if distribution:
        oauth = {"redirect_urls": [redirect_url(base_url)], **oauth}
    # Over Socket Mode Slack needs no request URLs, and a stale one would only mislead.
    command_url = {} if socket_mode else {"url": url}
    request_url = {} if socket_mode else {"request_url": url}
    menu_url = {} if socket_mode else {"message_menu_options_url": url}
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Lead Bot",
            "description": "Look up NLPearl.AI leads and their calls from Slack.",
            "background_color": "#1d3557",
            "long_description": (
                "Lead Bot brings your NLPearl.AI outbound campaigns into Slack. Type "
                "/lead CAMPAIGN LEAD to see a lead's status, what time it is for them right now, "
                "each call with its AI summary and recording, and every answer they gave. "
                "Share a card with your channel in one click when a lead needs the team's "
                "attention, and act on it where you are: stop calling, call again, mark it won "
                "or lost, fix its details, or add a new lead. Lookups are private to you until "
                "you share them, and phone numbers in shared cards are masked to their last four "
                "digits."
            ),
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": False,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "Lead Bot", "always_online": True},
            "shortcuts": [
                {
                    "name": "Look up a lead",
                    "type": "global",
                    "callback_id": ViewId.GLOBAL_SHORTCUT.value,
                    "description": "Find an NLPearl lead by campaign and ID, phone or CRM ID",
                },
                {
                    "name": "Look up lead",
                    "type": "message",
                    "callback_id": ViewId.MESSAGE_SHORTCUT.value,
                    "description": "Show the card of the lead this message mentions",
                },
                {
                    "name": "Add a lead",
                    "type": "global",
                    "callback_id": ViewId.ADD_SHORTCUT.value,
                    "description": "Add someone to an NLPearl campaign, to be called",
                },
                {
                    "name": "Add to a campaign",
                    "type": "message",
                    "callback_id": ViewId.ADD_FROM_MESSAGE.value,
                    "description": "Add the phone number in this message to a campaign",
                },
            ],
            "slash_commands": [
                {
                    "command": "/lead",
                    **command_url,
                    "description": "Look up, add and act on NLPearl leads",
                    "usage_hint": "CAMPAIGN_ID LEAD_ID | +PHONE | EXTERNAL_ID  (or: add, help)",
                    "should_escape": False,
                }
            ],
        },
        "oauth_config": oauth,
        "settings": {
            "event_subscriptions": {**request_url, "bot_events": bot_events},
            "interactivity": {"is_enabled": True, **request_url, **menu_url},
            "org_deploy_enabled": distribution,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(
    base_url: str = PLACEHOLDER_URL, *, socket_mode: bool = False, distribution: bool = False
) -> str:
    """The manifest as YAML, ready to paste into api.slack.com/apps."""
    header = SOCKET_MODE_HEADER if socket_mode else HTTP_HEADER
    if distribution:
        header = DISTRIBUTION_HEADER
    manifest = build_manifest(base_url, socket_mode=socket_mode, distribution=distribution)
    return header + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
