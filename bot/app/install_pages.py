"""The pages a person sees after "Add to Slack": what happened, and what to do next."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from urllib.parse import quote

from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.response import BoltResponse

logger = logging.getLogger(__name__)

# Slack's and Bolt's reasons, in the words of the person who was installing.
_WHY = {
    "access_denied": "The install was cancelled, so nothing was installed.",
    "invalid_state": "This install link has expired or was already used.",
    "invalid_browser": (
        "The install has to finish in the browser it started in, from the Add to Slack page."
    ),
    "missing_code": "Slack's answer was incomplete.",
    "storage_error": "Lead Bot could not save the install. Try again in a minute.",
}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lead Bot</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:36em;
margin:4em auto;padding:0 1em;color:#1d1c1d;line-height:1.5}}a.button{{display:inline-block;
background:#4a154b;color:#fff;padding:.6em 1.2em;border-radius:6px;text-decoration:none}}</style>
</head><body><h1>{title}</h1>{body}</body></html>
"""


def install_callbacks() -> AsyncCallbackOptions:
    """Bolt's OAuth callbacks, with Lead Bot's pages."""
    return AsyncCallbackOptions(success=_installed, failure=_not_installed)


def _page(status: int, title: str, body: str, cookie: str) -> BoltResponse:
    headers: dict[str, str | Sequence[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Set-Cookie": cookie,
    }
    return BoltResponse(status=status, headers=headers, body=_PAGE.format(title=title, body=body))


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    installation = args.installation
    where = installation.enterprise_name if installation.is_enterprise_install else None
    where = where or installation.team_name or "your workspace"
    body = (
        f"<p>Lead Bot is installed in <strong>{html.escape(where)}</strong>.</p>"
        "<p>Next, a workspace admin connects your NLPearl account: open Lead Bot in Slack, go "
        "to its <strong>Home</strong> tab and press <strong>Connect NLPearl</strong>. You'll "
        "need the Account ID and Secret Key from platform.nlpearl.ai → Settings → API.</p>"
    )
    # An org-wide install has no one workspace to open Lead Bot in: each opens it there.
    if installation.team_id:
        team, app = quote(installation.team_id), quote(installation.app_id or "")
        home = f"slack://app?team={team}&id={app}&tab=home"
        body += f'<p><a class="button" href="{html.escape(home)}">Open Lead Bot in Slack</a></p>'

    cookie = args.settings.state_utils.build_set_cookie_for_deletion()
    return _page(200, "Lead Bot is installed", body, cookie)


async def _not_installed(args: AsyncFailureArgs) -> BoltResponse:
    logger.warning("An install did not finish: %s", args.reason)
    why = _WHY.get(args.reason, "Slack did not complete the install.")
    install = html.escape(args.settings.install_path)
    body = (
        f"<p>{html.escape(why)}</p>"
        f'<p><a class="button" href="{install}">Start the install again</a></p>'
    )
    cookie = args.settings.state_utils.build_set_cookie_for_deletion()
    return _page(args.suggested_status_code, "Lead Bot was not installed", body, cookie)
