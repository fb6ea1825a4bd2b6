"""Settings from the environment and an optional `.env` file."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///lead-bot.db"

# What to put in each variable, in the words a person setting up the app needs.
HINTS: dict[str, str] = {
    "SLACK_SIGNING_SECRET": "the Signing Secret from your Slack app's Basic Information page",
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (starts with xoxb-) from OAuth & Permissions",
    "SLACK_APP_TOKEN": "an app-level token (starts with xapp-) with the connections:write scope",
    "SLACK_CLIENT_ID": "the Client ID from your Slack app's Basic Information page",
    "SLACK_CLIENT_SECRET": "the Client Secret from your Slack app's Basic Information page",
    "SLACK_STATE_SECRET": "any long random string; it signs the state of each OAuth install",
    "SLACK_API_URL": "an http(s) URL ending in /, such as https://slack.com/api/",
    "NLPEARL_API_KEY": (
        "your NLPearl Account ID and Secret Key joined by a colon (AccountId:SecretKey), "
        "from platform.nlpearl.ai under Settings > API"
    ),
    "NLPEARL_API_URL": "an http(s) URL such as https://api.nlpearl.ai",
    "NLPEARL_API_VERSION": "v1 or v2",
    "DATABASE_URL": "a database URL such as postgres://user:pass@host/db or sqlite:///lead-bot.db",
    "PUBLIC_URL": "the app's public https URL, such as https://lead-bot.example.com",
    "PORT": "a port number between 1 and 65535",
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
    "MASK_SHARED_PHONE_NUMBERS": "true or false",
    "DELIVERY_LEASE_SECONDS": "a number of seconds, such as 60",
    "SLACK_POST_INTERVAL_SECONDS": "a number of seconds between posts to one channel, such as 1",
    "ENCRYPTION_KEY": (
        "one or more Fernet keys separated by commas, newest first; "
        "make one with `lead-bot rotate-key --generate`"
    ),
    "EVENT_RETENTION_DAYS": "a whole number of days, such as 90",
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one sentence for a person."""


def problem(variable: str, what: str = "is not valid") -> ConfigError:
    """Build the one-sentence error for a variable."""
    return ConfigError(f"{variable} {what}: set it to {HINTS[variable]}.")


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("not an http(s) URL")
    return value


# What a template's stand-in looks like; no real token, secret or key contains these.
_PLACEHOLDER_MARKS = ("<", ">", "...", "…")
_PLACEHOLDER_WORDS = frozenset({"your", "placeholder", "changeme"})


def _is_placeholder(value: str) -> bool:
    """Whether a secret was copied from a template: `<token>`, `xoxb-…`, `your-token`."""
    if any(mark in value for mark in _PLACEHOLDER_MARKS):
        return True
    words = "".join(c if c.isalnum() else " " for c in value.lower()).split()
    return not _PLACEHOLDER_WORDS.isdisjoint(words)


def _slack_token(value: SecretStr | None, prefix: str) -> SecretStr | None:
    """A Slack token with this prefix and more than the prefix, or None."""
    if value is None:
        return None
    token = value.get_secret_value()
    if not token.startswith(prefix) or not token[len(prefix) :].strip() or _is_placeholder(token):
        raise ValueError(f"not a {prefix} token")
    return value


