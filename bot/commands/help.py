"""`/help`: what the bot can do, with examples to copy, built from the command table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.context import Context
from bot.replies import Reply, Section
from bot.texts import text
from knowledge.models import Language

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.commands.table import Command

_ASKING = {
    "en": ("Ask a question", "How many cores does Graviton5 have?\nTrainium3的内存带宽是多少？"),
    "zh": ("直接提问", "Graviton5有多少个核心？\nHow many cores does Graviton5 have?"),
}


def help_reply(commands: tuple[Command, ...], language: Language) -> Reply:
    heading, example = _ASKING[language]
    sections = [Section(heading=heading, text=example)]
    sections.extend(
        Section(heading=usage.syntax.get(language), text=usage.example.get(language))
        for command in commands
        for usage in command.usage
    )
    return Reply(kind="help", language=language, title=text("help_title", language), sections=sections)


async def run(bot: Bot, args: str, ctx: Context, language: Language) -> Reply:
    return help_reply(bot.commands, language)
