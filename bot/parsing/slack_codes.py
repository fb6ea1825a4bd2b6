"""Slack's error codes and what each means, with no I/O: builders may import this."""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Kind(enum.Enum):
    """What to do about a failure."""

    RATE_LIMITED = "rate limited"  # wait `retry_after`, then try again
    PASSING = "passing"  # Slack or the way to it had a moment: try again with back-off
    UNKNOWN = "unknown"  # an error Lead Bot does not know: try again with back-off
    AUTH_REVOKED = "auth revoked"  # the bot token no longer works: reinstall the app
    NOT_ALLOWED = "not allowed"  # a scope or a workspace policy forbids it
    CHANNEL_GONE = "channel gone"  # the channel cannot be posted to any more
    BLOCKS_REFUSED = "blocks refused"  # the blocks were refused; the same words as text may pass
    MESSAGE_REFUSED = "message refused"  # this message can never be posted as it is
    MESSAGE_GONE = "message gone"  # the message or thread named no longer exists
    # The message is still there, but Slack no longer lets it be edited (too old, say).
    UNEDITABLE = "uneditable"


_ERRORS: dict[Kind, frozenset[str]] = {
    Kind.RATE_LIMITED: frozenset({"ratelimited", "rate_limited"}),
    Kind.PASSING: frozenset(
        {
            "internal_error",
            "fatal_error",
            "request_timeout",
            "service_unavailable",
            "team_added_to_org",
            "message_limit_exceeded",
        }
    ),
    Kind.AUTH_REVOKED: frozenset(
        {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
    ),
    Kind.NOT_ALLOWED: frozenset(
        {
            "missing_scope",
            "no_permission",
            "not_allowed_token_type",
            "access_denied",
            "restricted_action",
            "restricted_action_read_only_channel",
            "restricted_action_thread_only_channel",
            "restricted_action_non_threadable_channel",
            "team_access_not_granted",
            "ekm_access_denied",
        }
    ),
    Kind.CHANNEL_GONE: frozenset({"channel_not_found", "not_in_channel", "is_archived"}),
    Kind.BLOCKS_REFUSED: frozenset(
        {"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long"}
    ),
    Kind.MESSAGE_REFUSED: frozenset(
        {
            "msg_too_long",
            "no_text",
            "invalid_arguments",
            "invalid_attachments",
            "too_many_attachments",
            "invalid_metadata_format",
            "invalid_metadata_schema",
            "metadata_too_large",
            "metadata_must_be_sent_from_app",
        }
    ),
    Kind.MESSAGE_GONE: frozenset({"message_not_found", "thread_not_found"}),
    Kind.UNEDITABLE: frozenset({"cant_update_message", "edit_window_closed"}),
}
KIND_OF_ERROR: Mapping[str, Kind] = {
    code: kind for kind, codes in _ERRORS.items() for code in codes
}
RETRYABLE = frozenset({Kind.RATE_LIMITED, Kind.PASSING, Kind.UNKNOWN})


# What people are told when Slack stopped a channel's feed, refused a card, or would not
# describe a channel to subscribe, and what to do about it. A feed's stored problem is Slack's
# error code (rows of every version hold one): the sentence is chosen when it is shown.
INVITE_COMMAND = "`/invite @Lead Bot`"
INVITE = f"Invite me with {INVITE_COMMAND}, then run `/lead subscribe` again."
REINSTALL = "Slack no longer accepts my token. Ask an admin to reinstall Lead Bot."
_STOPPED_BY_CODE = {
    "not_in_channel": f"I was removed from the channel. {INVITE}",
    "channel_not_found": (
        "I can't find the channel any more: it was deleted, or it is private and I was removed. "
        f"If it still exists, invite me with {INVITE_COMMAND}, then run `/lead subscribe` again."
    ),
    "is_archived": "The channel was archived. Unarchive it, then run `/lead subscribe` again.",
}
_STOPPED_BY_KIND = {
    Kind.CHANNEL_GONE: f"I can't post in the channel any more. {INVITE}",
    Kind.AUTH_REVOKED: REINSTALL,
    Kind.NOT_ALLOWED: (
        "Slack doesn't allow me to post there: a permission or a workspace setting is missing. "
        "Ask an admin to check the channel's posting settings or reinstall Lead Bot, then run "
        "`/lead subscribe` again."
    ),
}
_STOPPED_OTHERWISE = "Slack refused my posts there. Run `/lead subscribe` in the channel again."


def why_stopped(code: str) -> str:
    """A plain sentence on why a channel's feed stopped, and what to do, from Slack's code."""
    if sentence := _STOPPED_BY_CODE.get(code):
        return sentence
    kind = KIND_OF_ERROR.get(code)
    return _STOPPED_BY_KIND.get(kind, _STOPPED_OTHERWISE) if kind else _STOPPED_OTHERWISE


def why_not_posted(kind: Kind, channel: str, error: str) -> str:
    """Why a card could not be posted to `channel`, and what to do; `error` is escaped already."""
    # `error` is Slack's code as the caller shows it in a code span (blocks.text.safe).
    if kind in (Kind.CHANNEL_GONE, Kind.NOT_ALLOWED):
        return (
            f"I can't post in <#{channel}>. If it's a private channel, invite me with "
            f"{INVITE_COMMAND} and try again."
        )
    if kind in (Kind.PASSING, Kind.RATE_LIMITED):
        return "Slack didn't answer. Try again in a minute."
    if kind is Kind.AUTH_REVOKED:
        return REINSTALL
    return f"Slack refused the post (`{error}`). Try again in a moment."


_UNSUBSCRIBABLE_BY_KIND = {
    Kind.CHANNEL_GONE: f"This looks like a private channel I'm not in. {INVITE}",
    Kind.AUTH_REVOKED: REINSTALL,
}


def why_not_subscribable(kind: Kind) -> str | None:
    """Why a channel can't be subscribed, from how Slack failed to describe it; None: can't tell."""
    return _UNSUBSCRIBABLE_BY_KIND.get(kind)
