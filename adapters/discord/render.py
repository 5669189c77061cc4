"""A neutral Reply as Discord messages: embeds and buttons, split to fit every Discord limit.

Discord rejects a whole message when one limit is exceeded, so everything is cut here, before sending:
long text is split at paragraph, line or word ends (bot.replies.split_text) into more embeds and, past
10 embeds or 6,000 characters, into more messages. Buttons go on the last message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import discord
from discord.utils import escape_markdown

from bot.replies import Button, Reply, split_text
from bot.texts import text

TITLE = 256
DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FIELDS = 25
FOOTER = 2048
EMBED_TOTAL = 6000
MESSAGE_TOTAL = 6000
EMBEDS = 10
BUTTONS = 25
LABEL = 80
INLINE_UNDER = 40
CONTINUED = "\u200b"
"""A zero-width name for a field that continues the previous one."""

_COLOURS = {
    "answer": discord.Colour.green(),
    "abstain": discord.Colour.gold(),
    "error": discord.Colour.red(),
    "notice": discord.Colour.blurple(),
    "launch": discord.Colour.orange(),
    "digest": discord.Colour.dark_teal(),
}


@dataclass
class Outgoing:
    """One Discord message: its embeds and the reply's buttons if it is the last."""

    embeds: list[discord.Embed]
    buttons: list[Button] = field(default_factory=list)


def shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _description(reply: Reply) -> str:
    blocks = []
    for section in reply.sections:
        body = escape_markdown(section.text)
        blocks.append(f"**{escape_markdown(section.heading)}**\n{body}" if section.heading else body)
    if reply.suggestions:
        lines = "\n".join(f"• {escape_markdown(s)}" for s in reply.suggestions)
        blocks.append(f"**{text('did_you_mean', reply.language)}**\n{lines}")
    return "\n\n".join(block for block in blocks if block.strip())


def _split(value: str, limit: int) -> list[str]:
    return [piece for piece in split_text(value, limit) if piece]


def _fields(reply: Reply) -> list[tuple[str, str, bool]]:
    """(name, value, inline) per field; a value over 1,024 characters continues in unnamed fields."""
    fields = []
    for kv in reply.fields:
        values = _split(escape_markdown(kv.value), FIELD_VALUE) or ["-"]
        inline = len(values) == 1 and len(values[0]) <= INLINE_UNDER
        for n, value in enumerate(values):
            fields.append((shorten(kv.name, FIELD_NAME) if n == 0 else CONTINUED, value, inline))
    return fields


def embeds(reply: Reply) -> list[discord.Embed]:
    """The reply's embeds, each within Discord's per-embed limits (but possibly more than 10)."""
    colour = _COLOURS.get(reply.kind, discord.Colour.dark_grey())
    title = shorten(reply.title, TITLE) if reply.title else None
    description = _description(reply)
    pieces = _split(description, DESCRIPTION) if description else []
    result = [
        discord.Embed(title=title if n == 0 else None, description=piece, colour=colour)
        for n, piece in enumerate(pieces)
    ]
    if not result:
        result.append(discord.Embed(title=title, colour=colour))
    for name, value, inline in _fields(reply):
        last = result[-1]
        if len(last.fields) >= FIELDS or len(last) + len(name) + len(value) > EMBED_TOTAL:
            last = discord.Embed(colour=colour)
            result.append(last)
        last.add_field(name=name, value=value, inline=inline)
    if reply.source:
        footer = shorten(reply.source, FOOTER)
        if len(result[-1]) + len(footer) > EMBED_TOTAL:
            result.append(discord.Embed(colour=colour))
        result[-1].set_footer(text=footer)
    return result


def render(reply: Reply) -> list[Outgoing]:
    """The reply as messages of at most 10 embeds and 6,000 characters each; buttons on the last."""
    outgoing: list[Outgoing] = []
    size = 0
    for embed in embeds(reply):
        if not outgoing or len(outgoing[-1].embeds) >= EMBEDS or size + len(embed) > MESSAGE_TOTAL:
            outgoing.append(Outgoing(embeds=[]))
            size = 0
        outgoing[-1].embeds.append(embed)
        size += len(embed)
    outgoing[-1].buttons = list(reply.buttons[:BUTTONS])
    return outgoing
