"""Acting on a lead: the card's action bar, confirmations, outcomes, thread notes, admin Home.

The admin Home's recent actions list campaign actions (pause, resume) too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from bot.blocks.ids import MAX_OPTION_VALUE, ActionId, ActRef, BlockId, Pending, ViewId
from bot.blocks.messages import notice
from bot.blocks.modal import modal, notice_modal
from bot.blocks.privacy import Audience
from bot.blocks.text import (
    date_token,
    mrkdwn,
    one_line,
    plain,
    prose,
    safe,
)
from bot.nlpearl.lead_actions import EFFECTS, Verb, offered, primary
from bot.nlpearl.statuses import lead_status
from bot.storage.rows import ActionRecord, Grants

Origin = Literal["card", "feed"]

# Slack's limits for what this module builds (docs.slack.dev/reference/block-kit).
MAX_SELECT_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_METADATA = 3000
# Outside text in a sentence: long enough for any real name or number, short enough to read.
NAME_CHARS = 150
PHONE_CHARS = 60
WHY_CHARS = 500
BY_NAME_CHARS = 80
HANDLE_CHARS = 60
DETAIL_CHARS = 160
ID_CHARS = 40
# Admin Home budgets: a few lines each, so the tab stays well under its 100 blocks.
ACTIONS_SHOWN = 10
PEOPLE_SHOWN = 40
GROUPS_SHOWN = 20

# Slack user and user group IDs; anything else from storage is shown as text, never mentioned.
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,31}$")

# What each action does to a lead, as a clause: the question asks it, a failure reports it.
_CLAUSES: dict[Verb, str] = {
    Verb.STOP: "stop calling {name}",
    Verb.RETRY: "call {name} again",
    Verb.WON: "mark {name} as won",
    Verb.LOST: "mark {name} as lost",
    Verb.EDIT: "edit {name}",
}
# What follows, in words, with the lead's number (or "them").
_EFFECT_SENTENCES: dict[Verb, str] = {
    Verb.STOP: "The campaign will not call {phone} again.",
    Verb.RETRY: "The campaign will call {phone} again in its next calling window.",
    Verb.WON: "NLPearl will record a success, and the campaign will not call {phone} again.",
    Verb.LOST: (
        "NLPearl will record the lead as not successful, and the campaign will not call "
        "{phone} again."
    ),
    Verb.EDIT: "The form opens with the lead as NLPearl has it now.",
}
DENIED_TEXT = (
    "Only workspace admins and owners, and the people they choose, can change leads and "
    "campaigns in NLPearl from Slack. Looking stays open to everyone. To get the right, ask a "
    "workspace admin or owner: they can grant it from Lead Bot's Home tab, under Who may act."
)
_RESULTS = {
    "applied": "applied ✅",
    "denied": "denied 🔒",
    "stale": "stale ↩️",
    "failed": "failed ⚠️",
    "unconfirmed": "unconfirmed ⏳",
    "pending": "in progress ⏳",
}
_ADD_NOTE = ("➕", "Added to the campaign")


# The action bar


def action_elements(
    campaign_id: str, lead_id: str | None, status: int | None, origin: Origin
) -> list[dict[str, Any]]:
    """The primary action's button and a menu of the other actions offered for this status."""
    if not lead_id:
        return []
    verbs = offered(status)
    values = {
        verb: ActRef(
            verb=verb,
            campaign_id=campaign_id,
            lead_id=lead_id,
            seen_status=status,
            origin=origin,
        ).value()
        for verb in verbs
    }
    # All or nothing: a bar missing some actions would look like they do not apply.
    if any(len(value) > MAX_OPTION_VALUE for value in values.values()):
        return []
    main = primary(status)
    elements: list[dict[str, Any]] = []
    if main in values:
        button: dict[str, Any] = {
            "type": "button",
            "action_id": ActionId.LEAD_PRIMARY,
            "text": plain(_verb_text(main)),
            "value": values[main],
        }
        # Calling again is the hopeful step after a lead went nowhere; stopping stays quiet.
        if main is Verb.RETRY:
            button["style"] = "primary"
        elements.append(button)
    # Edit lead is always offered and never primary, so the menu is never empty.
    options = [
        {"text": plain(_verb_text(verb), MAX_OPTION_TEXT), "value": values[verb]}
        for verb in verbs
        if verb is not main
    ]
    elements.append({"type": "overflow", "action_id": ActionId.LEAD_MENU, "options": options})
    return elements


