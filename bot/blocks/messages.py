"""Short messages: help, usage problems and failures, each a sentence a person can act on."""

from __future__ import annotations

from typing import Any

from bot.blocks.text import MAX_FALLBACK_TEXT, mrkdwn, safe, truncate
from bot.nlpearl.errors import BadCredentials, NotConnected

EXAMPLE_CAMPAIGN = "664e9a77f0e1d2c3b4a59687"
EXAMPLE_LEAD = "6650f1c2a9e4b27d3c8e41a7"


def notice(emoji: str, title: str, detail: str = "") -> dict[str, Any]:
    """A one-section message; `title` and `detail` are trusted mrkdwn written by us."""
    body = f"{emoji} *{title}*" + (f"\n{detail}" if detail else "")
    return {
        "text": truncate(f"{title} {detail}".strip(), MAX_FALLBACK_TEXT),
        "blocks": [{"type": "section", "text": mrkdwn(truncate(body, 3000))}],
    }


def help_message(command: str = "/lead") -> dict[str, Any]:
    """Usage of the command, with examples."""
    c = command
    usage = "\n".join(
        [
            f"`{c} CAMPAIGN_ID LEAD_ID` — the lead's card: status, local time, calls and answers",
            f"`{c} CAMPAIGN_ID +14155550137` — find the lead by phone number",
            f"`{c} CAMPAIGN_ID crm-004512` — find the lead by its external (CRM) ID",
            "Prefix the key with `id:`, `phone:` or `ext:` to say which kind it is.",
            f"`{c} add CAMPAIGN_ID +14155550137 [ext:crm-004512] [plan=Pro …]` — add a lead "
            '(if you may change leads); quote values with spaces, like `name="Maria Gonzalez"`',
            f"`{c} campaign CAMPAIGN_ID` — the campaign: state, today's calls, totals, budget; "
            "pause or resume it",
        ]
    )
    channel = "\n".join(
        [
            f"`{c} subscribe CAMPAIGN_ID [STATUS…]` — post this campaign's lead updates here",
            f"`{c} unsubscribe CAMPAIGN_ID` — stop posting them here",
            f"`{c} digest CAMPAIGN_ID [HH:MM | off]` — a daily digest of the campaign here, "
            "at 09:00 or the time given, in your time zone; `off` stops it",
            f"`{c} subscriptions` — list this channel's subscriptions and digests",
        ]
    )
    example = f"For example: `{c} {EXAMPLE_CAMPAIGN} {EXAMPLE_LEAD}`"
    tips = (
        "The campaign ID is the Pearl's ID in the NLPearl platform. "
        "You can also paste an NLPearl link to the lead."
    )
    return {
        "text": f"How to use {c}",
        "blocks": [
            {"type": "section", "text": mrkdwn(f"👋 *Look up a lead*\n{usage}")},
            {"type": "section", "text": mrkdwn(f"📣 *Channel updates*\n{channel}")},
            {"type": "context", "elements": [mrkdwn(example), mrkdwn(tips)]},
        ],
    }


def usage_problem(
    problem: str, command: str = "/lead", usage: str = "CAMPAIGN_ID LEAD_ID"
) -> dict[str, Any]:
    """A command that could not be read: why, and the right form."""
    detail = f"{problem}\nTry `{command} {usage}`, or `{command} help` for every form."
    return notice("🤔", "That command didn't work", detail)


def lead_not_found(campaign_id: str, key_text: str) -> dict[str, Any]:
    """No lead matches in that campaign."""
    detail = (
        f"No lead `{safe(key_text, 100)}` in campaign `{safe(campaign_id, 100)}`. "
        "Check both IDs in the NLPearl platform; the campaign ID comes first."
    )
    return notice("🔍", "Lead not found", detail)


# Where the key comes from the environment (single-workspace mode).
ENVIRONMENT_KEY_FIX = (
    "An admin should set `NLPEARL_API_KEY` to `AccountId:SecretKey` from "
    "platform.nlpearl.ai → Settings → API, then restart the app."
)
# Where each workspace connects its own account (multi-workspace mode).
CONNECTED_KEY_FIX = (
    "An admin should connect NLPearl again from Lead Bot's *Home* tab, with the Account ID "
    "and Secret Key from platform.nlpearl.ai → Settings → API."
)


def nlpearl_rejected_key(fix: str | None = None) -> dict[str, Any]:
    """NLPearl refused the API key; `fix` says how to mend it where the key came from."""
    detail = f"NLPearl rejected Lead Bot's API key. {fix or ENVIRONMENT_KEY_FIX}"
    return notice("🔑", "NLPearl didn't accept the API key", detail)


def nlpearl_not_connected() -> dict[str, Any]:
    """The workspace has connected no NLPearl account yet: how to, not an error."""
    detail = (
        "Lead Bot isn't connected to an NLPearl account in this workspace yet. An admin can "
        "connect one in a minute: open *Lead Bot* in Slack's sidebar, go to its *Home* tab and "
        "press *Connect NLPearl*."
    )
    return notice("🔌", "Connect NLPearl to look up leads", detail)


def nlpearl_key_problem(exc: BadCredentials) -> dict[str, Any]:
    """What to tell a person whose request NLPearl's key stopped: not connected, or rejected."""
    if isinstance(exc, NotConnected):
        return nlpearl_not_connected()
    return nlpearl_rejected_key(exc.fix)


def nlpearl_unavailable() -> dict[str, Any]:
    """NLPearl did not answer in time or is failing."""
    detail = "NLPearl isn't answering right now. Nothing was changed; try again in a minute."
    return notice("⏳", "NLPearl is not responding", detail)


def nlpearl_bad_answer() -> dict[str, Any]:
    """NLPearl answered with something we cannot read."""
    detail = (
        "NLPearl sent an answer Lead Bot couldn't read. "
        "Try again; if it keeps happening, tell your admin."
    )
    return notice("⚠️", "Something went wrong at NLPearl", detail)


def unexpected_error(reference: str) -> dict[str, Any]:
    """Our own failure, with a reference an admin can find in the logs."""
    detail = (
        "Lead Bot hit an unexpected error. Nothing was changed. "
        f"Reference for your admin: `{reference}`"
    )
    return notice("💥", "Something went wrong", detail)


def restarting() -> dict[str, Any]:
    """The app stopped (a deploy or restart) before it could answer."""
    detail = "Lead Bot restarted before it could answer. Nothing was changed; please try again."
    return notice("🔄", "Please try again", detail)
