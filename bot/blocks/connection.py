"""Multi-workspace mode: the workspace's NLPearl account on Home, and the modal that connects it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.blocks.ids import ActionId, BlockId, ViewId
from bot.blocks.modal import modal
from bot.blocks.text import date_token, mrkdwn, one_line, plain, prose, safe
from bot.nlpearl.models import Account

WHERE_TO_FIND = "platform.nlpearl.ai → Settings → API"


@dataclass(frozen=True)
class Connection:
    """What Home shows of the workspace's NLPearl account, and whether this person may change it."""

    account_id: str | None
    account_name: str | None
    connected_at: datetime | None
    may_change: bool


def connection_blocks(connection: Connection) -> list[dict[str, Any]]:
    """The NLPearl account section of Home: which account, or how to connect one."""
    if connection.account_id is None:
        return _not_connected(connection.may_change)
    name = prose(one_line(connection.account_name or ""), 100).strip()
    ident = f"`{safe(connection.account_id, 100)}`"
    line = f"*🔌 NLPearl account*\n{f'*{name}* · {ident}' if name else ident}"
    if connection.connected_at is not None:
        line += f" · connected {date_token(connection.connected_at)}"
    section: dict[str, Any] = {"type": "section", "text": mrkdwn(line)}
    if not connection.may_change:
        return [section]
    return [
        section,
        {"type": "actions", "elements": [_connect_button("Replace key"), _disconnect()]},
    ]


def _not_connected(may_change: bool) -> list[dict[str, Any]]:
    heading = "*🔌 NLPearl account*\nNot connected yet. "
    if not may_change:
        text = heading + "Ask a workspace admin to connect NLPearl from this tab."
        return [{"type": "section", "text": mrkdwn(text)}]
    text = (
        heading + "Connect your team's NLPearl account so that everyone here can look up "
        "leads and follow campaigns. You'll need its Account ID and Secret Key from "
        f"{WHERE_TO_FIND}."
    )
    button = _connect_button("Connect NLPearl", primary=True)
    return [{"type": "section", "text": mrkdwn(text)}, {"type": "actions", "elements": [button]}]


def _connect_button(label: str, *, primary: bool = False) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": ActionId.HOME_CONNECT_NLPEARL,
        "text": plain(label),
    }
    if primary:
        button["style"] = "primary"
    return button


def _disconnect() -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": ActionId.HOME_DISCONNECT_NLPEARL,
        "text": plain("Disconnect"),
        "style": "danger",
        "confirm": {
            "title": plain("Disconnect NLPearl?"),
            "text": mrkdwn(
                "Lead Bot forgets this workspace's NLPearl key at once. Lookups stop until an "
                "admin connects an account again; channel feeds keep arriving."
            ),
            "confirm": plain("Disconnect"),
            "deny": plain("Cancel"),
            "style": "danger",
        },
    }


def connect_modal(*, replacing: bool) -> dict[str, Any]:
    """The form an admin pastes the Account ID and Secret Key into."""
    intro = (
        "Paste the Account ID and Secret Key from "
        f"{WHERE_TO_FIND}. Lead Bot checks them with NLPearl before it keeps them."
    )
    if replacing:
        intro += " They replace the key this workspace uses now."
    blocks = [
        {"type": "section", "text": mrkdwn(intro)},
        _input(BlockId.NLPEARL_ACCOUNT_ID, ActionId.NLPEARL_ACCOUNT_ID, "Account ID"),
        _input(BlockId.NLPEARL_SECRET, ActionId.NLPEARL_SECRET, "Secret Key"),
        {
            "type": "context",
            "elements": [
                mrkdwn(
                    "🔒 The key is encrypted before it is stored, is used only for this "
                    "workspace, and is never shown again."
                )
            ],
        },
    ]
    title = "Replace NLPearl key" if replacing else "Connect NLPearl"
    return modal(ViewId.CONNECT_NLPEARL, title, blocks, submit="Connect", close="Cancel")


def _input(block_id: str, action_id: str, label: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": {"type": "plain_text_input", "action_id": action_id, "max_length": 200},
    }


def connected_modal(account_id: str, account: Account) -> dict[str, Any]:
    """What the form turns into once NLPearl accepted the key."""
    name = prose(one_line(account.name or ""), 100).strip()
    lines = [
        f"✅ Connected to NLPearl account {f'*{name}* ' if name else ''}`{safe(account_id, 100)}`."
    ]
    if account.credit_balance is not None:
        lines.append(f"Credit balance: {account.credit_balance:,.2f}")
    if account.remaining_minutes is not None:
        lines.append(f"Minutes left: {account.remaining_minutes:,.0f}")
    lines.append("Lookups, campaign cards and channel feeds in this workspace now use it.")
    blocks = [{"type": "section", "text": mrkdwn("\n".join(lines))}]
    return modal(ViewId.LOADING, "NLPearl connected", blocks)


def not_admin_modal() -> dict[str, Any]:
    """What a person who is not an admin sees on pressing an admin's button."""
    text = (
        "Only workspace admins and owners can connect, replace or disconnect the NLPearl "
        "account. Ask one of them to do it from Lead Bot's Home tab."
    )
    return modal(ViewId.LOADING, "Admins only", [{"type": "section", "text": mrkdwn(text)}])
