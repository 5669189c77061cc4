"""`/help`: what the bot can do, with examples to copy, built from the command table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.context import Context
from bot.replies import Reply, Section
from bot.texts import examples, keynote_event, text
from knowledge.loader import Knowledge
from knowledge.models import Language

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.commands.table import Command

_ASKING = {"en": "Ask a question, in English or Chinese", "zh": "直接提问（中文或英文）"}


def help_reply(commands: tuple[Command, ...], knowledge: Knowledge, language: Language) -> Reply:
    """The pack's example questions (in both languages), then every command's usage."""
    other: Language = "en" if language == "zh" else "zh"
    asking = [*examples(knowledge, language), *examples(knowledge, other, count=1)]
    sections = [Section(heading=_ASKING[language], text="\n".join(asking))]
    sections.extend(
        Section(heading=usage.syntax.get(language), text=usage.example.get(language))
        for command in commands
        for usage in command.usage
    )
    title = text("help_title", language, event=keynote_event(knowledge, language))
    return Reply(kind="help", language=language, title=title, sections=sections)


async def run(bot: Bot, args: str, ctx: Context, language: Language) -> Reply:
    return help_reply(bot.commands, bot.live.current.knowledge, language)
