"""The console in front of the real app and the sandbox, driven through the page's own API.

The demo runs in this process (uvicorn on a loopback port, from a thread), as `lead-bot demo`
runs it; the browser test drives the real process.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from bot.app.listening import listen
from bot.blocks.ids import ActionId, BlockId
from bot.demo.run import FEED_CHANNEL, LOOPBACK, SALES_CHANNEL, Demo, demo_settings
from bot.demo.sandbox import Sandbox
from bot.storage.migrate import upgrade_to_latest
from tests.harness.processes import free_port
from tests.harness.workspaces import eventually as harness_eventually

T = TypeVar("T")
Json = dict[str, Any]
SALES, _ = SALES_CHANNEL
FEED, _ = FEED_CHANNEL
WAIT_SECONDS = 20.0


class Running:
    """A demo serving from a thread, and the page's API to drive it."""

    def __init__(self, demo: Demo, http: httpx.Client) -> None:
        self.demo = demo
        self.http = http

    def api(self, name: str, body: Json) -> Json:
        answer = self.http.post(f"/demo/api/{name}", json=body)
        assert answer.status_code == 200
        shown: Json = answer.json()
        return shown

    def state(self) -> Json:
        shown: Json = self.http.get("/demo/api/state").json()
        return shown

    def messages(self, channel: str) -> list[Json]:
        [found] = [c for c in self.state()["channels"] if c["id"] == channel]
        messages: list[Json] = found["messages"]
        return messages

    def command(self, text: str, channel: str = SALES) -> None:
        assert self.api("command", {"channel": channel, "text": text}) == {"ok": True}

    def answer_to(self, command: str, showing: str) -> Json:
        """Types `command` in #sales; the latest message that then shows `showing`."""
        self.command(command)
        return eventually(
            f"an answer showing {showing!r}",
            lambda: [m for m in self.messages(SALES) if showing in text_of(m)],
        )[-1]

    def click(self, channel: str, message: Json, text: str) -> Json:
        """Clicks the button showing `text` in a message."""
        button = find_button(message["blocks"], text)
        where = {"surface": "message", "channel": channel, "ts": message["ts"]}
        return self.api("action", {**where, "action": button})

    def view_click(self, view: Json, button: Json) -> Json:
        """Clicks a button in a modal or the Home tab, with nothing typed."""
        return self.api(
            "action", {"surface": "view", "view_id": view["id"], "action": button, "values": {}}
        )


def find_button(blocks: list[Json], text: str) -> Json:
    for block in blocks:
        elements = block.get("elements") or [block.get("accessory") or {}]
        for element in elements:
            if element.get("type") == "button" and text in element["text"]["text"]:
                action = {key: element[key] for key in ("action_id", "value") if key in element}
                return {"type": "button", "block_id": block.get("block_id", ""), **action}
    raise AssertionError(f"no button {text!r} in {blocks}")


def eventually(what: str, found: Callable[[], T | None]) -> T:
    answer: T = harness_eventually(found, what, WAIT_SECONDS)
    return answer


def text_of(message: Json) -> str:
    return f"{message['text']}\n{message['blocks']}"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    sandbox = Sandbox(leads=12).start()
    port = free_port()
    listener = listen(port, LOOPBACK)
    settings = demo_settings(port, tmp_path / "demo.db", sandbox)
    upgrade_to_latest(settings.database_url)
    demo = Demo(settings, sandbox)
    announced = threading.Event()
    thread = threading.Thread(
        target=lambda: asyncio.run(demo.serve(listener, announce=lambda _url: announced.set())),
        daemon=True,
    )
    thread.start()
    try:
        assert announced.wait(WAIT_SECONDS), "the demo never said it was serving"
        sandbox.set_pace(speed=2)
        with httpx.Client(base_url=f"http://{LOOPBACK}:{port}", timeout=15) as http:
            yield Running(demo, http)
    finally:
        demo.stop()
        thread.join(15)
        sandbox.stop()
        listener.close()


def test_the_feed_channel_is_subscribed_and_moves_on_its_own(running: Running) -> None:
    parents = eventually(
        "feed parents with threads",
        lambda: [m for m in running.messages(FEED) if m["replies"] and m["is_bot"]],
    )
    assert not parents[0]["ephemeral"]
    eventually("a feed parent updated", lambda: [m for m in running.messages(FEED) if m["edited"]])
    assert running.demo.sandbox.status()["webhooks"]


