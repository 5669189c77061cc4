"""Read lines, hand them to the bot, print its replies: a prompt on a terminal, line by line on a pipe."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from typing import TextIO

from rich.console import Console

from adapters.console.commands import ROLES, Local, banner, parse, say
from adapters.console.menu import Menu, menu
from adapters.console.prompt import Prompt, prompting
from adapters.console.render import render
from bot.app import Bot
from bot.context import Context
from bot.replies import Reply
from bot.service.background import background
from bot.settings import Settings
from knowledge.models import Language


class ConsoleAdapter:
    platform = "console"

    def __init__(self, bot: Bot, stdin: TextIO, console: Console) -> None:
        self.bot = bot
        self.stdin = stdin
        self.console = console
        self.context = Context(
            platform="console", channel="console", user="console", can_manage=True, conversation="console"
        )
        self.menu = Menu()
        """What the last reply numbered and can rate: typing its number picks, `+`/`-` rate."""
        self.language: Language = "en"
        """The last reply's language, for the console's own hints."""
        self.prompt: Prompt | None = None
        """Set while a terminal prompt runs: unprompted output then goes above it."""
        self._printed = False

    async def post(self, channel: str, reply: Reply) -> None:
        """A scheduled digest: printed above the prompt if one is showing; the list being picked from
        stays the one the user last saw answered."""
        if self.prompt is None:
            self._print(reply, Menu())
            return
        with self.console.capture() as captured:
            self.console.print(render(reply))
        self.prompt.above.write(captured.get())
        self.prompt.above.flush()

    def show(self, reply: Reply, typed: str = "") -> None:
        """Print the bot's reply to `typed`; its numbered items and feedback buttons become the menu."""
        self.menu = menu(reply, typed)
        self.language = reply.language
        self._print(reply, self.menu)

    def hint(self, message: str, *, error: bool = False) -> None:
        """The console's own answer; the menu stays, so the list on screen can still be picked."""
        reply = Reply.error(message, self.language) if error else Reply.notice(message, self.language)
        self._print(reply, Menu())

    def _print(self, reply: Reply, choices: Menu) -> None:
        if self._printed and not self.console.is_terminal:
            self.console.print()  # on a pipe, a blank line between replies
        self._printed = True
        self.console.print(render(reply, choices, rating=True), soft_wrap=not self.console.is_terminal)

    async def handle(self, line: str) -> bool:
        """Answer one typed line; False when it asks to leave."""
        local = parse(line)
        if local is None:
            self.show(await self.bot.message(line, self.context), line)
            return True
        return await self._local(local)

    async def _local(self, local: Local) -> bool:
        if local.kind == "quit":
            return False
        if local.kind == "pick":
            choice = self.menu.pick(local.number)
            if choice is None:
                count = len(self.menu.choices)
                key = "out_of_range" if count else "no_list"
                self.hint(say(key, self.language, count=count))
            elif choice.button is not None:
                self.show(await self.bot.action(choice.button.action, choice.button.value, self.context))
            else:
                self.show(await self.bot.message(choice.label, self.context), choice.label)
        elif local.kind == "rate":
            button = self.menu.up if local.up else self.menu.down
            if button is None:
                self.hint(say("nothing_to_rate", self.language))
            else:
                self.show(await self.bot.action(button.action, button.value, self.context))
        elif local.role is None:
            self.hint(say("as_usage", self.language), error=True)
        else:
            manager = ROLES[local.role]
            self.context = dataclasses.replace(self.context, can_manage=manager)
            self.hint(say("as_manager" if manager else "as_user", self.language))
        return True

    @property
    def prompt_text(self) -> str:
        return "> " if self.context.can_manage else "user> "

    async def loop(self) -> None:
        """Line by line from `stdin` (a pipe or a file) until end of input or /quit."""
        while True:
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                break
            if line.strip() and not await self.handle(line.rstrip("\r\n")):
                break

    async def interact(self) -> None:
        """On a terminal: the banner, then the prompt, until Ctrl-D, Ctrl-C or /quit."""
        self.console.print(banner(self.bot.live.current.knowledge), style="cyan", highlight=False)
        self.console.file = self.console.file  # the terminal itself, not the proxy about to be sys.stdout
        with prompting(self.stdin, self.console.file) as prompt:
            self.prompt = prompt
            try:
                while True:
                    try:
                        line = await prompt.read(self.prompt_text)
                    except (EOFError, KeyboardInterrupt):
                        break
                    if line.strip() and not await self.handle(line):
                        break
            finally:
                self.prompt = None


async def run(
    bot: Bot, settings: Settings, stdin: TextIO = sys.stdin, console: Console | None = None
) -> None:
    adapter = ConsoleAdapter(bot, stdin, console or Console())
    async with background(bot, settings, poster=adapter):
        if stdin.isatty() and adapter.console.is_terminal:
            await adapter.interact()
        else:
            await adapter.loop()
