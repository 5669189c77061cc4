"""Small talk: greetings, thanks and "what can you do?" are not questions about the keynote.

A message is small talk when nothing is left of it once its small-talk phrases, fillers and
punctuation are gone, so "hi, how many cores does Graviton5 have?" is still a question.
"""

from __future__ import annotations

import re
from typing import Literal

from knowledge.normalize import strip_markup

SmallTalk = Literal["greeting", "thanks", "capabilities", "acknowledgement"]

_PHRASES: dict[SmallTalk, tuple[str, ...]] = {
    "capabilities": (
        "what can you do",
        "what can u do",
        "what do you do",
        "what do u do",
        "who are you",
        "who r u",
        "what are you",
        "what can i ask",
        "what can i ask you",
        "how do i use you",
        "how does this work",
        "help",
        "help me",
        "你能干啥",
        "你能干什么",
        "你能做什么",
        "你会什么",
        "你会干啥",
        "你是谁",
        "怎么用",
        "能做什么",
        "能干啥",
        "帮助",
    ),
    "thanks": (
        "thanks",
        "thank you",
        "thanks a lot",
        "thanks so much",
        "thank you so much",
        "thx",
        "ty",
        "tysm",
        "tyvm",
        "cheers",
        "much appreciated",
        "appreciate it",
        "谢谢",
        "多谢",
        "感谢",
        "谢啦",
        "谢了",
        "辛苦了",
        "谢谢大佬",
        "感谢大佬",
    ),
    "greeting": (
        "hi",
        "hello",
        "hey",
        "heya",
        "hiya",
        "yo",
        "howdy",
        "sup",
        "whats up",
        "good morning",
        "good afternoon",
        "good evening",
        "gm",
        "morning",
        "你好",
        "您好",
        "哈喽",
        "嗨",
        "在吗",
        "在不在",
        "早上好",
        "下午好",
        "晚上好",
        "大家好",
        "早",
    ),
    "acknowledgement": (
        "ok",
        "okay",
        "k",
        "kk",
        "cool",
        "nice",
        "great",
        "awesome",
        "perfect",
        "got it",
        "good bot",
        "nice bot",
        "great bot",
        "lol",
        "lmao",
        "nvm",
        "never mind",
        "nevermind",
        "bye",
        "goodbye",
        "see ya",
        "好的",
        "好",
        "收到",
        "明白",
        "了解",
        "厉害",
        "牛",
        "拜拜",
        "再见",
        "哈哈",
        "哈哈哈",
    ),
}
_FILLERS = (
    "there",
    "all",
    "guys",
    "folks",
    "everyone",
    "bot",
    "again",
    "so",
    "much",
    "very",
    "man",
    "dude",
    "mate",
    "team",
    "buddy",
    "then",
    "and",
    "oh",
    "ah",
    "just",
    "呀",
    "啊",
    "啦",
    "哈",
    "吧",
    "呢",
    "了",
    "哦",
    "嘛",
    "喔",
    "哇",
    "我",
    "们",
)
_ALTERNATIVES = sorted(
    ((phrase, kind) for kind, phrases in _PHRASES.items() for phrase in phrases),
    key=lambda pair: len(pair[0]),
    reverse=True,
)
_PATTERN = re.compile(
    "|".join(
        rf"(?P<p{n}>(?<![a-z]){re.escape(phrase)}(?![a-z]))" for n, (phrase, _) in enumerate(_ALTERNATIVES)
    )
)
_FILLER = re.compile("|".join(rf"(?<![a-z]){re.escape(word)}(?![a-z])" for word in _FILLERS))
_NOT_WORDS = re.compile(r"[^a-z0-9\u3400-\u4dbf\u4e00-\u9fff]+")
_PRIORITY: tuple[SmallTalk, ...] = ("capabilities", "thanks", "greeting", "acknowledgement")


def small_talk(message: str) -> SmallTalk | None:
    """The kind of small talk the whole message is, or None when it asks or says anything else."""
    text = strip_markup(message).casefold().replace("'", "").replace("’", "")
    text = _NOT_WORDS.sub(" ", text).strip()
    if not text or len(text) > 60:
        return None
    found: set[SmallTalk] = set()

    def drop(match: re.Match[str]) -> str:
        found.add(_ALTERNATIVES[int(match.lastgroup[1:])][1])  # type: ignore[index]
        return " "

    rest = _PATTERN.sub(drop, text)
    rest = _FILLER.sub(" ", rest).strip()
    if rest or not found:
        return None
    return next(kind for kind in _PRIORITY if kind in found)
