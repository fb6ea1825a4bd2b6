"""Multi-workspace (OAuth) mode's settings: what it needs, what it refuses, one sentence each.

Checked through `require_multi_workspace` (and `require_slack_credentials`, which `serve` calls),
and through `lead-bot serve` and `lead-bot worker` as a person runs them.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet

from bot.app.cli import main
from bot.app.settings import (
    HINTS,
    ConfigError,
    Settings,
    load_settings,
    require_multi_workspace,
    require_slack_credentials,
)
from bot.storage.sealing import Sealer, generate_key
from tests.harness.processes import free_port
from tests.test_cli import Ran, logging_of_its_own

KEY = generate_key()
OTHER_KEY = generate_key()
# Everything multi-workspace mode needs, and nothing of single-workspace mode.
MULTI = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "0123456789abcdef0123456789abcdef",
    "SLACK_STATE_SECRET": "a-long-random-string-for-oauth-state",
    "SLACK_SIGNING_SECRET": "fedcba9876543210fedcba9876543210",
    "ENCRYPTION_KEY": KEY,
}
BOTH_MODES = (
    "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: unset SLACK_CLIENT_ID to serve one "
    "workspace with its bot token, or unset SLACK_BOT_TOKEN to let any workspace install the app."
)
# Variables tests/conftest.py does not clear, which these tests set.
OWN_VARIABLES = ("ENCRYPTION_KEY", "EVENT_RETENTION_DAYS")


@pytest.fixture(autouse=True)
def _no_stray_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ENCRYPTION_KEY or EVENT_RETENTION_DAYS from the environment running the tests."""
    for name in OWN_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str | None) -> Settings:
    """Settings from MULTI changed by `env` (None unsets a variable)."""
    for name, value in (MULTI | env).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return load_settings()


def refusal(settings: Settings) -> str:
    """The sentence both checks of multi-workspace mode refuse the settings with."""
    with pytest.raises(ConfigError) as direct:
        require_multi_workspace(settings)
    with pytest.raises(ConfigError) as serving:
        require_slack_credentials(settings)
    assert str(direct.value) == str(serving.value)
    return str(direct.value)


def assert_one_sentence(message: str) -> None:
    assert message.endswith(".")
    assert "\n" not in message
    assert "Traceback" not in message


def test_complete_settings_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(monkeypatch)

    require_multi_workspace(settings)
    require_slack_credentials(settings)

    assert settings.oauth_enabled
    assert not settings.socket_mode
    assert settings.slack_bot_token is None


def test_a_bot_token_too_is_refused_with_the_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(monkeypatch, SLACK_BOT_TOKEN="xoxb-1-2-abc")

    message = refusal(settings)

    assert message == BOTH_MODES
    assert "xoxb-1-2-abc" not in message


def test_an_app_token_is_refused_as_socket_mode_cannot_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_with(monkeypatch, SLACK_APP_TOKEN="xapp-1-A0-1-abc")

    message = refusal(settings)

    assert message == (
        "SLACK_APP_TOKEN is set, but installing in many workspaces needs HTTP mode: "
        "unset SLACK_APP_TOKEN and set PUBLIC_URL to the app's https address."
    )
    assert "xapp-1-A0-1-abc" not in message


def test_an_nlpearl_key_is_refused_as_each_workspace_connects_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_with(monkeypatch, NLPEARL_API_KEY="acct123:secret456")

    message = refusal(settings)

    assert message.startswith("NLPEARL_API_KEY is set, but in multi-workspace mode ")
    assert "connects its own NLPearl account from the App Home" in message
    assert message.endswith("unset NLPEARL_API_KEY.")
    assert "secret456" not in message
    assert_one_sentence(message)


@pytest.mark.parametrize(
    "variable",
    ["SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET", "SLACK_SIGNING_SECRET", "ENCRYPTION_KEY"],
)
@pytest.mark.parametrize("unset", ["absent", "blank"])
def test_each_missing_variable_is_named_with_what_to_set(
    monkeypatch: pytest.MonkeyPatch, variable: str, unset: str
) -> None:
    settings = settings_with(monkeypatch, **{variable: None if unset == "absent" else "  "})

    message = refusal(settings)

    assert message == f"{variable} is missing: set it to {HINTS[variable]}."
    assert_one_sentence(message)


def test_the_encryption_key_hint_says_how_to_make_one() -> None:
    assert "lead-bot rotate-key --generate" in HINTS["ENCRYPTION_KEY"]
    assert "comma" in HINTS["ENCRYPTION_KEY"]