def _verb_text(verb: Verb) -> str:
    effect = EFFECTS[verb]
    return f"{effect.emoji} {effect.label}"


# Confirming


def confirm_view(pending: Pending, lead_label: str, phone: str | None) -> dict[str, Any]:
    """The modal asking to confirm a change, naming the lead and what will follow."""
    blocks = [_section(_question(pending.act.verb, lead_label, phone)), _ids(pending.act)]
    return modal(
        ViewId.CONFIRM_ACTION,
        "Confirm",
        blocks,
        submit=EFFECTS[pending.act.verb].label,
        close="Cancel",
        private_metadata=_metadata(pending),
    )


def stale_view(
    pending: Pending, lead_label: str, phone: str | None, was: int | None, now: int | None
) -> dict[str, Any]:
    """The lead moved on since the card was drawn: say so, then ask again if it still applies."""
    verb = pending.act.verb
    # Names are shown as written, so only our own words start the sentence with a capital.
    owner = f"{_name(lead_label)}'s" if one_line(lead_label) else "The lead's"
    if was == now:
        changed = f"{owner} status is {lead_status(now).text}."
    else:
        changed = (
            f"{owner} status changed since the card was drawn: "
            f"it was {lead_status(was).text}, it is now {lead_status(now).text}."
        )
    if verb in offered(now):
        blocks = [
            _section(changed),
            _section(_question(verb, lead_label, phone)),
            _ids(pending.act),
        ]
        return modal(
            ViewId.CONFIRM_ACTION,
            "Status changed",
            blocks,
            submit=EFFECTS[verb].label,
            close="Cancel",
            private_metadata=_metadata(pending),
        )
    gone = (
        f"{_verb_text(verb)} no longer applies to this lead, so nothing was changed. "
        "Refresh the card to see what you can do now."
    )
    return modal(ViewId.CONFIRM_ACTION, "Status changed", [_section(changed), _section(gone)])


def _question(verb: Verb, lead_label: str, phone: str | None) -> str:
    clause = _CLAUSES[verb].format(name=_name(lead_label))
    shown = prose(one_line(phone), PHONE_CHARS) if phone and phone.strip() else "them"
    return f"{clause[0].upper()}{clause[1:]}? {_EFFECT_SENTENCES[verb].format(phone=shown)}"


def _name(lead_label: str) -> str:
    """The lead's name as escaped mrkdwn, or "this lead" when there is none."""
    return prose(one_line(lead_label), NAME_CHARS) or "this lead"


def _ids(act: ActRef) -> dict[str, Any]:
    """Which lead exactly, for names that two leads share."""
    text = f"Lead `{safe(act.lead_id, ID_CHARS)}` · Campaign `{safe(act.campaign_id, ID_CHARS)}`"
    return _context(text)


def _metadata(pending: Pending) -> str:
    metadata = pending.model_dump_json(exclude_none=True)
    if len(metadata) > MAX_METADATA:
        raise ValueError(f"the pending action is {len(metadata)} characters, over {MAX_METADATA}")
    return metadata


# Refusals and outcomes


def denied_message(things: str = "leads") -> dict[str, Any]:
    """Why someone may not change leads (or campaigns), and whom to ask."""
    return notice("🔒", f"You can't change {things} from Slack", DENIED_TEXT)


def denied_view(things: str = "leads") -> dict[str, Any]:
    """The refusal, as a modal."""
    return notice_modal("Lead Bot", denied_message(things))


