"""The modal view every builder shapes its views with, and a message shown as one."""

from __future__ import annotations

from typing import Any

from bot.blocks.ids import ViewId
from bot.blocks.text import MAX_VIEW_BLOCKS, plain

TITLE_CHARS = 24
MAX_PRIVATE_METADATA = 3000


def modal(
    callback_id: str,
    title: str,
    blocks: list[dict[str, Any]],
    *,
    submit: str | None = None,
    close: str = "Close",
    private_metadata: str = "",
) -> dict[str, Any]:
    """A modal view; Slack allows 24 characters of title and 100 blocks."""
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, TITLE_CHARS),
        "close": plain(close, TITLE_CHARS),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
        "private_metadata": private_metadata[:MAX_PRIVATE_METADATA],
    }
    if submit:
        view["submit"] = plain(submit, TITLE_CHARS)
    return view


def notice_modal(title: str, message: dict[str, Any]) -> dict[str, Any]:
    """A message (e.g. an error notice) shown in a modal."""
    return modal(ViewId.LOADING, title, message["blocks"])