class Settings(BaseSettings):
    """Every setting of the interface contract; secrets stay `SecretStr`."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_state_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    nlpearl_api_key: SecretStr | None = None
    nlpearl_api_url: str = "https://api.nlpearl.ai"
    nlpearl_api_version: Literal["v1", "v2"] = "v2"
    database_url: str = DEFAULT_DATABASE_URL
    public_url: str | None = None
    port: int = Field(default=3000, ge=1, le=65535)
    # Web processes sharing the port (the Heroku convention; its Python buildpack sets it).
    web_concurrency: int = Field(default=1, ge=1, le=64)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    mask_shared_phone_numbers: bool = True
    # How long a claimed delivery is held before another worker may take it over.
    delivery_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Slack allows about one post per second per channel.
    slack_post_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    # How often each process looks for due digests, alert checks and sweeps.
    schedule_tick_seconds: float = Field(default=10.0, gt=0, le=600)
    # How often the followed campaigns are checked for alerts.
    alert_check_minutes: float = Field(default=5.0, gt=0, le=1440)
    # No webhook this long, while NLPearl shows calls today, raises "is the webhook connected?".
    alert_silent_webhook_minutes: float = Field(default=120.0, gt=0, le=10080)
    # Errors and wrong numbers above this share of the last hour's calls raise an alert.
    alert_error_share: float = Field(default=0.2, gt=0, le=1)
    # How often the sweep looks for status changes whose webhook never came; 0 turns it off.
    sweep_minutes: float = Field(default=15.0, ge=0, le=1440)
    # For tests and demos: the app's clock starts at this moment and runs on from there.
    clock_start: datetime | None = None
    # Seals each workspace's NLPearl key at rest (multi-workspace mode); newest key first.
    encryption_key: SecretStr | None = None
    # Webhooks older than this are deleted once their posts are done.
    event_retention_days: int = Field(default=90, ge=1, le=3650)

    @field_validator(
        "slack_signing_secret",
        "slack_bot_token",
        "slack_app_token",
        "slack_client_id",
        "slack_client_secret",
        "slack_state_secret",
        "nlpearl_api_key",
        "public_url",
        "clock_start",
        "encryption_key",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("clock_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # A moment without a zone is read as UTC, like every moment the app stores.
        if value is not None and value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("log_level", "nlpearl_api_version", mode="before")
    @classmethod
    def _case_insensitive(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("nlpearl_api_version", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, value: str) -> str:
        return _http_url(value).rstrip("/") + "/"

    @field_validator("nlpearl_api_url")
    @classmethod
    def _nlpearl_api_url(cls, value: str) -> str:
        return _http_url(value).rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value).rstrip("/")

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and _is_placeholder(value.get_secret_value()):
            raise ValueError("a placeholder, not a signing secret")
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        return _slack_token(value, "xoxb-")

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        return _slack_token(value, "xapp-")

    @field_validator("nlpearl_api_key")
    @classmethod
    def _api_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        key = value.get_secret_value().strip()
        # .env.example's own stand-in, in any case.
        if key.lower() == "accountid:secretkey" or _is_placeholder(key):
            raise ValueError("a placeholder, not AccountId:SecretKey")
        account, sep, secret = key.partition(":")
        if not (sep and account and secret) or any(c.isspace() for c in account + secret):
            raise ValueError("not AccountId:SecretKey")
        return SecretStr(f"{account}:{secret}")

    @field_validator("encryption_key")
    @classmethod
    def _encryption_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            # Imported here: only multi-workspace mode seals anything.
            from bot.storage.sealing import Sealer

            Sealer.from_setting(value.get_secret_value())
        return value

    @property
    def socket_mode(self) -> bool:
        """Slack traffic arrives over Socket Mode rather than HTTP."""
        return self.slack_app_token is not None

    @property
    def oauth_enabled(self) -> bool:
        """Multi-workspace OAuth install is configured."""
        return self.slack_client_id is not None


def reveal(secret: SecretStr | None) -> str:
    """A secret setting's value; "" for one that is unset (required ones are checked first)."""
    return secret.get_secret_value() if secret is not None else ""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning the first problem into a one-sentence `ConfigError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "a setting"
        raise problem(variable) from None


def require_slack_credentials(settings: Settings) -> None:
    """Check the Slack settings that serving traffic needs, for the mode in use."""
    if settings.oauth_enabled:
        require_multi_workspace(settings)
        return
    if settings.slack_bot_token is None:
        raise problem("SLACK_BOT_TOKEN", "is missing")
    if not settings.socket_mode and settings.slack_signing_secret is None:
        raise problem("SLACK_SIGNING_SECRET", "is missing")


def require_multi_workspace(settings: Settings) -> None:
    """Check multi-workspace (OAuth) mode's settings, and that no single-workspace one is set."""
    if settings.slack_bot_token is not None:
        raise ConfigError(
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: unset SLACK_CLIENT_ID to serve "
            "one workspace with its bot token, or unset SLACK_BOT_TOKEN to let any workspace "
            "install the app."
        )
    if settings.socket_mode:
        raise ConfigError(
            "SLACK_APP_TOKEN is set, but installing in many workspaces needs HTTP mode: "
            "unset SLACK_APP_TOKEN and set PUBLIC_URL to the app's https address."
        )
    if settings.nlpearl_api_key is not None:
        raise ConfigError(
            "NLPEARL_API_KEY is set, but in multi-workspace mode each workspace connects its own "
            "NLPearl account from the App Home: unset NLPEARL_API_KEY."
        )
    for variable in ("SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET", "SLACK_SIGNING_SECRET"):
        if getattr(settings, variable.lower()) is None:
            raise problem(variable, "is missing")
    if settings.encryption_key is None:
        raise problem("ENCRYPTION_KEY", "is missing")


def configure_logging(settings: Settings) -> None:
    """Log to stderr at the configured level, as Heroku-like hosts expect, never a secret."""
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # On the handlers, not a logger: every logger's records pass them (uvicorn's too, as it
    # is run with no logging set-up of its own).
    # Imported here: the redaction rules are needed only once logging is set up.
    from bot.app.log_redaction import install, secrets_of

    install(logging.getLogger().handlers, secrets_of(settings))
    # Alembic announces every plugin it loads and httpx every request (six per lookup);
    # what matters is logged by Lead Bot itself.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
