"""Use case: the form where an admin chooses who, besides admins and owners, may act on leads."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.lead_actions import who_may_act_modal
from bot.storage.actions import grants_of, set_grants
from bot.storage.rows import Grants, Workspace
from bot.usecases.permissions import user_groups
from bot.usecases.services import Services

# Slack's IDs: people (U…, W… on Enterprise Grid) and user groups (S…).
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,31}$")
MAX_GRANTED = 100


async def grant_form(services: Services, client: AsyncWebClient, ws: Workspace) -> dict[str, Any]:
    """The form, with who is granted now and the workspace's user groups to choose from."""
    grants = await grants_of(services.engine, ws)
    return who_may_act_modal(grants, await user_groups(client))


async def save_grants(
    services: Services, ws: Workspace, admin_id: str, users: list[str], groups: list[str]
) -> Grants:
    """Replace who is granted the right to act; anything that is not a Slack ID is dropped."""
    grants = Grants(
        users=tuple(sorted({u for u in users if _USER_ID.match(u)}))[:MAX_GRANTED],
        usergroups=tuple(sorted({g for g in groups if _GROUP_ID.match(g)}))[:MAX_GRANTED],
    )
    await set_grants(services.engine, ws, grants, admin_id, services.now())
    return grants


def grants_summary(grants: Grants) -> str:
    """What was saved, in a sentence."""
    people, groups = len(grants.users), len(grants.usergroups)
    if not people and not groups:
        return "Only workspace admins and owners may act on leads now."
    return (
        f"Workspace admins and owners may act on leads, and so may {people} "
        f"{'person' if people == 1 else 'people'} and {groups} user "
        f"{'group' if groups == 1 else 'groups'} you chose."
    )
