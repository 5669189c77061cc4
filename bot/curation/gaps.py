"""`python -m bot gaps`: what curators should write next, from what users asked and voted.

Unanswered questions are grouped by similarity so twenty wordings of one missing fact show as one
line with a count; facts are ranked by 👎 so wrong or unclear answers surface.

Grouping compares a question only with the groups that share a term with it (a word, or the first
or last letters of a longer word, so typos still meet), found through an inverted index; terms that
most questions share say nothing and are not indexed. 100,000 missed questions group in seconds, where
comparing every question with every group took minutes. The text report shows users' words with
control characters (terminal escapes, bidirectional overrides) removed: they came from chat, not from
the curator.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process

from bot.storage import FactVotes, MissedQuestion
from knowledge.loader import Knowledge

SIMILARITY = 80
"""token_sort_ratio at or above which two normalised questions count as the same question."""
_NOT_WORD = re.compile(r"[^\w]+")


def normalise(question: str) -> str:
    """Case, width, punctuation and spacing removed: `Graviton5 — cores?` equals `graviton5 cores`."""
    folded = unicodedata.normalize("NFKC", question).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def printable(text: str) -> str:
    """Users' words made safe for a terminal: control and format characters (ESC sequences, BEL,
    bidirectional overrides, line separators) become spaces, runs of spaces one."""
    cleaned = "".join(" " if unicodedata.category(char) in _UNPRINTABLE else char for char in text)
    return " ".join(cleaned.split())


COMMON_TERM = 0.02
"""A term in more than this share of the distinct questions (and more than MIN_COMMON of them) is not
indexed: `how`, `the`, `does` would make every group a candidate for every question."""
MIN_COMMON = 50
CANDIDATES = 100
"""Groups a question is compared with at most (more only to finish the term that reached it), taken
from its rarest terms first."""
MIN_TYPO_TERM = 6
"""Words at least this long are also indexed by their first and last AFFIX letters, so a question with
one typo in a word still meets the groups that have the word right."""
AFFIX = 4
_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _terms(key: str) -> set[str]:
    """The blocking terms of a normalised question: its words, the ends of its longer words, and the
    character pairs of Chinese text (which has no spaces between words)."""
    terms: set[str] = set()
    for word in key.split():
        if _CJK.search(word):
            terms.update(word[n : n + 2] for n in range(max(1, len(word) - 1)))
            continue
        terms.add(word)
        if len(word) >= MIN_TYPO_TERM:  # one typo rarely spoils both ends of a word
            terms.add("^" + word[:AFFIX])
            terms.add(word[-AFFIX:] + "$")
    return terms


@dataclass
class QuestionGroup:
    question: str
    """The most frequent wording (the first asked, among equally frequent ones)."""
    count: int
    variants: list[str]
    languages: list[str]
    last_asked: datetime
    suggestions: list[str]
    """Fact ids the bot suggested most often for these questions: where a curator might add a variant."""


@dataclass
class DislikedFact:
    fact_id: str
    down: int
    up: int
    question: str | None
    """The fact's first English question, or None if the fact is no longer in the knowledge."""


@dataclass
class GapsReport:
    missed: int
    groups: list[QuestionGroup] = field(default_factory=list)
    disliked: list[DislikedFact] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for group in data["groups"]:
            group["last_asked"] = group["last_asked"].isoformat()
        return data


@dataclass
class _Cluster:
    key: str
    wordings: Counter[str] = field(default_factory=Counter)
    first_seen: dict[str, tuple[datetime, int]] = field(default_factory=dict)
    """Per wording: when it was first asked, and its position in the input (ties in time)."""
    languages: Counter[str] = field(default_factory=Counter)
    suggestions: Counter[str] = field(default_factory=Counter)
    last_asked: datetime | None = None

    def add(self, question: MissedQuestion, position: int) -> None:
        self.wordings[question.question] += 1
        seen = (question.created_at, position)
        self.first_seen[question.question] = min(self.first_seen.get(question.question, seen), seen)
        self.languages[question.language] += 1
        self.suggestions.update(question.suggestions)
        if self.last_asked is None or question.created_at > self.last_asked:
            self.last_asked = question.created_at


