"""Builders are pure at run time too: importing them loads no I/O library.

import-linter checks the imports written in `bot/`; a package's `__init__` can still pull a
client in when a builder imports one of its modules. A fresh interpreter shows what loads.
"""

from __future__ import annotations

import json
import subprocess
import sys

BUILDERS = [
    "bot.blocks.alerts",
    "bot.blocks.attention",
    "bot.blocks.campaign_card",
    "bot.blocks.chart",
    "bot.blocks.sparkline",
    "bot.blocks.days",
    "bot.blocks.digest",
    "bot.blocks.home",
    "bot.blocks.lead_card",
    "bot.blocks.messages",
    "bot.blocks.notifications",
    "bot.blocks.subscriptions",
    "bot.blocks.views",
    "bot.records",
    "bot.reports",
]
IO_LIBRARIES = ["httpx", "sqlalchemy", "aiohttp", "slack_sdk", "slack_bolt", "starlette"]


def test_importing_every_builder_loads_no_io_library() -> None:
    script = (
        "import importlib, json, sys\n"
        f"for name in {BUILDERS!r}: importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {IO_LIBRARIES!r} if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []
