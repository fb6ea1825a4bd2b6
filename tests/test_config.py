"""Settings: every contract variable, `.env` support, one-sentence errors, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.settings import HINTS, ConfigError, load_settings, require_slack_credentials

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_need_nothing() -> None:
    settings = load_settings()
    assert settings.port == 3000
    assert settings.log_level == "INFO"
    assert settings.nlpearl_api_url == "https://api.nlpearl.ai"
    assert settings.nlpearl_api_version == "v2"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url.startswith("sqlite")
    assert settings.mask_shared_phone_numbers is True
    assert not settings.socket_mode


def test_reads_every_contract_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SLACK_SIGNING_SECRET": "sig",
        "SLACK_BOT_TOKEN": "xoxb-1-2",
        "SLACK_APP_TOKEN": "xapp-1-2",
        "SLACK_API_URL": "http://127.0.0.1:9/api",
        "NLPEARL_API_KEY": "acct:secret",
        "NLPEARL_API_URL": "http://127.0.0.1:8/",
        "NLPEARL_API_VERSION": "V1",
        "DATABASE_URL": "postgres://u:p@h/db",
        "PUBLIC_URL": "https://bot.example.com/",
        "PORT": "8080",
        "LOG_LEVEL": "debug",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == "sig"
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.nlpearl_api_url == "http://127.0.0.1:8"
    assert settings.nlpearl_api_version == "v1"
    assert settings.public_url == "https://bot.example.com"
    assert settings.port == 8080
    assert settings.log_level == "DEBUG"
    assert settings.socket_mode


def test_dotenv_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("PORT=4000\nLOG_LEVEL=WARNING\n")
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    settings = load_settings()
    assert settings.port == 4000
    assert settings.log_level == "ERROR"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NLPEARL_API_KEY", "no-colon-here"),
        ("NLPEARL_API_KEY", ":secret"),
        ("NLPEARL_API_VERSION", "v3"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token"),
        ("PORT", "seventy"),
        ("PORT", "70000"),
        ("LOG_LEVEL", "LOUD"),
        ("NLPEARL_API_URL", "api.nlpearl.ai"),
        ("PUBLIC_URL", "ftp://x"),
    ],
)
def test_malformed_value_is_one_sentence_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{variable} is not valid: set it to ")
    assert message.endswith(".")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SLACK_BOT_TOKEN", "xoxb-"),
        ("SLACK_BOT_TOKEN", " xoxb- "),
        ("SLACK_BOT_TOKEN", "xoxb-..."),
        ("SLACK_BOT_TOKEN", "xoxb-…"),
        ("SLACK_BOT_TOKEN", "<xoxb-your-token>"),
        ("SLACK_BOT_TOKEN", "xoxb-<your-token>"),
        ("SLACK_BOT_TOKEN", "xoxb-your-token"),
        ("SLACK_BOT_TOKEN", "your-token"),
        ("SLACK_APP_TOKEN", "xapp-"),
        ("SLACK_APP_TOKEN", "xapp-…"),
        ("SLACK_APP_TOKEN", "xapp-your-app-token"),
        ("SLACK_SIGNING_SECRET", "<signing secret>"),
        ("SLACK_SIGNING_SECRET", "..."),
        ("NLPEARL_API_KEY", "AccountId:SecretKey"),
        ("NLPEARL_API_KEY", "accountid:secretkey"),
        ("NLPEARL_API_KEY", " ACCOUNTID:SECRETKEY "),
        ("NLPEARL_API_KEY", "<AccountId>:<SecretKey>"),
        ("NLPEARL_API_KEY", "65f0c0ffee1234567890abcd:..."),
        ("NLPEARL_API_KEY", "your-account-id:your-secret-key"),
    ],
)
def test_placeholder_is_refused_naming_the_variable_and_what_to_set(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message == f"{variable} is not valid: set it to {HINTS[variable]}."


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SLACK_BOT_TOKEN", "xoxb-1"),
        ("SLACK_BOT_TOKEN", "xoxb-test-token"),
        ("SLACK_BOT_TOKEN", "xoxb-1-2"),
        ("SLACK_BOT_TOKEN", "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"),
        ("SLACK_APP_TOKEN", "xapp-1"),
        ("SLACK_APP_TOKEN", "xapp-1-2"),
        ("SLACK_APP_TOKEN", "xapp-1-A0123456789-4567890123456-0a1b2c3d4e5f"),
        ("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5"),
        ("NLPEARL_API_KEY", "acct:secret"),
        ("NLPEARL_API_KEY", "65f0c0ffee1234567890abcd:Xy7sEcReT-9q"),
        ("NLPEARL_API_KEY", "account:key"),
    ],
)
def test_real_looking_values_stay_valid(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    settings = load_settings()
    secret = getattr(settings, variable.lower())
    assert secret is not None
    assert secret.get_secret_value() == value


def test_env_example_as_it_is_names_the_first_placeholder(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    with pytest.raises(ConfigError) as caught:
        load_settings()
    hint = HINTS["SLACK_BOT_TOKEN"]
    assert str(caught.value) == f"SLACK_BOT_TOKEN is not valid: set it to {hint}."


def test_malformed_secret_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NLPEARL_API_KEY", "leakedsecretwithoutcolon")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "leakedsecret" not in str(caught.value)


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "topsecret-signing")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-topsecret-token")
    monkeypatch.setenv("NLPEARL_API_KEY", "acct:topsecret-key")
    shown = repr(load_settings()) + str(load_settings())
    assert "topsecret" not in shown


def test_blank_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "  ")
    monkeypatch.setenv("NLPEARL_API_KEY", "")
    settings = load_settings()
    assert settings.slack_bot_token is None
    assert settings.nlpearl_api_key is None


def test_http_mode_needs_signing_secret_and_token(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN is missing"):
        require_slack_credentials(load_settings())
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(ConfigError, match=r"^SLACK_SIGNING_SECRET is missing"):
        require_slack_credentials(load_settings())
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    require_slack_credentials(load_settings())


def test_socket_mode_needs_no_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    require_slack_credentials(load_settings())


def test_both_modes_at_once_are_refused_with_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "123.456")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set"):
        require_slack_credentials(load_settings())
