"""The `lead-bot` command line, run as a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from slack_sdk.models.blocks import Block

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


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` with only the given app variables set."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "NLPEARL_", "DATABASE_URL", "PORT"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_manifest_command_fills_in_the_host(tmp_path: Path) -> None:
    result = run_cli("manifest", "--url", "https://bot.example.com", cwd=tmp_path)
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
def test_manifest_url_may_be_the_host_or_the_events_url(tmp_path: Path, url: str) -> None:
    plain = run_cli("manifest", "--url", "https://bot.example.com", cwd=tmp_path)
    result = run_cli("manifest", "--url", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == plain.stdout
    assert "/slack/events/slack/events" not in result.stdout


def test_manifest_url_with_a_base_path_keeps_it(tmp_path: Path) -> None:
    for url in ("https://example.com/lead-bot", "https://example.com/lead-bot/slack/events"):
        result = run_cli("manifest", "--url", url, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        urls = set(urls_in(yaml.safe_load(result.stdout)))
        assert urls == {"https://example.com/lead-bot/slack/events"}


@pytest.mark.parametrize("url", ["bot.example.com", "http://bot.example.com", "https://"])
def test_manifest_command_wants_https(tmp_path: Path, url: str) -> None:
    result = run_cli("manifest", "--url", url, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "lead-bot: --url must be the app's public https URL, like https://HOST.\n"
    )


def test_manifest_for_socket_mode_needs_no_url(tmp_path: Path) -> None:
    result = run_cli("manifest", "--socket-mode", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    validate(manifest)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "https://" not in result.stdout
    assert urls_in(manifest) == []


def test_manifest_without_url_says_what_to_give(tmp_path: Path) -> None:
    result = run_cli("manifest", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "lead-bot: give the app's public URL with --url https://HOST, "
        "or use --socket-mode for local development.\n"
    )


def test_manifest_url_and_socket_mode_do_not_mix(tmp_path: Path) -> None:
    result = run_cli("manifest", "--socket-mode", "--url", "https://h.example.com", cwd=tmp_path)
    assert result.returncode == 2
    assert "not allowed with" in result.stderr
    assert "Traceback" not in result.stderr


def test_preview_sample_needs_no_credentials(tmp_path: Path) -> None:
    result = run_cli("preview", "--sample", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert "Maria Gonzalez" in card["text"]
    for block in card["blocks"]:
        assert Block.parse(block) is not None
    link = result.stderr.strip().splitlines()[-1]
    assert link.startswith("https://app.slack.com/block-kit-builder/#")
    assert json.loads(unquote(link.partition("#")[2])) == {"blocks": card["blocks"]}


def test_preview_sample_pipes_into_a_json_tool(tmp_path: Path) -> None:
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


def test_preview_shared_sample_masks_the_phone(tmp_path: Path) -> None:
    result = run_cli("preview", "--sample", "--shared", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "•••• 0137" in result.stdout
    assert "555-0137" not in result.stdout


def test_serve_without_settings_says_what_to_set(tmp_path: Path) -> None:
    result = run_cli("serve", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "lead-bot: SLACK_BOT_TOKEN is missing: set it to the Bot User OAuth Token "
        "(starts with xoxb-) from OAuth & Permissions."
    ]


def test_serve_with_env_example_as_it_is_names_the_first_placeholder(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = run_cli("serve", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "lead-bot: SLACK_BOT_TOKEN is not valid: set it to the Bot User OAuth Token "
        "(starts with xoxb-) from OAuth & Permissions."
    ]


def test_serve_with_env_example_key_names_nlpearl_api_key(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    result = run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "lead-bot: NLPEARL_API_KEY is not valid: set it to your NLPearl Account ID and "
        "Secret Key joined by a colon (AccountId:SecretKey), from platform.nlpearl.ai "
        "under Settings > API."
    ]


def test_serve_with_malformed_key_names_it_and_hides_it(tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "NLPEARL_API_KEY": "oops-secret",
    }
    result = run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("lead-bot: NLPEARL_API_KEY is not valid")
    assert "oops-secret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_without_nlpearl_key_says_so(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    result = run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("lead-bot: NLPEARL_API_KEY is missing")


def test_migrate_creates_the_sqlite_database(tmp_path: Path) -> None:
    result = run_cli("migrate", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert (tmp_path / "x.db").exists()


def test_check_reports_each_problem_in_plain_words(tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "NLPEARL_API_KEY": "a:b",
        "NLPEARL_API_URL": "http://127.0.0.1:9",
        "DATABASE_URL": f"sqlite:///{tmp_path}/ok.db",
    }
    result = run_cli("check", env=env, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("✗ Slack: could not reach Slack")
    assert lines[1].startswith("✗ NLPearl: NLPearl at http://127.0.0.1:9 did not work")
    assert lines[2] == "✓ Database: sqlite answers"
    assert lines[3] == "2 problem(s) to fix."
    assert "Traceback" not in result.stderr
