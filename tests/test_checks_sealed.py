"""`lead-bot check` in multi-workspace mode and ENCRYPTION_KEY.

Without ENCRYPTION_KEY the check stops at once with one sentence (exit 2), as `serve` would; a
connected NLPearl key that none of ENCRYPTION_KEY's keys opens is reported as that, with what
to do, not as "no NLPearl account is connected". Against the Slack and NLPearl stand-ins and a
migrated SQLite file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.checks import run_checks
from bot.app.cli import main
from bot.app.settings import ConfigError, Settings
from bot.storage.accounts import save_account
from bot.storage.engine import create_engine
from bot.storage.installations import installation_store
from bot.storage.rows import Workspace
from bot.storage.sealing import Sealer, generate_key
from tests.harness.workspaces import (
    CLIENT_ID,
    CLIENT_SECRET,
    multi_settings,
    run_check,
    save_install,
)
from tests.migrated import migrated_sqlite
from tests.standins import NLPearlStandIn, SlackStandIn
from tests.test_cli import Ran, logging_of_its_own

KEY = generate_key()
OLD_KEY = generate_key()
NOW = datetime(2025, 3, 6, 12, 0, tzinfo=UTC)
WORKING_KEY = "acct111:secret111"

# slack_sdk sends oauth.v2.access's client credentials with aiohttp's BasicAuth, which the
# installed aiohttp deprecates: the SDK's business, not these tests'.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    path = tmp_path / "check.db"
    migrated_sqlite(path)
    return f"sqlite:///{path}"


@pytest.fixture
def lead_bot(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Ran]:
    """`lead-bot ARGS` with the given variables set (on top of none: see tests/conftest.py)."""

    def run(*args: str, env: dict[str, str] | None = None) -> Ran:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        with logging_of_its_own(monkeypatch):
            status = main(list(args))
        out, err = capsys.readouterr()
        return Ran(status, out, err)

    return run


def environment(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, **more: str
) -> dict[str, str]:
    """Multi-workspace mode's variables, Slack and NLPearl on the stand-ins."""
    return {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_STATE_SECRET": "state-secret-0123456789",
        "SLACK_SIGNING_SECRET": "signing-secret-0123456789",
        "SLACK_API_URL": slack.api_url,
        "NLPEARL_API_URL": nlpearl.url,
        "DATABASE_URL": database_url,
    } | more


def settings_for(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, **more: Any
) -> Settings:
    return multi_settings(slack, nlpearl, database_url, **({"encryption_key": KEY} | more))


async def connect(engine: AsyncEngine, ws: Workspace, key: str, sealed_with: str) -> None:
    """The workspace's connected NLPearl key, sealed with `sealed_with` (an ENCRYPTION_KEY)."""
    account_id, _, secret = key.partition(":")
    await save_account(
        engine,
        Sealer.from_setting(sealed_with),
        ws,
        account_id=account_id,
        secret=secret,
        account_name="Acme",
        connected_by="U0ADMIN",
        now=NOW,
    )


def seeded(database_url: str, *, sealed_with: str | None) -> None:
    """From a test that is not async: Acme (T1) installed, its key sealed with `sealed_with`."""

    async def seed() -> None:
        engine = create_engine(database_url)
        try:
            await save_install(engine, "T1", "Acme", "xoxb-t1")
            if sealed_with is not None:
                await connect(engine, Workspace("T1"), WORKING_KEY, sealed_with=sealed_with)
        finally:
            await engine.dispose()

    asyncio.run(seed())


SEALED_ELSEWHERE = (
    "✗ Acme (T1): bot token works as @leadbot, but its stored NLPearl key opens with none of "
    "ENCRYPTION_KEY's keys: put back the key it was encrypted with (after a comma), or an admin "
    "connects NLPearl again from Lead Bot's Home tab."
)


# No ENCRYPTION_KEY


