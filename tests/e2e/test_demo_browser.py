"""`lead-bot demo` as a visitor tries it: the real process, driven in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.processes import free_port

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
# As the machine's notes say Chromium must start here: no network of its own, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
URL_LINE = re.compile(r"open (http://127\.0\.0\.1:\d+/demo)")
TRY_LINE = re.compile(r"try: (/lead [0-9a-f]{24} [0-9a-f]{24})")
STARTUP_SECONDS = 30.0
WAIT_MS = 20_000


def _require_chromium() -> None:
    if shutil.which(CHROMIUM) is None:
        reason = "Debian's Chromium is not installed (make browser installs it where it can)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the console's browser test")
        pytest.skip(reason)


class DemoProcess:
    """`lead-bot demo` on a free port; its output kept for the failure message."""

    def __init__(self, workdir: Path) -> None:
        self.log_path = workdir / "demo.log"
        # Where it keeps its throwaway database: looked at once it has stopped.
        self.temp = workdir / "tmp"
        self.temp.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NLPEARL_"))}
        env |= {"PORT": str(free_port()), "PYTHONUNBUFFERED": "1", "TMPDIR": str(self.temp)}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("lead-bot")), "demo"],
                env=env,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def url(self) -> str:
        """The one URL the demo prints, once it serves."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            found = URL_LINE.search(self.output())
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"lead-bot demo printed no URL:\n{self.output()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoProcess]:
    _require_chromium()
    started = DemoProcess(tmp_path)
    yield started
    code = started.stop()
    assert code == 0, f"lead-bot demo ended with {code}:\n{started.output()}"
    assert "Traceback" not in started.output(), started.output()
    # Throwaway: nothing of the demo is left, where it ran or where it kept its database.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.log", "tmp"]
    assert list(started.temp.iterdir()) == []


def test_a_visitor_looks_up_shares_reads_subscribes_and_opens_home(demo: DemoProcess) -> None:
    from playwright.sync_api import expect, sync_playwright

    url = demo.url()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        expect(page.get_by_text("Demo", exact=False).first).to_be_visible()

        # The campaign feed moves by itself: the demo subscribed it as a person would.
        page.locator('[data-channel-id="C0DEMOFEED"]').click()
        expect(page.locator(".message").first).to_be_visible(timeout=WAIT_MS)

        # The welcome note says what to type.
        welcome = page.get_by_text(TRY_LINE).first
        expect(welcome).to_be_visible(timeout=WAIT_MS)
        found = TRY_LINE.search(welcome.inner_text())
        assert found is not None
        lookup = found.group(1)

        page.locator('[data-channel-id="C0DEMOSALES"]').click()
        page.locator("#composer").fill(lookup)
        page.locator("#composer").press("Enter")
        card = page.locator(".message", has_text="Only visible to you").last
        expect(card.get_by_text("Share in channel")).to_be_visible(timeout=WAIT_MS)

        card.get_by_text("Transcript").first.click()
        dialog = page.locator('[role="dialog"]')
        expect(dialog).to_have_attribute("aria-label", re.compile("Transcript"), timeout=WAIT_MS)
        expect(dialog).to_contain_text("Brightline Solar")
        page.locator("#modal-close").click()
        expect(dialog).to_have_count(0, timeout=WAIT_MS)

        card.get_by_text("Share in channel").click()
        shared = page.locator(".message:not(.reply)", has_text="Shared by").last
        expect(shared).to_be_visible(timeout=WAIT_MS)
        expect(shared).not_to_contain_text("Only visible to you")

        # Subscribing this channel: the reply, then the sandbox's calls arrive and update.
        page.locator('[data-speed="5"]').click()
        page.locator("#composer").fill(
            lookup.replace("/lead ", "/lead subscribe ").rsplit(" ", 1)[0]
        )
        page.locator("#composer").press("Enter")
        expect(page.locator(".message", has_text="Subscribed").last).to_be_visible(timeout=WAIT_MS)
        feed = page.locator(".message:not(.reply)", has=page.locator(".reply"))
        expect(feed.first).to_be_visible(timeout=WAIT_MS * 2)
        expect(page.locator(".message", has_text="(edited)").first).to_be_visible(
            timeout=WAIT_MS * 2
        )

        page.locator("#open-home").click()
        home = page.locator('[data-surface="home"]')
        expect(home).to_contain_text("Lead Bot", timeout=WAIT_MS)
        expect(home).to_contain_text("Channel subscriptions", timeout=WAIT_MS)

        browser.close()
        assert errors == []
