"""Driving Lead Bot's lead actions as a person in Slack does, and reading what followed.

`Desk` bundles a running app (in process or a real process) with its Slack and NLPearl
stand-ins: it looks a lead up, clicks the card's actions (buttons and overflow options),
submits the views the app drew, and reads the admin's Home tab. The rest reads what the app
sent: views checked against slack_sdk's validators, card actions, NLPearl's writes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.demo.nlpearl_api import SAMPLE_PEARL_ID
from tests.harness import interactions as slack_says
from tests.harness.slack_requests import blocks_text, send_command
from tests.standins import NLPearlStandIn, SlackStandIn
from tests.standins.slack import Recorded

P = SAMPLE_PEARL_ID
ADMIN = slack_says.DEFAULT_USER
PRIMARY, MENU = "lead.act", "lead.menu"
VIEW_METHODS = ("views.open", "views.push", "views.update", "views.publish")
Values = dict[str, dict[str, dict[str, Any]]]
T = TypeVar("T")


class Served(Protocol):
    """A running app: in process (AppInProcess) or a `python -m bot serve` process."""

    @property
    def url(self) -> str:
        """Its base URL."""

    @property
    def events_url(self) -> str:
        """Where Slack sends every request."""


# Checking what the app sends


def assert_view_fits(view: dict[str, Any]) -> None:
    """Slack would accept the view: slack_sdk's validators on it and every block."""
    assert view.get("type") in ("modal", "home"), view
    View(**view).to_dict()
    for block in view.get("blocks") or []:
        parsed = Block.parse(block)
        assert parsed is not None, f"unknown block: {block!r:.200}"
        parsed.to_dict()


def ack_view(response: httpx.Response, action: str = "update") -> dict[str, Any]:
    """A submission's answer: 200 with this `response_action`; its whole JSON body."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body.get("response_action") == action, body
    if "view" in body:
        assert_view_fits(body["view"])
    return body


def view_text(view: dict[str, Any]) -> str:
    """Everything a person can read in a view's blocks."""
    return blocks_text(view)