def outcome_notice(verb: Verb, lead_label: str, *, ok: bool, why: str | None) -> dict[str, Any]:
    """How an action went: done, or why not and that nothing changed."""
    name = _name(lead_label)
    if ok:
        effect = EFFECTS[verb]
        return notice(effect.emoji, f"{effect.done}: {name}")
    # The caller's reason is outside text (NLPearl's words among it); our sentence ends it.
    reason = prose(one_line(why or ""), WHY_CHARS).rstrip(" .")
    detail = f"{reason}. Nothing was changed." if reason else "Nothing was changed."
    return notice("⚠️", f"Couldn't {_CLAUSES[verb].format(name=name)}", detail)


def outcome_view(verb: Verb, lead_label: str, *, ok: bool, why: str | None) -> dict[str, Any]:
    """How an action went, as a modal."""
    return notice_modal(EFFECTS[verb].label, outcome_notice(verb, lead_label, ok=ok, why=why))


def thread_note(verb: Verb | Literal["add"], by_name: str, at: datetime) -> dict[str, Any]:
    """A reply in the lead's thread: what someone did from Slack, who, and when."""
    emoji, done = _ADD_NOTE if verb == "add" else (EFFECTS[verb].emoji, EFFECTS[verb].done)
    # A display name, shown as text: "@tess" reads like a mention but notifies no one.
    who = prose(one_line(by_name), BY_NAME_CHARS)
    by = f"by @{who}" if who else "by someone"
    text = f"{emoji} {done} · {by}"
    return {
        "text": text,
        "blocks": [_context(f"{text} · {date_token(at, '{time}')}")],
    }


# The Home tab, for admins


def who_may_act_blocks(grants: Grants, group_names: dict[str, str]) -> list[dict[str, Any]]:
    """Who may act on leads besides admins and owners, with a button to change it."""
    people = [_person(user) for user in grants.users]
    groups = [_group(group, group_names) for group in grants.usergroups]
    shown = _shown(people, PEOPLE_SHOWN) + _shown(groups, GROUPS_SHOWN)
    who = (
        f"Workspace admins and owners, plus {_and(shown)}."
        if shown
        else "Workspace admins and owners only."
    )
    section: dict[str, Any] = {
        "type": "section",
        "text": mrkdwn(f"*🔐 Who may act on leads*\n{who}"),
        "accessory": {
            "type": "button",
            "action_id": ActionId.HOME_WHO_MAY_ACT,
            "text": plain("Change"),
        },
    }
    return [section]


def _person(user_id: str) -> str:
    # In a Home tab a mention shows the person's name and notifies no one.
    return f"<@{user_id}>" if _USER_ID.match(user_id) else f"`{safe(user_id, ID_CHARS)}`"


def _group(group_id: str, group_names: dict[str, str]) -> str:
    # A `<!subteam^…>` mention would notify the group: its handle is shown as text instead.
    handle = one_line(group_names.get(group_id, "")).lstrip("@")
    if handle:
        return f"@{prose(handle, HANDLE_CHARS)}"
    return f"a user group `{safe(group_id, ID_CHARS)}`"


def _shown(items: list[str], limit: int) -> list[str]:
    if len(items) <= limit:
        return items
    return [*items[: limit - 1], f"{len(items) - limit + 1} more"]


