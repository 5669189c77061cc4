"""Turn a chat message or a curated text into comparable terms.

Chat messages carry Slack/Discord markup, emoji, full-width characters and stray punctuation that
say nothing about the question; curated texts do not. Both go through the same pipeline so that a
term in a question and a term in a fact compare equal when they mean the same thing.

Chinese has no spaces: a run of Han characters becomes its characters (minus function characters)
plus its character bigrams. Bigrams were measured against jieba segmentation on the Chinese questions
in `benchmarks/tokenizers.py`: equally accurate here, and jieba costs ~0.7 s to load at start-up.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

# Slack: <@U123>, <@U123|name>, <#C1|name>, <!here>, <!subteam^S1|@team>; Discord: <@123>, <@!123>,
# <@&123>, <#123>, <:name:123>, <a:name:123>, <t:1700000000:R>.
_MENTION = re.compile(r"<(?:[@#!&]|a?:|t:)[^<>\s]*>")
_LINK_WITH_TEXT = re.compile(r"<(?:https?://|mailto:)[^<>|\s]*\|([^<>]*)>")
_ANGLE_LINK = re.compile(r"<(?:https?://|mailto:)[^<>\s]*>")
_BARE_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+")
_AT_NAME = re.compile(r"(?<![\w.])@[\w.-]+")
_EMOJI_CODE = re.compile(r":(?:[a-z][a-z0-9_+-]*|[+-]1):", re.IGNORECASE)
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{_HAN}]+")
# A Latin token: letters and digits, with `c++`-style pluses and decimal points kept.
_WORD = re.compile(rf"[a-z0-9](?:[a-z0-9+]|\.(?=\d))*|[{_HAN}]+")
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
_MAGNITUDE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)([kmb])(?![a-z0-9])", re.IGNORECASE)
_MAGNITUDES = {"k": "thousand", "m": "million", "b": "billion"}

MAX_CHARS = 1000
"""Questions are matched on their first MAX_CHARS characters; a chat question is never longer."""

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "anything",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "done",
        "each",
        "either",
        "else",
        "ever",
        "for",
        "from",
        "get",
        "gets",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "hello",
        "her",
        "here",
        "hey",
        "hi",
        "him",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itll",
        "just",
        "know",
        "let",
        "lets",
        "like",
        "me",
        "mean",
        "more",
        "most",
        "my",
        "no",
        "not",
        "now",
        "of",
        "off",
        "ok",
        "okay",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "please",
        "pls",
        "really",
        "same",
        "say",
        "says",
        "she",
        "should",
        "so",
        "some",
        "something",
        "still",
        "such",
        "tell",
        "than",
        "thank",
        "thanks",
        "that",
        "thats",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "thing",
        "this",
        "those",
        "though",
        "thru",
        "w",
        "bc",
        "to",
        "too",
        "u",
        "um",
        "us",
        "vs",
        "versus",
        "very",
        "via",
        "want",
        "was",
        "we",
        "were",
        "what",
        "whats",
        "which",
        "while",
        "whom",
        "whose",
        "will",
        "with",
        "would",
        "yes",
        "yet",
        "you",
        "your",
    ]
)
"""English function words: they carry no topic, so they neither help nor hurt a match."""
TALK_PARTS = frozenset({"segment", "segments", "section", "sections", "portion", "part"})
"""Words for a part of the talk ("who ran the graviton segment?"): every fact is in one, so they
say nothing about which, and are read as function words."""
STOPWORDS |= TALK_PARTS

CHAT_NOISE = frozenset(
    {
        "lol",
        "lmao",
        "rofl",
        "haha",
        "yo",
        "ya",
        "yeah",
        "yep",
        "yup",
        "tbh",
        "ngl",
        "fr",
        "imo",
        "imho",
        "iirc",
        "afaik",
        "btw",
        "fyi",
        "plz",
        "thx",
        "ty",
        "tldr",
        "tl",
        "dr",
        "hiya",
        "quick",
        "q",
        "anyone",
        "anybody",
        "someone",
        "somebody",
        "guys",
        "folks",
        "wondering",
        "curious",
        "wild",
        "cool",
        "nice",
        "sorry",
        "dumb",
        "stupid",
        "question",
        "basically",
        "actually",
        "exactly",
        "kinda",
        "sorta",
        "gonna",
        "wanna",
        "gotta",
        "lemme",
        "pretty",
        "ah",
        "oh",
        "hmm",
        "huh",
        "wait",
        "idk",
        "dunno",
        "remember",
        "recall",
        "heard",
        "mentioned",
        "right",
        "true",
        "quickly",
        "omg",
        "wow",
        "damn",
        "dude",
        "bro",
        "hm",
        "uh",
        "plus",
        "ask",
        "asking",
        "hey",
        "again",
        "rn",
        "tho",
        "though",
        "ur",
        "r",
        "y",
        "ppl",
        "bit",
        "lil",
        "literally",
        "cuz",
        "coz",
    }
)
"""What chat adds around a question (`yo`, `lol`, `anyone know`, `tbh`): dropped like function words."""

INTENT_WORDS = frozenset(
    {"many", "much", "who", "when", "where", "why"}
    | {"能", "做", "能做", "做什", "什么", "可以", "如何", "怎么", "怎样", "为什", "哪些", "多少", "是否"}
    | {
        "啥",
        "咋",
        "几",
        "多大",
        "哪个",
        "哪家",
        "谁",
        "叫啥",
        "是啥",
        "有啥",
        "有什",
        "用啥",
        "干啥",
        "啥时",
        "时候",
        "是哪",
        "是谁",
    }
)
"""Words that say what kind of answer is wanted, not what it is about."""

OWNER_WORDS = frozenset({"company", "firm", "org", "organization", "公司", "哪家", "家公", "谁家", "家的"})
"""Words that ask whose a product or person is ("which company is Jae Lee from?"): a fact that names
the subject answers them by naming its company, whatever words it uses."""

HAN_STOP = frozenset(
    "的了吗呢吧啊呀么嘛是在有和与及或个一请问下这那哪些什怎样多少几为您你我们他她它就都也还又被把给对"
    "啥咋来着哈嘞喔哦噢诶欸呗啦咯由"
)
"""Chinese function characters, dropped from the unigram terms (bigrams keep them for context)."""


MONEY_WORDS = frozenset(
    {"price", "pricing", "priced", "cost", "costs", "fee", "fees", "billing", "dollar", "dollars"}
    | {"save", "saved", "saves", "saving", "savings", "cheaper", "spend", "spent"}
)
MONEY_HAN = ("价格", "多少钱", "收费", "费用", "定价", "成本", "美元")
"""A question about money needs an answer with an amount: a share (47%) or a currency."""

CHAT_ACRONYMS = frozenset(
    {
        "ga",
        "eta",
        "faq",
        "ai",
        "ml",
        "api",
        "ok",
        "tldr",
        "tl",
        "dr",
        "asap",
        "fyi",
        "btw",
        "pls",
        "plz",
        "thx",
    }
)
"""Capitals that say how something is asked, not what about: never an unknown product."""

UNITS = frozenset({"kb", "mb", "gb", "tb", "pb", "watt", "watts", "tdp", "ghz", "mhz", "nm", "usd"})
"""A question that names a unit needs an answer in that unit: "L3 cache in MB" is not "5x"."""

TIME_WORDS = frozenset({"tomorrow", "yesterday", "tonight", "upcoming"})
TIME_PAIRS = frozenset(
    {("next", "year"), ("next", "week"), ("next", "month"), ("last", "year"), ("last", "week")}
)
HAN_TIME = frozenset({"明天", "明年", "后天", "昨天", "去年", "下周", "上周", "将来"})
"""Moments outside the keynote: a question about one is about something the knowledge cannot know,
unless the knowledge itself mentions it (`PyTorch support is expected early next year`)."""


def time_pair(first: str, second: str) -> str | None:
    """`next_year` for `next year`: one term, so the knowledge can be asked whether it mentions it."""
    return f"{first}_{second}" if (first, second) in TIME_PAIRS else None


@dataclass(frozen=True)
class Token:
    """One word of a question: `text` is comparable, `proper` says it was written like a name."""

    text: str
    proper: bool = False
    acronym: bool = False
    """Written in capitals (EKS, TPU): a name when the knowledge does not know it."""


def strip_markup(text: str) -> str:
    """Remove what chat platforms add around a question: mentions, links, emoji, channel names."""
    text = unicodedata.normalize("NFKC", text)[:MAX_CHARS]
    # Each pattern runs only when the character it cannot match without is there: most questions
    # have no markup at all, and this runs three times per question.
    if "<" in text:
        text = _LINK_WITH_TEXT.sub(r" \1 ", text)
        text = _ANGLE_LINK.sub(" ", text)
        text = _MENTION.sub(" ", text)
    if "://" in text or "www." in text:
        text = _BARE_URL.sub(" ", text)
    if "@" in text:
        text = _AT_NAME.sub(" ", text)
    if ":" in text:
        text = _EMOJI_CODE.sub(" ", text)
    return text if text.isascii() else _NON_ASCII.sub(_drop_symbol, text)


_NON_ASCII = re.compile(f"[^\\x00-\\x7f{_HAN}]")
"""Characters that may be symbols: not ASCII and not Han (letters, never symbols)."""


def _drop_symbol(match: re.Match[str]) -> str:
    return " " if _is_symbol(match.group()) else match.group()


def _is_symbol(ch: str) -> bool:
    """Emoji, pictographs, their joiners and variation selectors."""
    if ch in "\u200d\ufe0e\ufe0f\u20e3":
        return True
    return unicodedata.category(ch) in ("So", "Sk", "Cs", "Co") and ch not in "%+"


def _spell_magnitude(match: re.Match[str]) -> str:
    return f"{match.group(1)} {_MAGNITUDES[match.group(2).casefold()]}"


def _magnitudes(text: str) -> str:
    """Chat shorthand for amounts spelt out: `1M hours` is `1 million hours`, `2B vectors` `2 billion`."""
    return _MAGNITUDE.sub(_spell_magnitude, text)


_RAW_WORD = re.compile(rf"[A-Za-z0-9][A-Za-z0-9+.]*|[{_HAN}]+")
"""A word as typed (capitals kept, so `_looks_proper` can read them), or a Han run."""
_NOT_ACRONYMS = CHAT_ACRONYMS | UNITS
"""All-capital words that are chat (LOL) or units (GB), not a name's initials."""


