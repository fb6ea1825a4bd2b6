"""Keep credentials out of every log line: webhook tokens in URLs and the configured secrets."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, SecretStr

from bot.storage.rows import TOKEN_PREFIX

REDACTED = "[redacted]"
# Real Slack and NLPearl secrets are far longer; a shorter value would match ordinary words.
MIN_SECRET_LENGTH = 8
# The token is whatever follows the path, up to where a URL, a quote or a repr would end.
_WEBHOOK_TOKEN = re.compile(r"(nlpearl/webhooks/)[^\s/?#&\"'<>`|\\(),;]+", re.IGNORECASE)
# Slack tokens of any kind, configured or not (a workspace's, or one pasted into a command),
# and webhook tokens outside a URL (a database driver's debug log of the row that keeps one).
_TOKENS = re.compile(rf"\b(?:x(?:ox[a-z]|app)-[A-Za-z0-9-]+|{TOKEN_PREFIX}[A-Za-z0-9_-]+)")
_EXCEPTIONS = logging.Formatter()


def secrets_of(settings: BaseModel) -> dict[str, str]:
    """Every secret setting's value by variable name, the NLPearl key's secret half included."""
    # Any SecretStr field is a secret, so a secret setting added later is hidden too.
    values = {
        name.upper(): value.get_secret_value()
        for name, value in settings
        if isinstance(value, SecretStr) and value.get_secret_value()
    }
    if key := values.get("NLPEARL_API_KEY"):
        values["NLPEARL_API_KEY (secret key)"] = key.partition(":")[2]
    return values


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """The text with webhook tokens, Slack tokens and the given secrets replaced."""
    return _redact(text, _replacements(secrets))


def _replacements(secrets: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each secret and what stands in its place, longest first (a whole key before its half)."""
    return [
        (value, f"[redacted {name.split(' ')[0]}]")
        for name, value in sorted(secrets.items(), key=lambda item: -len(item[1]))
        if len(value) >= MIN_SECRET_LENGTH
    ]


def _redact(text: str, replacements: list[tuple[str, str]]) -> str:
    for value, replacement in replacements:
        if value in text:
            text = text.replace(value, replacement)
    text = _WEBHOOK_TOKEN.sub(rf"\g<1>{REDACTED}", text)
    return _TOKENS.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record so that no credential reaches the handler's output."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        super().__init__()
        self.secrets = dict(secrets)
        # Worked out once: every log line passes here (an access log line per request).
        self._replacements = _replacements(self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the message, its arguments, the traceback and the stack; always keep it."""
        if isinstance(record.msg, str):
            record.msg = self._redact(record.msg)
        # Arguments keep their shape, so formatters that read them (uvicorn's access log) work.
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact_arg(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: self._redact_arg(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = _EXCEPTIONS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        # An argument that is no string (an exception, a URL object) shows its text only now.
        try:
            message = record.getMessage()
        except Exception:
            return True  # a malformed call, which the handler reports as it always does
        if (cleaned := self._redact(message)) != message:
            record.msg, record.args = cleaned, None
        return True

    def _redact(self, text: str) -> str:
        return _redact(text, self._replacements)

    def _redact_arg(self, arg: object) -> object:
        return self._redact(arg) if isinstance(arg, str) else arg


def install(handlers: Iterable[logging.Handler], secrets: Mapping[str, str]) -> None:
    """Put one redacting filter on each handler, replacing any installed before."""
    redacting = RedactingFilter(secrets)
    for handler in handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(redacting)