def test_help_answers_in_the_channel_only_for_the_person(running: Running) -> None:
    running.command("/lead help")
    [reply] = eventually("the help", lambda: running.messages(SALES))
    assert reply["ephemeral"]
    assert "/lead" in text_of(reply)


def test_lookup_share_and_transcript(running: Running) -> None:
    sandbox = running.demo.sandbox
    lookup = f"/lead {sandbox.campaign_id} {sandbox.example_lead_id()}"
    card = running.answer_to(lookup, "Share in channel")
    assert card["ephemeral"]

    assert running.click(SALES, card, "Transcript") == {"ok": True}
    [modal] = eventually("the transcript", lambda: running.state()["modals"])
    assert modal["title"]["text"] == "Transcript"
    assert running.api("close", {"view_id": modal["id"]}) == {"ok": True}
    assert running.state()["modals"] == []

    assert running.click(SALES, card, "Share in channel") == {"ok": True}
    shared = eventually(
        "the shared card",
        lambda: [m for m in running.messages(SALES) if not m["ephemeral"] and m["is_bot"]],
    )
    assert "Shared by" in text_of(shared[-1])


def test_home_opens_and_its_lookup_form_searches_and_submits(running: Running) -> None:
    sandbox = running.demo.sandbox
    assert running.api("home", {}) == {"ok": True}
    home = eventually("the Home tab", lambda: running.state()["home"])
    look_up = find_button(home["blocks"], "Look up")
    assert running.view_click(home, look_up) == {"ok": True}
    [form] = eventually("the lookup form", lambda: running.state()["modals"])

    found = running.api(
        "options",
        {
            "view_id": form["id"],
            "action_id": ActionId.CAMPAIGN,
            "block_id": BlockId.CAMPAIGN,
            "value": "",
        },
    )
    assert found["ok"]
    options = found.get("options") or [o for g in found["option_groups"] for o in g["options"]]
    [campaign] = [o for o in options if o["value"] == sandbox.campaign_id]

    picked = {"type": "external_select", "selected_option": campaign}
    typed = {"type": "plain_text_input", "value": sandbox.example_lead_id()}
    values = {
        BlockId.CAMPAIGN: {ActionId.CAMPAIGN: picked},
        BlockId.LEAD_KEY: {ActionId.LEAD_KEY: typed},
    }
    answer = running.api("submit", {"view_id": form["id"], "values": values})
    assert answer == {"ok": True}
    [card] = eventually("the card modal", lambda: running.state()["modals"])
    # The form gives way to the lead's card, in place.
    assert card["id"] == form["id"]
    assert card["title"]["text"] != form["title"]["text"]
    assert sandbox.campaign_name in str(card["blocks"])


def test_an_empty_lookup_form_shows_the_apps_errors(running: Running) -> None:
    running.api("home", {})
    home = eventually("the Home tab", lambda: running.state()["home"])
    look_up = find_button(home["blocks"], "Look up")
    running.view_click(home, look_up)
    [form] = eventually("the lookup form", lambda: running.state()["modals"])

    values = {BlockId.LEAD_KEY: {ActionId.LEAD_KEY: {"type": "plain_text_input", "value": " "}}}
    answer = running.api("submit", {"view_id": form["id"], "values": values})
    assert answer["ok"]
    assert answer["errors"]
    assert [m["id"] for m in running.state()["modals"]] == [form["id"]]


def test_pausing_the_campaign_from_its_card_pauses_the_sandbox(running: Running) -> None:
    sandbox = running.demo.sandbox
    card = running.answer_to(f"/lead campaign {sandbox.campaign_id}", "Pause")
    assert running.click(SALES, card, "Pause") == {"ok": True}
    [confirm] = eventually("the confirmation", lambda: running.state()["modals"])
    assert running.api("submit", {"view_id": confirm["id"], "values": {}}) == {"ok": True}

    eventually("the sandbox paused", lambda: sandbox.status()["paused"])
    assert sandbox.api.pearl_status(sandbox.campaign_id) == 2
    # Paused stays paused while the sandbox goes on publishing its figures.
    time.sleep(1)
    assert sandbox.status()["paused"]
