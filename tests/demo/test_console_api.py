"""The console's own routes: Slack's Web API and response URLs, and the page's API, in process.

What needs the app (commands, clicks, submits) is driven through the real app in
test_console_app.py; here the app is a port nobody listens on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from bot.demo.console import AppLink, Console, console_app
from bot.demo.workspace import Workspace
from tests.harness.processes import free_port

TOKEN = "xoxb-demo-token"
JSON_TYPE = {"Content-Type": "application/json"}
CHANNEL = "C0SALES"
API = "/demo/slack/api/"
APP_METHODS = (
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "conversations.history",
    "conversations.replies",
    "users.info",
    "views.open",
    "views.update",
    "views.publish",
)
CONSOLE_API = (
    "/demo/api/command",
    "/demo/api/action",
    "/demo/api/submit",
    "/demo/api/close",
    "/demo/api/options",
    "/demo/api/home",
    "/demo/api/sandbox",
)


class FakePace:
    """The sandbox as the console sees it: what it was told, nothing more."""

    def __init__(self) -> None:
        self.paces: list[tuple[bool | None, float | None]] = []
        self.webhooks: list[str] = []

    def status(self) -> dict[str, Any]:
        return {"paused": False, "speed": 1, "webhooks": list(self.webhooks)}

    def set_pace(self, *, paused: bool | None = None, speed: float | None = None) -> None:
        self.paces.append((paused, speed))

    def send_webhooks_to(self, url: str) -> bool:
        if url in self.webhooks:
            return False
        self.webhooks.append(url)
        return True


@pytest.fixture
def pace() -> FakePace:
    return FakePace()


@pytest.fixture
def console(pace: FakePace) -> Console:
    workspace = Workspace()
    workspace.add_channel(CHANNEL, "sales")
    # Nothing listens there: whatever needs the app fails as a dead app does.
    link = AppLink(f"http://127.0.0.1:{free_port()}", "signing-secret", TOKEN)
    return Console(workspace, link, pace)


@pytest.fixture
def client(console: Console) -> Iterator[TestClient]:
    with TestClient(console_app(console), base_url="http://127.0.0.1") as created:
        yield created


def call(client: TestClient, method: str, body: dict[str, Any], token: str = TOKEN) -> Any:
    answer = client.post(API + method, json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    return answer.json()


def test_the_page_and_its_script_are_served(client: TestClient) -> None:
    page = client.get("/demo")
    assert page.status_code == 200
    assert "Demo" in page.text
    assert client.get("/demo/static/console.js").status_code == 200


def test_a_post_and_an_update_show_in_the_state(client: TestClient) -> None:
    posted = call(client, "chat.postMessage", {"channel": CHANNEL, "text": "hello", "blocks": []})
    assert posted["ok"]
    call(client, "chat.update", {"channel": CHANNEL, "ts": posted["ts"], "text": "changed"})

    [channel] = client.get("/demo/api/state").json()["channels"]
    [message] = channel["messages"]
    assert (message["text"], message["edited"], message["is_bot"]) == ("changed", True, True)


def test_a_form_encoded_call_with_json_blocks_works_too(client: TestClient) -> None:
    blocks = json.dumps([{"type": "divider"}])
    answer = client.post(
        API + "chat.postMessage",
        data={"channel": CHANNEL, "text": "x", "blocks": blocks},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.json()["message"]["blocks"] == [{"type": "divider"}]


def test_a_wrong_token_an_unknown_method_and_bad_json_are_slacks_errors(
    client: TestClient,
) -> None:
    assert call(client, "chat.postMessage", {"channel": CHANNEL}, token="xoxb-other") == {
        "ok": False,
        "error": "invalid_auth",
    }
    assert call(client, "admin.everything", {})["error"] == "unknown_method"
    broken = client.post(
        API + "chat.postMessage",
        content=b"{",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    assert broken.json() == {"ok": False, "error": "invalid_arguments"}
    assert call(client, "chat.postMessage", {"channel": "C0NONE"})["error"] == "channel_not_found"


def test_history_and_replies_read_what_was_posted(client: TestClient) -> None:
    parent = call(client, "chat.postMessage", {"channel": CHANNEL, "text": "parent"})
    call(client, "chat.postMessage", {"channel": CHANNEL, "text": "r", "thread_ts": parent["ts"]})

    history = call(client, "conversations.history", {"channel": CHANNEL})
    thread = call(client, "conversations.replies", {"channel": CHANNEL, "ts": parent["ts"]})
    assert [m["text"] for m in history["messages"]] == ["parent"]
    assert [m["text"] for m in thread["messages"]] == ["parent", "r"]


def test_the_person_is_an_admin_and_the_channel_public(client: TestClient) -> None:
    person = call(client, "users.info", {"user": "U0DEMO"})["user"]
    channel = call(client, "conversations.info", {"channel": CHANNEL})["channel"]
    assert person["is_admin"]
    assert (channel["is_private"], channel["is_member"]) == (False, True)
    assert call(client, "users.info", {"user": "U0OTHER"})["error"] == "user_not_found"


def test_a_response_url_answers_once_known_and_refuses_otherwise(
    client: TestClient, console: Console
) -> None:
    name = console.workspace.response_target(CHANNEL)
    assert client.post(f"/demo/slack/respond/{name}", json={"text": "hi"}).text == "ok"
    assert client.post("/demo/slack/respond/forged", json={"text": "x"}).status_code == 404
    assert client.post(f"/demo/slack/respond/{name}", content=b"[").status_code == 400
    [message] = console.workspace.channels[CHANNEL].messages
    assert (message.text, message.ephemeral) == ("hi", True)


def test_a_webhook_url_the_app_shows_goes_to_the_sandbox_once(
    console: Console, pace: FakePace
) -> None:
    url = f"{console.app.base_url}/nlpearl/webhooks/AbCdEfGhIjKlMnOpQrSt"
    elsewhere = "https://example.com/nlpearl/webhooks/AbCdEfGhIjKlMnOpQrSt"
    for _ in range(2):
        console.workspace.post(CHANNEL, author_id="U0LEADBOT", text=f"```{url}``` {elsewhere}")

    assert pace.webhooks == [url]
    assert len(console.workspace.notices) == 1


def test_the_pace_is_passed_on_only_when_well_formed(client: TestClient, pace: FakePace) -> None:
    for body in ({"paused": True}, {"speed": 5}, {"speed": True}, {"paused": "yes"}):
        assert client.post("/demo/api/sandbox", json=body).json() == {"ok": True}
    assert pace.paces == [(True, None), (None, 5.0), (None, None), (None, None)]


def test_a_dead_app_is_one_sentence_and_nothing_changes(
    client: TestClient, console: Console
) -> None:
    before = console.workspace.version
    answer = client.post("/demo/api/command", json={"channel": CHANNEL, "text": "/lead help"})
    assert answer.json() == {"ok": False, "error": "Lead Bot is not running: see the terminal."}
    assert console.workspace.channels[CHANNEL].messages == []
    # Only the response URL it was given exists; no message, no notice.
    assert console.workspace.version == before


def test_other_commands_are_refused_and_plain_text_is_said(
    client: TestClient, console: Console
) -> None:
    refused = client.post("/demo/api/command", json={"channel": CHANNEL, "text": "/giphy cats"})
    said = client.post("/demo/api/command", json={"channel": CHANNEL, "text": "hello team"})

    assert refused.json() == {"ok": False, "error": "/giphy is not a command here: try /lead help."}
    assert said.json() == {"ok": True}
    [message] = console.workspace.channels[CHANNEL].messages
    assert (message.text, message.author_id) == ("hello team", "U0DEMO")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
console_bodies = st.dictionaries(
    st.sampled_from(
        ["channel", "text", "ts", "view_id", "action", "values", "surface", "paused", "speed"]
    ),
    json_values,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(CONSOLE_API), body=console_bodies | json_values)
def test_whatever_the_page_sends_the_answer_is_ok_or_a_sentence(
    client: TestClient, path: str, body: Any
) -> None:
    answer = client.post(path, content=json.dumps(body).encode(), headers=JSON_TYPE)
    assert answer.status_code == 200
    shown = answer.json()
    assert isinstance(shown["ok"], bool)
    if not shown["ok"]:
        assert shown["error"].endswith((".", "reload.")), shown


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(APP_METHODS),
    body=st.dictionaries(st.text(max_size=12), json_values),
)
def test_whatever_the_app_sends_the_web_api_answers_as_slack(
    client: TestClient, method: str, body: dict[str, Any]
) -> None:
    answer = call(client, method, body)
    assert isinstance(answer["ok"], bool)
    if not answer["ok"]:
        assert re.fullmatch(r"[a-z_]+", answer["error"])


def test_nan_is_not_json_and_nothing_it_carries_is_kept(client: TestClient) -> None:
    for raw in (b'{"channel": "C0SALES", "text": "x", "blocks": [{"n": NaN}]}', b"Infinity"):
        answer = client.post(
            API + "chat.postMessage",
            content=raw,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        assert answer.json() == {"ok": False, "error": "invalid_arguments"}
    malformed = client.post("/demo/api/command", content=b'{"channel": NaN}', headers=JSON_TYPE)
    assert malformed.json() == {"ok": False, "error": "The console sent a malformed request."}
    assert client.get("/demo/api/state").status_code == 200


def test_numbers_out_of_any_range_are_answered(client: TestClient, pace: FakePace) -> None:
    huge = 10**400
    raw = f'{{"speed": {huge}}}'
    assert client.post("/demo/api/sandbox", content=raw, headers=JSON_TYPE).json()["ok"]
    assert pace.paces == [(None, float("inf"))]
    # A limit past Slack's largest page is that page; one that is not a number is refused.
    assert call(client, "conversations.history", {"channel": CHANNEL, "limit": huge})["ok"]
    for limit in ([1], "many"):
        body = {"channel": CHANNEL, "limit": limit}
        assert call(client, "conversations.history", body)["error"] == "invalid_arguments"


def test_another_site_can_neither_drive_nor_read_the_console(
    client: TestClient, console: Console
) -> None:
    # A page elsewhere posting a form, or with no-cors: no JSON content type, no effect.
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        answer = client.post(
            "/demo/api/command",
            content=b'{"channel": "C0SALES", "text": "hello"}',
            headers={"Content-Type": content_type},
        )
        assert answer.json()["ok"] is False
    assert console.workspace.channels[CHANNEL].messages == []
    # A page that renamed itself to 127.0.0.1 (DNS rebinding) still names its own host.
    rebound = client.get("/demo/api/state", headers={"Host": "attacker.example:3000"})
    assert rebound.status_code == 400


def test_the_poll_answers_only_the_version_while_nothing_changes(
    client: TestClient, console: Console, pace: FakePace
) -> None:
    first = client.get("/demo/api/state").json()
    again = client.get("/demo/api/state", params={"since": first["version"]}).json()
    assert again == {"version": first["version"]}

    console.workspace.notice("something new")
    changed = client.get("/demo/api/state", params={"since": first["version"]}).json()
    assert changed["version"] != first["version"]
    assert changed["notices"][-1]["text"] == "something new"
    # The sandbox's figures move the version too.
    pace.webhooks.append("http://127.0.0.1:1/nlpearl/webhooks/x")
    moved = client.get("/demo/api/state", params={"since": changed["version"]}).json()
    assert moved["sandbox"]["webhooks"]


def test_message_metadata_comes_back_when_asked_as_the_feed_reconciles(client: TestClient) -> None:
    metadata = {"event_type": "lead_bot_feed", "event_payload": {"marker": "abc"}}
    call(client, "chat.postMessage", {"channel": CHANNEL, "text": "x", "metadata": metadata})

    plain = call(client, "conversations.history", {"channel": CHANNEL})
    asked = client.get(
        API + "conversations.history",
        params={"channel": CHANNEL, "include_all_metadata": "true"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json()
    assert "metadata" not in plain["messages"][0]
    assert asked["messages"][0]["metadata"] == metadata
