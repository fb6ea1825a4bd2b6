"""Scan the logs of the processes the harness starts for the secrets they were given.

"Secrets are never logged" is checked over the whole end-to-end run: every process started
through `watch` has its log scanned, once it has stopped, for every secret in its environment
and for every webhook token a test was shown (`remember_webhook_token`). A hit names the
secret, never its value.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.app.log_redaction import MIN_SECRET_LENGTH

SECRET_VARIABLES = (
    "SLACK_SIGNING_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_SECRET",
    "SLACK_STATE_SECRET",
    "NLPEARL_API_KEY",
)


@dataclass
class Watched:
    """A process's log and the secrets it was given."""

    log_path: Path
    secrets: dict[str, str]
    scanned: bool = False


def secrets_given(env: Mapping[str, str]) -> dict[str, str]:
    """The secrets in a process environment by name, the NLPearl key's secret half too."""
    found = {name: env[name] for name in SECRET_VARIABLES if env.get(name)}
    if key := found.get("NLPEARL_API_KEY"):
        found["NLPEARL_API_KEY's secret half"] = key.partition(":")[2]
    return found


def leaks(log: str, secrets: Mapping[str, str]) -> list[str]:
    """The names of the secrets found in the log (shorter ones would match ordinary words)."""
    return sorted(
        name for name, value in secrets.items() if len(value) >= MIN_SECRET_LENGTH and value in log
    )


class Scanner:
    """The watched logs and the webhook tokens issued so far."""

    def __init__(self) -> None:
        self.watched: list[Watched] = []
        self.tokens: dict[str, str] = {}  # token -> which test was shown it

    def watch(self, log_path: Path, env: Mapping[str, str]) -> None:
        """Scan this log for the process's secrets and every webhook token, when asked to."""
        self.watched.append(Watched(log_path, secrets_given(env)))

    def remember_webhook_token(self, token: str) -> None:
        """Note a webhook token a test was shown, so that every process log is scanned for it."""
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0] or "an unknown test"
        self.tokens.setdefault(token, f"the webhook token shown in {test}")

    def scan(self, log_paths: Iterable[Path] | None = None) -> list[str]:
        """Scan the logs not scanned yet (or only those given): one line per leaking log."""
        wanted = None if log_paths is None else set(log_paths)
        problems = []
        for watched in self.watched:
            if watched.scanned or (wanted is not None and watched.log_path not in wanted):
                continue
            watched.scanned = True
            if not watched.log_path.exists():
                continue
            log = watched.log_path.read_text(errors="replace")
            tokens = {label: token for token, label in self.tokens.items()}
            if found := leaks(log, {**watched.secrets, **tokens}):
                problems.append(f"{watched.log_path} contains {', '.join(found)}")
        return problems

    def assert_no_leaks(self, log_paths: Iterable[Path] | None = None) -> None:
        """Fail naming each log that contains a secret or a webhook token, and which."""
        problems = self.scan(log_paths)
        assert not problems, "secrets were logged:\n" + "\n".join(problems)


# The harness's one scanner, for the whole run.
SCANNER = Scanner()
watch = SCANNER.watch
remember_webhook_token = SCANNER.remember_webhook_token
assert_no_leaks = SCANNER.assert_no_leaks
