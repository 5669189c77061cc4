"""The searchable form of the knowledge: terms, their weights, and who mentions them.

Built once per knowledge version (start-up and reload), never at question time. Candidate facts
come from an inverted index over terms (rare terms first, within a posting budget), so a question
costs the same whether the knowledge holds a hundred facts or a hundred thousand; only a bounded
set of candidates is then re-ranked with rapidfuzz.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from knowledge.loader import Knowledge
from knowledge.models import LANGUAGES, Fact, Language
from knowledge.normalize import STOPWORDS, Token, digits_of, han_terms, has_digit, is_han, term_of, words

HanSplitter = Callable[[str], list[str]]

ANSWER_CREDIT = 0.6
"""A term found only in a fact's answer counts for less than one in the way people ask for it."""
POSTING_BUDGET = 20_000
"""At most this many postings are read per question when choosing candidates."""
_SERIES = re.compile(r"([a-z]+)(\d+)([a-z]*)")
_SHORT_NUMBER = re.compile(r"\d{1,2}")


@dataclass(frozen=True)
class Variant:
    language: Language
    text: str
    terms: frozenset[str]


@dataclass(frozen=True)
class Entry:
    """What the re-ranker needs about one fact, prepared in advance."""

    fact: Fact
    asked: frozenset[str]
    answered: frozenset[str]
    variants: tuple[Variant, ...]


@dataclass(frozen=True)
class QueryTerm:
    """A term of the question as it will be looked up: `term` is in the vocabulary when `known`."""

    term: str
    weight: float
    known: bool
    credit: float = 1.0
    source: str = ""


@dataclass
class Index:
    entries: list[Entry]
    df: dict[str, int]
    asked_postings: dict[str, array[int]]
    answered_postings: dict[str, array[int]]
    by_digits: dict[str, list[str]]
    by_initial: dict[str, list[str]]
    series: dict[str, set[str]]
    han: HanSplitter = han_terms
    idf_cache: dict[str, float] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.entries)

    def idf(self, term: str) -> float:
        weight = self.idf_cache.get(term)
        if weight is None:
            weight = math.log(1.0 + self.size / self.df.get(term, 0.5))
            self.idf_cache[term] = weight
        return weight

    @property
    def unknown_weight(self) -> float:
        return math.log(1.0 + self.size / 0.5)

    def candidates(self, terms: Iterable[QueryTerm], limit: int) -> list[int]:
        """Fact positions sharing the most weight with the question, rare terms read first."""
        scores: dict[int, float] = defaultdict(float)
        budget = POSTING_BUDGET
        for query_term in sorted(terms, key=lambda t: self.df.get(t.term, 0)):
            if not query_term.known:
                continue
            weight = query_term.weight * query_term.credit
            asked = self.asked_postings.get(query_term.term, ())
            answered = self.answered_postings.get(query_term.term, ())
            if len(asked) + len(answered) > budget and scores:
                break
            budget -= len(asked) + len(answered)
            for position in asked:
                scores[position] += weight
            for position in answered:
                scores[position] += weight * ANSWER_CREDIT
        if len(scores) <= limit:
            return list(scores)
        return sorted(scores, key=scores.__getitem__, reverse=True)[:limit]


def text_terms(text: str, han: HanSplitter = han_terms) -> list[str]:
    """The comparable terms of a curated text, with `Graviton 5` also giving `graviton5`."""
    return [term for term, _ in tokens_to_terms(words(text), han)]


def tokens_to_terms(tokens: list[Token], han: HanSplitter) -> list[tuple[str, bool]]:
    """Terms with a flag saying whether each was written like a product name.

    `Graviton 5` and `Graviton5` give the same terms, `graviton5` and `graviton`, so neither way of
    writing a name scores differently from the other.
    """
    terms: list[tuple[str, bool]] = []
    skip_next = False
    for position, token in enumerate(tokens):
        if skip_next:
            skip_next = False
            continue
        if is_han(token.text):
            terms.extend((term, False) for term in han(token.text))
            continue
        if token.text in STOPWORDS:
            continue
        following = tokens[position + 1].text if position + 1 < len(tokens) else ""
        if token.text.isalpha() and _SHORT_NUMBER.fullmatch(following):
            terms.append((token.text + following, True))
            terms.append((term_of(token.text), token.proper))
            skip_next = True
            continue
        terms.append((term_of(token.text), token.proper))
        prefix = series_prefix(token.text)
        if prefix:
            terms.append((prefix, token.proper))
    return terms