def words(text: str) -> list[Token]:
    """The words of a text in order, lower-cased, markup and punctuation gone; Han runs kept whole."""
    cleaned = _magnitudes(strip_markup(text))
    cleaned = _POSSESSIVE.sub("", cleaned)
    cleaned = cleaned.replace("'", "").replace("’", "")
    tokens: list[Token] = []
    for index, match in enumerate(_RAW_WORD.finditer(cleaned)):
        raw = match.group().rstrip(".")
        if not raw:
            continue
        folded = raw.casefold()
        acronym = raw.isascii() and raw.isalpha() and raw.isupper() and folded not in _NOT_ACRONYMS
        for part in _WORD.findall(folded):
            tokens.append(Token(part, _looks_proper(raw, index), acronym))
    return tokens


def plain_words(text: str) -> list[str]:
    """The words of a curated text, as `words` gives them, without the chat clean-up it does not need."""
    text = _POSSESSIVE.sub("", _magnitudes(unicodedata.normalize("NFKC", text)))
    return _WORD.findall(text.replace("'", "").replace("’", "").casefold())


_SEPARATOR = "\x01"


def plain_segments(texts: list[str]) -> list[list[str]]:
    """`plain_words` of several texts at once: one normalisation pass over all of a fact's texts."""
    blob = _SEPARATOR.join(texts)
    blob = (
        _POSSESSIVE.sub("", _magnitudes(unicodedata.normalize("NFKC", blob)))
        .replace("'", "")
        .replace("’", "")
    )
    return [_WORD.findall(piece) for piece in blob.casefold().split(_SEPARATOR)]


