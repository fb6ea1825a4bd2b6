"""Render the README's pictures of the card and messages with shared/tools/render-blocks.

Usage: uv run python scripts/render_pictures.py [PATH/TO/render-blocks]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.blocks import messages
from bot.blocks.lead_card import lead_card
from bot.ids import CardRef
from bot.sample import SAMPLE_CAMPAIGN_ID, SAMPLE_LEAD_ID, sample_report

ROOT = Path(__file__).resolve().parents[1]
RENDERER = ROOT.parent / "shared" / "tools" / "render-blocks" / "render-blocks"
# A fixed moment, so pictures only change when the card does (18:42 UTC is 10:42 for the lead).
NOW = datetime(2026, 11, 27, 18, 42, tzinfo=UTC)


def without_verbatim(value: Any) -> Any:
    """The renderer shows `verbatim` mrkdwn as raw text; Slack still formats it, so drop the flag."""
    if isinstance(value, dict):
        return {k: without_verbatim(v) for k, v in value.items() if k != "verbatim"}
    if isinstance(value, list):
        return [without_verbatim(v) for v in value]
    return value


def pictures() -> dict[str, dict[str, Any]]:
    """Every picture's name and message."""
    ref = CardRef(campaign_id=SAMPLE_CAMPAIGN_ID, kind="id", key=SAMPLE_LEAD_ID)
    shared = ref.model_copy(update={"shared_by": "U0SAMPLE"})
    return {
        "lead-card": lead_card(sample_report(), ref, now=NOW, mask=False),
        "shared-card": lead_card(sample_report(), shared, now=NOW, mask=True),
        "help": messages.help_message(),
        # Short messages are rendered together: the renderer crops pictures under ~150 px.
        "errors": stacked(
            messages.usage_problem("That looks like only one ID. Give the campaign and then the lead."),
            messages.lead_not_found(SAMPLE_CAMPAIGN_ID, "crm-009999"),
            messages.nlpearl_rejected_key(),
            messages.nlpearl_unavailable(),
        ),
    }


def stacked(*notices: dict[str, Any]) -> dict[str, Any]:
    """Several messages' blocks in one picture, divided."""
    blocks: list[dict[str, Any]] = []
    for notice in notices:
        blocks += [*notice["blocks"], {"type": "divider"}]
    return {"text": "", "blocks": blocks[:-1]}


def main() -> None:
    renderer = Path(sys.argv[1]) if len(sys.argv) > 1 else RENDERER
    with tempfile.TemporaryDirectory() as scratch:
        for name, message in pictures().items():
            source = Path(scratch) / f"{name}.json"
            source.write_text(json.dumps(without_verbatim(message)))
            target = ROOT / "docs" / "images" / f"{name}.png"
            subprocess.run([str(renderer), str(source), str(target), "--name", "Lead Bot"], check=True)


if __name__ == "__main__":
    main()
