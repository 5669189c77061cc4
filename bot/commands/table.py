"""The command table: one row per command, read by dispatch, `/help`, suggestions and the platforms.

A row plays the part a docstring plays in errbot or discord.py: its bilingual usage is the help text,
and its `option` is what Discord's command tree and Slack's manifest register.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from bot.commands import ask, digest, help, launch, reload
from bot.context import Context
from bot.replies import Reply
from knowledge.models import Bilingual, Language

if TYPE_CHECKING:
    from bot.app import Bot

Handler = Callable[["Bot", str, Context, Language], Awaitable[Reply]]
"""(bot, the words after the command, who asked and where, the reply's language) → the reply."""


@dataclass(frozen=True)
class Usage:
    """One entry of `/help`: how to write it, and what it does with an example."""

    syntax: Bilingual
    example: Bilingual


@dataclass(frozen=True)
class Option:
    """The one text option a platform's slash command takes (Discord shows its name and description)."""

    name: str
    description: str
    autocomplete_launches: bool = False


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    description: str
    """One line, for the platforms' command pickers."""
    usage: tuple[Usage, ...]
    managers_only: bool = False
    option: Option | None = None
    """Set for the commands registered as slash commands on Slack and Discord; the others are typed."""


def _usage(syntax_en: str, example_en: str, syntax_zh: str, example_zh: str) -> Usage:
    return Usage(Bilingual(en=syntax_en, zh=syntax_zh), Bilingual(en=example_en, zh=example_zh))


COMMANDS: tuple[Command, ...] = (
    Command(
        name="ask",
        handler=ask.run,
        description="Ask a question about the keynote",
        usage=(
            _usage(
                "/ask QUESTION",
                "The same as asking a question",
                "/ask 问题",
                "与直接提问相同",
            ),
        ),
        option=Option("question", "Your question about the keynote, in English or Chinese"),
    ),
    Command(
        name="launch",
        handler=launch.run,
        description="A launch's summary card, or the list of launches",
        usage=(
            _usage(
                "/launch [NAME]",
                "A launch's summary card (names may be abbreviated or misspelt), or the list of launches",
                "/launch [名称]",
                "某个发布的摘要卡片（名称可缩写或有拼写错误），或全部发布列表",
            ),
        ),
        option=Option(
            "name",
            "A launch name, typos allowed (leave empty for the list)",
            autocomplete_launches=True,
        ),
    ),
    Command(
        name="digest",
        handler=digest.run,
        description="Every launch in one message, optionally one topic",
        usage=(
            _usage(
                "/digest [TOPIC]",
                "Every launch in one message, optionally one theme or keynote",
                "/digest [主题]",
                "一条消息看完全部发布，可按主题或主题演讲筛选",
            ),
            _usage(
                "/digest subscribe SCHEDULE [TOPIC]",
                "Post the digest here on a schedule (channel managers):\n"
                "/digest subscribe weekdays 09:00 tz=Asia/Shanghai\n"
                "/digest subscribe weekly mon 09:00 TOPIC lang=zh\n"
                "Schedules: daily HH:MM, weekdays HH:MM, weekly DAY HH:MM, or cron (0 9 * * 1-5)\n"
                "/digest list · /digest unsubscribe ID",
                "/digest subscribe 时间表 [主题]",
                "按时间表在本频道发布摘要（频道管理员）：\n"
                "/digest subscribe weekdays 09:00 tz=Asia/Shanghai\n"
                "/digest subscribe weekly mon 09:00 主题 lang=zh\n"
                "时间表：daily HH:MM、weekdays HH:MM、weekly 星期 HH:MM，或 cron（0 9 * * 1-5）\n"
                "/digest list · /digest unsubscribe 编号",
            ),
        ),
        option=Option(
            "topic",
            "A theme or keynote (empty for all), or: subscribe daily 09:00 | list | unsubscribe ID",
        ),
    ),
    Command(
        name="reload",
        handler=reload.run,
        description="Reload the knowledge files now",
        usage=(
            _usage(
                "/reload",
                "Reload the knowledge files now (channel managers)",
                "/reload",
                "立即重新加载知识文件（频道管理员）",
            ),
        ),
        managers_only=True,
    ),
    Command(
        name="help",
        handler=help.run,
        description="What the bot can do",
        usage=(_usage("/help", "This message", "/help", "显示本帮助"),),
    ),
)


def nearest(commands: tuple[Command, ...], name: str, limit: int = 3) -> list[Command]:
    """The commands whose names are closest to a mistyped one, nearest first (`/lanch` → `/launch`)."""
    ranked = process.extract(name, [c.name for c in commands], scorer=fuzz.ratio, limit=len(commands))
    return [commands[index] for _, _, index in ranked[:limit]]
