"""Answer a question from the knowledge, or abstain with suggestions.

Plain Python over an index built in advance: no I/O and no platform code at question time.
Scoring, per candidate fact, in [0, 1]:

- coverage: how much of the question's weight (IDF; unknown words weigh the most) the fact explains,
- variant coverage: how much of the fact's closest question variant the question covers,
- similarity: rapidfuzz ratio between the question and that variant, for near-verbatim questions.

The mix is the confidence; below THRESHOLD the matcher abstains. It also abstains, whatever the
score, when the question names a product the knowledge does not have (`Graviton6`, `M10g`, `2030`):
a question about something else must not get the answer about its neighbour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from knowledge.index import (
    ANSWER_CREDIT,
    Entry,
    Index,
    QueryTerm,
    build_index,
    resolve,
    series_prefix,
    unknown_series_member,
)
from knowledge.language import detect_language
from knowledge.loader import Knowledge, Problem
from knowledge.models import Fact, Language, Launch
from knowledge.normalize import (
    HAN_TIME,
    INTENT_WORDS,
    MONEY_HAN,
    MONEY_WORDS,
    STOPWORDS,
    TIME_WORDS,
    UNITS,
    Token,
    compact,
    has_digit,
    is_han,
    term_of,
    time_pair,
    words,
)

THRESHOLD = 0.5
"""Answer at or above this confidence; chosen on the held-out questions in tests/test_matcher.py."""
CANDIDATES = 40
"""Facts drawn from the index per question and scored by coverage."""
RERANKED = 12
"""Facts compared variant by variant: enough for the right one to be among them, few enough to be fast."""
SUGGESTIONS = 3
_MIN_SUGGESTION = 0.2
_WEIGHTS = (0.6, 0.25, 0.15)
_PROPER_BOOST = 1.5
_UNKNOWN_HAN = 0.5
_ABSTAIN_CAP = 0.25
_AMBIGUOUS_MARGIN = 0.02
_ATTRIBUTE_SHARE = 0.25


@dataclass(frozen=True)
class Suggestion:
    fact_id: str
    question: str


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    language: Language
    confidence: float
    fact: Fact | None = None
    text: str = ""
    timestamp: str | None = None
    suggestions: tuple[Suggestion, ...] = ()
    unknown: tuple[str, ...] = ()
    """Names in the question that the knowledge does not have (why it abstained)."""


@dataclass(frozen=True)
class LaunchLookup:
    launch: Launch | None
    suggestions: tuple[Launch, ...] = ()


@dataclass(frozen=True)
class Query:
    terms: tuple[QueryTerm, ...]
    text: str
    unknown_names: tuple[str, ...]
    language: Language = "en"


@dataclass(frozen=True)
class Scored:
    entry: Entry
    score: float


class Matcher:
    def __init__(self, knowledge: Knowledge, index: Index | None = None) -> None:
        self.knowledge = knowledge
        self.index = index if index is not None else build_index(knowledge)
        self._totals: dict[frozenset[str], float] = {}
        self._launch_names = [
            (launch, key)
            for launch in knowledge.launches.values()
            for key in dict.fromkeys(compact(name) for name in (launch.name, launch.id, *launch.aliases))
            if key
        ]

    def ask(self, question: str) -> Answer:
        query = self.query(question)
        language = query.language
        ranked = self.rank(query) if any(not term.term.isdigit() for term in query.terms) else []
        if not ranked:
            return Answer(question=question, answered=False, language=language, confidence=0.0)
        best = ranked[0]
        confidence = best.score
        unknown = query.unknown_names + _missing_names(query, best.entry)
        if (
            unknown
            or self._asks_something_else(query, best.entry)
            or _needs_amount(query, best.entry.fact.answer.get(language))
        ):
            confidence = min(confidence, _ABSTAIN_CAP)
        if confidence >= THRESHOLD:
            fact = best.entry.fact
            return Answer(
                question=question,
                answered=True,
                language=language,
                confidence=confidence,
                fact=fact,
                text=fact.answer.get(language),
                timestamp=fact.timestamp,
            )
        suggestions = tuple(
            Suggestion(s.entry.fact.id, s.entry.fact.canonical_question(language))
            for s in ranked[:SUGGESTIONS]
            if s.score >= _MIN_SUGGESTION
        )
        return Answer(
            question=question,
            answered=False,
            language=language,
            confidence=confidence,
            suggestions=suggestions,
            unknown=unknown,
        )

    def query(self, question: str) -> Query:
        """The question's terms, weighted, with misspellings resolved and unknown names set aside."""
        index = self.index
        tokens = words(question)
        terms: list[QueryTerm] = []
        unknown: list[str] = []
        skip_next = False
        title_case = _title_case(tokens)
        shouting = sum(token.acronym for token in tokens) > len(tokens) / 2
        # Chinese does not capitalise: a Latin word in a Chinese question is a product or a name.
        chinese = any(is_han(token.text) for token in tokens)
        for position, token in enumerate(tokens):
            if skip_next:
                skip_next = False
                continue
            text = token.text
            if is_han(text):
                self._han_terms(text, terms, unknown)
                continue
            following = tokens[position + 1].text if position + 1 < len(tokens) else ""
            moment = time_pair(text, following) or (text if text in TIME_WORDS else None)
            if moment and moment not in index.df:
                unknown.append(moment)
                continue
            if moment:
                terms.append(QueryTerm(moment, index.idf(moment), True, source=moment, name=True))
                if moment != text:
                    skip_next = True
                continue
            if text in STOPWORDS:
                continue
            if text.isalpha() and following.isdigit() and len(following) <= 2:
                merged = self._known(text + following)
                if merged is not None:
                    terms.append(merged)
                    skip_next = True
                    word = self._known(term_of(text))
                    if word is not None:
                        terms.append(word)
                    continue
                if unknown_series_member(index, text + following):
                    unknown.append(text + following)
                    skip_next = True
                    continue
            term = term_of(text)
            proper = (token.proper and not title_case) or (chinese and text.isalpha() and text not in UNITS)
            known = self._known(term, proper)
            if known is not None:
                terms.append(known)
                prefix = series_prefix(known.term)
                line = self._known(prefix) if prefix else None
                if line is not None:
                    terms.append(line)
            elif has_digit(term) or proper or (token.acronym and not shouting):
                unknown.append(term)
            else:
                weight = index.unknown_weight * (_PROPER_BOOST if token.proper else 1.0)
                terms.append(QueryTerm(term, weight, False, source=text))
        text = " ".join(t.text for t in tokens)
        return Query(tuple(terms), text, tuple(unknown), detect_language(question))

    def _asks_something_else(self, query: Query, entry: Entry) -> bool:
        """The fact is about the product asked for, but not about what is asked of it.

        `How many cores does Trainium3 have?` must not get the Trainium3 fact that merely matches
        the name: apart from names, too little of the question is in the fact.
        """
        series = self.index.series
        asked = 0.0
        found = 0.0
        for term in query.terms:
            if term.name or term.term in series or term.term in INTENT_WORDS or not term.known:
                continue
            asked += term.weight
            if term.term in entry.asked or term.term in entry.answered:
                found += term.weight
        return asked > 0 and found < _ATTRIBUTE_SHARE * asked

    def _han_terms(self, run: str, terms: list[QueryTerm], unknown: list[str]) -> None:
        """Known characters and bigrams of a Han run; unknown bigrams are mostly word boundaries."""
        index = self.index
        for term in index.han(run):
            if term in HAN_TIME and term not in index.df:
                unknown.append(term)
            elif term in index.df:
                terms.append(QueryTerm(term, index.idf(term), True, source=run, name=term in HAN_TIME))
            elif len(term) == 1:
                terms.append(QueryTerm(term, index.unknown_weight * _UNKNOWN_HAN, False, source=run))

    def _known(self, term: str, proper: bool = False) -> QueryTerm | None:
        """The term as the vocabulary knows it, directly or as a misspelling or abbreviation.

        Numbers and words written like names (`Lambda` mid-sentence) are names: the answer must
        be about them, not merely about something next to them.
        """
        index = self.index
        name = has_digit(term) or proper
        if term in index.df:
            return QueryTerm(term, index.idf(term), True, source=term, name=name)
        if is_han(term):
            return None
        resolved = resolve(index, term)
        if resolved is None:
            return None
        return QueryTerm(
            resolved[0], index.idf(resolved[0]), True, credit=resolved[1], source=term, name=name
        )

    def rank(self, query: Query) -> list[Scored]:
        """Candidate facts by score, best first.

        Coverage is cheap (set lookups), so every candidate gets it; only the best RERANKED by
        coverage are compared variant by variant, and only while their coverage leaves them a chance
        to beat the best so far (the other two parts add at most their weights).
        """
        total = sum(t.weight for t in query.terms)
        if total <= 0:
            return []
        entries = self.index.entries
        covered = [
            (self.coverage(query, entries[p]) / total, p)
            for p in self.index.candidates(query.terms, CANDIDATES)
        ]
        covered.sort(key=lambda pair: pair[0], reverse=True)
        a, b, c = _WEIGHTS
        ranked: list[Scored] = []
        best = 0.0
        for coverage, position in covered[:RERANKED]:
            if len(ranked) >= SUGGESTIONS and a * coverage + b + c < best:
                break
            scored = Scored(entries[position], self.score(query, entries[position], coverage))
            best = max(best, scored.score)
            ranked.append(scored)
        ranked.sort(key=lambda s: s.score, reverse=True)
        return ranked

    @staticmethod
    def coverage(query: Query, entry: Entry) -> float:
        """The weight of the question's terms that the fact explains."""
        matched = 0.0
        for term in query.terms:
            if term.known:
                if term.term in entry.asked:
                    matched += term.weight * term.credit
                elif term.term in entry.answered:
                    matched += term.weight * term.credit * ANSWER_CREDIT
        return matched

    def score(self, query: Query, entry: Entry, coverage: float) -> float:
        present = [t.term for t in query.terms if t.known and t.term in entry.asked]
        weights = self.index.weights
        best_variant = 0.0
        best_similarity = 0.0
        for variant in entry.variants:
            terms = variant.terms
            whole = self._totals.get(terms)
            if whole is None:
                whole = self._totals[terms] = sum(weights[t] for t in terms)
            if whole > 0:
                covered = sum(weights[t] for t in present if t in terms)
                if covered > best_variant * whole:
                    best_variant = covered / whole
            if variant.language == query.language:
                similarity = fuzz.token_sort_ratio(query.text, variant.text, score_cutoff=best_similarity)
                if similarity > best_similarity:
                    best_similarity = similarity
        a, b, c = _WEIGHTS
        return a * coverage + b * best_variant + c * best_similarity / 100

    def find_launch(self, name: str) -> LaunchLookup:
        """The launch a user means by `name` (fuzzy: `graviton 5`, `trn3`), else the closest three."""
        key = compact(name)
        if not key:
            return LaunchLookup(None, tuple(list(self.knowledge.launches.values())[:SUGGESTIONS]))
        scored = self._launch_scores(key)
        if scored and scored[0][1] >= 85:
            return LaunchLookup(scored[0][0])
        return LaunchLookup(None, tuple(launch for launch, score in scored[:SUGGESTIONS] if score >= 40))

    def _launch_scores(self, key: str) -> list[tuple[Launch, float]]:
        best: dict[str, tuple[Launch, float]] = {}
        for launch, candidate in self._launch_names:
            score = _name_score(key, candidate)
            if launch.id not in best or score > best[launch.id][1]:
                best[launch.id] = (launch, score)
        return sorted(best.values(), key=lambda pair: pair[1], reverse=True)

    def complete_launch(self, prefix: str, limit: int = 25) -> list[Launch]:
        """Launches for an autocomplete box: prefix matches first, then fuzzy ones."""
        key = compact(prefix)
        launches = list(self.knowledge.launches.values())
        if not key:
            return launches[:limit]
        ranked: list[tuple[float, int, Launch]] = []
        for order, (launch, score) in enumerate(self._launch_scores(key)):
            names = [c for ln, c in self._launch_names if ln.id == launch.id]
            if any(c.startswith(key) for c in names):
                score = 200.0
            elif any(key in c for c in names):
                score = 150.0
            else:
                score = max(fuzz.partial_ratio(key, c) for c in names)
            if score >= 70:
                ranked.append((score, -order, launch))
        ranked.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [launch for _, _, launch in ranked[:limit]]