@pytest.mark.parametrize("value", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_check_without_encryption_key_stops_with_one_sentence(
    lead_bot: Callable[..., Ran],
    slack: SlackStandIn,
    nlpearl: NLPearlStandIn,
    database_url: str,
    value: str | None,
) -> None:
    slack.add_workspace("T1", "xoxb-t1")
    seeded(database_url, sealed_with=None)
    env = environment(slack, nlpearl, database_url)
    if value is not None:
        env["ENCRYPTION_KEY"] = value

    result = lead_bot("check", env=env)

    assert result.returncode == 2
    assert result.stdout == ""
    [sentence] = result.stderr.splitlines()
    assert sentence.startswith("lead-bot: ENCRYPTION_KEY is missing")
    assert sentence.endswith(".")
    assert "Traceback" not in result.stderr
    # Stopped before trying anything.
    assert slack.records() == []
    assert nlpearl.requests() == []


def test_check_with_a_malformed_encryption_key_stops_with_one_sentence(
    lead_bot: Callable[..., Ran], slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str
) -> None:
    env = environment(slack, nlpearl, database_url, ENCRYPTION_KEY="not-a-fernet-key")

    result = lead_bot("check", env=env)

    assert result.returncode == 2
    assert result.stdout == ""
    [sentence] = result.stderr.splitlines()
    assert sentence.startswith("lead-bot: ENCRYPTION_KEY")
    assert "not-a-fernet-key" not in result.stderr


async def test_run_checks_without_encryption_key_raises_before_any_line(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str
) -> None:
    lines: list[str] = []
    settings = settings_for(slack, nlpearl, database_url, encryption_key=None)

    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        await run_checks(settings, out=lines.append)

    assert lines == []


# A connected key ENCRYPTION_KEY cannot open


async def test_a_key_sealed_under_another_key_names_encryption_key(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, engine: AsyncEngine
) -> None:
    slack.add_workspace("T1", "xoxb-t1")
    account = nlpearl.add_account(WORKING_KEY)
    await save_install(engine, "T1", "Acme", "xoxb-t1")
    await connect(engine, Workspace("T1"), WORKING_KEY, sealed_with=OLD_KEY)

    status, lines = await run_check(settings_for(slack, nlpearl, database_url))

    assert status == 1
    assert lines == ["✓ Database: sqlite answers", SEALED_ELSEWHERE, "1 problem(s) to fix."]
    assert "not connected" not in "\n".join(lines)
    # Unopened, the key was never sent anywhere.
    assert account.requests() == []
    assert nlpearl.requests() == []
    assert "secret111" not in "\n".join(lines)


async def test_the_old_key_kept_after_a_comma_opens_it_again(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, engine: AsyncEngine
) -> None:
    slack.add_workspace("T1", "xoxb-t1")
    account = nlpearl.add_account(WORKING_KEY)
    await save_install(engine, "T1", "Acme", "xoxb-t1")
    await connect(engine, Workspace("T1"), WORKING_KEY, sealed_with=OLD_KEY)

    status, lines = await run_check(
        settings_for(slack, nlpearl, database_url, encryption_key=f"{KEY},{OLD_KEY}")
    )

    assert status == 0
    assert lines[1] == "✓ Acme (T1): bot token works as @leadbot; NLPearl key accepted"
    assert [r.api_key for r in account.requests()] == [WORKING_KEY]


async def test_each_workspace_is_told_apart_sealed_elsewhere_or_not_connected(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, engine: AsyncEngine
) -> None:
    slack.add_workspace("T1", "xoxb-t1")
    slack.add_workspace("T2", "xoxb-t2")
    slack.add_workspace("T3", "xoxb-t3")
    nlpearl.add_account(WORKING_KEY)
    await save_install(engine, "T1", "Acme", "xoxb-t1")
    await save_install(engine, "T2", "Nobody", "xoxb-t2")
    await save_install(engine, "T3", "Fine", "xoxb-t3")
    await connect(engine, Workspace("T1"), WORKING_KEY, sealed_with=OLD_KEY)
    await connect(engine, Workspace("T3"), WORKING_KEY, sealed_with=KEY)

    status, lines = await run_check(settings_for(slack, nlpearl, database_url))

    assert status == 1
    assert sorted(lines[1:-1]) == sorted(
        [
            SEALED_ELSEWHERE,
            "✗ Nobody (T2): bot token works as @leadbot, but no NLPearl account is connected "
            "yet: an admin connects it from Lead Bot's Home tab.",
            "✓ Fine (T3): bot token works as @leadbot; NLPearl key accepted",
        ]
    )
    assert lines[-1] == "2 problem(s) to fix."


async def test_an_org_wide_install_with_a_key_sealed_elsewhere_names_encryption_key(
    slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str, engine: AsyncEngine
) -> None:
    slack.set_oauth_client(CLIENT_ID, CLIENT_SECRET)
    slack.program_install(
        "code-org",
        enterprise_id="E1",
        enterprise_name="Grid Co",
        is_enterprise_install=True,
        token="xoxb-org",
        bot_user_id="U0ORGBOT",
    )
    await AsyncWebClient(base_url=slack.api_url).oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code="code-org"
    )
    await installation_store(engine, CLIENT_ID).async_save(
        Installation(
            app_id="A0LEADBOT",
            enterprise_id="E1",
            enterprise_name="Grid Co",
            team_id=None,
            is_enterprise_install=True,
            bot_token="xoxb-org",
            bot_user_id="U0ORGBOT",
            user_id="U0INSTALLER",
        )
    )
    account = nlpearl.add_account(WORKING_KEY)
    await connect(engine, Workspace("T9", enterprise_id="E1"), WORKING_KEY, sealed_with=OLD_KEY)

    status, lines = await run_check(settings_for(slack, nlpearl, database_url))

    assert status == 1
    (line,) = [line for line in lines if "Grid Co" in line]
    assert line.startswith("✗ Grid Co (E1): bot token works")
    assert "opens with none of ENCRYPTION_KEY's keys" in line
    assert "no NLPearl account is connected" not in line
    assert account.requests() == []


def test_lead_bot_check_reports_a_key_sealed_elsewhere(
    lead_bot: Callable[..., Ran], slack: SlackStandIn, nlpearl: NLPearlStandIn, database_url: str
) -> None:
    slack.add_workspace("T1", "xoxb-t1")
    nlpearl.add_account(WORKING_KEY)
    seeded(database_url, sealed_with=OLD_KEY)

    result = lead_bot("check", env=environment(slack, nlpearl, database_url, ENCRYPTION_KEY=KEY))

    assert result.returncode == 1, result.stderr
    assert SEALED_ELSEWHERE in result.stdout.splitlines()
    assert "Traceback" not in result.stderr
    assert KEY not in result.stdout + result.stderr
    assert OLD_KEY not in result.stdout + result.stderr
