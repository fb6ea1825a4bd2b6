"""The `lead-bot` command line.

Each command is run in this process through `main(argv)`, the function the `lead-bot` script
and `python -m bot` call, in the test's empty folder with only the given variables set: what
it prints and the status it returns are what a person sees. A process is started only where the
process itself is tested: `python -m bot` exiting with the status `main` returned, and its
output going down a pipe. The console script is run by tests/test_readme_commands.py.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from slack_sdk.models.blocks import Block

from bot.app import cli
from bot.app.cli import main
from bot.app.settings import Settings
from tests.test_manifest import validate

ROOT = Path(__file__).resolve().parents[1]


def urls_in(value: object) -> list[str]:
    """The values of every `url` or `*_url` key anywhere inside a parsed manifest."""
    if isinstance(value, dict):
        own = [item for key, item in value.items() if key == "url" or key.endswith("_url")]
        return [*own, *(url for item in value.values() for url in urls_in(item))]
    if isinstance(value, list):
        return [url for item in value for url in urls_in(item)]
    return []


@dataclass(frozen=True)
class Ran:
    """What one command did: the exit status and what it printed."""

    returncode: int
    stdout: str
    stderr: str


def _loggers() -> list[logging.Logger]:
    return [x for x in logging.Logger.manager.loggerDict.values() if isinstance(x, logging.Logger)]


@contextmanager
def logging_of_its_own(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Logging as a fresh process has it, put back afterwards so later tests see none of it.

    The root logger starts with no handler, as in `lead-bot`: the command's own set-up then
    logs to (captured) stderr, so what a process would print there is in `Ran.stderr` too.
    What that set-up changes (the root logger, levels of named loggers) is undone after; what
    modules imported meanwhile set for themselves stays, as it would in this process anyway.
    """
    root = logging.getLogger()
    handlers, root_level = root.handlers[:], root.level
    levels: dict[logging.Logger, int] = {}
    made: list[logging.Logger] = []
    configure = cli.configure_logging

    def configure_logging(settings: Settings) -> None:
        levels.update((logger, logger.level) for logger in _loggers())
        configure(settings)
        made.extend(logger for logger in _loggers() if logger not in levels)

    monkeypatch.setattr(cli, "configure_logging", configure_logging)
    for handler in handlers:
        root.removeHandler(handler)
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(root_level)
        for logger, level in levels.items():
            logger.setLevel(level)
        for logger in made:
            logger.setLevel(logging.NOTSET)
        monkeypatch.setattr(cli, "configure_logging", configure)


@pytest.fixture
def lead_bot(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Ran]:
    """`lead-bot ARGS` with the given variables set (on top of none: see tests/conftest.py)."""

    def run(*args: str, env: dict[str, str] | None = None) -> Ran:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        with logging_of_its_own(monkeypatch):
            try:
                status: object = main(list(args))
            except SystemExit as exit_:  # argparse refusing the arguments
                status = exit_.code
        out, err = capsys.readouterr()
        assert isinstance(status, int), f"main returned {status!r}, not an exit status"
        return Ran(status, out, err)

    return run