def _needs_amount(query: Query, answer: str) -> bool:
    """The question asks for a price or a unit that the fact's answer does not give."""
    answer = answer.casefold()
    words = set(query.text.split())
    asks_price = bool(words & MONEY_WORDS) and "price performance" not in query.text
    money = asks_price or any(word in query.text for word in MONEY_HAN)
    if money and not re.search(r"\d\s*%|\$|美元|usd", answer):
        return True
    units = words & UNITS
    return any(not re.search(rf"\d\s*{unit}", answer) for unit in units)


def _title_case(tokens: list[Token]) -> bool:
    """Headline style (`How Many Cores Does Graviton5 Have`): capitals then say nothing about names."""
    rest = [token for token in tokens[1:] if token.text.isalpha() and token.text.isascii()]
    return len(rest) >= 3 and sum(token.proper for token in rest) >= 0.6 * len(rest)


def _missing_names(query: Query, entry: Entry) -> tuple[str, ...]:
    """The numbers and names of the question that the fact does not mention."""
    return tuple(
        term.source or term.term
        for term in query.terms
        if term.name and term.term not in entry.asked and term.term not in entry.answered
    )


def _name_score(key: str, candidate: str) -> float:
    if key == candidate:
        return 100.0
    score = fuzz.ratio(key, candidate)
    if has_digit(key) and "".join(c for c in key if c.isdigit()) != "".join(
        c for c in candidate if c.isdigit()
    ):
        return min(score, 60.0)
    if key[0] == candidate[0] and _in_order(key, candidate):
        score = max(score, 90.0 if len(key) >= 3 else score)
    return score


