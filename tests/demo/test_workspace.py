"""The console's workspace applies Slack's rules: threads, response URLs, the modal stack."""

from __future__ import annotations

import pytest

from bot.demo import workspace as workspace_module
from bot.demo.workspace import (
    MAX_MODALS,
    RESPONSE_SECONDS,
    RESPONSE_USES,
    TRIGGER_SECONDS,
    SlackError,
    Workspace,
)

CHANNEL = "C0SALES"
MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Lead"}, "blocks": []}
HOME = {"type": "home", "blocks": []}


@pytest.fixture
def workspace() -> Workspace:
    created = Workspace()
    created.add_channel(CHANNEL, "sales")
    return created


def test_a_reply_to_a_reply_joins_the_parents_thread(workspace: Workspace) -> None:
    parent = workspace.post(CHANNEL, author_id=workspace.bot_user_id, text="parent")
    first = workspace.post(CHANNEL, author_id=workspace.bot_user_id, text="a", thread_ts=parent.ts)
    second = workspace.post(CHANNEL, author_id=workspace.bot_user_id, text="b", thread_ts=first.ts)

    assert second.thread_ts == parent.ts
    [drawn] = workspace.snapshot()["channels"][0]["messages"]
    assert [reply["text"] for reply in drawn["replies"]] == ["a", "b"]
    assert [m.text for m in workspace.history(CHANNEL, parent.ts)] == ["parent", "a", "b"]
    assert [m.text for m in workspace.history(CHANNEL)] == ["parent"]


def test_timestamps_increase_even_within_one_microsecond(workspace: Workspace) -> None:
    posted = [workspace.post(CHANNEL, author_id="U0DEMO", text=str(n)) for n in range(50)]
    stamps = [float(m.ts) for m in posted]
    assert stamps == sorted(stamps)
    assert len({m.ts for m in posted}) == 50


def test_an_unknown_channel_thread_or_message_is_slacks_error(workspace: Workspace) -> None:
    with pytest.raises(SlackError, match="channel_not_found"):
        workspace.post("C0NONE", author_id="U0DEMO", text="x")
    with pytest.raises(SlackError, match="thread_not_found"):
        workspace.post(CHANNEL, author_id="U0DEMO", text="x", thread_ts="1.000001")
    with pytest.raises(SlackError, match="message_not_found"):
        workspace.update(CHANNEL, "1.000001", text="x", blocks=None)


def test_a_commands_response_url_answers_then_replaces_its_answer(workspace: Workspace) -> None:
    name = workspace.response_target(CHANNEL)
    workspace.respond(name, {"text": "looking…"})
    workspace.respond(name, {"text": "the card", "replace_original": True})

    [message] = workspace.channels[CHANNEL].messages
    assert message.ephemeral
    assert message.text == "the card"
    assert not message.edited  # Slack shows no "(edited)" on an ephemeral message


def test_in_channel_posts_for_everyone_and_delete_original_removes(workspace: Workspace) -> None:
    card = workspace.post(CHANNEL, author_id=workspace.bot_user_id, text="card", ephemeral=True)
    name = workspace.response_target(CHANNEL, card.ts)

    workspace.respond(name, {"text": "shared", "response_type": "in_channel"})
    workspace.respond(name, {"delete_original": True})

    [shared] = workspace.channels[CHANNEL].messages
    assert shared.text == "shared"
    assert not shared.ephemeral


def test_an_unknown_response_url_is_refused(workspace: Workspace) -> None:
    with pytest.raises(SlackError, match="expired_url"):
        workspace.respond("forged", {"text": "hi"})
    assert workspace.channels[CHANNEL].messages == []


def test_a_trigger_opens_one_modal_only(workspace: Workspace) -> None:
    trigger = workspace.new_trigger()
    opened = workspace.open_view(trigger, MODAL)

    assert workspace.modals == [opened["id"]]
    with pytest.raises(SlackError, match="invalid_trigger_id"):
        workspace.open_view(trigger, MODAL)
    with pytest.raises(SlackError, match="invalid_trigger_id"):
        workspace.open_view("made-up", MODAL)


def test_pushes_stack_up_to_slacks_limit_and_close_pops(workspace: Workspace) -> None:
    root = workspace.open_view(workspace.new_trigger(), MODAL)
    pushed = [workspace.push_view(workspace.new_trigger(), MODAL) for _ in range(MAX_MODALS - 1)]
    with pytest.raises(SlackError, match="push_limit_reached"):
        workspace.push_view(workspace.new_trigger(), MODAL)
    assert pushed[0]["root_view_id"] == root["id"]
    assert pushed[0]["previous_view_id"] == root["id"]

    workspace.close_view(pushed[-1]["id"])
    assert workspace.modals == [root["id"], pushed[0]["id"]]
    workspace.close_view(pushed[0]["id"], clear=True)
    assert workspace.modals == []


