"""`lead-bot check`'s Socket Mode line, against the Slack stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.checks import CheckFailed, check_app_token, run_checks
from bot.app.settings import Settings, load_settings
from tests.harness.processes import free_port
from tests.standins import SlackStandIn

APP_TOKEN = "xapp-1-A0TEST-1-check"


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    """A Slack stand-in that accepts the app-level token."""
    with SlackStandIn(valid_token=APP_TOKEN) as standin:
        yield standin


def settings_for(api_url: str, tmp_path: Path, app_token: str | None = APP_TOKEN) -> Settings:
    """Settings pointing Slack at `api_url`, NLPearl nowhere, and a fresh SQLite file."""
    return load_settings(
        slack_bot_token="xoxb-check",
        slack_app_token=app_token,
        slack_api_url=api_url,
        nlpearl_api_key="acct:secret",
        nlpearl_api_url=f"http://127.0.0.1:{free_port()}",
        database_url=f"sqlite:///{tmp_path / 'check.db'}",
    )


async def test_an_accepted_app_token_opens_a_connection(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    detail = await check_app_token(settings_for(slack.api_url, tmp_path))

    assert detail == "SLACK_APP_TOKEN opens Socket Mode connections"
    [opened] = slack.records("apps.connections.open")
    assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"


async def test_a_token_slack_does_not_know_is_refused_with_what_to_do(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    settings = settings_for(slack.api_url, tmp_path, app_token="xapp-1-A0TEST-1-unknown")

    with pytest.raises(CheckFailed) as failed:
        await check_app_token(settings)

    assert str(failed.value) == (
        "Slack refused SLACK_APP_TOKEN (invalid_auth): create an app-level token with the "
        "connections:write scope under Basic Information → App-Level Tokens, turn on Socket "
        "Mode in the app settings, and set SLACK_APP_TOKEN to the new token."
    )
    assert "xapp-1-A0TEST-1-unknown" not in str(failed.value)


@pytest.mark.parametrize("error", ["token_revoked", "not_allowed_token_type", "missing_scope"])
async def test_each_refusal_names_slacks_reason(
    slack: SlackStandIn, tmp_path: Path, error: str
) -> None:
    slack.fail_next("apps.connections.open", status=200, error=error)

    with pytest.raises(CheckFailed) as failed:
        await check_app_token(settings_for(slack.api_url, tmp_path))

    assert str(failed.value).startswith(f"Slack refused SLACK_APP_TOKEN ({error}): ")


async def test_a_passing_slack_failure_says_to_try_again(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    slack.fail_next("apps.connections.open", status=503)

    with pytest.raises(CheckFailed) as failed:
        await check_app_token(settings_for(slack.api_url, tmp_path))

    message = str(failed.value)
    assert message.startswith(f"Slack at {slack.api_url} did not open a connection: ")
    assert message.endswith("Try again in a few minutes.")
    assert "SLACK_APP_TOKEN" not in message


async def test_an_unreachable_slack_is_named(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api/"

    with pytest.raises(CheckFailed) as failed:
        await check_app_token(settings_for(closed, tmp_path))

    assert str(failed.value).startswith(f"could not reach Slack at {closed} (")


async def test_check_prints_the_socket_mode_line_after_slacks(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    lines: list[str] = []

    await run_checks(settings_for(slack.api_url, tmp_path), lines.append)

    assert lines[0].startswith(("✓ Slack: ", "✗ Slack: "))
    assert lines[1] == "✓ Socket Mode: SLACK_APP_TOKEN opens Socket Mode connections"


async def test_check_leaves_socket_mode_out_when_it_is_off(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    lines: list[str] = []

    await run_checks(settings_for(slack.api_url, tmp_path, app_token=None), lines.append)

    assert not [line for line in lines if "Socket Mode" in line]
    assert not slack.records("apps.connections.open")
