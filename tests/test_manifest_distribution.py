"""`lead-bot manifest --distribution`: the manifest for installing in any workspace over OAuth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
import yaml

from bot.app.cli import main
from bot.app.manifest import build_manifest
from tests.test_cli import Ran, logging_of_its_own, urls_in
from tests.test_manifest import validate

HOST = "https://h"


@pytest.fixture
def lead_bot(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Ran]:
    """`lead-bot ARGS` through main(), as tests/test_cli.py runs it."""

    def run(*args: str) -> Ran:
        capsys.readouterr()
        with logging_of_its_own(monkeypatch):
            try:
                status: object = main(list(args))
            except SystemExit as exit_:
                status = exit_.code
        out, err = capsys.readouterr()
        assert isinstance(status, int), f"main returned {status!r}, not an exit status"
        return Ran(status, out, err)

    return run


def distribution(lead_bot: Callable[..., Ran], url: str = HOST) -> dict[str, Any]:
    result = lead_bot("manifest", "--url", url, "--distribution")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    manifest: dict[str, Any] = yaml.safe_load(result.stdout)
    return manifest


def test_the_distribution_manifest_has_the_redirect_url(lead_bot: Callable[..., Ran]) -> None:
    manifest = distribution(lead_bot)

    assert manifest["oauth_config"]["redirect_urls"] == ["https://h/slack/oauth_redirect"]


def test_the_distribution_manifest_may_be_installed_org_wide(
    lead_bot: Callable[..., Ran],
) -> None:
    settings = distribution(lead_bot)["settings"]

    assert settings["org_deploy_enabled"] is True
    assert settings["socket_mode_enabled"] is False


def test_the_distribution_manifest_hears_the_app_leaving(lead_bot: Callable[..., Ran]) -> None:
    events = distribution(lead_bot)["settings"]["event_subscriptions"]["bot_events"]

    assert {"app_uninstalled", "tokens_revoked", "app_home_opened"} <= set(events)
    assert len(events) == len(set(events))


def test_the_distribution_manifest_passes_slacks_schema(lead_bot: Callable[..., Ran]) -> None:
    manifest = distribution(lead_bot)

    validate(manifest)
    # The schema can refuse: a redirect URL that is not a list is caught.
    broken = {**manifest, "oauth_config": {**manifest["oauth_config"], "redirect_urls": "x"}}
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_every_request_goes_to_the_events_url(lead_bot: Callable[..., Ran]) -> None:
    manifest = distribution(lead_bot)

    assert set(urls_in(manifest)) == {"https://h/slack/events"}
    assert manifest["features"]["slash_commands"][0]["url"] == "https://h/slack/events"
    assert manifest["settings"]["interactivity"]["request_url"] == "https://h/slack/events"


def test_the_output_says_how_to_turn_on_distribution(lead_bot: Callable[..., Ran]) -> None:
    result = lead_bot("manifest", "--url", HOST, "--distribution")

    comments = [line for line in result.stdout.splitlines() if line.startswith("#")]
    assert comments, "the manifest starts with what to do with it"
    said = " ".join(comments)
    assert "SLACK_CLIENT_ID" in said
    assert "/slack/install" in said
    assert "YOUR-APP-HOST" not in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "https://h/",
        "https://h/slack/events",
        "https://h/slack/events/",
    ],
)
def test_the_host_or_its_events_url_give_the_same_redirect(
    lead_bot: Callable[..., Ran], url: str
) -> None:
    assert distribution(lead_bot, url) == distribution(lead_bot)


def test_a_base_path_is_kept_in_the_redirect_url(lead_bot: Callable[..., Ran]) -> None:
    manifest = distribution(lead_bot, "https://example.com/bots/lead")

    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://example.com/bots/lead/slack/oauth_redirect"
    ]


def test_without_distribution_there_is_no_redirect_nor_org_deploy(
    lead_bot: Callable[..., Ran],
) -> None:
    result = lead_bot("manifest", "--url", HOST)
    manifest = yaml.safe_load(result.stdout)

    assert result.returncode == 0
    assert "redirect_urls" not in manifest["oauth_config"]
    assert manifest["settings"]["org_deploy_enabled"] is False
    # Apart from installing anywhere, it is the same app.
    with_distribution = build_manifest(HOST, distribution=True)
    assert with_distribution["oauth_config"]["scopes"] == manifest["oauth_config"]["scopes"]
    assert with_distribution["features"] == manifest["features"]


def test_distribution_over_socket_mode_is_refused_with_a_sentence(
    lead_bot: Callable[..., Ran],
) -> None:
    result = lead_bot("manifest", "--distribution", "--socket-mode")

    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("lead-bot: ")
    assert line.endswith(".")
    assert "--url https://HOST" in line
    assert "Traceback" not in result.stderr


def test_distribution_without_a_url_is_refused_with_a_sentence(
    lead_bot: Callable[..., Ran],
) -> None:
    result = lead_bot("manifest", "--distribution")

    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("lead-bot: ")
    assert line.endswith(".")
    assert "--url https://HOST" in line
    # Socket Mode cannot install in other workspaces: the sentence must not send the person
    # there, as `--distribution --socket-mode` is refused in turn.
    assert "--socket-mode" not in line


@pytest.mark.parametrize("url", ["http://h", "h", "https://"])
def test_distribution_needs_an_https_url(lead_bot: Callable[..., Ran], url: str) -> None:
    result = lead_bot("manifest", "--url", url, "--distribution")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "lead-bot: --url must be the app's public https URL, like https://HOST.\n"
    )