def test_a_stale_hash_is_a_conflict_and_a_fresh_one_updates(workspace: Workspace) -> None:
    opened = workspace.open_view(workspace.new_trigger(), MODAL)
    updated = workspace.update_view(
        {**MODAL, "private_metadata": "new"}, view_id=opened["id"], hash=opened["hash"]
    )

    assert updated["id"] == opened["id"]
    assert updated["private_metadata"] == "new"
    with pytest.raises(SlackError, match="hash_conflict"):
        workspace.update_view(MODAL, view_id=opened["id"], hash=opened["hash"])


def test_a_view_of_the_wrong_type_or_shape_is_refused(workspace: Workspace) -> None:
    with pytest.raises(SlackError, match="invalid_arguments"):
        workspace.open_view(workspace.new_trigger(), HOME)
    with pytest.raises(SlackError, match="invalid_arguments"):
        workspace.publish_home(workspace.user_id, "not a view")
    with pytest.raises(SlackError, match="user_not_found"):
        workspace.publish_home("U0OTHER", HOME)


def test_home_is_published_in_place(workspace: Workspace) -> None:
    first = workspace.publish_home(workspace.user_id, HOME)
    second = workspace.publish_home(workspace.user_id, {**HOME, "blocks": [{"type": "divider"}]})

    assert first["id"] == second["id"]
    assert workspace.snapshot()["home"]["blocks"] == [{"type": "divider"}]


def test_every_change_moves_the_version_on(workspace: Workspace) -> None:
    before = workspace.version
    workspace.post(CHANNEL, author_id="U0DEMO", text="hi")
    workspace.notice("a note")
    assert workspace.version == before + 2
    assert workspace.snapshot()["notices"][-1]["text"] == "a note"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_trigger_expires_as_slacks_does(workspace: Workspace) -> None:
    clock = Clock()
    workspace._clock = clock
    late = workspace.new_trigger()
    clock.now += TRIGGER_SECONDS
    with pytest.raises(SlackError, match="expired_trigger_id"):
        workspace.open_view(late, MODAL)
    # Expired triggers are forgotten as new ones are made: the console's memory stays small.
    for _ in range(3):
        workspace.new_trigger()
        clock.now += TRIGGER_SECONDS
    assert len(workspace._triggers) == 1


def test_a_response_url_answers_five_times_within_thirty_minutes(workspace: Workspace) -> None:
    clock = Clock()
    workspace._clock = clock
    name = workspace.response_target(CHANNEL)
    for n in range(RESPONSE_USES):
        workspace.respond(name, {"text": str(n), "response_type": "in_channel"})
    with pytest.raises(SlackError, match="used_url"):
        workspace.respond(name, {"text": "sixth"})

    later = workspace.response_target(CHANNEL)
    clock.now += RESPONSE_SECONDS
    with pytest.raises(SlackError, match="expired_url"):
        workspace.respond(later, {"text": "too late"})
    workspace.response_target(CHANNEL)
    assert later not in workspace._targets
    assert len(workspace.channels[CHANNEL].messages) == RESPONSE_USES


def test_metadata_is_kept_and_shown_only_when_asked(workspace: Workspace) -> None:
    metadata = {"event_type": "lead_bot_post", "event_payload": {"marker": "m1"}}
    posted = workspace.post(CHANNEL, author_id=workspace.bot_user_id, text="x", metadata=metadata)
    bot = (workspace.bot_user_id, workspace.bot_id)
    assert posted.as_slack(*bot, with_metadata=True)["metadata"] == metadata
    assert "metadata" not in posted.as_slack(*bot)


def test_a_full_channel_forgets_its_oldest_thread_whole(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workspace_module, "MAX_MESSAGES_PER_CHANNEL", 4)
    first = workspace.post(CHANNEL, author_id="U0DEMO", text="first")
    workspace.post(CHANNEL, author_id="U0DEMO", text="reply", thread_ts=first.ts)
    second = workspace.post(CHANNEL, author_id="U0DEMO", text="second")
    workspace.post(CHANNEL, author_id="U0DEMO", text="third")
    workspace.post(CHANNEL, author_id="U0DEMO", text="reply 2", thread_ts=second.ts)

    assert [m.text for m in workspace.channels[CHANNEL].messages] == [
        "second",
        "third",
        "reply 2",
    ]
