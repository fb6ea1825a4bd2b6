"""Every command README.md shows works as written, in a clone set up the README's own way.

Commands are the lines of its `sh` code blocks and the inline code that starts like one.
`make` targets must exist; `lead-bot` command lines must parse with the real parser, and those
that need no credentials are run exactly as written, from the project folder.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app.cli import _parser, main
from tests.test_cli import logging_of_its_own

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCED = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
COMMAND_STARTS = ("make ", "lead-bot", ".venv/bin/", "cp ", "python", "uv ")
LEAD_BOT = ("lead-bot", ".venv/bin/lead-bot")
PIPE_READERS = {"python3"}


def shown_commands() -> list[str]:
    """The README's command lines, in order, without their comments."""
    commands = [
        " ".join(shlex.split(line, comments=True))
        for language, body in FENCED.findall(README)
        if language == "sh"
        for line in body.splitlines()
    ]
    prose = FENCED.sub("", README)
    commands += [
        span
        for span in re.findall(r"`([^`\n]+)`", prose)
        # What lead-bot prints starts "lead-bot: "; it is shown, not run.
        if span.startswith(COMMAND_STARTS) and not span.startswith("lead-bot: ")
    ]
    return [command for command in commands if command]


def segments(command: str) -> list[list[str]]:
    """The simple commands of a command line joined by `&&` or `|`, each as its words."""
    parts: list[list[str]] = [[]]
    for word in shlex.split(command):
        if word in ("&&", "|"):
            parts.append([])
        else:
            parts[-1].append(word)
    return parts


def needs_no_credentials(argv: list[str]) -> bool:
    """Whether a lead-bot command line runs without any setting: help, manifest, sample preview."""
    if {"-h", "--help"} & set(argv) or argv[:1] == ["manifest"]:
        return True
    return argv[:1] == ["preview"] and "--sample" in argv


def parses(argv: list[str]) -> bool:
    """Whether the real `lead-bot` parser accepts these arguments (`--help` counts as accepted)."""
    try:
        _parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code == 0
    return True


def check_words(program: str, args: list[str]) -> None:
    """One simple command: its program exists after the set-up and its arguments make sense."""
    assert program != "uv", "uv is not on the PATH of a fresh clone"
    if program == "make":
        for target in args:
            made = subprocess.run(
                ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=False
            )
            assert made.returncode == 0, f"no make target {target!r}: {made.stderr}"
    elif program in LEAD_BOT:
        assert parses(args), f"lead-bot does not accept {args}"
    elif program in ("cp", ".venv/bin/python"):
        assert (ROOT / args[0]).is_file(), f"{args[0]} is not in the repository"
    if program.startswith(".venv/"):
        assert (ROOT / program).is_file(), f"the set-up does not create {program}"
    elif program not in LEAD_BOT:
        assert shutil.which(program), f"{program} is not installed"


COMMANDS = shown_commands()


def test_the_readme_shows_its_commands() -> None:
    assert len(COMMANDS) >= 10, COMMANDS
    assert ".venv/bin/lead-bot check" in COMMANDS
    assert "make run" in COMMANDS


def test_no_command_needs_uv_on_the_path() -> None:
    # uv is installed into .tools/bin, so a bare `uv run` fails on a fresh clone.
    assert "uv run" not in README


@pytest.mark.parametrize("command", COMMANDS)
def test_command_works_as_written(command: str) -> None:
    words = segments(command)
    for program, *args in words:
        check_words(program, args)
    lead_bot = [args for program, *args in words if program in LEAD_BOT]
    others = {program for program, *_ in words if program not in LEAD_BOT}
    # Run what is safe to run here: lead-bot needing no settings, maybe piped into a reader.
    if lead_bot and all(map(needs_no_credentials, lead_bot)) and others <= PIPE_READERS:
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip()
        assert "Traceback" not in done.stderr


def test_the_first_error_shown_is_what_a_fresh_copy_of_env_example_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    [shown] = [
        line
        for language, body in FENCED.findall(README)
        if not language
        for line in body.splitlines()
        if line.startswith("lead-bot: ")
    ]
    # `lead-bot serve` in this test's empty folder, its working folder (tests/conftest.py).
    # tests/test_cli.py runs the same as a process, which must exit 2 printing this line.
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    with logging_of_its_own(monkeypatch):
        status = main(["serve"])
    assert status == 2
    assert capsys.readouterr().err.strip() == shown


def test_render_pictures_writes_the_json_of_every_readme_picture(tmp_path: Path) -> None:
    # The console's picture is a screenshot (scripts/console_picture.py), not Block Kit.
    pictures = set(re.findall(r"docs/images/([\w-]+)\.png", README)) - {"demo-console"}
    script = ROOT / "scripts" / "render_pictures.py"
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    written = {path.stem for path in tmp_path.glob("*.json")}
    assert pictures <= written
    for name in written:
        message = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        assert message["blocks"]
        assert (ROOT / "docs" / "images" / f"{name}.json").is_file()
