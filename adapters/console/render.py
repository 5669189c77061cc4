"""A neutral Reply for the terminal: a rich panel on a terminal, plain lines on a pipe or in a file.

Pipes are for scripts, so there the reply is its words only: no box characters and no colours. Printed
with `soft_wrap=True`, as the console chat does, a line of the reply is one line of output. Both forms
number the same choices (`Menu`).
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from adapters.console.commands import say
from adapters.console.menu import Menu, menu, split_line
from bot.replies import Reply
from bot.texts import text

_BORDER = {"answer": "green", "abstain": "yellow", "error": "red", "notice": "blue"}


def render(reply: Reply, choices: Menu | None = None, *, rating: bool = False) -> RenderableType:
    """`choices` says what is numbered (by default what the reply alone numbers); `rating` adds the
    `+`/`-` hint under an answer with feedback buttons, on a terminal (the chat offers it, a shell
    command does not)."""
    return _Rendered(reply, choices if choices is not None else menu(reply), rating)


class _Rendered:
    """A rich renderable that picks its form from the console it is printed on."""

    def __init__(self, reply: Reply, choices: Menu, rating: bool) -> None:
        self.reply = reply
        self.menu = choices
        self.rating = rating

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if console.is_terminal:
            yield self._panel()
            return
        for line in self._plain():
            yield Text(line)

    def _lines(self, boxed: bool) -> Iterator[tuple[str, str]]:
        """The reply's lines before its fields, with their styles; a panel shows the title in its border."""
        reply, numbered = self.reply, self.menu
        if reply.title and not boxed:
            yield reply.title, "bold"
        for s, section in enumerate(reply.sections):
            if section.heading:
                yield section.heading, "bold"
            for n, line in enumerate(section.text.split("\n")):
                choice = numbered.inline.get((s, n))
                if choice is None:
                    yield line, ""
                else:
                    indent, body = split_line(line)
                    yield f"{indent}{choice + 1}. {body}", ""

    def _listed(self) -> Iterator[tuple[str, str]]:
        reply, numbered = self.reply, self.menu
        listed = numbered.choices[numbered.listed :]
        if not listed:
            return
        if reply.suggestions:
            launches = any(b.action == "launch" for b in reply.buttons)
            yield text("launch_closest" if launches else "did_you_mean", reply.language), "bold"
        for number, choice in enumerate(listed, numbered.listed + 1):
            yield f"  {number}. {choice.label}", ""

    def _tail(self, boxed: bool) -> Iterator[tuple[str, str]]:
        """The source, and on a terminal the rating hint (a script has no use for it)."""
        if self.reply.source:
            yield self.reply.source, "dim"
        if boxed and self.rating and self.menu.up is not None:
            yield say("rate", self.reply.language), "dim"

    def _plain(self) -> Iterator[str]:
        for line, _ in self._lines(boxed=False):
            yield line
        for kv in self.reply.fields:
            yield f"{kv.name}: {kv.value}"
        for line, _ in (*self._listed(), *self._tail(boxed=False)):
            yield line

    def _panel(self) -> Panel:
        parts: list[RenderableType] = [Text(line, style=style) for line, style in self._lines(boxed=True)]
        if self.reply.fields:
            table = Table.grid(padding=(0, 2))
            for kv in self.reply.fields:
                table.add_row(Text(kv.name, style="bold"), Text(kv.value))
            parts.append(table)
        parts.extend(Text(line, style=style) for line, style in (*self._listed(), *self._tail(boxed=True)))
        title = escape(self.reply.title) if self.reply.title else None
        border = _BORDER.get(self.reply.kind, "cyan")
        return Panel(Group(*parts), title=title, title_align="left", border_style=border)