def group_questions(questions: list[MissedQuestion], threshold: int = SIMILARITY) -> list[QuestionGroup]:
    """Greedy clustering: the most asked normalised forms start groups, rarer similar ones join them.

    Each candidate is scored (token_sort_ratio) only against the groups it shares an indexed term with,
    best score first and earliest group on ties, exactly as against every group, wherever they share one.
    """
    exact: dict[str, _Cluster] = {}
    for position, question in enumerate(questions):
        key = normalise(question.question)
        if key:
            exact.setdefault(key, _Cluster(key)).add(question, position)
    ordered = sorted(exact.values(), key=lambda c: (-c.wordings.total(), min(c.first_seen.values())))
    terms = {candidate.key: _terms(candidate.key) for candidate in ordered}
    frequency: Counter[str] = Counter(term for found in terms.values() for term in found)
    common = max(MIN_COMMON, COMMON_TERM * len(ordered))
    index: dict[str, list[int]] = {}
    clusters: list[_Cluster] = []
    sorted_words: list[str] = []
    for candidate in ordered:
        rarest_first = sorted(terms[candidate.key], key=lambda term: (frequency[term], term))
        indexed = [term for term in rarest_first if frequency[term] <= common] or rarest_first[:3]
        found: set[int] = set()
        for term in indexed:  # the rarest terms say the most: stop once there are enough candidates
            found.update(index.get(term, ()))
            if len(found) >= CANDIDATES:
                break
        nearby = sorted(found)
        # token_sort_ratio is ratio on the words sorted: sort each group's words once, not per comparison
        words = " ".join(sorted(candidate.key.split()))
        match = (
            process.extractOne(
                words, [sorted_words[n] for n in nearby], scorer=fuzz.ratio, score_cutoff=threshold
            )
            if nearby
            else None
        )
        if match is None:
            for term in indexed:
                index.setdefault(term, []).append(len(clusters))
            clusters.append(candidate)
            sorted_words.append(words)
            continue
        target = clusters[nearby[match[2]]]
        target.wordings.update(candidate.wordings)
        for wording, seen in candidate.first_seen.items():
            target.first_seen[wording] = min(seen, target.first_seen.get(wording, seen))
        target.languages.update(candidate.languages)
        target.suggestions.update(candidate.suggestions)
        assert candidate.last_asked is not None and target.last_asked is not None
        target.last_asked = max(target.last_asked, candidate.last_asked)
    groups = []
    for cluster in clusters:
        wordings = sorted(cluster.wordings, key=lambda w: (-cluster.wordings[w], cluster.first_seen[w]))
        assert cluster.last_asked is not None
        groups.append(
            QuestionGroup(
                question=wordings[0],
                count=cluster.wordings.total(),
                variants=wordings[1:6],
                languages=[language for language, _ in cluster.languages.most_common()],
                last_asked=cluster.last_asked,
                suggestions=[fact_id for fact_id, _ in cluster.suggestions.most_common(3)],
            )
        )
    groups.sort(key=lambda g: (-g.count, -g.last_asked.timestamp(), g.question))
    return groups


def disliked_facts(votes: list[FactVotes], knowledge: Knowledge | None) -> list[DislikedFact]:
    disliked = []
    for vote in votes:
        if vote.down == 0:
            continue
        fact = knowledge.facts.get(vote.fact_id) if knowledge else None
        question = fact.canonical_question("en") if fact else None
        disliked.append(DislikedFact(vote.fact_id, vote.down, vote.up, question))
    disliked.sort(key=lambda d: (-d.down, d.up, d.fact_id))
    return disliked


def gaps_report(
    missed: list[MissedQuestion], votes: list[FactVotes], knowledge: Knowledge | None, limit: int = 20
) -> GapsReport:
    return GapsReport(
        missed=len(missed),
        groups=group_questions(missed)[:limit],
        disliked=disliked_facts(votes, knowledge)[:limit],
    )


def render_text(report: GapsReport) -> str:
    lines = [f"Unanswered questions: {report.missed} asked, top {len(report.groups)} groups"]
    if not report.groups:
        lines.append("  (none)")
    for group in report.groups:
        languages = ",".join(group.languages)
        question = printable(group.question)
        lines.append(f"{group.count:5}×  {question}  [{languages}, last {group.last_asked:%Y-%m-%d}]")
        if group.variants:
            lines.append("        also: " + " | ".join(printable(variant) for variant in group.variants))
        if group.suggestions:
            lines.append("        suggested: " + ", ".join(group.suggestions))
    lines.append("")
    lines.append("Facts with the most 👎:")
    if not report.disliked:
        lines.append("  (none)")
    for fact in report.disliked:
        question = fact.question if fact.question is not None else "(no longer in the knowledge)"
        lines.append(f"{fact.down:5} 👎 {fact.up:4} 👍  {fact.fact_id}: {question}")
    return "\n".join(lines)
