"""Who may change leads in NLPearl: workspace admins and owners, and whom they grant it to."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.actions import grants_of
from bot.storage.rows import Workspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """A person asking to act, as Slack and the workspace's grants describe them."""

    user_id: str
    # What others see in a thread note ("by tess"); outside text, escaped where shown.
    name: str
    is_admin: bool
    may_act: bool
    # Set when Slack could not say who the person is: neither allowed nor refused for good.
    unknown: bool = False


async def actor_of(
    client: AsyncWebClient, engine: AsyncEngine, ws: Workspace, user_id: str | None
) -> Actor:
    """Whether this person may act: an admin or owner, granted by name, or in a granted group."""
    if not user_id:
        return Actor("", "someone", is_admin=False, may_act=False, unknown=True)
    try:
        user = (await client.users_info(user=user_id)).get("user") or {}
    except SlackApiError as exc:
        logger.warning("users.info failed for an action: %s", exc.response.get("error"))
        return Actor(user_id, "someone", is_admin=False, may_act=False, unknown=True)
    name = _name(user)
    if user.get("deleted") or user.get("is_bot"):
        return Actor(user_id, name, is_admin=False, may_act=False)
    if any(user.get(flag) is True for flag in ("is_admin", "is_owner", "is_primary_owner")):
        return Actor(user_id, name, is_admin=True, may_act=True)
    granted = await grants_of(engine, ws)
    if user_id in granted.users or await _in_any_group(client, granted.usergroups, user_id):
        return Actor(user_id, name, is_admin=False, may_act=True)
    return Actor(user_id, name, is_admin=False, may_act=False)


async def _in_any_group(client: AsyncWebClient, groups: tuple[str, ...], user_id: str) -> bool:
    """Whether the person belongs to one of the granted user groups."""
    for group in groups:
        try:
            members = (await client.usergroups_users_list(usergroup=group)).get("users") or []
        except SlackApiError as exc:
            # A deleted group grants nothing; the others may still.
            logger.warning("usergroups.users.list failed: %s", exc.response.get("error"))
            continue
        if user_id in members:
            return True
    return False


async def user_groups(client: AsyncWebClient) -> list[tuple[str, str]]:
    """The workspace's user groups as (id, handle), for the grant form; none if Slack says no."""
    try:
        groups = (await client.usergroups_list()).get("usergroups") or []
    except SlackApiError as exc:
        logger.warning("usergroups.list failed: %s", exc.response.get("error"))
        return []
    return [
        (str(group["id"]), str(group.get("handle") or group.get("name") or group["id"]))
        for group in groups
        if isinstance(group, dict) and group.get("id")
    ]


def _name(user: dict[str, Any]) -> str:
    profile = user.get("profile") or {}
    for name in (profile.get("display_name"), profile.get("real_name"), user.get("name")):
        if isinstance(name, str) and name.strip():
            return name.strip()[:80]
    return "someone"