def series_prefix(term: str) -> str | None:
    """`graviton` for `graviton5`: the product line a numbered name belongs to."""
    match = _SERIES.fullmatch(term)
    if match and len(match.group(1)) >= 3 and not match.group(3):
        return match.group(1)
    return None


def build_index(knowledge: Knowledge, han: HanSplitter = han_terms) -> Index:
    entries: list[Entry] = []
    df: dict[str, int] = defaultdict(int)
    asked_postings: dict[str, array[int]] = {}
    answered_postings: dict[str, array[int]] = {}
    interned: dict[str, str] = {}

    def intern(terms: Iterable[str]) -> frozenset[str]:
        return frozenset(interned.setdefault(term, term) for term in terms)

    for position, fact in enumerate(knowledge.facts.values()):
        variants = tuple(
            Variant(language, " ".join(t.text for t in words(text)), intern(text_terms(text, han)))
            for language in LANGUAGES
            for text in fact.questions.get(language)
        )
        asked = frozenset().union(
            *(v.terms for v in variants), intern(t for k in fact.keywords for t in text_terms(k, han))
        )
        answered = intern(t for lang in LANGUAGES for t in text_terms(fact.answer.get(lang), han)) - asked
        entries.append(Entry(fact, asked, answered, variants))
        for term in asked:
            df[term] += 1
            asked_postings.setdefault(term, array("i")).append(position)
        for term in answered:
            df[term] += 1
            answered_postings.setdefault(term, array("i")).append(position)
    by_digits: dict[str, list[str]] = defaultdict(list)
    by_initial: dict[str, list[str]] = defaultdict(list)
    series: dict[str, set[str]] = defaultdict(set)
    for term in df:
        if is_han(term):
            continue
        if has_digit(term):
            by_digits[digits_of(term)].append(term)
            match = _SERIES.fullmatch(term)
            if match:
                series[match.group(1)].add(match.group(2))
        else:
            by_initial[term[0]].append(term)
    return Index(
        entries,
        dict(df),
        asked_postings,
        answered_postings,
        dict(by_digits),
        dict(by_initial),
        dict(series),
        han,
    )


def resolve(index: Index, term: str) -> tuple[str, float] | None:
    """The vocabulary term a misspelt or abbreviated Latin term stands for, with a credit below 1.

    `gravtion5` stands for `graviton5` and `trn3` for `trainium3`, but `graviton6` stands for nothing:
    digits must agree exactly, because a different number is a different product.
    """
    if has_digit(term):
        best: tuple[str, float] | None = None
        for candidate in index.by_digits.get(digits_of(term), ()):
            score = fuzz.ratio(term, candidate)
            if score >= 80 and (best is None or score / 100 > best[1]):
                best = (candidate, score / 100)
            elif _abbreviates(term, candidate) and best is None:
                best = (candidate, 0.85)
        return best
    if len(term) < 5:
        return None
    found = process.extractOne(term, index.by_initial.get(term[0], ()), scorer=fuzz.ratio, score_cutoff=85)
    if found is None:
        return None
    return found[0], found[1] / 100


def _abbreviates(short: str, long: str) -> bool:
    """`trn3` abbreviates `trainium3`: same initial, same digits, letters in order."""
    letters = [ch for ch in short if ch.isalpha()]
    if len(letters) < 3 or short[0] != long[0] or len(short) >= len(long):
        return False
    remaining = iter(long)
    return all(ch in remaining for ch in short)


def unknown_series_member(index: Index, term: str) -> bool:
    """`graviton6` when the knowledge has `graviton4` and `graviton5`: a product it does not know."""
    match = _SERIES.fullmatch(term)
    if not match:
        return False
    numbers = index.series.get(match.group(1), set())
    return bool(numbers) and match.group(2) not in numbers
