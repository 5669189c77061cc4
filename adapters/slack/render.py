"""A neutral Reply as Slack messages in Block Kit, within Slack's size limits.

Long texts are split across sections, and blocks past the per-message limit go to follow-up
messages, so a long reply arrives whole instead of failing with an API error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from adapters.slack.mrkdwn import escape
from bot.replies import Button, Reply, split_text
from bot.texts import text as bot_text

log = logging.getLogger(__name__)

Block = dict[str, Any]

SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS_PER_SECTION = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTONS_PER_ACTIONS = 25
BLOCKS_PER_MESSAGE = 50
FALLBACK_TEXT = 300
LONG_HEADING = 300
CHOICE_ACTIONS = ("ask", "launch")


@dataclass(frozen=True)
class SlackMessage:
    """One chat message: `text` is the notification fallback, `blocks` what people see."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def render(reply: Reply) -> list[SlackMessage]:
    blocks = _blocks(reply)
    chunks = [blocks[at : at + BLOCKS_PER_MESSAGE] for at in range(0, len(blocks), BLOCKS_PER_MESSAGE)]
    fallback = clip(reply.plain_text(), FALLBACK_TEXT) or "…"
    if len(chunks) <= 1:
        return [SlackMessage(text=fallback, blocks=blocks)]
    return [
        SlackMessage(text=f"{fallback} ({number}/{len(chunks)})", blocks=chunk)
        for number, chunk in enumerate(chunks, 1)
    ]


def clip(raw: str, limit: int) -> str:
    """`raw` escaped, cut (with an ellipsis) so the escaped text fits `limit` without breaking an entity."""
    escaped = escape(raw)
    if len(escaped) <= limit:
        return escaped
    for keep in range(min(len(raw), limit - 1), 0, -1):
        escaped = escape(raw[:keep].rstrip())
        if len(escaped) <= limit - 1:
            return escaped + "…"
    return "…"


def pieces(raw: str, limit: int, raw_limit: int | None = None) -> list[str]:
    """`raw` split and escaped into non-empty pieces of at most `limit` characters each."""
    size = raw_limit or limit
    out: list[str] = []
    for piece in split_text(raw, size):
        escaped = escape(piece)
        if not escaped.strip():
            continue
        if len(escaped) <= limit:
            out.append(escaped)
        else:
            out.extend(pieces(piece, limit, max(1, size // 2)))
    return out


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack does not auto-link channel names, URLs or mentions in our text.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _text_sections(heading: str | None, body: str) -> list[Block]:
    head = f"*{escape(heading)}*" if heading else ""
    if len(head) > LONG_HEADING:
        return [_section(p) for p in pieces(heading or "", SECTION_TEXT)] + _text_sections(None, body)
    parts = pieces(body, SECTION_TEXT - len(head) - 1)
    if head and not parts:
        return [_section(head)]
    return [_section(f"{head}\n{part}" if head and n == 0 else part) for n, part in enumerate(parts)]


def _title(title: str) -> list[Block]:
    escaped = escape(title)
    if len(escaped) <= HEADER_TEXT:
        return [{"type": "header", "text": {"type": "plain_text", "text": escaped, "emoji": True}}]
    return _text_sections(None, title)


def _fields(reply: Reply) -> list[Block]:
    blocks: list[Block] = []
    row: list[dict[str, Any]] = []
    for kv in reply.fields:
        cell = f"*{escape(kv.name)}*\n{escape(kv.value)}"
        if row and (len(cell) > FIELD_TEXT or len(row) == FIELDS_PER_SECTION):
            blocks.append({"type": "section", "fields": row})
            row = []
        if len(cell) > FIELD_TEXT:
            blocks.extend(_text_sections(kv.name, kv.value))
        else:
            row.append(_mrkdwn(cell))
    if row:
        blocks.append({"type": "section", "fields": row})
    return blocks


def _actions(buttons: list[tuple[int, Button]]) -> list[Block]:
    elements = []
    for index, button in buttons:
        if len(button.value) > BUTTON_VALUE:
            log.warning("button %r dropped: its value is longer than Slack allows", button.label[:40])
            continue
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": clip(button.label, BUTTON_TEXT), "emoji": True},
                "action_id": f"{button.action}:{index}",
                "value": button.value,
            }
        )
    return [
        {"type": "actions", "elements": elements[at : at + BUTTONS_PER_ACTIONS]}
        for at in range(0, len(elements), BUTTONS_PER_ACTIONS)
    ]


def _context(raw: str) -> list[Block]:
    return [{"type": "context", "elements": [_mrkdwn(p)]} for p in pieces(raw, SECTION_TEXT)]


def _blocks(reply: Reply) -> list[Block]:
    blocks: list[Block] = _title(reply.title) if reply.title else []
    for section in reply.sections:
        blocks.extend(_text_sections(section.heading, section.text))
    blocks.extend(_fields(reply))
    indexed = list(enumerate(reply.buttons))
    choices = [(n, b) for n, b in indexed if b.action in CHOICE_ACTIONS]
    others = [(n, b) for n, b in indexed if b.action not in CHOICE_ACTIONS]
    if choices:
        intro = "launch_closest" if choices[0][1].action == "launch" else "did_you_mean"
        blocks.extend(_context(bot_text(intro, reply.language)))
        blocks.extend(_actions(choices))
    elif reply.suggestions:
        blocks.extend(_text_sections(None, "\n".join(f"• {s}" for s in reply.suggestions)))
    if reply.source:
        blocks.extend(_context(reply.source))
    blocks.extend(_actions(others))
    return blocks
