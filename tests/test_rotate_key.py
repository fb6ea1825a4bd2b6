"""`lead-bot rotate-key`: a new key to put first, and every stored NLPearl key resealed under it.

Run through `main()` as a person runs it, on a migrated SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.app.cli import main
from bot.app.settings import HINTS, load_settings
from bot.storage.accounts import account_of, save_account
from bot.storage.engine import create_engine
from bot.storage.rows import Workspace
from bot.storage.sealing import SealBroken, Sealer, generate_key
from bot.storage.tables import nlpearl_accounts
from tests.harness.processes import free_port
from tests.migrated import migrated_sqlite, postgres_template
from tests.postgres import temporary_database
from tests.test_cli import Ran, logging_of_its_own

NOW = datetime(2025, 3, 6, 12, 0, tzinfo=UTC)
KEY_A = generate_key()
KEY_B = generate_key()
KEY_C = generate_key()
# Two workspaces, one of them in an Enterprise Grid org, each with its own account.
ACCOUNTS = {
    Workspace("T1"): ("65f0c0ffee1234567890abc1", "first-secret-111"),
    Workspace("T2", enterprise_id="E1"): ("65f0c0ffee1234567890abc2", "second-secret-222"),
}
NOTHING_CHANGED = (
    "lead-bot: a stored NLPearl key opens with none of ENCRYPTION_KEY's keys, so nothing was "
    "changed: add the key it was encrypted with after a comma and run this again."
)


@pytest.fixture(autouse=True)
def _no_stray_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ENCRYPTION_KEY from the environment running the tests (tests/conftest.py keeps it)."""
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at the latest schema on each backend, as DATABASE_URL spells it."""
    if request.param == "sqlite":
        path = tmp_path / "rotate.db"
        migrated_sqlite(path)
        yield f"sqlite:///{path}"
    else:
        with temporary_database(postgres_template()) as url:
            yield url


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


def save(database_url: str, key: str, accounts: dict[Workspace, tuple[str, str]]) -> None:
    """Connect each workspace to its account, its secret sealed under `key`."""

    async def go() -> None:
        engine = create_engine(database_url)
        try:
            for ws, (account_id, secret) in accounts.items():
                await save_account(
                    engine,
                    Sealer.from_setting(key),
                    ws,
                    account_id=account_id,
                    secret=secret,
                    account_name=f"Account of {ws.team_id}",
                    connected_by="U0ADMIN",
                    now=NOW,
                )
        finally:
            await engine.dispose()

    asyncio.run(go())


def raw_secrets(database_url: str) -> dict[Workspace, str]:
    """The secret column as stored, by workspace."""

    async def go() -> dict[Workspace, str]:
        engine = create_engine(database_url)
        query = select(
            nlpearl_accounts.c.enterprise_id,
            nlpearl_accounts.c.team_id,
            nlpearl_accounts.c.secret,
        )
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        finally:
            await engine.dispose()
        return {Workspace(r.team_id, enterprise_id=r.enterprise_id): r.secret for r in rows}

    return asyncio.run(go())


def opened(database_url: str, key: str) -> dict[Workspace, str | None]:
    """Each workspace's secret as the app opens it with ENCRYPTION_KEY=`key` (None: it can't)."""

    async def go() -> dict[Workspace, str | None]:
        engine = create_engine(database_url)
        sealer = Sealer.from_setting(key)
        found: dict[Workspace, str | None] = {}
        try:
            for ws in ACCOUNTS:
                try:
                    account = await account_of(engine, sealer, ws)
                except SealBroken:
                    found[ws] = None
                else:
                    found[ws] = None if account is None else account.secret
        finally:
            await engine.dispose()
        return found

    return asyncio.run(go())


SECRETS = {ws: secret for ws, (_, secret) in ACCOUNTS.items()}


# --generate


def test_generate_prints_a_fernet_key_alone_on_stdout(lead_bot: Callable[..., Ran]) -> None:
    result = lead_bot("rotate-key", "--generate")

    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert result.stdout == key + "\n"
    sealed = Fernet(key.encode()).encrypt(b"x")
    assert Fernet(key.encode()).decrypt(sealed) == b"x"
    # What to do with it goes to stderr, for the person, not down a pipe.
    assert "ENCRYPTION_KEY" in result.stderr
    assert "lead-bot rotate-key" in result.stderr


def test_generate_needs_no_settings_and_never_repeats(lead_bot: Callable[..., Ran]) -> None:
    keys = {lead_bot("rotate-key", "--generate").stdout.strip() for _ in range(3)}

    assert len(keys) == 3


def test_a_generated_key_is_a_valid_encryption_key(lead_bot: Callable[..., Ran]) -> None:
    new = lead_bot("rotate-key", "--generate").stdout.strip()

    settings = load_settings(encryption_key=f"{new},{KEY_A}")

    assert settings.encryption_key is not None
    assert settings.encryption_key.get_secret_value() == f"{new},{KEY_A}"


# rotating what is stored


def test_rotation_reseals_every_account_under_the_first_key(
    lead_bot: Callable[..., Ran], database_url: str
) -> None:
    save(database_url, KEY_A, ACCOUNTS)
    before = raw_secrets(database_url)

    result = lead_bot(
        "rotate-key", env={"ENCRYPTION_KEY": f"{KEY_B},{KEY_A}", "DATABASE_URL": database_url}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Re-encrypted 2 NLPearl key(s) under the first key")
    after = raw_secrets(database_url)
    assert set(after) == set(before) == set(ACCOUNTS)
    assert all(after[ws] != before[ws] for ws in ACCOUNTS)
    # The old key may go now: the new one alone opens every account, the old one none.
    assert opened(database_url, KEY_B) == SECRETS
    assert opened(database_url, KEY_A) == dict.fromkeys(ACCOUNTS)
    for secret in SECRETS.values():
        assert secret not in str(after)


def test_rotating_again_with_the_new_key_alone_works(
    lead_bot: Callable[..., Ran], database_url: str
) -> None:
    save(database_url, KEY_A, ACCOUNTS)
    lead_bot("rotate-key", env={"ENCRYPTION_KEY": f"{KEY_B},{KEY_A}", "DATABASE_URL": database_url})

    result = lead_bot("rotate-key", env={"ENCRYPTION_KEY": KEY_B})

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Re-encrypted 2 NLPearl key(s)")
    assert opened(database_url, KEY_B) == SECRETS


def test_nothing_stored_is_nothing_to_do(lead_bot: Callable[..., Ran], database_url: str) -> None:
    result = lead_bot("rotate-key", env={"ENCRYPTION_KEY": KEY_B, "DATABASE_URL": database_url})

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Re-encrypted 0 NLPearl key(s)")


def test_a_key_that_opens_nothing_changes_nothing(
    lead_bot: Callable[..., Ran], database_url: str
) -> None:
    save(database_url, KEY_A, ACCOUNTS)
    before = raw_secrets(database_url)

    result = lead_bot(
        "rotate-key", env={"ENCRYPTION_KEY": f"{KEY_C},{KEY_B}", "DATABASE_URL": database_url}
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [NOTHING_CHANGED]
    assert raw_secrets(database_url) == before
    assert opened(database_url, KEY_A) == SECRETS


def test_one_account_no_key_opens_stops_all_of_them(
    lead_bot: Callable[..., Ran], database_url: str
) -> None:
    first, second = list(ACCOUNTS)
    save(database_url, KEY_B, {first: ACCOUNTS[first]})
    save(database_url, KEY_A, {second: ACCOUNTS[second]})
    before = raw_secrets(database_url)

    result = lead_bot(
        "rotate-key", env={"ENCRYPTION_KEY": f"{KEY_C},{KEY_B}", "DATABASE_URL": database_url}
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [NOTHING_CHANGED]
    # All or none: the account the keys could open was not resealed either.
    assert raw_secrets(database_url) == before


def test_without_an_encryption_key_it_says_what_to_set(
    lead_bot: Callable[..., Ran], database_url: str
) -> None:
    save(database_url, KEY_A, ACCOUNTS)
    before = raw_secrets(database_url)

    result = lead_bot("rotate-key", env={"DATABASE_URL": database_url})

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"lead-bot: ENCRYPTION_KEY is missing: set it to {HINTS['ENCRYPTION_KEY']}."
    ]
    assert raw_secrets(database_url) == before


def test_a_malformed_encryption_key_is_named_not_shown(
    lead_bot: Callable[..., Ran], tmp_path: Path
) -> None:
    result = lead_bot(
        "rotate-key",
        env={
            "ENCRYPTION_KEY": f"{KEY_B},hunter2-is-no-key",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        },
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"lead-bot: ENCRYPTION_KEY is not valid: set it to {HINTS['ENCRYPTION_KEY']}."
    ]
    assert "hunter2" not in result.stdout + result.stderr
    assert KEY_B not in result.stdout + result.stderr


def test_an_unmigrated_database_is_one_sentence(
    lead_bot: Callable[..., Ran], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'never-migrated.db'}"

    result = lead_bot("rotate-key", env={"ENCRYPTION_KEY": KEY_B, "DATABASE_URL": url})

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("lead-bot: ")
    assert "lead-bot migrate" in line


def test_an_unreachable_database_is_one_sentence(lead_bot: Callable[..., Ran]) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"

    result = lead_bot("rotate-key", env={"ENCRYPTION_KEY": KEY_B, "DATABASE_URL": url})

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("lead-bot: ")
    assert "DATABASE_URL" in line
