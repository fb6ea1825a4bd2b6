"""No credential reaches a log handler's output: webhook tokens in paths, secrets, Slack tokens."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from uvicorn.logging import AccessFormatter

from bot.app.log_redaction import RedactingFilter, install, redact, secrets_of
from bot.app.settings import load_settings

TOKEN = "Zq3vK9_xT-2mWb8RfYc1LpN4sHdE7gAj"
SIGNING = "8f14e45fceea167a5a36dedd4bea2543"
BOT = "xoxb-1234-5678-AbCdEfGhIjKl"
ACCOUNT, SECRET_KEY = "acct-00042", "s3cr3t-K3y-0f-NLP3arl"
SECRETS = {
    "SLACK_SIGNING_SECRET": SIGNING,
    "SLACK_BOT_TOKEN": BOT,
    "NLPEARL_API_KEY": f"{ACCOUNT}:{SECRET_KEY}",
    "NLPEARL_API_KEY (secret key)": SECRET_KEY,
}
EVERY_SECRET = [TOKEN, SIGNING, BOT, SECRET_KEY]


class Holder:
    """An object whose text holds a secret, logged as an argument."""

    def __str__(self) -> str:
        return f"Holder(url=https://bot.example.com/nlpearl/webhooks/{TOKEN})"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own, writing through a redacting handler into a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    install([handler], SECRETS)
    logger = logging.getLogger(f"tests.redaction.{id(out)}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)


def _assert_clean(text: str) -> None:
    for secret in EVERY_SECRET:
        assert secret not in text


def test_an_access_line_keeps_its_shape_without_the_token() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    install([handler], SECRETS)
    logger = logging.getLogger("tests.redaction.access")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        # Exactly as uvicorn's HTTP protocols log a request.
        logger.warning(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:51234",
            "POST",
            f"/nlpearl/webhooks/{TOKEN}?retry=1",
            "1.1",
            200,
        )
    finally:
        logger.removeHandler(handler)

    line = out.getvalue()
    assert line.startswith('127.0.0.1:51234 - "POST /nlpearl/webhooks/[redacted]?retry=1 HTTP/1.1"')
    _assert_clean(line)


def test_secrets_in_the_message_and_arguments_are_named_not_shown(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = captured
    logger.info(f"signing with {SIGNING}")
    logger.info("token %s and key %s", BOT, f"{ACCOUNT}:{SECRET_KEY}")
    logger.info("only the half: %(half)s", {"half": SECRET_KEY})
    logger.debug("an object: %s", Holder())
    logger.debug("as repr: %r", f"Bearer {BOT}".encode())

    text = out.getvalue()
    _assert_clean(text)
    assert "signing with [redacted SLACK_SIGNING_SECRET]" in text
    assert "token [redacted SLACK_BOT_TOKEN] and key [redacted NLPEARL_API_KEY]" in text
    assert "only the half: [redacted NLPEARL_API_KEY]" in text
    assert "/nlpearl/webhooks/[redacted])" in text
    assert ACCOUNT not in text  # the whole key went, not only its secret half


def test_a_traceback_is_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = captured
    try:
        raise ValueError(f"POST https://h/nlpearl/webhooks/{TOKEN} failed with {BOT}")
    except ValueError:
        logger.exception("Could not store a webhook")

    text = out.getvalue()
    _assert_clean(text)
    assert "Traceback (most recent call last)" in text
    assert "ValueError: POST https://h/nlpearl/webhooks/[redacted] failed with" in text


def test_a_stack_is_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = captured

    # The stack shows this source line, path and all.
    logger.info("here", stack_info=True, extra={"u": "/nlpearl/webhooks/StackToken_0123456789"})

    text = out.getvalue()
    assert "Stack (most recent call last)" in text
    assert "/nlpearl/webhooks/[redacted]" in text
    assert "StackToken_0123456789" not in text


def test_a_webhook_token_outside_a_url_is_redacted_by_its_prefix() -> None:
    # As a database driver logs the row that keeps the token, at DEBUG.
    line = "INSERT ... VALUES (?, ?) ('T0001', 'lbwh_Zq3vK9_xT-2mWb8RfYc1LpN4sHdE7gAj')"
    assert redact(line, {}) == "INSERT ... VALUES (?, ?) ('T0001', '[redacted]')"


def test_any_slack_token_is_redacted_even_if_not_configured() -> None:
    text = redact("xapp-1-A0-123-abc and xoxp-99-aa and xoxe-1-x", {})
    assert text == "[redacted] and [redacted] and [redacted]"


def test_a_secret_too_short_to_tell_from_words_is_left_alone() -> None:
    assert redact("the key was wrong", {"NLPEARL_API_KEY (secret key)": "key"}) == (
        "the key was wrong"
    )


@settings(max_examples=150, deadline=None)
@given(
    token=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=16),
    secret=st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=8),
    before=st.text(max_size=30),
    after=st.sampled_from(["", " ", '"', "?x=1", "/", "`", "\n", " HTTP/1.1"]),
)
@example(token="0" * 16, secret="[redacte", before="", after="")
def test_no_token_or_secret_survives_any_surrounding(
    token: str, secret: str, before: str, after: str
) -> None:
    secrets = {"SLACK_SIGNING_SECRET": secret}
    text = redact(f"{before}/nlpearl/webhooks/{token}{after} {before}{secret}{after}", secrets)
    assert f"webhooks/{token}" not in text
    # A secret may be a piece of the marker itself ("[redacte"): look only outside the markers.
    outside = text.replace("[redacted SLACK_SIGNING_SECRET]", "\0").replace("[redacted]", "\0")
    assert secret not in outside


def test_secrets_of_names_every_secret_setting() -> None:
    configured = load_settings(
        slack_signing_secret=SIGNING,
        slack_bot_token=BOT,
        slack_app_token="xapp-1-A0-42-feedface",
        slack_client_secret="client-secret-value",
        slack_state_secret="state-secret-value",
        nlpearl_api_key=f"{ACCOUNT}:{SECRET_KEY}",
    )

    assert secrets_of(configured) == {
        "SLACK_SIGNING_SECRET": SIGNING,
        "SLACK_BOT_TOKEN": BOT,
        "SLACK_APP_TOKEN": "xapp-1-A0-42-feedface",
        "SLACK_CLIENT_SECRET": "client-secret-value",
        "SLACK_STATE_SECRET": "state-secret-value",
        "NLPEARL_API_KEY": f"{ACCOUNT}:{SECRET_KEY}",
        "NLPEARL_API_KEY (secret key)": SECRET_KEY,
    }
    assert secrets_of(load_settings()) == {}


def test_installing_again_replaces_the_filter() -> None:
    handler = logging.NullHandler()
    install([handler], {"SLACK_BOT_TOKEN": BOT})
    install([handler], {"SLACK_BOT_TOKEN": "xoxb-other-token"})
    [only] = handler.filters
    assert isinstance(only, RedactingFilter)
    assert only.secrets == {"SLACK_BOT_TOKEN": "xoxb-other-token"}


def test_configure_logging_redacts_every_logger_of_the_process(tmp_path: Path) -> None:
    # A process of its own: configure_logging sets up the root logger, as `lead-bot` does.
    script = f"""
import logging
from bot.app.settings import configure_logging, load_settings
configure_logging(load_settings())
logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "1.2.3.4:5", "POST",
    "/nlpearl/webhooks/{TOKEN}", "1.1", 200)
logging.getLogger("slack_bolt.AsyncApp").debug("headers: Bearer {BOT}")
logging.getLogger("bot.x").warning("signature checked with {SIGNING}")
"""
    env = {
        "PATH": "/usr/bin:/bin",
        "LOG_LEVEL": "DEBUG",
        "SLACK_SIGNING_SECRET": SIGNING,
        "SLACK_BOT_TOKEN": BOT,
        "NLPEARL_API_KEY": f"{ACCOUNT}:{SECRET_KEY}",
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    _assert_clean(done.stderr + done.stdout)
    assert 'uvicorn.access: 1.2.3.4:5 - "POST /nlpearl/webhooks/[redacted] HTTP/1.1" 200' in (
        done.stderr
    )
    assert "Bearer [redacted SLACK_BOT_TOKEN]" in done.stderr
    assert "signature checked with [redacted SLACK_SIGNING_SECRET]" in done.stderr
