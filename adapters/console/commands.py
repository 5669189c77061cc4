"""The console's own commands, answered without the bot, and their words in both languages.

A chat user clicks buttons and is or is not a channel manager; in the console the same is typed:
a list's number picks an item, `+` and `-` rate the answer just shown (its 👍/👎 buttons), `/as user`
and `/as manager` switch who you are (as errbot's text backend has `!asuser`), `/quit` leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.texts import examples
from knowledge.loader import Knowledge
from knowledge.models import Language

QUIT = frozenset({"/quit", "/exit"})
UP = frozenset({"+", "👍", "+1"})
DOWN = frozenset({"-", "👎", "-1"})
ROLES = {"user": False, "member": False, "manager": True, "admin": True}
"""`/as ROLE`: whether that role may manage the channel (`/reload`, digest subscriptions)."""

_HOW = """Type a list's number to pick from it; + or - rates an answer; /as user or
/as manager switches who you are; ↑ recalls a line; /quit or Ctrl-D leaves."""


def banner(knowledge: Knowledge) -> str:
    """Shown on a terminal only: what the knowledge is about, and questions to try from its packs."""
    titles = " · ".join(pack.title.en for pack in knowledge.packs.values())
    tries = " · ".join([*examples(knowledge, "en", count=1), *examples(knowledge, "zh", count=1)])
    return f"keynote-bot: ask about the {titles}.\nTry: {tries}\n     /launch · /digest · /help\n{_HOW}"


_TEXTS: dict[str, tuple[str, str]] = {
    "no_list": (
        "There is no numbered list to pick from: type a question, or /help.",
        "当前没有可以选择的编号列表：请直接提问，或输入 /help。",
    ),
    "out_of_range": (
        "Pick a number from 1 to {count}, or type a question.",
        "请输入 1 到 {count} 之间的编号，或直接提问。",
    ),
    "nothing_to_rate": (
        "There is no answer to rate: + and - rate the answer just shown.",
        "没有可以评价的回答：+ 和 - 用于评价刚显示的回答。",
    ),
    "rate": ("Helpful? + yes · - no", "有帮助吗？+ 有 · - 没有"),
    "as_user": (
        "You are now a channel member, not a manager: /reload and digest subscriptions are refused. "
        "/as manager switches back.",
        "你现在是普通频道成员，不是管理员：/reload 和摘要订阅会被拒绝。输入 /as manager 切换回来。",
    ),
    "as_manager": (
        "You are now a channel manager: you may /reload and manage digest subscriptions.",
        "你现在是频道管理员：可以使用 /reload 并管理摘要订阅。",
    ),
    "as_usage": (
        "Who to be: /as user (a channel member) or /as manager (a channel manager).",
        "选择身份：/as user（普通频道成员）或 /as manager（频道管理员）。",
    ),
}


def say(key: str, language: Language, **values: object) -> str:
    en, zh = _TEXTS[key]
    return (zh if language == "zh" else en).format(**values)


@dataclass(frozen=True)
class Local:
    """A line the console answers itself."""

    kind: Literal["quit", "pick", "rate", "as"]
    number: int = 0
    up: bool = False
    role: str | None = None
    """For `as`: the role asked for, None when it is missing or unknown."""


def parse(line: str) -> Local | None:
    """The console command on a typed line, or None when the line is for the bot."""
    words = line.strip()
    if words.lower() in QUIT:
        return Local("quit")
    if words.isdecimal():
        return Local("pick", number=int(words))
    if words in UP or words in DOWN:
        return Local("rate", up=words in UP)
    name, _, role = words.partition(" ")
    if name.lower() == "/as":
        role = role.strip().lower()
        return Local("as", role=role if role in ROLES else None)
    return None
