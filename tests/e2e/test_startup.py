"""Start-up and shutdown as an operator meets them: Socket Mode, a busy port, a bad database.

Each test runs the real `python -m bot` process; what counts is what the process prints, how
it exits, and that signals stop it in every state.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.harness.processes import ServerFactory, ServerProcess, free_port, start_server
from tests.harness.slack_requests import slash_command_body
from tests.standins import NLPearlStandIn, SlackStandIn

APP_TOKEN = "xapp-1-A0TEST-1-startup"
ENVELOPE_ID = "e-startup-help"
# Generous bounds: only that the behaviour exists, not how fast it is.
STOP_BOUND = 10.0
EXIT_BOUND = 30.0
CLEAN_EXITS = (0, -signal.SIGTERM)


def wait_for_exit(process: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The exit code, or None if the process still runs after `timeout` seconds."""
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def wait_for_lines(server: ServerProcess, needle: str, count: int, timeout: float) -> list[str]:
    """The output lines containing `needle`, once there are `count` of them."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in server.output().splitlines() if needle in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def stops_on_sigterm(server: ServerProcess) -> int:
    """Sends SIGTERM and returns the exit code; -SIGKILL means it had to be killed."""
    return server.terminate(timeout=STOP_BOUND)


def healthz(server: ServerProcess) -> int:
    """The status code of GET /healthz."""
    return httpx.get(server.url + "/healthz", timeout=5).status_code


# Socket Mode


def test_a_refused_app_token_stops_the_server_with_one_line(
    server_factory: ServerFactory, slack: SlackStandIn
) -> None:
    """Slack answers apps.connections.open with invalid_auth: one line, then a non-zero exit."""
    server = server_factory({"SLACK_APP_TOKEN": APP_TOKEN}, wait_healthy=False)

    code = wait_for_exit(server.process, EXIT_BOUND)

    output = server.output()
    assert code == 2, f"exit code {code}; output:\n{output}"
    [opened] = slack.records("apps.connections.open")
    assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"
    assert opened.reply == {"ok": False, "error": "invalid_auth"}
    [line] = [line for line in output.splitlines() if "SLACK_APP_TOKEN" in line]
    assert "invalid_auth" in line
    assert "connections:write" in line
    assert APP_TOKEN not in output
    assert "Traceback" not in output


def test_an_unreachable_slack_keeps_http_serving_and_retries(
    server_factory: ServerFactory,
) -> None:
    """Slack cannot be reached: /healthz answers, one line per retry, SIGTERM stops it."""
    closed = f"http://127.0.0.1:{free_port()}/api/"
    server = server_factory({"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": closed})

    retries = wait_for_lines(server, "retrying in", 2, timeout=EXIT_BOUND)

    assert len(retries) >= 2, server.output()
    assert all("Socket Mode" in line and "127.0.0.1" in line for line in retries), retries
    assert healthz(server) == 200
    code = stops_on_sigterm(server)
    assert code in CLEAN_EXITS, f"exit code {code}; output:\n{server.output()}"
    assert "Traceback" not in server.output()


@pytest.fixture
def silent_slack() -> Iterator[str]:
    """A Slack API URL whose host accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/"