def act_options(message: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The lead actions a card or view offers: verb → (action_id, value)."""
    found: dict[str, tuple[str, str]] = {}
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == PRIMARY:
                found[json.loads(element["value"])["v"]] = (PRIMARY, element["value"])
            elif element.get("action_id") == MENU:
                for option in element["options"]:
                    found[json.loads(option["value"])["v"]] = (MENU, option["value"])
    return found


def json_nodes(node: Any, key: str) -> Iterator[Any]:
    """Every value under `key` anywhere inside a JSON value."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                yield value
            else:
                yield from json_nodes(value, key)
    elif isinstance(node, list):
        for value in node:
            yield from json_nodes(value, key)


def writes_of(nlpearl: NLPearlStandIn) -> list[tuple[str, str, Any]]:
    """NLPearl's recorded writes as (method, path, JSON body)."""
    return [(w.method, w.path, w.json()) for w in nlpearl.writes()]


def lead_path(lead_id: str, version: str = "v2") -> str:
    """Update Lead's path for a lead of the sample campaign."""
    return f"/{version}/Outbound/{P}/Lead/{lead_id}"


def lead_in(nlpearl: NLPearlStandIn, lead_id: str) -> dict[str, Any]:
    """The lead as the NLPearl stand-in now has it."""
    answer = httpx.get(
        f"{nlpearl.url}/v2/Outbound/{P}/Lead/{lead_id}",
        headers={"Authorization": f"Bearer {nlpearl.api_key}"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    lead: dict[str, Any] = answer.json()
    return lead


def set_status(nlpearl: NLPearlStandIn, lead_id: str, status: int) -> None:
    """NLPearl moves the lead to `status` on its own (a call ended, someone else acted)."""
    nlpearl.add_lead(P, {**lead_in(nlpearl, lead_id), "status": status})


def eventually(attempt: Callable[[], T | None], what: str, timeout: float = 30) -> T:
    """Repeats `attempt` until it returns something, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (result := attempt()) is None:
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout}s"
        time.sleep(0.05)
    return result


# Driving the app


@dataclass
class Desk:
    """One test's app and stand-ins, and how a person in Slack uses them."""

    server: Served
    slack: SlackStandIn
    nlpearl: NLPearlStandIn

    def mark(self) -> int:
        """How many requests Slack has seen: later waits look only past this."""
        return len(self.slack.records())

    def wait_call(self, method: str, after: int, **fields: Any) -> dict[str, Any]:
        """The first call of `method` since `after` whose body has these fields."""

        def matches(record: Recorded) -> bool:
            return record.method_or_path == method and all(
                record.body.get(k) == v for k, v in fields.items()
            )

        return self.slack.wait_for_request(matches, after=after).body

    def opens_as(self, view_id: str) -> None:
        """Slack gives the next views the app opens or pushes this id."""
        for method in ("views.open", "views.push"):
            self.slack.set_response(method, {"ok": True, "view": {"id": view_id, "type": "modal"}})

    def card(self, lead_id: str, name: str = "card", user_id: str = ADMIN) -> dict[str, Any]:
        """The private card `/lead P lead_id` answers with."""
        url = self.slack.response_url(name)
        acked = send_command(self.server.events_url, f"{P} {lead_id}", url, user_id=user_id)
        assert (acked.status_code, acked.text) == (200, "")
        [card] = self.slack.wait_for_responses(1, name)
        assert act_options(card), f"the card offers no actions: {card}"
        return card

    def click(
        self,
        card: dict[str, Any],
        verb: str,
        *,
        name: str = "click",
        user_id: str = ADMIN,
        view_id: str = "V0CONFIRM",
    ) -> dict[str, Any]:
        """Clicks the card's action for `verb`; the view the app opens and then fills."""
        action_id, value = act_options(card)[verb]
        payload = slack_says.message_block_actions(
            action_id, value, self.slack.response_url(name), user_id=user_id
        )
        if action_id == MENU:
            payload["actions"] = [slack_says.overflow_action(MENU, value)]
        return self._opened(payload, "views.open", view_id)

    def click_in_view(
        self,
        view: dict[str, Any],
        view_id: str,
        verb: str,
        *,
        user_id: str = ADMIN,
        pushed_id: str = "V0PUSHED",
    ) -> dict[str, Any]:
        """Clicks an action in a modal; the view the app pushes and then fills."""
        action_id, value = act_options(view)[verb]
        payload = slack_says.view_block_actions(action_id, value, view, view_id, user_id=user_id)
        if action_id == MENU:
            payload["actions"] = [slack_says.overflow_action(MENU, value)]
        return self._opened(payload, "views.push", pushed_id)

    def _opened(self, payload: dict[str, Any], method: str, view_id: str) -> dict[str, Any]:
        self.opens_as(view_id)
        after = self.mark()
        acked = slack_says.send_interaction(self.server.events_url, payload)
        assert (acked.status_code, acked.text) == (200, "")
        opened = self.wait_call(method, after, trigger_id=payload["trigger_id"])
        assert "Checking the lead" in view_text(opened["view"])
        filled: dict[str, Any] = self.wait_call("views.update", after, view_id=view_id)["view"]
        return filled

    def submit(
        self,
        view: dict[str, Any],
        view_id: str = "V0CONFIRM",
        values: Values | None = None,
        user_id: str = ADMIN,
    ) -> httpx.Response:
        """Submits a view the app drew, with these input values."""
        payload = slack_says.view_submission(view, view_id, values or {}, user_id=user_id)
        return slack_says.send_interaction(self.server.events_url, payload)

    def confirm(
        self, view: dict[str, Any], view_id: str = "V0CONFIRM", user_id: str = ADMIN
    ) -> dict[str, Any]:
        """Submits a confirmation: "Working…" at once, then the view saying how it went."""
        after = self.mark()
        working = ack_view(self.submit(view, view_id, user_id=user_id))["view"]
        assert "Working" in view_text(working)
        outcome: dict[str, Any] = self.wait_call("views.update", after, view_id=view_id)["view"]
        return outcome

    def home(self, user_id: str = ADMIN) -> dict[str, Any]:
        """The Home tab the app publishes when `user_id` opens it."""
        after = self.mark()
        event = slack_says.app_home_opened(user_id)
        acked = slack_says.send_event(self.server.events_url, event)
        assert acked.status_code == 200, acked.text
        view: dict[str, Any] = self.wait_call("views.publish", after, user_id=user_id)["view"]
        return view

    def audit(self) -> str:
        """The admin's Home tab's "Recent actions on leads", as text."""
        text = view_text(self.home())
        assert "Recent actions on leads" in text, text
        return text.split("Recent actions on leads", 1)[1]


def form_values(view: dict[str, Any], typed: dict[str, str | None] | None = None) -> Values:
    """A form's state as Slack sends it: every input as drawn, with `typed` (by block_id) in."""
    values: Values = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        if element["type"] == "plain_text_input":
            state = slack_says.text_input(element.get("initial_value"))
        else:
            state = slack_says.no_option(element["type"])
        values[block["block_id"]] = {element["action_id"]: state}
    for block_id, text in (typed or {}).items():
        [action_id] = values[block_id]
        values[block_id][action_id] = slack_says.text_input(text)
    return values
