"""Read lines, hand them to the bot, print its replies; works on a terminal and on a pipe."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from rich.console import Console

from adapters.console.render import render
from bot.app import Bot
from bot.context import Context
from bot.replies import Button, Reply
from bot.service.background import background
from bot.settings import Settings

BANNER = """keynote-bot: ask about the AWS re:Invent 2025 infrastructure keynote.
Try: how many cores does Graviton5 have? · Trainium3的内存带宽是多少？ · /launch trn3 · /digest · /help
Type a suggestion's number to ask it; /quit or Ctrl-D to leave."""


class ConsoleAdapter:
    platform = "console"

    def __init__(self, bot: Bot, stdin: TextIO, console: Console) -> None:
        self.bot = bot
        self.stdin = stdin
        self.console = console
        self.context = Context(
            platform="console", channel="console", user="console", can_manage=True, conversation="console"
        )
        self.choices: list[Button] = []
        """The numbered suggestions of the last reply: typing a number clicks one."""

    async def post(self, channel: str, reply: Reply) -> None:
        self.show(reply)

    def show(self, reply: Reply) -> None:
        self.console.print(render(reply))
        self.choices = [button for button in reply.buttons if button.action in ("ask", "launch")]

    def _read(self) -> str:
        if self.stdin.isatty():
            return self.console.input("[bold]> [/bold]") + "\n"
        return self.stdin.readline()

    async def handle(self, line: str) -> Reply:
        choice = line.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(self.choices):
            button = self.choices[int(choice) - 1]
            return await self.bot.action(button.action, button.value, self.context)
        return await self.bot.message(line, self.context)

    async def loop(self) -> None:
        while True:
            try:
                line = await asyncio.to_thread(self._read)
            except (EOFError, KeyboardInterrupt):
                break
            if not line:
                break
            if line.strip() in {"/quit", "/exit"}:
                break
            if not line.strip():
                continue
            self.show(await self.handle(line))


async def run(
    bot: Bot, settings: Settings, stdin: TextIO = sys.stdin, console: Console | None = None
) -> None:
    adapter = ConsoleAdapter(bot, stdin, console or Console())
    if stdin.isatty():
        adapter.console.print(BANNER, style="cyan", highlight=False)
    async with background(bot, settings, poster=adapter):
        await adapter.loop()