def run_python_m_bot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` as its own process, with the environment tests/conftest.py left."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=dict(os.environ),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_manifest_command_fills_in_the_host(lead_bot: Callable[..., Ran]) -> None:
    result = lead_bot("manifest", "--url", "https://bot.example.com")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    validate(manifest)
    assert "https://bot.example.com/slack/events" in result.stdout
    assert "YOUR-APP-HOST" not in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "https://bot.example.com/",
        "https://bot.example.com/slack/events",
        "https://bot.example.com/slack/events/",
    ],
)
def test_manifest_url_may_be_the_host_or_the_events_url(
    lead_bot: Callable[..., Ran], url: str
) -> None:
    plain = lead_bot("manifest", "--url", "https://bot.example.com")
    result = lead_bot("manifest", "--url", url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == plain.stdout
    assert "/slack/events/slack/events" not in result.stdout


def test_manifest_url_with_a_base_path_keeps_it(lead_bot: Callable[..., Ran]) -> None:
    for url in ("https://example.com/lead-bot", "https://example.com/lead-bot/slack/events"):
        result = lead_bot("manifest", "--url", url)
        assert result.returncode == 0, result.stderr
        urls = set(urls_in(yaml.safe_load(result.stdout)))
        assert urls == {"https://example.com/lead-bot/slack/events"}


@pytest.mark.parametrize("url", ["bot.example.com", "http://bot.example.com", "https://"])
def test_manifest_command_wants_https(lead_bot: Callable[..., Ran], url: str) -> None:
    result = lead_bot("manifest", "--url", url)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "lead-bot: --url must be the app's public https URL, like https://HOST.\n"
    )


def test_manifest_for_socket_mode_needs_no_url(lead_bot: Callable[..., Ran]) -> None:
    result = lead_bot("manifest", "--socket-mode")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    validate(manifest)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "https://" not in result.stdout
    assert urls_in(manifest) == []


def test_manifest_without_url_says_what_to_give(lead_bot: Callable[..., Ran]) -> None:
    result = lead_bot("manifest")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "lead-bot: give the app's public URL with --url https://HOST, "
        "or use --socket-mode for local development.\n"
    )


def test_manifest_url_and_socket_mode_do_not_mix(lead_bot: Callable[..., Ran]) -> None:
    result = lead_bot("manifest", "--socket-mode", "--url", "https://h.example.com")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "not allowed with" in result.stderr
    assert "Traceback" not in result.stderr


def test_preview_sample_needs_no_credentials(lead_bot: Callable[..., Ran]) -> None:
    result = lead_bot("preview", "--sample")
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert "Maria Gonzalez" in card["text"]
    for block in card["blocks"]:
        assert Block.parse(block) is not None
    link = result.stderr.strip().splitlines()[-1]
    assert link.startswith("https://app.slack.com/block-kit-builder/#")
    assert json.loads(unquote(link.partition("#")[2])) == {"blocks": card["blocks"]}


def test_preview_sample_pipes_into_a_json_tool(tmp_path: Path) -> None:
    # A process: the card must reach the next program down a pipe, whole and alone on stdout.
    command = f"{sys.executable} -m bot preview --sample | {sys.executable} -m json.tool"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["blocks"]


def test_preview_shared_sample_masks_the_phone(lead_bot: Callable[..., Ran]) -> None:
    result = lead_bot("preview", "--sample", "--shared")
    assert result.returncode == 0, result.stderr
    assert "•••• 0137" in result.stdout
    assert "555-0137" not in result.stdout


def test_serve_without_settings_says_what_to_set(lead_bot: Callable[..., Ran]) -> None:
    result = lead_bot("serve")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "lead-bot: SLACK_BOT_TOKEN is missing: set it to the Bot User OAuth Token "
        "(starts with xoxb-) from OAuth & Permissions."
    ]


def test_python_m_bot_with_env_example_as_it_is_exits_2_naming_the_first_placeholder(
    tmp_path: Path,
) -> None:
    # A process: `python -m bot` must exit with main's status, read `.env` from its own working
    # folder and print one sentence, not a traceback.
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = run_python_m_bot("serve", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "lead-bot: SLACK_BOT_TOKEN is not valid: set it to the Bot User OAuth Token "
        "(starts with xoxb-) from OAuth & Permissions."
    ]


def test_serve_with_env_example_key_names_nlpearl_api_key(
    lead_bot: Callable[..., Ran], tmp_path: Path
) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    result = lead_bot("serve", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "lead-bot: NLPEARL_API_KEY is not valid: set it to your NLPearl Account ID and "
        "Secret Key joined by a colon (AccountId:SecretKey), from platform.nlpearl.ai "
        "under Settings > API."
    ]


def test_serve_with_malformed_key_names_it_and_hides_it(lead_bot: Callable[..., Ran]) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "NLPEARL_API_KEY": "oops-secret",
    }
    result = lead_bot("serve", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("lead-bot: NLPEARL_API_KEY is not valid")
    assert "oops-secret" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_serve_without_nlpearl_key_says_so(lead_bot: Callable[..., Ran]) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    result = lead_bot("serve", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("lead-bot: NLPEARL_API_KEY is missing")


def test_migrate_creates_the_sqlite_database(lead_bot: Callable[..., Ran], tmp_path: Path) -> None:
    result = lead_bot("migrate", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert (tmp_path / "x.db").exists()


def test_check_reports_each_problem_in_plain_words(
    lead_bot: Callable[..., Ran], tmp_path: Path
) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "NLPEARL_API_KEY": "a:b",
        "NLPEARL_API_URL": "http://127.0.0.1:9",
        "DATABASE_URL": f"sqlite:///{tmp_path}/ok.db",
    }
    result = lead_bot("check", env=env)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("✗ Slack: could not reach Slack")
    assert lines[1].startswith("✗ NLPearl: NLPearl at http://127.0.0.1:9 did not work")
    assert lines[2] == "✓ Database: sqlite answers"
    assert lines[3] == "2 problem(s) to fix."
    assert "Traceback" not in result.stderr