def _in_order(short: str, long: str) -> bool:
    remaining = iter(long)
    return all(ch in remaining for ch in short)


def ambiguous_facts(knowledge: Knowledge) -> list[Problem]:
    """Warnings for pairs of facts whose question variants the matcher cannot tell apart.

    Each variant is asked as a question; if another fact scores as high as (or higher than) the
    fact the variant belongs to, a user asking it could get either answer.
    """
    matcher = Matcher(knowledge)
    warnings: dict[tuple[str, str], Problem] = {}
    for entry in matcher.index.entries:
        own_id = entry.fact.id
        for language in ("en", "zh"):
            for variant in entry.fact.questions.get(language):
                ranked = matcher.rank(matcher.query(variant))
                own = next((s.score for s in ranked if s.entry.fact.id == own_id), 0.0)
                for other in ranked:
                    other_id = other.entry.fact.id
                    if other_id == own_id or other.score < own - _AMBIGUOUS_MARGIN:
                        continue
                    pair = (min(own_id, other_id), max(own_id, other_id))
                    if pair in warnings:
                        continue
                    warnings[pair] = Problem(
                        knowledge.fact_files.get(own_id, "?"),
                        f"question variant {variant!r} matches fact {other_id!r} "
                        f"({knowledge.fact_files.get(other_id, '?')}) as well as its own "
                        f"({other.score:.2f} vs {own:.2f}): the matcher cannot tell them apart",
                        own_id,
                        "questions",
                        severity="warning",
                    )
    return list(warnings.values())