@pytest.mark.parametrize(
    ("signum", "exits"),
    [(signal.SIGTERM, CLEAN_EXITS), (signal.SIGINT, (130, -signal.SIGINT))],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_signal_stops_the_server_while_slack_does_not_answer(
    server_factory: ServerFactory, silent_slack: str, signum: int, exits: tuple[int, ...]
) -> None:
    """apps.connections.open hangs: HTTP serves anyway, and SIGTERM or Ctrl-C stops it."""
    server = server_factory({"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": silent_slack})
    assert healthz(server) == 200

    server.process.send_signal(signum)
    code = wait_for_exit(server.process, STOP_BOUND)

    assert code in exits, f"exit code {code}; output:\n{server.output()}"
    assert "Traceback" not in server.output()


class SocketModeEndpoint:
    """A WebSocket server standing in for Slack's Socket Mode endpoint.

    It greets each connection, sends one `/lead help` envelope and records the answers.
    """

    def __init__(self, response_url: str) -> None:
        self.response_url = response_url
        self.opened = threading.Event()
        self.acked = threading.Event()
        self.closed = threading.Event()
        self.acks: list[dict[str, object]] = []
        self._server: Server | None = None

    def __enter__(self) -> SocketModeEndpoint:
        self._server = serve(self._session, "127.0.0.1", 0)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.shutdown()

    @property
    def url(self) -> str:
        """The wss URL apps.connections.open hands out (plain ws here)."""
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link"

    def _session(self, connection: ServerConnection) -> None:
        self.opened.set()
        connection.send(json.dumps({"type": "hello", "num_connections": 1}))
        command = dict(parse_qsl(slash_command_body("help", self.response_url).decode()))
        envelope = {
            "type": "slash_commands",
            "envelope_id": ENVELOPE_ID,
            "payload": command,
            "accepts_response_payload": True,
        }
        connection.send(json.dumps(envelope))
        try:
            for message in connection:
                self.acks.append(json.loads(message))
                self.acked.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()


def test_sigterm_stops_a_server_connected_over_socket_mode(
    nlpearl: NLPearlStandIn, tmp_path: Path
) -> None:
    """Connected: commands are answered over the socket, and SIGTERM closes it and stops."""
    with (
        SlackStandIn(valid_token=APP_TOKEN) as slack,
        SocketModeEndpoint(slack.response_url("socket")) as endpoint,
    ):
        slack.set_response("apps.connections.open", {"ok": True, "url": endpoint.url})
        env = {"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_BOT_TOKEN": "xoxb-not-checked-here"}
        server = start_server(env, slack=slack, nlpearl=nlpearl, workdir=tmp_path)
        try:
            assert endpoint.opened.wait(EXIT_BOUND), server.output()
            assert wait_for_lines(server, "Connected to Slack over Socket Mode", 1, STOP_BOUND)
            assert endpoint.acked.wait(STOP_BOUND), server.output()
            assert endpoint.acks[0]["envelope_id"] == ENVELOPE_ID
            assert healthz(server) == 200

            code = stops_on_sigterm(server)
        finally:
            server.terminate()

        assert code in CLEAN_EXITS, f"exit code {code}; output:\n{server.output()}"
        assert endpoint.closed.wait(STOP_BOUND)
        assert "Traceback" not in server.output()


def test_a_websocket_that_will_not_open_is_one_line_per_attempt(
    nlpearl: NLPearlStandIn, tmp_path: Path
) -> None:
    """Slack hands out a URL nothing listens at: HTTP serves, no traceback, SIGTERM stops."""
    with SlackStandIn(valid_token=APP_TOKEN) as slack:
        closed = f"ws://127.0.0.1:{free_port()}/link"
        slack.set_response("apps.connections.open", {"ok": True, "url": closed})
        env = {"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_BOT_TOKEN": "xoxb-not-checked-here"}
        server = start_server(env, slack=slack, nlpearl=nlpearl, workdir=tmp_path)
        try:
            [failed, *_] = wait_for_lines(server, "Failed to connect", 1, EXIT_BOUND)
            assert healthz(server) == 200

            code = stops_on_sigterm(server)
        finally:
            server.terminate()

    assert "127.0.0.1" in failed
    assert code in CLEAN_EXITS, f"exit code {code}; output:\n{server.output()}"
    assert "Traceback" not in server.output()


# A busy port and an unusable database


def cli_environment(tmp_path: Path, overrides: Mapping[str, str]) -> dict[str, str]:
    """Our environment without app settings, plus valid settings and the overrides."""
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "NLPEARL_", "DATABASE_URL", "PORT"))
    }
    return base | {
        "SLACK_BOT_TOKEN": "xoxb-startup",
        "SLACK_SIGNING_SECRET": "startup-secret",
        "NLPEARL_API_KEY": "acct:secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'startup.db'}",
        "PORT": str(free_port()),
        **overrides,
    }


def run_bot(
    command: str, tmp_path: Path, overrides: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """`python -m bot COMMAND`, which must end on its own within the bound."""
    return subprocess.run(
        [sys.executable, "-m", "bot", command],
        env=cli_environment(tmp_path, overrides),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=EXIT_BOUND,
        check=False,
    )


def test_a_busy_port_is_reported_before_any_work(tmp_path: Path) -> None:
    """Another process holds PORT: one sentence, exit 2, and no database was touched."""
    with socket.socket() as other:
        other.bind(("0.0.0.0", 0))
        other.listen()
        port = other.getsockname()[1]

        result = run_bot("serve", tmp_path, {"PORT": str(port)})

    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"lead-bot: port {port} is already in use: "
        "stop the other process or set PORT to a free port."
    ]
    assert not (tmp_path / "startup.db").exists()


@pytest.mark.parametrize("command", ["migrate", "serve", "worker"])
def test_an_unusable_sqlite_path_is_one_sentence(tmp_path: Path, command: str) -> None:
    """The database file cannot be created (its folder is a file): one sentence, exit 2."""
    (tmp_path / "not-a-folder").write_text("")
    path = tmp_path / "not-a-folder" / "lead-bot.db"

    result = run_bot(command, tmp_path, {"DATABASE_URL": f"sqlite:///{path}"})

    assert result.returncode == 2, result.stderr
    [sentence] = [line for line in result.stderr.splitlines() if "DATABASE_URL" in line]
    assert sentence.startswith("lead-bot: ")
    assert str(path) in sentence
    assert "unable to open database file" in sentence
    assert "Traceback" not in result.stderr


def test_migrate_against_an_unreachable_postgres_is_one_sentence(tmp_path: Path) -> None:
    """Nothing listens at the host and port: one sentence naming them, no password, exit 2."""
    url = "postgresql://postgres:hunter2@127.0.0.1:1/none"

    result = run_bot("migrate", tmp_path, {"DATABASE_URL": url})

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    [sentence] = [line for line in result.stderr.splitlines() if "DATABASE_URL" in line]
    assert sentence.startswith("lead-bot: ")
    assert "127.0.0.1:1/none" in sentence
    assert "connection refused" in sentence
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr
