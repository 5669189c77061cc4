"""What the gaps and review pages list: missed questions worth a curator's time, with the facts they
come closest to, and answers given with low confidence or voted down."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.curation.gaps import DislikedFact, QuestionGroup, group_questions, normalise
from bot.curation.records import AskedRow
from bot.storage import MissedQuestion
from knowledge.matcher import Matcher
from knowledge.smalltalk import small_talk

_LETTERS = re.compile(r"[^\W\d_]")
NOISE_WORDS = frozenset(
    {
        "hi",
        "hey",
        "hello",
        "yo",
        "ok",
        "okay",
        "thanks",
        "thank",
        "you",
        "thx",
        "lol",
        "test",
        "testing",
        "ping",
        "bye",
        "yes",
        "no",
        "nope",
        "yep",
        "sup",
        "hmm",
        "help",
        "好",
        "你好",
        "谢谢",
        "嗨",
        "测试",
    }
)
LOW_CONFIDENCE_MARGIN = 0.15
"""An answer within this much of the threshold is listed for review."""


def is_noise(question: str) -> bool:
    """Not a question about the keynote: small talk, numbers or punctuation only, a word or two of chat."""
    if small_talk(question) is not None:
        return True
    key = normalise(question)
    if not _LETTERS.search(key):
        return True
    words = key.split()
    if all(word in NOISE_WORDS for word in words):
        return True
    return len(words) == 1 and len(key) <= 3


@dataclass(frozen=True)
class Closest:
    fact_id: str
    question: str


@dataclass
class Gap:
    group: QuestionGroup
    closest: list[Closest] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.group.question,
            "count": self.group.count,
            "variants": self.group.variants,
            "languages": self.group.languages,
            "last_asked": self.group.last_asked.isoformat(),
            "closest": [closest.__dict__ for closest in self.closest],
        }


def open_gaps(missed: list[MissedQuestion], matcher: Matcher, limit: int = 50) -> list[Gap]:
    """Missed questions grouped as `python -m bot gaps` groups them, noise left out, and the groups the
    bot now answers (a curator already added the variant) left out too; each with its closest facts."""
    kept = [question for question in missed if not is_noise(question.question)]
    gaps: list[Gap] = []
    for group in group_questions(kept):
        answer = matcher.ask(group.question)
        if answer.answered or answer.small_talk is not None:
            continue
        ids = [s.fact_id for s in answer.suggestions]
        if answer.considered is not None:
            ids.insert(0, answer.considered.id)
        ids += group.suggestions
        closest = []
        for fact_id in dict.fromkeys(ids):
            fact = matcher.knowledge.facts.get(fact_id)
            if fact is not None:
                closest.append(Closest(fact_id, fact.canonical_question(answer.language)))
        gaps.append(Gap(group, closest[:3]))
        if len(gaps) >= limit:
            break
    return gaps


@dataclass(frozen=True)
class LowConfidence:
    question: str
    fact_id: str
    fact_question: str
    confidence: float
    count: int
    last_asked: datetime

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "last_asked": self.last_asked.isoformat()}


def low_confidence(
    asked: list[AskedRow], matcher: Matcher, reviewed: dict[str, str], limit: int = 50
) -> list[LowConfidence]:
    """Answered questions whose confidence was near the threshold, not yet reviewed, most asked first."""
    ceiling = matcher.calibration.threshold + LOW_CONFIDENCE_MARGIN
    found: dict[tuple[str, str], LowConfidence] = {}
    for row in asked:
        if row.outcome != "answered" or row.fact_id is None or row.confidence >= ceiling:
            continue
        if row.question in reviewed or row.fact_id not in matcher.knowledge.facts:
            continue
        key = (normalise(row.question), row.fact_id)
        before = found.get(key)
        fact = matcher.knowledge.facts[row.fact_id]
        found[key] = LowConfidence(
            question=row.question,
            fact_id=row.fact_id,
            fact_question=fact.canonical_question("zh" if row.language == "zh" else "en"),
            confidence=min(row.confidence, before.confidence) if before else row.confidence,
            count=(before.count if before else 0) + 1,
            last_asked=row.created_at,
        )
    ranked = sorted(found.values(), key=lambda item: (-item.count, item.confidence, item.question))
    return ranked[:limit]


def disliked_json(disliked: list[DislikedFact]) -> list[dict[str, Any]]:
    return [fact.__dict__ for fact in disliked]