def _and(items: Sequence[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def recent_actions_blocks(records: list[ActionRecord], mask: bool) -> list[dict[str, Any]]:
    """The latest actions people took (or were refused) on leads from Slack, newest first."""
    heading = _section("*🧾 Recent actions on leads*")
    if not records:
        return [heading, _context("No actions yet.")]
    audience = Audience(masked=mask)
    latest = sorted(records, key=lambda record: record.at, reverse=True)[:ACTIONS_SHOWN]
    return [heading, *(_section(_action_line(record, audience)) for record in latest)]


def _action_line(record: ActionRecord, audience: Audience) -> str:
    """What, how it went, who and when; then why (unless applied); then which lead."""
    result = _RESULTS.get(record.result) or f"{prose(one_line(record.result), 40)} ❔"
    who = _person(record.user_id)
    lines = [f"{_what(record.action)} · {result} · by {who} · {date_token(record.at)}"]
    # Details quote NLPearl, which may repeat the lead's number: masked like any lead text.
    detail = prose(one_line(audience.text(record.detail or "")), DETAIL_CHARS)
    if detail and record.result != "applied":
        lines.append(f"_{detail}_")
    where = [f"Campaign `{safe(record.campaign_id, ID_CHARS)}`"]
    if record.lead_id:
        where.insert(0, f"Lead `{safe(record.lead_id, ID_CHARS)}`")
    lines.append(" · ".join(where))
    return "\n".join(lines)


_OTHER_ACTIONS = {
    "add": "➕ *Add lead*",
    "pause": "⏸️ *Pause campaign*",
    "resume": "▶️ *Resume campaign*",
}


def _what(action: str) -> str:
    if action in _OTHER_ACTIONS:
        return _OTHER_ACTIONS[action]
    try:
        effect = EFFECTS[Verb(action)]
    except ValueError:
        return f"❔ {prose(one_line(action), 40)}"
    return f"{effect.emoji} *{effect.label}*"


def who_may_act_modal(grants: Grants, group_options: list[tuple[str, str]]) -> dict[str, Any]:
    """The admin's form: the people and user groups who may act on leads."""
    people: dict[str, Any] = {
        "type": "multi_users_select",
        "action_id": "users",
        "placeholder": plain("Choose people"),
    }
    if initial := [user for user in dict.fromkeys(grants.users) if _USER_ID.match(user)]:
        people["initial_users"] = initial
    blocks: list[dict[str, Any]] = [
        _section(
            "Workspace admins and owners can always stop calls, call again, mark leads won or "
            "lost, and edit them. Choose who else may."
        ),
        {
            "type": "input",
            "block_id": BlockId.GRANT_USERS,
            "optional": True,
            "label": plain("People"),
            "element": people,
        },
    ]
    options = _group_options(grants, group_options)
    if not options:
        blocks.append(_context("This workspace has no user groups, so you can choose people only."))
    else:
        groups: dict[str, Any] = {
            "type": "multi_static_select",
            "action_id": ActionId.GRANT_USERGROUPS,
            "placeholder": plain("Choose user groups"),
            "options": options,
        }
        granted = set(grants.usergroups)
        if chosen := [option for option in options if option["value"] in granted]:
            groups["initial_options"] = chosen
        blocks.append(
            {
                "type": "input",
                "block_id": BlockId.GRANT_USERGROUPS,
                "optional": True,
                "label": plain("User groups"),
                "element": groups,
                "hint": plain("Everyone in a chosen group may act, as the group changes."),
            }
        )
    if options and len(options) < len(group_options):
        blocks.append(_context(f"Showing {len(options)} of {len(group_options)} user groups."))
    return modal(ViewId.WHO_MAY_ACT, "Who may act", blocks, submit="Save", close="Cancel")


def _group_options(grants: Grants, group_options: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Up to Slack's 100 options, the granted groups always among them (else saving drops them)."""
    usable = [(gid, handle) for gid, handle in dict(group_options).items() if _GROUP_ID.match(gid)]
    granted = set(grants.usergroups)
    first = [pair for pair in usable if pair[0] in granted]
    rest = [pair for pair in usable if pair[0] not in granted]
    kept = {gid for gid, _ in [*first, *rest][:MAX_SELECT_OPTIONS]}
    return [
        {"text": plain(f"@{one_line(handle).lstrip('@') or gid}", MAX_OPTION_TEXT), "value": gid}
        for gid, handle in usable
        if gid in kept
    ]


# Small pieces


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}
