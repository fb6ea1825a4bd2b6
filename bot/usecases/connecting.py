"""Use case: a workspace connects, replaces or disconnects its NLPearl account (multi-workspace)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.blocks.ids import BlockId
from bot.nlpearl.client import NLPearlClient
from bot.nlpearl.errors import BadCredentials, NLPearlError
from bot.nlpearl.models import Account
from bot.storage.accounts import account_of, forget_account, save_account
from bot.storage.rows import StoredAccount, Workspace
from bot.storage.sealing import SealBroken, Sealer

logger = logging.getLogger(__name__)

# Slack waits 3 s for a modal's answer; the check must leave time to answer.
CHECK_SECONDS = 1.6
# NLPearl's IDs and keys are short tokens of printable ASCII (they travel in an HTTP header);
# anything else, a space, a colon or a character copied from a web page, was pasted by mistake.
_CREDENTIAL = re.compile(r"[!-9;-~]{1,200}")
# The modal's inputs, so an answer can point at the one to mend.
ACCOUNT_ID_BLOCK = BlockId.NLPEARL_ACCOUNT_ID.value
SECRET_BLOCK = BlockId.NLPEARL_SECRET.value


@dataclass(frozen=True)
class Connections:
    """Where each workspace's NLPearl account is kept, and how to try a pasted key."""

    engine: AsyncEngine
    sealer: Sealer
    # A client for a key someone pasted, to ask NLPearl about it before it is kept.
    client_for_key: Callable[[str], NLPearlClient]


@dataclass(frozen=True)
class Connected:
    """The account NLPearl confirmed, now kept for the workspace."""

    account_id: str
    account: Account


@dataclass(frozen=True)
class Refused:
    """Nothing was kept: what to show under which input of the modal."""

    errors: dict[str, str]


async def connected_account(connections: Connections, ws: Workspace) -> StoredAccount | None:
    """The workspace's account, or None when none is connected (or it can't be opened)."""
    try:
        return await account_of(connections.engine, connections.sealer, ws)
    except SealBroken:
        return None


async def connect(
    connections: Connections,
    ws: Workspace,
    *,
    user_id: str | None,
    account_id: str,
    secret: str,
    now: datetime,
) -> Connected | Refused:
    """Check the pasted ID and key with NLPearl (§3.5 Get Account); keep them if it accepts."""
    account_id, secret = account_id.strip(), secret.strip()
    errors = {}
    if not _CREDENTIAL.fullmatch(account_id):
        errors[ACCOUNT_ID_BLOCK] = "Paste the Account ID from platform.nlpearl.ai → Settings → API."
    if not _CREDENTIAL.fullmatch(secret):
        errors[SECRET_BLOCK] = "Paste the Secret Key from platform.nlpearl.ai → Settings → API."
    if errors:
        return Refused(errors)
    client = connections.client_for_key(f"{account_id}:{secret}")
    try:
        account = await asyncio.wait_for(client.get_account(), CHECK_SECONDS)
    except BadCredentials:
        return Refused(
            {
                SECRET_BLOCK: (
                    "NLPearl didn't accept this Account ID and Secret Key. Copy both again "
                    "from platform.nlpearl.ai → Settings → API."
                )
            }
        )
    except (NLPearlError, TimeoutError) as exc:
        logger.warning("Could not check an NLPearl key: %s", exc or "no answer in time")
        return Refused(
            {SECRET_BLOCK: "NLPearl didn't answer in time, so nothing was saved. Try again."}
        )
    await save_account(
        connections.engine,
        connections.sealer,
        ws,
        account_id=account_id,
        secret=secret,
        account_name=account.name,
        connected_by=user_id,
        now=now,
    )
    logger.info("Workspace %s connected NLPearl account %s", ws.team_id, account_id)
    return Connected(account_id, account)


async def disconnect(connections: Connections, ws: Workspace) -> bool:
    """Forget the workspace's key; whether there was one."""
    forgotten = await forget_account(connections.engine, ws)
    if forgotten:
        logger.info("Workspace %s disconnected NLPearl", ws.team_id)
    return forgotten
