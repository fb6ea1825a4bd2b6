"""Checks that a Block Kit message fits Slack's limits and carries no injected mentions or links.

`assert_valid_message` runs slack_sdk's own validators (`Block.parse(...).to_dict()` raises on a
limit it knows) and adds the limits slack_sdk does not check, including the undocumented cap on
the text of a whole message. `assert_no_injection` looks at the raw strings Slack parses as
mrkdwn: the blocks' mrkdwn text objects and the top-level `text` fallback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50
MAX_FALLBACK_TEXT = 3000
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ID = 255
# Slack's undocumented whole-message cap (`msg_blocks_too_long`), hit around 12-13k characters.
MAX_TOTAL_TEXT = 12_000

# Tokens our own builders write into mrkdwn on purpose.
_DATE_TOKEN = re.compile(r"<!date\^\d+\^[^<>|]*\|[^<>|]*>")
# Anything else inside `<…>` that Slack would turn into a mention, broadcast or link.
_SPECIAL = re.compile(r"<\s*(?:[!@#]|[a-z][a-z0-9+.\-]*:)", re.IGNORECASE)
# Keys whose strings Slack never renders as text (identifiers, button payloads, link targets).
_NOT_RENDERED = frozenset({"type", "action_id", "block_id", "value", "url", "style"})


def text_objects(blocks: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Every text object (`mrkdwn` or `plain_text`) anywhere in the blocks."""
    for node in _nodes(list(blocks)):
        if node.get("type") in {"mrkdwn", "plain_text"} and "text" in node:
            yield node


def total_text(message: dict[str, Any]) -> int:
    """Characters of text in all the message's blocks, as Slack's whole-message cap counts."""
    return sum(len(obj["text"]) for obj in text_objects(message.get("blocks", [])))


def assert_valid_message(message: dict[str, Any]) -> None:
    """Fail unless Slack would accept the message: every block, every limit, the fallback text."""
    assert set(message) >= {"text", "blocks"}, f"message lacks text or blocks: {sorted(message)}"
    text = message["text"]
    assert isinstance(text, str), "fallback text must be a string"
    assert text.strip(), "fallback text must not be empty"
    assert len(text) <= MAX_FALLBACK_TEXT, f"fallback text is {len(text)} characters"

    blocks = message["blocks"]
    assert isinstance(blocks, list)
    assert blocks, "a message with blocks needs at least one"
    assert len(blocks) <= MAX_BLOCKS, f"{len(blocks)} blocks"

    action_ids: list[str] = []
    for index, block in enumerate(blocks):
        parsed = Block.parse(block)
        assert parsed is not None, f"block {index} has an unknown type: {block!r:.200}"
        # to_dict() runs slack_sdk's validators and raises SlackObjectFormationError on a limit.
        assert parsed.to_dict() == block, (
            f"block {index} does not survive slack_sdk: {block!r:.300}"
        )
        _check_block(index, block)
        action_ids += [n["action_id"] for n in _nodes(block) if "action_id" in n]

    duplicates = sorted({a for a in action_ids if action_ids.count(a) > 1})
    assert not duplicates, f"action_ids repeat: {duplicates}"
    for obj in text_objects(blocks):
        assert obj["text"], "text objects must not be empty"
    total = total_text(message)
    assert total < MAX_TOTAL_TEXT, f"blocks hold {total} characters of text"


def _check_block(index: int, block: dict[str, Any]) -> None:
    where = f"block {index} ({block.get('type')})"
    if "block_id" in block:
        assert len(block["block_id"]) <= MAX_ID, f"{where}: block_id too long"
    kind = block["type"]
    if kind == "section":
        assert "text" in block or "fields" in block, f"{where}: neither text nor fields"
        if "text" in block:
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT, f"{where}: text too long"
        fields = block.get("fields", [])
        assert len(fields) <= MAX_FIELDS, f"{where}: {len(fields)} fields"
        for field in fields:
            assert 0 < len(field["text"]) <= MAX_FIELD_TEXT, (
                f"{where}: field of {len(field['text'])}"
            )
        if "accessory" in block:
            _check_element(where, block["accessory"])
    elif kind == "header":
        assert block["text"]["type"] == "plain_text", f"{where}: header must be plain_text"
        assert 0 < len(block["text"]["text"]) <= MAX_HEADER_TEXT, f"{where}: header too long"
    elif kind == "context":
        assert 0 < len(block["elements"]) <= MAX_CONTEXT_ELEMENTS, f"{where}: element count"
        for element in block["elements"]:
            if "text" in element:
                assert len(element["text"]) <= MAX_SECTION_TEXT, f"{where}: element too long"
    elif kind == "actions":
        assert 0 < len(block["elements"]) <= MAX_ACTIONS_ELEMENTS, f"{where}: element count"
        for element in block["elements"]:
            _check_element(where, element)


def _check_element(where: str, element: dict[str, Any]) -> None:
    if "action_id" in element:
        assert len(element["action_id"]) <= MAX_ID, f"{where}: action_id too long"
    if element.get("type") != "button":
        return
    assert element["text"]["type"] == "plain_text", f"{where}: button text must be plain_text"
    assert 0 < len(element["text"]["text"]) <= MAX_BUTTON_TEXT, f"{where}: button text too long"
    if "value" in element:
        assert len(element["value"]) <= MAX_BUTTON_VALUE, f"{where}: button value too long"
    if "url" in element:
        assert len(element["url"]) <= MAX_URL, f"{where}: button url too long"
        assert element["url"].startswith(("https://", "http://")), f"{where}: url scheme"


def assert_no_injection(
    message: dict[str, Any], *, shared_by: str | None = None, allowed_urls: Iterable[str] = ()
) -> None:
    """Fail if any text Slack parses as mrkdwn could mention, broadcast or link by itself.

    Checked: the top-level `text` fallback and every rendered string in the blocks. Allowed:
    our `<!date^…>` tokens, `<@shared_by>` when the caller passes that user ID, and links to
    `allowed_urls`. `plain_text` objects are not checked: Slack parses no mentions or links in
    them. Identifiers, button values and button URLs are not shown as text. Every mrkdwn object
    must also be `verbatim`, so Slack does not auto-link or auto-mention in it.
    """
    allowed = [_DATE_TOKEN]
    if shared_by is not None:
        allowed.append(re.compile(re.escape(f"<@{shared_by}>")))
    allowed += [re.compile(re.escape(f"<{url}") + r"(?:\|[^<>]*)?>") for url in allowed_urls]

    def check(where: str, text: str) -> None:
        rest = text
        for pattern in allowed:
            rest = pattern.sub("", rest)
        found = _SPECIAL.search(rest)
        assert found is None, f"{where} can mention or link: {rest[found.start() :][:80]!r}"

    check("fallback text", message["text"])
    for where, text in _rendered_strings(message["blocks"], "blocks"):
        check(where, text)
    for obj in text_objects(message["blocks"]):
        if obj["type"] == "mrkdwn":
            assert obj.get("verbatim") is True, f"mrkdwn without verbatim: {obj['text']!r:.80}"


def _rendered_strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if node.get("type") == "plain_text":
            return
        for key, value in node.items():
            if key in _NOT_RENDERED and isinstance(value, str):
                continue
            yield from _rendered_strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _rendered_strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def all_strings(node: Any) -> Iterator[str]:
    """Every string anywhere in a message, keys included: for checks like "appears nowhere"."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from all_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_strings(value)
    elif isinstance(node, str):
        yield node
