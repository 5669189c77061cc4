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
_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff]")
_LONGEST = 6
"""The most tokens a phrase has ("thank you so much" is 4, "谢谢大佬" 4, "what can i ask you" 5)."""
_MAX_CHARS = 60


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(text))


_KIND_OF: dict[tuple[str, ...], SmallTalk] = {
    _tokens(phrase): kind for kind, phrases in _PHRASES.items() for phrase in phrases
}
_FILLER_TOKENS = frozenset(_FILLERS)
_PRIORITY: tuple[SmallTalk, ...] = ("capabilities", "thanks", "greeting", "acknowledgement")


def small_talk(message: str) -> SmallTalk | None:
    """The kind of small talk the whole message is, or None when it asks or says anything else.

    Greedy longest match over words (Chinese: characters): every token must belong to a small-talk
    phrase or be a filler, so the check costs a few dictionary lookups per word.
    """
    text = strip_markup(message).casefold().replace("'", "").replace("’", "")
    if len(text) > _MAX_CHARS:
        return None
    tokens = _tokens(text)
    found: set[SmallTalk] = set()
    position = 0
    while position < len(tokens):
        for length in range(min(_LONGEST, len(tokens) - position), 0, -1):
            kind = _KIND_OF.get(tokens[position : position + length])
            if kind is not None:
                found.add(kind)
                position += length
                break
        else:
            if tokens[position] not in _FILLER_TOKENS:
                return None
            position += 1
    return next((kind for kind in _PRIORITY if kind in found), None)
