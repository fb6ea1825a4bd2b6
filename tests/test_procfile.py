"""The Procfile, run the way a Heroku-like host runs it: honcho, PORT set, from a fresh checkout."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
HONCHO = Path(sys.executable).with_name("honcho")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The tracked files of this repository, as a fresh clone would have them."""
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    target = tmp_path / "app"
    for name in tracked:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def host_environment(checkout: Path, port: int) -> dict[str, str]:
    """What a host gives the dyno: config vars, PORT, and the app's installed scripts on PATH."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NLPEARL_"))}
    return {
        **keep,
        "PATH": f"{HONCHO.parent}{os.pathsep}{keep.get('PATH', '')}",
        # The checkout's own package wins over the development install.
        "PYTHONPATH": str(checkout),
        "PORT": str(port),
        "SLACK_SIGNING_SECRET": "procfile-secret",
        "SLACK_BOT_TOKEN": "xoxb-procfile",
        "NLPEARL_API_KEY": "acct:secret",
        "DATABASE_URL": f"sqlite:///{checkout}/procfile.db",
    }


@pytest.fixture
def web(checkout: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`honcho start web` in the checkout."""
    port = free_port()
    log = (checkout / "honcho.log").open("wb")
    process = subprocess.Popen(
        [str(HONCHO), "start", "web"],
        cwd=checkout,
        env=host_environment(checkout, port),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield process, f"http://127.0.0.1:{port}"
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()


def test_release_phase_migrates(checkout: Path) -> None:
    result = subprocess.run(
        [str(HONCHO), "start", "release"],
        cwd=checkout,
        env=host_environment(checkout, free_port()),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Database schema is up to date." in result.stdout
    assert (checkout / "procfile.db").exists()


def test_web_process_serves_healthz_and_stops_on_sigterm(
    web: tuple[subprocess.Popen[bytes], str], checkout: Path
) -> None:
    process, url = web
    deadline = time.monotonic() + 30
    response = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            response = httpx.get(f"{url}/healthz", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    log = (checkout / "honcho.log").read_text(errors="replace")
    assert response is not None, f"web never answered:\n{log}"
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}

    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    log = (checkout / "honcho.log").read_text(errors="replace")
    assert "Application shutdown complete" in log