def _looks_proper(raw: str, index: int) -> bool:
    """Written like a name: inner capitals (TwelveLabs) or capitalised mid-sentence (Azure).

    All-capital words are left out: they are mostly common acronyms (CPU, AI) or chat shouting.
    """
    if not raw[:1].isalpha() or not raw.isascii():
        return False
    if not raw[1:].islower() and not raw.isupper() and any(ch.isupper() for ch in raw[1:]):
        return True
    return index > 0 and len(raw) > 1 and raw[0].isupper() and not raw.isupper()


def stem(word: str) -> str:
    """Fold English inflections so `cores`/`core` and `optimise`/`optimize` compare equal."""
    if not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 6:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 5:
        word = word[:-2]
    if word.endswith("ise"):
        word = word[:-3] + "ize"
    return word.rstrip("e") if len(word) > 4 else word


_SYNONYMS = {
    "cost": ("cheap", "cheaper", "cheapest", "save", "saving", "savings", "saved", "spend"),
    "performance": ("fast", "faster", "fastest", "speed", "speedup", "perf", "quicker"),
    "origin": ("begin", "began", "beginning", "start", "started", "born", "story"),
    "launch": ("release", "released", "launched", "introduce", "introduced", "unveil", "unveiled"),
    "migrate": ("rewrite", "rewrote", "port", "ported", "switch", "switched", "move", "moved", "moving"),
    "server": ("backend", "servers"),
    "customer": ("client", "clients", "customers", "user", "users"),
    "technology": ("tech",),
    "computer": ("cs",),
    "memory": ("mem",),
    "bandwidth": ("bw",),
    "generation": ("gen",),
    "largest": ("biggest",),
    "improvement": ("uplift", "boost", "gain", "gains", "better", "improve", "improved", "improves"),
    "dimension": ("dims", "dim"),
    "database": ("dataset", "datasets", "db", "dbs"),
    "stage": ("steps", "step", "phases", "phase"),
    "infrastructure": ("infra",),
    "available": ("ship", "ships", "shipping", "shipped", "availability"),
    "utilization": ("util", "utilisation"),
    "1": ("one",),
    "2": ("two", "dual", "pair"),
    "3": ("three",),
    "4": ("four",),
    "5": ("five",),
    "6": ("six",),
    "7": ("seven",),
    "8": ("eight",),
    "9": ("nine",),
    "10": ("ten",),
}
SYNONYMS = {variant: canonical for canonical, variants in _SYNONYMS.items() for variant in variants}
"""Everyday English words folded onto the word curators tend to use for the same idea."""


