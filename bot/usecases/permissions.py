"""Who may change leads in NLPearl: workspace admins and owners, and whom they grant it to."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.parsing.slack_errors import SLACK_FAILURES, classify
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


class _Unknown(Exception):
    """Slack could not say who the person is, or which groups they are in."""


async def actor_of(
    client: AsyncWebClient, engine: AsyncEngine, ws: Workspace, user_id: str | None
) -> Actor:
    """Whether this person may act: an admin or owner, granted by name, or in a granted group."""
    try:
        user = await _user(client, user_id)
    except _Unknown:
        return Actor(user_id or "", "someone", is_admin=False, may_act=False, unknown=True)
    name = _name(user)
    if is_admin_of(user, ws):
        return Actor(str(user_id), name, is_admin=True, may_act=True)
    if not _member_of(user, ws):
        return Actor(str(user_id), name, is_admin=False, may_act=False)
    granted = await grants_of(engine, ws)
    try:
        in_group = await _in_any_group(client, granted.usergroups, str(user_id))
    except _Unknown:
        if str(user_id) not in granted.users:
            return Actor(str(user_id), name, is_admin=False, may_act=False, unknown=True)
        in_group = False
    allowed = str(user_id) in granted.users or in_group
    return Actor(str(user_id), name, is_admin=False, may_act=allowed)


async def admin_of(client: AsyncWebClient, ws: Workspace, user_id: str | None) -> bool:
    """Whether the person is an admin or owner of this workspace (one users.info call)."""
    try:
        return is_admin_of(await _user(client, user_id), ws)
    except _Unknown:
        return False


def is_admin_of(user: dict[str, Any], ws: Workspace) -> bool:
    """Whether Slack's user object is an admin or owner of this very workspace."""
    # An admin of another organisation, met in a Slack Connect channel, is not one of ours.
    roles = ("is_admin", "is_owner", "is_primary_owner")
    return _member_of(user, ws) and any(user.get(flag) is True for flag in roles)


def _member_of(user: dict[str, Any], ws: Workspace) -> bool:
    """A live, human member of the workspace (or of its Enterprise Grid organisation)."""
    if user.get("deleted") or user.get("is_bot") or user.get("is_stranger"):
        return False
    if ws.enterprise_id:
        enterprise = (user.get("enterprise_user") or {}).get("enterprise_id")
        return enterprise in (None, ws.enterprise_id)
    return user.get("team_id") in (None, ws.team_id)


async def _user(client: AsyncWebClient, user_id: str | None) -> dict[str, Any]:
    """Slack's user object for the person."""
    if not user_id:
        raise _Unknown()
    try:
        user = (await client.users_info(user=user_id)).get("user")
    except SLACK_FAILURES as exc:
        logger.warning("users.info failed for an action: %s", classify(exc).describe())
        raise _Unknown() from exc
    if not isinstance(user, dict):
        raise _Unknown()
    return user


async def _in_any_group(client: AsyncWebClient, groups: tuple[str, ...], user_id: str) -> bool:
    """Whether the person belongs to one of the granted user groups."""
    for group in groups:
        try:
            members = (await client.usergroups_users_list(usergroup=group)).get("users") or []
        except SLACK_FAILURES as exc:
            failure = classify(exc)
            logger.warning("usergroups.users.list failed: %s", failure.describe())
            # A deleted group grants nothing; Slack being unreachable means we cannot tell.
            if failure.error in {"no_such_subteam", "subteam_not_found"}:
                continue
            raise _Unknown() from exc
        if user_id in members:
            return True
    return False


async def user_groups(client: AsyncWebClient) -> list[tuple[str, str]]:
    """The workspace's user groups as (id, handle), for the grant form; none if Slack says no."""
    try:
        groups = (await client.usergroups_list()).get("usergroups") or []
    except SLACK_FAILURES as exc:
        logger.warning("usergroups.list failed: %s", classify(exc).describe())
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
