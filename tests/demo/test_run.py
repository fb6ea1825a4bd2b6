"""What `lead-bot demo` takes from its surroundings: nothing but PORT; and what it leaves out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.app.settings import ConfigError
from bot.demo.run import demo_port, demo_settings
from bot.demo.sandbox import Sandbox


def test_a_deployments_env_file_and_environment_never_reach_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = {
        "SLACK_CLIENT_ID": "123.456",
        "SLACK_BOT_TOKEN": "xoxb-real-workspace-token",
        "DATABASE_URL": "postgresql://prod/leads",
        "PUBLIC_URL": "https://lead-bot.example.com",
        "NLPEARL_API_KEY": "real-account:real-secret",
    }
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in real.items()))
    monkeypatch.chdir(tmp_path)
    for name, value in real.items():
        monkeypatch.setenv(name, value)

    sandbox = Sandbox().start()
    try:
        settings = demo_settings(3001, tmp_path / "demo.db", sandbox)
    finally:
        sandbox.stop()

    assert settings.slack_client_id is None
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value().startswith("xoxb-demo-")
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    assert settings.public_url == "http://127.0.0.1:3001"
    assert settings.slack_api_url == "http://127.0.0.1:3001/demo/slack/api/"
    assert settings.nlpearl_api_key is not None
    assert settings.nlpearl_api_key.get_secret_value() == "demo-account:demo-secret"


@pytest.mark.parametrize(("value", "port"), [("", 3000), ("8080", 8080), (" 3005 ", 3005)])
def test_the_port_is_ports_or_3000(monkeypatch: pytest.MonkeyPatch, value: str, port: int) -> None:
    monkeypatch.setenv("PORT", value)
    assert demo_port() == port


@pytest.mark.parametrize("value", ["0", "65536", "http", "-1"])
def test_a_port_that_is_not_one_is_a_sentence(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PORT", value)
    with pytest.raises(ConfigError, match=r"^PORT is not valid: set it to a port number"):
        demo_port()


def test_serve_and_worker_never_load_the_demo() -> None:
    # What `lead-bot serve` and `lead-bot worker` import, in a fresh interpreter.
    probe = (
        "import sys, bot.app.cli, bot.app.web, bot.app.worker;"
        "bot.app.web.create_app(bot.app.settings.Settings());"
        "print(sorted(m for m in sys.modules if m.startswith('bot.demo')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
