"""Two-part questions: "how much faster and how much cheaper?", "内存带宽多少？比上一代高几倍？".

A question is cut where a second question starts: at "and"/"also"/"plus" followed by a question
word, at a " + " ("perf + cost numbers?"), at a question mark with more after it, or (Chinese) at a
comma, 、 or space between two clauses
that each ask something. Each part is then answered on its own, the parts lending each other
their subject, so "how much faster" borrows "Swift on Graviton" from the part that names it.
"""

from __future__ import annotations

import re

_QUESTION_WORD = (
    r"(?:how|what|whats|what's|when|whens|when's|who|whom|which|where|why|is|are|was|were|does|do|did|can"
    r"|could|will|would|across|over|on|in|at|and)\b"
)
_EN_JOIN = re.compile(rf"(?:,\s*|\s+)(?:and|also|plus|&)\s+(?={_QUESTION_WORD})|\s+\+\s+", re.IGNORECASE)
_MARK = re.compile(r"[?？]+\s*(?=\S)")
_ZH_ASKS = re.compile(r"吗|呢|多少|几|啥|什么|哪|怎么|谁|如何|是否|多大|多高")
_ZH_BREAK = re.compile(r"[，,；;、]\s*(?:还有|以及|另外)?|\s+(?:还有|以及|另外)?")
_MIN_CHARS = 3


def split_parts(question: str) -> list[str]:
    """The question's parts, in order; one part for an ordinary question."""
    parts = [question]
    for pattern in (_MARK, _EN_JOIN):
        parts = [piece for part in parts for piece in pattern.split(part)]
    parts = [piece for part in parts for piece in _chinese_clauses(part)]
    kept = [part.strip(" ,，?？") for part in parts]
    kept = [part for part in kept if len(part) >= _MIN_CHARS]
    return kept if len(kept) > 1 else [question]


def _chinese_clauses(text: str) -> list[str]:
    """Split Chinese clauses only where both sides ask something (`L2缓存多大 之前是多少`)."""
    if not _ZH_ASKS.search(text):
        return [text]
    pieces: list[str] = []
    start = 0
    for match in _ZH_BREAK.finditer(text):
        before, after = text[start : match.start()], text[match.end() :]
        if _ZH_ASKS.search(before) and _ZH_ASKS.search(after) and _han(before) and _han(after):
            pieces.append(before)
            start = match.end()
    pieces.append(text[start:])
    return pieces


def _han(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


_NEW_TOPIC = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|alright|so|and|also|k)\W+)*"
    r"(?:(?:totally |completely )?unrelated(?: but| question| q)?|switching(?: gears| topics?)?"
    r"|(?:a )?diff(?:erent)? (?:topic|q|question|thing)|(?:an)?other (?:topic|q|question|thing)"
    r"|new (?:topic|q|question)|change of topic|changing (?:topic|subject)|on another note)\b[\s,.:;!—–-]*"
    r"|^\W*(?:换个话题|换个问题|换个事|另一个问题|说点别的|题外话|顺便问一下|顺便问下)[\s，,。:：；;！!-]*",
    re.IGNORECASE,
)


def new_topic(question: str) -> str | None:
    """The rest of a question that opens by leaving the conversation's topic ("ok diff q, what's
    NKI?", "换个话题，decart 的 ceo 叫啥"): it is asked on its own, never as a follow-up, and the
    announcement itself is not looked up ("switching" is not a network switch)."""
    match = _NEW_TOPIC.match(question)
    if match is None or match.end() == 0:
        return None
    rest = question[match.end() :].strip()
    return rest or None
