"""manifest.yml: generated from code, kept in sync, valid against Slack's JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.app.manifest import BOT_EVENTS, build_manifest, manifest_yaml

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


@pytest.mark.parametrize(
    "url",
    [
        "https://lead-bot.example.com",
        "https://lead-bot.example.com/",
        "https://lead-bot.example.com/slack/events",
        "https://lead-bot.example.com/slack/events/",
    ],
)
def test_host_and_events_url_give_the_same_manifest(url: str) -> None:
    assert build_manifest(url) == build_manifest("https://lead-bot.example.com")


def test_a_base_path_is_kept_once() -> None:
    manifest = build_manifest("https://example.com/bots/lead/slack/events")
    assert manifest == build_manifest("https://example.com/bots/lead")
    url = "https://example.com/bots/lead/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url


def test_socket_mode_manifest_passes_slacks_schema_and_has_no_request_urls() -> None:
    manifest = build_manifest(socket_mode=True)
    validate(manifest)
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert "request_url" not in settings["event_subscriptions"]
    assert settings["event_subscriptions"]["bot_events"] == BOT_EVENTS
    assert settings["interactivity"] == {"is_enabled": True}
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert "YOUR-APP-HOST" not in manifest_yaml(socket_mode=True)


def test_socket_mode_manifest_differs_only_in_how_requests_arrive() -> None:
    http = build_manifest()
    socket = build_manifest(socket_mode=True)
    assert socket["oauth_config"] == http["oauth_config"]
    assert socket["features"]["shortcuts"] == http["features"]["shortcuts"]
    assert socket["display_information"] == http["display_information"]


def test_lead_command_has_a_usage_hint_and_needed_scopes() -> None:
    manifest = build_manifest()
    command = manifest["features"]["slash_commands"][0]
    assert command["command"] == "/lead"
    assert command["usage_hint"]
    assert "commands" in manifest["oauth_config"]["scopes"]["bot"]