@pytest.mark.parametrize(
    "value",
    [
        "not-a-fernet-key",
        "B" * 44,
        "changeme-please-this-is-no-key",
        KEY[:-2],
        f"{KEY},oops-my-second-key",
        f"oops-my-first-key,{KEY}",
        ",",
        Fernet.generate_key().decode()[:-1] + "!",
    ],
    # The keys are made afresh in each process: ids that do not show them.
    ids=[
        "words",
        "44-chars-not-32-bytes",
        "placeholder",
        "key-cut-short",
        "bad-second-key",
        "bad-first-key",
        "commas-only",
        "bad-last-character",
    ],
)
def test_a_malformed_encryption_key_is_named_and_never_shown(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", value)

    with pytest.raises(ConfigError) as caught:
        load_settings()

    message = str(caught.value)
    assert message == f"ENCRYPTION_KEY is not valid: set it to {HINTS['ENCRYPTION_KEY']}."
    shown = "".join(traceback.format_exception(caught.value))
    for part in value.split(","):
        if len(part) > 3:
            assert part not in message
            assert part not in shown


def test_a_malformed_encryption_key_stops_serve_without_showing_it(
    lead_bot: Callable[..., Ran],
) -> None:
    result = lead_bot("serve", env=MULTI | {"ENCRYPTION_KEY": "my-secret-passphrase"})

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"lead-bot: ENCRYPTION_KEY is not valid: set it to {HINTS['ENCRYPTION_KEY']}."
    ]
    assert "my-secret-passphrase" not in result.stdout + result.stderr


@pytest.mark.parametrize("written", ["{new},{old}", " {new} , {old} ", "{new},,{old},"])
def test_a_list_of_two_keys_is_accepted_and_opens_what_either_sealed(
    monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    setting = written.format(new=KEY, old=OTHER_KEY)
    settings = settings_with(monkeypatch, ENCRYPTION_KEY=setting)

    require_multi_workspace(settings)
    assert settings.encryption_key is not None
    sealer = Sealer.from_setting(settings.encryption_key.get_secret_value())
    sealed_under_old = Sealer.from_setting(OTHER_KEY).seal("old secret")
    sealed_now = sealer.seal("new secret")

    assert sealer.unseal(sealed_under_old) == "old secret"
    # The first key seals.
    assert Sealer.from_setting(KEY).unseal(sealed_now) == "new secret"


def test_the_encryption_key_is_kept_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(monkeypatch)

    assert KEY not in repr(settings)
    assert KEY not in str(settings.model_dump())


def test_event_retention_defaults_to_90_days() -> None:
    assert load_settings().event_retention_days == 90


@pytest.mark.parametrize(("value", "days"), [("1", 1), ("30", 30), ("3650", 3650), (" 7 ", 7)])
def test_event_retention_within_bounds_is_read(
    monkeypatch: pytest.MonkeyPatch, value: str, days: int
) -> None:
    monkeypatch.setenv("EVENT_RETENTION_DAYS", value)

    assert load_settings().event_retention_days == days


@pytest.mark.parametrize("value", ["0", "-1", "3651", "100000", "ninety", "1.5", ""])
def test_event_retention_out_of_bounds_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("EVENT_RETENTION_DAYS", value)

    with pytest.raises(ConfigError) as caught:
        load_settings()

    assert str(caught.value) == (
        "EVENT_RETENTION_DAYS is not valid: set it to a whole number of days, such as 90."
    )


# The command line


@pytest.fixture
def lead_bot(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Ran]:
    """`lead-bot ARGS` through main(), with the given variables set (as tests/test_cli.py)."""

    def run(*args: str, env: dict[str, str] | None = None) -> Ran:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
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


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_both_modes_set_stop_the_command_with_one_line(
    lead_bot: Callable[..., Ran], command: str, tmp_path: object
) -> None:
    env = MULTI | {
        "SLACK_BOT_TOKEN": "xoxb-1-2-both",
        "PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{tmp_path}/both.db",
    }

    result = lead_bot(command, env=env)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"lead-bot: {BOTH_MODES}"]
    assert "xoxb-1-2-both" not in result.stderr


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_missing_encryption_key_stops_the_command_with_one_line(
    lead_bot: Callable[..., Ran], command: str, tmp_path: object
) -> None:
    env = {k: v for k, v in MULTI.items() if k != "ENCRYPTION_KEY"}
    env |= {"PORT": str(free_port()), "DATABASE_URL": f"sqlite:///{tmp_path}/missing.db"}

    result = lead_bot(command, env=env)

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"lead-bot: ENCRYPTION_KEY is missing: set it to {HINTS['ENCRYPTION_KEY']}."
    ]
