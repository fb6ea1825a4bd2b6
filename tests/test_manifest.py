"""manifest.yml: generated from code, kept in sync, valid against Slack's JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.manifest import build_manifest, manifest_yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "fixtures" / "slack-manifest-schema" / "manifest.schema.1.0.0.json"


def validate(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(manifest)


def test_committed_manifest_matches_the_code() -> None:
    assert (ROOT / "manifest.yml").read_text() == manifest_yaml()


def test_committed_manifest_passes_slacks_schema() -> None:
    validate(yaml.safe_load((ROOT / "manifest.yml").read_text()))


def test_manifest_for_a_host_points_every_url_at_slack_events() -> None:
    manifest = build_manifest("https://lead-bot.example.com/")
    validate(manifest)
    url = "https://lead-bot.example.com/slack/events"
    assert manifest["features"]["slash_commands"][0]["url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url


def test_lead_command_has_a_usage_hint_and_needed_scopes() -> None:
    manifest = build_manifest()
    command = manifest["features"]["slash_commands"][0]
    assert command["command"] == "/lead"
    assert command["usage_hint"]
    assert "commands" in manifest["oauth_config"]["scopes"]["bot"]
