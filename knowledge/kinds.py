"""What kind of answer a question asks for, and what kind a fact gives, so the two can be matched.

"Who presented Graviton?" wants a person, "when can I use it?" a time or an availability, "how much
faster?" a number, "how does it stay fast?" a mechanism. A fact about the right product that gives
the wrong kind of answer (a latency figure for "how does it stay fast?") is a neighbour, not the
answer. The kinds a fact gives are read from its English answer where that is reliable (digits,
dates, availability words, a person's name or title), and a curator can state them (`kinds:`) where
it is not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Literal

Kind = Literal["person", "time", "number", "mechanism", "list"]
KINDS: tuple[Kind, ...] = ("person", "time", "number", "mechanism", "list")

_ASK: dict[Kind, re.Pattern[str]] = {
    "person": re.compile(
        r"\b(ceo|cto|founder|co-founder|presenter|speaker|keynoter)\b|\bname of the (guy|person|speaker)"
        r"|\bwho (presented|presents|spoke|speaks|gave|hosted|ran|came|took|went|was on|is on"
        r"|introduced|talked|did the|led|opened|kicked|delivered|delivers|headlined)\b"
        r"|谁(讲|上台|主讲|介绍|演讲)|哪位|创始人|演讲人|演讲者|主讲人|是谁讲|作者|\bauthors?\b|\bwho wrote\b"
        r"|\b(his|her|their|job) title\b|职位|头衔|职务|老板"
    ),
    "time": re.compile(
        r"\bwhen(s|'s)? (is|will|can|does|do|did|was|are|could)\b(?! (should|would|to) )"
        r"|^(<[^>]*>|\W)*((ok|okay|so|and|but|yo|hey|btw|also|hmm|lol|quick q)\W+)*when(s|'s)?\b"
        r"(?! (should|would|to|traffic|there|it comes|you|they|a|the)\b)|\bwhen\W*$"
        r"|\b(what year|which year|what yr|release date|eta|ga date|launch date)\b"
        r"|\b(is|are|it's|its) (it |they |that )?(available|out|ga|shipping|released)\b"
        r"|\bcan (i|we|you) (use|get|try) (it|them|that|this)\b|\bavailable yet\b|\bgo(ing)? ga\b"
        r"|(什么时候|啥时候)(?!该|应该|适合|用)|何时|哪年|哪一年|几时|多久能|能用了|可以用了|上线了吗|发布了吗"
        r"|正式可用"
    ),
    "number": re.compile(
        r"\bhow (many|much|big|fast|large|small|long|far|often|high|low)\b"
        r"|\bwhat (percent|percentage|ratio)\b|\bwhat %|\bby how much\b|\bhow many times\b"
        r"|\b\d+(\.\d+)?\s*x\b"
        r"|多少|几倍|几个|几块|几张|多大|多快|多高|多长|比例|百分之"
    ),
    "mechanism": re.compile(
        r"\bhow (does|do|did|is|are|was|were|can|could) (it|they|that|this|he|she|\w+)\b"
        r"(?! (many|much|big|fast|large|long))|\bhow come\b|\bwhy\b|\bwhat makes\b"
        r"|怎么做到|如何做到|咋做到|为什么|为啥|怎么实现|原理|怎么保证|如何保证"
    ),
    "list": re.compile(
        r"\bwhich (ones|customers|companies|services|features|models|languages|chips)\b|哪些|有啥|哪几"
    ),
}
_HINTS: dict[Kind, tuple[str, ...]] = {
    "person": (
        *("ceo", "cto", "founder", "presenter", "speaker", "keynoter", "name of the", "who ", "author"),
        *(" title", "谁", "哪位", "创始人", "演讲", "主讲人", "作者", "职位", "头衔", "职务", "老板"),
    ),
    "time": (
        *("when", "what year", "which year", "what yr", "release date", "eta", "ga date", "launch date"),
        *("available", " out", " ga", "shipping", "released", "can ", "时候", "何时", "哪年", "哪一年"),
        *("几时", "多久能", "能用了", "可以用了", "上线了吗", "发布了吗", "正式可用"),
    ),
    "number": ("how ", "what ", "x", "多", "几", "比例", "百分之"),
    "mechanism": ("how ", "why", "what makes", "做到", "为什么", "为啥", "怎么实现", "原理", "保证"),
    "list": ("which ", "哪些", "有啥", "哪几"),
}
"""Per kind, words at least one of which its pattern cannot match without: a question with none of
them is not searched (five searches cost a tenth of a question's time, and most find nothing)."""
_NOT_MECHANISM = re.compile(r"\bhow (many|much|big|fast|large|small|long|far|often|high|low)\b")

_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twice|double|doubled|half|dozens?|hundreds?"
    r"|thousands?|millions?|billions?)\b|[一二两三四五六七八九十百千万亿倍]",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(19|20)\d\d\b|\bQ[1-4]\b|\b(january|february|march|april|may|june|july|august|september|october"
    r"|november|december|today|now|next year|this year|early|later|soon|preview|generally available"
    r"|available|availability|coming|announced|launched|released|GA)\b",
    re.IGNORECASE,
)
_MECHANISM = re.compile(
    r"\b(by|because|through|thanks to|so that|instead of|using|uses|via|which lets|lets|allows|removes"
    r"|removing|eliminates|spreads|splits|separates|precomputes|keeps|isolates|combines|runs)\b",
    re.IGNORECASE,
)
_TITLE = re.compile(r"\b(CEO|CTO|founder|co-founder|VP|vice president|SVP|engineer|presented|hosted)\b")
_LIST = re.compile(r",.*(,| and )|、")


def asked_kinds(question: str) -> frozenset[Kind]:
    """The kinds of answer a question asks for (none: any fact on the subject may answer it)."""
    text = question.casefold()
    found = {
        kind
        for kind, pattern in _ASK.items()
        if any(hint in text for hint in _HINTS[kind]) and pattern.search(text)
    }
    if "mechanism" in found and _NOT_MECHANISM.search(text) and not re.search(r"\bwhy\b|为什么|为啥", text):
        found.discard("mechanism")
    return frozenset(found)


class Names:
    """Names to look for in a text, by their first _KEY characters: a conference has thousands of
    presenters, and testing each against every answer read cost more than the rest of the answer's
    entry; the text's few hundred character triples are looked up instead."""

    def __init__(self, names: Iterable[str]) -> None:
        self.short: list[str] = []
        self.by_key: dict[str, list[str]] = {}
        for name in names:
            if len(name) < _KEY:
                self.short.append(name)
            else:
                self.by_key.setdefault(name[:_KEY], []).append(name)

    def found_in(self, text: str) -> bool:
        """Any of the names is in the text (`name in text` for one of them)."""
        if any(name in text for name in self.short):
            return True
        keys = {text[start : start + _KEY] for start in range(len(text) - _KEY + 1)}
        return any(name in text for key in keys & self.by_key.keys() for name in self.by_key[key])


_KEY = 3


def has_number(text: str) -> bool:
    """The text states a number, in digits or words (`four stages`, 四个阶段)."""
    return _NUMBER.search(text) is not None


def given_kinds(answer: str, people: Names | Iterable[str], stated: Iterable[str] = ()) -> frozenset[Kind]:
    """The kinds of answer a fact's English answer gives, with any its curator stated."""
    found: set[str] = set(stated)
    if _NUMBER.search(answer):
        found.add("number")
    if _TIME.search(answer):
        found.add("time")
    if _MECHANISM.search(answer):
        found.add("mechanism")
    if _LIST.search(answer):
        found.add("list")
    if _TITLE.search(answer) or (people if isinstance(people, Names) else Names(people)).found_in(answer):
        found.add("person")
    return frozenset(kind for kind in KINDS if kind in found)


PERSON_WORDS = frozenset(
    {"ceo", "cto", "founder", "cofounder", "presenter", "speaker", "name", "title", "vp", "person", "guy"}
    | {"present", "spok", "speak", "gave", "host", "ran", "came", "took", "led", "deliver", "headlin"}
    | {
        "叫",
        "叫啥",
        "名字",
        "谁",
        "创始",
        "创始人",
        "首席",
        "执行",
        "职位",
        "头衔",
        "职务",
        "老板",
        "名",
        "叫啥名",
    }
)
"""Words that ask for a person (as the matcher sees them: terms, so `spok` is "spoke"), and the verbs
of "who presented / ran / gave ...": a fact naming one answers them."""

KIND_WORDS: dict[Kind, frozenset[str]] = {
    "person": PERSON_WORDS,
    "time": frozenset(
        {"year", "yr", "date", "month", "quarter", "day", "年", "哪年", "时候", "时间", "日期", "月份"}
    ),
    "number": frozenset(
        {"big", "size", "larg", "number", "count", "amount", "scal", "多大", "规模", "数量", "量级", "数字"}
    ),
    "mechanism": frozenset({"work", "mechanism", "原理", "机制", "怎么做到", "如何做到", "咋做到", "实现"}),
    "list": frozenset({"one", "component", "consist", "made", "几块", "组成", "部分", "哪几", "包括"}),
}
"""Words that only say which kind of answer is wanted ("what *year*", "how *big*", "how does it
*work*", "which *ones*"): a fact that gives that kind answers them, whatever words it uses."""

HARD: frozenset[Kind] = frozenset({"person", "time", "number"})
SOFT: frozenset[Kind] = frozenset({"mechanism", "list"})
"""Kinds read reliably on both sides: a fact that lacks one the question asks for is not its answer.
Mechanisms and lists are worded too many ways to rule a fact out; they only weigh in the confidence."""


def mismatch(asked: frozenset[Kind], given: frozenset[Kind]) -> frozenset[Kind]:
    """The reliably read kinds the question asks for and the fact does not give."""
    return (asked & HARD) - given


_HOW_MANY = re.compile(r"\bhow many ([a-z0-9][\w-]*)(?: ([a-z][\w-]*))?")
_ZH_COUNT = re.compile(
    r"(?<!哪)(?:多少|几)(?:个|块|张|颗|台|条|位|层|根)\s*([a-z][a-z0-9]+|[\u4e00-\u9fff][\u4e00-\u9fff]?)"
)
_ZH_PARTICLES = "啊呀呢吗吧啦哦嘛哈"
"""Sentence-final particles: in 多少个核啊 the counted noun is 核."""
_ZH_PEOPLE = re.compile(r"(?<!哪)(?:多少|几)(?:个|位|名)?人")
_MEASURE = "十百千万亿多余个块张颗台种条位家层根"
_WORD = re.compile(r"\d+(?:\.\d+)?|[a-z]+|%|[\u4e00-\u9fff]")
_HAN_NUMERALS = frozenset("零一二两三四五六七八九十百千万亿")
_NUMBER_WORDS = frozenset(
    {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"}
    | {"single", "dual", "twin", "both", "double"}
    | {"dozens", "hundreds", "thousands", "millions"}
)


def counted(question: str) -> tuple[str, ...]:
    """What "how many" counts ("how many cores" → cores, "多少个核心" → 核心): the answer must count it."""
    text = question.casefold()
    found = [word for match in _HOW_MANY.finditer(text) for word in match.groups() if word]
    for match in _ZH_COUNT.finditer(text):
        noun = match.group(1)
        if noun[-1:] in _ZH_PARTICLES:
            noun = noun[:-1]
        if noun and "的" not in noun:  # 几个云的核心属性 counts 属性, too far along to read
            found.append(noun)
    found += ["人" for _ in _ZH_PEOPLE.finditer(text)]
    return tuple(found)


def counts(answer: str, nouns: tuple[str, ...], fold: Callable[[str], str]) -> bool:
    """The answer puts a number right before one of the counted nouns ("192 cores", "144 Trainium3
    chips", "192个核心"); a share ("80% tensor core utilization") does not count things. Latin nouns
    are given as terms (folded and stemmed), Chinese ones as written."""
    tokens = _WORD.findall(answer.casefold())
    wanted = {noun for noun in nouns if not is_han_text(noun)}
    han = [noun for noun in nouns if is_han_text(noun)]
    for position, token in enumerate(tokens):
        if not (token[0].isdigit() or token in _NUMBER_WORDS or token in _HAN_NUMERALS):
            continue
        following = tokens[position + 1 : position + 6]
        if following[:1] == ["%"]:
            continue
        if any(fold(word) in wanted for word in following[:4]):
            return True
        joined = "".join(w for w in following if w not in _MEASURE)
        if any(noun in joined[: len(noun) + 2] for noun in han):  # 25万个向量索引 counts 索引
            return True
    return False


def is_han_text(text: str) -> bool:
    return bool(re.fullmatch(r"[\u4e00-\u9fff]+", text))
