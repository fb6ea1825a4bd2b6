"""Draws docs/images/demo-console.png: `lead-bot demo` after a minute of use, in Chromium.

Run with `.venv/bin/python scripts/console_picture.py` (needs Debian's Chromium).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PICTURE = ROOT / "docs" / "images" / "demo-console.png"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    env = {**os.environ, "PORT": str(free_port()), "PYTHONUNBUFFERED": "1"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert demo.stdout is not None
        found = re.search(r"open (\S+)", demo.stdout.readline())
        assert found, "the demo printed no URL"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(found.group(1))
            welcome = page.get_by_text(re.compile(r"try: /lead")).first
            welcome.wait_for()
            lookup = re.search(r"/lead \w+ \w+", welcome.inner_text())
            assert lookup
            page.locator('[data-speed="5"]').click()
            page.locator('[data-channel-id="C0DEMOSALES"]').click()
            page.locator("#composer").fill(lookup.group(0))
            page.locator("#composer").press("Enter")
            page.get_by_text("Share in channel").first.wait_for()
            page.get_by_text("Share in channel").first.click()
            time.sleep(20)
            page.locator('[data-channel-id="C0DEMOFEED"]').click()
            time.sleep(2)
            page.screenshot(path=str(PICTURE))
            browser.close()
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(15)
    print(f"Wrote {PICTURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
