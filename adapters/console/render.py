"""A neutral Reply as rich renderables for the terminal."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.replies import Reply
from bot.texts import text

_BORDER = {"answer": "green", "abstain": "yellow", "error": "red", "notice": "blue"}


def render(reply: Reply) -> RenderableType:
    parts: list[RenderableType] = []
    for section in reply.sections:
        if section.heading:
            parts.append(Text(section.heading, style="bold"))
        parts.append(Text(section.text))
    if reply.fields:
        table = Table.grid(padding=(0, 2))
        for kv in reply.fields:
            table.add_row(Text(kv.name, style="bold"), Text(kv.value))
        parts.append(table)
    if reply.suggestions:
        heading = "launch_closest" if any(b.action == "launch" for b in reply.buttons) else "did_you_mean"
        parts.append(Text(text(heading, reply.language), style="bold"))
        parts.extend(Text(f"  {n}. {s}") for n, s in enumerate(reply.suggestions, 1))
    if reply.source:
        parts.append(Text(reply.source, style="dim"))
    title = escape(reply.title) if reply.title else None
    return Panel(Group(*parts), title=title, title_align="left", border_style=_BORDER.get(reply.kind, "cyan"))
