"""The harness's secret scan finds what it must, so a clean run of the suite means something."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.log_scan import Scanner, leaks, secrets_given

TOKEN = "Zq3vK9_xT-2mWb8RfYc1LpN4sHdE7gAj"
ENV = {
    "SLACK_SIGNING_SECRET": "e2e-signing-secret",
    "SLACK_BOT_TOKEN": "xoxb-test-token",
    "NLPEARL_API_KEY": "acct123:secret456",
    "SLACK_APP_TOKEN": "",
    "PORT": "3000",
}


def test_secrets_given_are_those_of_the_environment_with_the_keys_half() -> None:
    assert secrets_given(ENV) == {
        "SLACK_SIGNING_SECRET": "e2e-signing-secret",
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "NLPEARL_API_KEY": "acct123:secret456",
        "NLPEARL_API_KEY's secret half": "secret456",
    }


def test_leaks_names_what_it_finds() -> None:
    secrets = secrets_given(ENV)
    log = 'INFO uvicorn.access: 1.2.3.4:5 - "GET /x" 200\nDEBUG auth: Bearer acct123:secret456\n'

    assert leaks(log, secrets) == ["NLPEARL_API_KEY", "NLPEARL_API_KEY's secret half"]
    assert leaks(log.replace("secret456", "[redacted]"), secrets) == []


def test_a_log_with_a_webhook_token_fails_naming_the_test_not_the_token(tmp_path: Path) -> None:
    scanner = Scanner()
    leaking, clean = tmp_path / "server-1.log", tmp_path / "server-2.log"
    leaking.write_text(f'INFO uvicorn.access: 1.2.3.4:5 - "POST /nlpearl/webhooks/{TOKEN}" 200\n')
    clean.write_text('INFO uvicorn.access: 1.2.3.4:5 - "POST /nlpearl/webhooks/[redacted]" 200\n')
    scanner.watch(leaking, ENV)
    scanner.watch(clean, ENV)
    scanner.remember_webhook_token(TOKEN)

    with pytest.raises(AssertionError) as failure:
        scanner.assert_no_leaks()

    message = str(failure.value)
    assert str(leaking) in message
    assert "the webhook token shown in tests/e2e/test_log_scan.py::" in message
    assert str(clean) not in message
    assert TOKEN not in message
    # Each log is scanned once: the failure is reported by the owner of the process only.
    scanner.assert_no_leaks()


def test_only_the_logs_asked_for_are_scanned(tmp_path: Path) -> None:
    scanner = Scanner()
    theirs, ours = tmp_path / "theirs.log", tmp_path / "ours.log"
    theirs.write_text("signing with e2e-signing-secret\n")
    ours.write_text("nothing secret\n")
    scanner.watch(theirs, ENV)
    scanner.watch(ours, ENV)

    scanner.assert_no_leaks([ours])
    with pytest.raises(AssertionError, match=r"theirs\.log contains SLACK_SIGNING_SECRET"):
        scanner.assert_no_leaks()
