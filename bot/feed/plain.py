"""A feed message in plain words, for when Slack refuses its blocks: the event is not lost."""

from __future__ import annotations

from typing import Any

from bot.blocks.text import ELLIPSIS, MAX_FALLBACK_TEXT, escape


def as_plain_text(message: dict[str, Any], limit: int = MAX_FALLBACK_TEXT) -> str:
    """The words of the message's blocks, whole lines within `limit`, or its own fallback text.

    The blocks' mrkdwn is already escaped by whoever rendered it; plain_text is escaped here.
    Buttons are left out: a link that made Slack refuse the blocks would be refused again.
    """
    lines = [line for block in message.get("blocks") or [] for line in _words(block)]
    kept: list[str] = []
    used = 0
    for line in lines:
        # Cutting inside a line could split a `<!date^…>` token or an entity: drop it whole.
        if used + len(line) + 1 > limit - len(ELLIPSIS) - 1:
            kept.append(ELLIPSIS)
            break
        kept.append(line)
        used += len(line) + 1
    text = "\n".join(kept).strip()
    if not text or text == ELLIPSIS:
        text = str(message.get("text") or "")
    return text or ELLIPSIS


def _words(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "context":
        return [t for e in block.get("elements") or [] if (t := _text(e, " "))]
    if kind not in ("section", "header"):
        return []
    main = _text(block.get("text"), "\n")
    fields = [t for f in block.get("fields") or [] if (t := _text(f, " "))]
    return [*(main.split("\n") if main else []), *fields]


def _text(item: Any, joiner: str) -> str:
    """A text object's words as mrkdwn, its lines joined by `joiner`."""
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return ""
    words = item["text"] if item.get("type") == "mrkdwn" else escape(item["text"])
    return joiner.join(line.strip() for line in words.split("\n") if line.strip())
