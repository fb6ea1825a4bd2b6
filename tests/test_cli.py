"""The `lead-bot` command line, run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from slack_sdk.models.blocks import Block

from tests.test_manifest import validate


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


def test_manifest_command_wants_https(tmp_path: Path) -> None:
    result = run_cli("manifest", "--url", "bot.example.com", cwd=tmp_path)
    assert result.returncode == 2
    assert "https" in result.stderr


def test_preview_sample_needs_no_credentials(tmp_path: Path) -> None:
    result = run_cli("preview", "--sample", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    card_json, _, builder = result.stdout.partition("\nOpen in Block Kit Builder:\n")
    card = json.loads(card_json)
    assert "Maria Gonzalez" in card["text"]
    for block in card["blocks"]:
        assert Block.parse(block) is not None
    assert builder.startswith("https://app.slack.com/block-kit-builder/#")


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