COMMON_WORDS_PATH = Path(__file__).with_name("common_words.txt")


def _common_terms() -> frozenset[str]:
    lines = COMMON_WORDS_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(term_of(line) for line in lines if line and not line.startswith("#"))


@functools.lru_cache(maxsize=16384)
def term_of(word: str) -> str:
    """The comparable term of one English word: synonyms folded, then stemmed."""
    return stem(SYNONYMS.get(word, word))


def han_terms(run: str) -> list[str]:
    """Characters that carry meaning plus every character bigram of a Han run."""
    unigrams = [ch for ch in run if ch not in HAN_STOP]
    bigrams = [run[i : i + 2] for i in range(len(run) - 1)]
    return unigrams + bigrams


def is_han(term: str) -> bool:
    return bool(_HAN_RUN.fullmatch(term))


_DIGIT = re.compile(r"\d")


def has_digit(term: str) -> bool:
    return _DIGIT.search(term) is not None


def digits_of(term: str) -> str:
    return "".join(ch for ch in term if ch.isdigit())


def compact(text: str) -> str:
    """A text reduced to its letters, digits and Han characters: for comparing names."""
    return "".join(token.text for token in words(text))


COMMON_TERMS = _common_terms()
"""Everyday English words as terms (`common_words.txt`): an unknown one is phrasing, not a name."""
