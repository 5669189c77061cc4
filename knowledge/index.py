"""The searchable form of the knowledge: terms, their weights, and who mentions them.

Built once per knowledge version (start-up and reload), never at question time. Candidate facts
come from an inverted index over terms (rare terms first, within a posting budget), so a question
costs the same whether the knowledge holds a hundred facts or a hundred thousand; only a bounded
set of candidates is then re-ranked with rapidfuzz.

At a conference's size the index must stay small (100,000 facts in a 512 MB container), so it keeps
no Python object per fact beyond the fact itself: postings are arrays of positions, and each fact's
words are small integers in one shared array. The entry a question's candidate needs (its term sets
and variants) is made from those integers when first asked for, and the most recent are kept.
"""

from __future__ import annotations

import hashlib
import math
import re
from array import array
from bisect import bisect_left, bisect_right
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from itertools import chain, compress, repeat
from operator import add, and_, ne, or_, rshift
from typing import Any, NamedTuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from knowledge import cache
from knowledge.kinds import Kind, Names, given_kinds
from knowledge.loader import Knowledge
from knowledge.models import Fact, Language
from knowledge.normalize import (
    STOPWORDS,
    TIME_PAIRS,
    digits_of,
    han_terms,
    has_digit,
    is_han,
    plain_segments,
    plain_words,
    term_of,
    time_pair,
)
from knowledge.recent import Recent
from knowledge.store import FactStore, Record

HanSplitter = Callable[[str], list[str]]

ANSWER_CREDIT = 0.6
"""A term found only in a fact's answer counts for less than one in the way people ask for it."""
POSTING_BUDGET = 5_000
"""At most this many postings are read per question when choosing candidates."""
_SERIES = re.compile(r"([a-z]+)(\d+)([a-z]*)")
_SHORT_NUMBER = re.compile(r"\d{1,2}")
_JOINERS = frozenset(
    [str(n) for n in range(100)] + [f"0{n}" for n in range(10)] + [first for first, _ in TIME_PAIRS]
)
"""Words that may join their neighbour into one term (`graviton 5`, `next year`)."""


ENTRY_CACHE = 1024
"""Entries kept made at once: every entry of a keynote-sized knowledge, the latest of a larger one."""
_CHUNK = 1_000
"""Facts whose texts are normalised in one pass while building."""
_END = "\x01"
"""The token (id 0) that ends each of a fact's segments (a variant, a keyword, an answer) in its row."""
_NARROW = 0xFFFF
"""Token ids are stored in two bytes while the vocabulary is no larger than this."""


class Sources(NamedTuple):
    """What an entry's lazily made parts are made with: shared by every entry, and no reference
    back to the entries, so that a replaced index is freed without the cyclic collector (which
    `build_index` keeps away from it)."""

    expand: Callable[[str], list[str]]
    english: Callable[[str], str]
    launch_names: dict[str, list[str]]
    people: Names
    han: HanSplitter


@dataclass(frozen=True)
class Entry:
    """What the re-ranker needs about one fact (made when a question first reaches the fact).

    Scoring a candidate reads only its asked terms and variants; what its answer says (`answered`,
    `kinds`) and what it is about (`subject`) are read of the few best, so they are made when first
    read: at 100,000 facts that is most of an entry's cost for the other candidates.

    Its variants are plain tuples of strings and numbers, not a NamedTuple per variant: the cyclic
    garbage collector stops tracking an exact tuple of untracked items at the first collection, but
    never a tuple subclass, and every tracked object of the latest ENTRY_CACHE entries is walked in
    each collection (milliseconds, on a few questions of every hundred at a conference's size). For
    the same reason it keeps the fact's stored fields (`record`: one tuple) rather than the pydantic
    Fact (a dozen objects): most candidates are scored by their id and topic only, and the Fact is made
    (`fact`) for the few whose answer is read."""

    record: Record
    """The fact's fields as stored."""
    asked: frozenset[str]
    variant_terms: tuple[tuple[str, ...], ...]
    """Each question variant's terms, each once (only ever tested for membership), English first."""
    variant_weights: tuple[float, ...]
    """Each variant's summed term weight: how much of it a question can cover."""
    around: frozenset[str]
    """Its topic's name (`twelvelabs`): a question may name it although the fact does not."""
    sorted_en: tuple[str, ...]
    """Its English variants' words sorted: token_sort_ratio's view of them, made once."""
    sorted_zh: tuple[str, ...]
    answer_tokens: tuple[str, ...]
    """The words of its answers (English then Chinese), for `answered`."""
    source: Sources = field(compare=False, repr=False)
    """What the rest is made with when first read."""
    store: FactStore = field(compare=False, repr=False)
    position: int = field(compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def topic(self) -> str:
        return self.record.topic

    @cached_property
    def fact(self) -> Fact:
        return self.store.at(self.position)

    def answer(self, language: Language) -> str:
        return self.record.answer_en if language == "en" else self.record.answer_zh

    @cached_property
    def answered(self) -> frozenset[str]:
        """The terms only its answers have."""
        return frozenset(_terms(self.answer_tokens, self.source.expand, self.source.english)) - self.asked

    @cached_property
    def subject(self) -> tuple[str, ...]:
        """The terms of what the fact is about (its first name-like keyword, else its launch, else its
        topic): what a follow-up's "it" means."""
        han = self.source.han
        record = self.record
        return _subject(
            record.id,
            record.keywords,
            record.topic,
            self.source.launch_names,
            lambda text: tuple(dict.fromkeys(text_terms(text, han))),
        )

    @cached_property
    def kinds(self) -> frozenset[Kind]:
        """The kinds of answer it gives (a person, a time, a number, a mechanism, a list)."""
        return given_kinds(self.record.answer_en, self.source.people, self.record.kinds)


@dataclass
class Entries:
    """Every fact's Entry by position, made from the fact's stored tokens when first asked for.

    A frozenset per question variant costs hundreds of bytes, a billion at a conference's 500,000
    variants; a question reaches a few dozen facts, so their entries are made then (tens of
    microseconds each) and the ENTRY_CACHE latest kept.
    """

    facts: FactStore
    tokens: list[str]
    """Token strings by id; id 0 is `_END`."""
    rows: array[int]
    """Every fact's segments' token ids, each segment ended by 0, fact after fact."""
    starts: array[int]
    """Where each fact's row begins in `rows` (one more at the end)."""
    term_rows: array[int]
    """Every fact's asked segments' (variants', then keywords') terms, each once, as ids in `tokens`,
    each segment ended by 0: read, not worked out again from the words, when an entry is made."""
    term_starts: array[int]
    """Where each fact's terms begin in `term_rows` (one more at the end)."""
    expand: Callable[[str], list[str]]
    english: Callable[[str], str]
    weights: dict[str, float]
    launch_names: dict[str, list[str]]
    arounds: dict[str, frozenset[str]]
    people: Names
    han: HanSplitter
    made: Recent[int, Entry] = field(default_factory=lambda: Recent(ENTRY_CACHE))
    sources: Sources = field(init=False)

    def __post_init__(self) -> None:
        self.sources = Sources(self.expand, self.english, self.launch_names, self.people, self.han)

    def __getstate__(self) -> dict[str, Any]:
        """Cached without its facts (the knowledge's own store is attached when it is read back,
        see `build_index`) and without the entries made."""
        return {name: value for name, value in vars(self).items() if name not in ("facts", "made", "sources")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state, made=Recent(ENTRY_CACHE))
        self.__post_init__()

    def __len__(self) -> int:
        return len(self.facts)

    def __iter__(self) -> Iterator[Entry]:
        return (self[position] for position in range(len(self.facts)))

    def __getitem__(self, position: int) -> Entry:
        return self.made.get(position, self._make)

    def _make(self, position: int) -> Entry:
        record = self.facts.record(position)
        segments = _decoded(self.tokens, self.rows[self.starts[position] : self.starts[position + 1]])
        terms = _decoded(
            self.tokens, self.term_rows[self.term_starts[position] : self.term_starts[position + 1]]
        )
        english = len(record.en)
        count = english + len(record.zh)
        unique = [tuple(variant) for variant in terms[:count]]
        # Variants with the same terms get one sum of their weights (summed in another order it could
        # differ in the last bit, and two variants that say the same would not tie).
        totals: dict[frozenset[str], float] = {}
        sums = []
        for variant in unique:
            key = frozenset(variant)
            total = totals.get(key)
            if total is None:
                total = totals[key] = sum(map(self.weights.__getitem__, variant))
            sums.append(total)
        return Entry(
            record,
            frozenset(chain.from_iterable(terms)),
            tuple(unique),
            tuple(sums),
            self.arounds[record.topic],
            tuple(" ".join(sorted(segments[number])) for number in range(english)),
            tuple(" ".join(sorted(segments[number])) for number in range(english, count)),
            (*segments[-2], *segments[-1]),
            self.sources,
            self.facts,
            position,
        )


@dataclass(frozen=True)
class QueryTerm:
    """A term of the question as it will be looked up: `term` is in the vocabulary when `known`."""

    term: str
    weight: float
    known: bool
    credit: float = 1.0
    source: str = ""
    name: bool = False
    """A number, a numbered product or a moment: the answering fact itself must mention it."""
    borrowed: bool = False
    """Not typed by the user: a follow-up's subject or an echo of the question before it."""


@dataclass
class Index:
    entries: Entries
    df: dict[str, int]
    asked_postings: dict[str, array[int]]
    answered_postings: dict[str, array[int]]
    by_digits: dict[str, list[str]]
    by_initial: dict[str, list[str]]
    series: dict[str, set[str]]
    han: HanSplitter = han_terms
    weights: dict[str, float] = field(default_factory=dict)
    subjects: frozenset[str] = frozenset()
    """Terms that name a subject (a launch, a fact's first keyword): a question naming one is not a
    bare follow-up."""
    presenters: frozenset[str] = frozenset()
    """Words of the presenters' names (`peter`, `desantis`): "what did Peter say" is about this
    knowledge, "what did Werner say" about a keynote it does not have."""
    pack_terms: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per term of a pack's event, title or speakers (`reinvent`, `2025`, `desantis`), the packs it
    names: it says which keynote a question is about, not which fact."""
    topic_names: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per topic, the names its facts mention (`trainium3` for Decart's section): a question about
    a fact may name what its section is about."""
    bitmaps: dict[tuple[str, bool], bytes] = field(default_factory=dict)
    """The asked (False) and answered (True) postings of the commonest terms as bits by position,
    where a bitmap is no larger than the postings: testing forty candidates against thousands of
    postings is then forty lookups."""

    @property
    def position(self) -> dict[str, int]:
        """Each fact's position by id."""
        return self.entries.facts.positions

    def subject_terms(self, fact: Fact) -> tuple[str, ...]:
        return self.entries[self.position[fact.id]].subject

    def fact(self, position: int) -> Fact:
        """The fact at a position, without making its entry."""
        return self.entries.facts.at(position)

    @property
    def size(self) -> int:
        return len(self.entries)

    def idf(self, term: str) -> float:
        weight = self.weights.get(term)
        return self.unknown_weight if weight is None else weight

    @property
    def unknown_weight(self) -> float:
        return math.log(1.0 + self.size / 0.5)

    def candidates(self, terms: Iterable[QueryTerm], limit: int) -> tuple[list[tuple[int, float]], bool]:
        """Fact positions sharing the most weight with the question, rare terms read first, with the
        weight each shares; True when every term's postings were read, so that weight is the fact's
        whole coverage of the question (false only when the posting budget ran out)."""
        scores: dict[int, float] = {}
        budget = POSTING_BUDGET
        complete = True
        ordered = sorted(terms, key=lambda t: self.df.get(t.term, 0))
        for number, query_term in enumerate(ordered):
            if not query_term.known:
                continue
            weight = query_term.weight * query_term.credit
            asked = self.asked_postings.get(query_term.term, _NONE)
            answered = self.answered_postings.get(query_term.term, _NONE)
            if len(asked) + len(answered) > budget:
                if not scores:
                    others = any(term.known for term in ordered[number + 1 :])
                    return _overflowing(weight, asked, answered, limit, others)
                complete = False
                break
            budget -= len(asked) + len(answered)
            _accumulate(scores, asked if len(asked) <= POSTING_BUDGET else asked[:POSTING_BUDGET], weight)
            _accumulate(
                scores,
                answered if len(answered) <= POSTING_BUDGET else answered[:POSTING_BUDGET],
                weight * ANSWER_CREDIT,
            )
            complete = complete and max(len(asked), len(answered)) <= POSTING_BUDGET
        chosen = (
            list(scores)
            if len(scores) <= limit
            else sorted(scores, key=scores.__getitem__, reverse=True)[:limit]
        )
        return [(position, scores[position]) for position in chosen], complete

    def coverage(self, terms: Iterable[QueryTerm], positions: list[int]) -> list[float]:
        """The weight of the question's terms that each fact at `positions` explains, read from the
        postings, so a candidate's entry need not be made to know it."""
        matched = [0.0] * len(positions)
        for term in terms:
            if not term.known:
                continue
            weight = term.weight * term.credit
            asked = self._posted(term.term, False, positions)
            answered = self._posted(term.term, True, positions)
            for number in compress(range(len(positions)), map(or_, asked, answered)):
                matched[number] += weight if asked[number] else weight * ANSWER_CREDIT
        return matched

    def _posted(self, term: str, answered: bool, positions: list[int]) -> list[int]:
        """1 for each position in the term's postings, else 0, all in C: in the term's bitmap when it
        has one, else by binary search in its (sorted) postings."""
        bits = self.bitmaps.get((term, answered))
        if bits is None:
            found = (self.answered_postings if answered else self.asked_postings).get(term, _NONE)
            after = map(bisect_right, repeat(found), positions)
            return list(map(ne, map(bisect_left, repeat(found), positions), after))
        octets = map(bits.__getitem__, map(rshift, positions, repeat(3)))
        return list(map(and_, map(rshift, octets, map(and_, positions, repeat(7))), repeat(1)))


_NONE: array[int] = array("i")


def _overflowing(
    weight: float, asked: array[int], answered: array[int], limit: int, others: bool
) -> tuple[list[tuple[int, float]], bool]:
    """`Index.candidates` when the rarest term alone has more postings than the budget (`price` at
    100,000 facts): no other term is read after it and its facts all share the same weight, so the
    best `limit` are its first asked postings, then its first answered ones, as sorting them would
    give; found without scoring thousands of postings one by one."""
    chosen = [(position, weight) for position in asked[: min(limit, POSTING_BUDGET)]]
    extra = min(limit - len(chosen), POSTING_BUDGET)
    chosen += [(position, weight * ANSWER_CREDIT) for position in answered[:extra]]
    return chosen, not others and max(len(asked), len(answered)) <= POSTING_BUDGET


def _accumulate(scores: dict[int, float], positions: array[int], weight: float) -> None:
    """`scores[p] += weight` for every position, in C: a question may read thousands of postings."""
    found = map(scores.get, positions, repeat(0.0))
    scores.update(zip(positions, map(add, found, repeat(weight)), strict=True))


def _bitmap(positions: array[int], size: int) -> bytes:
    """The positions as bits (position p is bit p % 8 of byte p // 8), made in C: as a string of
    binary digits read as one integer."""
    digits = bytearray(b"0") * size
    deque(map(digits.__setitem__, positions, repeat(ord("1"))), maxlen=0)
    return int(digits[::-1], 2).to_bytes((size + 7) // 8, "little")


def sorted_words(text: str) -> str:
    """The text's words in sorted order: what fuzz.token_sort_ratio compares."""
    return " ".join(sorted(text.split()))


def text_terms(text: str, han: HanSplitter = han_terms) -> list[str]:
    """The comparable terms of a curated text, with `Graviton 5` also giving `graviton5`."""
    return tokens_to_terms(plain_words(text), han)


def tokens_to_terms(
    tokens: list[str], han: HanSplitter, english: Callable[[str], str] = term_of
) -> list[str]:
    """Terms of a curated text's words.

    `Graviton 5` and `Graviton5` give the same terms, `graviton5` and `graviton`, so neither way of
    writing a name scores differently from the other.
    """
    return _terms(tokens, lambda token: word_terms(token, han, english), english)


def _terms(
    tokens: Sequence[str], expand: Callable[[str], list[str]], english: Callable[[str], str]
) -> list[str]:
    if _JOINERS.isdisjoint(tokens):
        return [term for token in tokens for term in expand(token)]
    terms: list[str] = []
    count = len(tokens)
    position = 0
    while position < count:
        token = tokens[position]
        following = tokens[position + 1] if position + 1 < count else ""
        moment = time_pair(token, following)
        if moment:
            terms.append(moment)
        if (
            following.isdigit()
            and len(following) <= 2
            and token.isascii()
            and token.isalpha()
            and token not in STOPWORDS
        ):
            # `Graviton 5` is `graviton5` and `graviton`; `Apple 40%` keeps its `40` as well.
            terms.extend((token + following, english(token), following))
            position += 2
            continue
        terms.extend(expand(token))
        position += 1
    return terms


def word_terms(token: str, han: HanSplitter, english: Callable[[str], str] = term_of) -> list[str]:
    """The terms one word gives on its own: Han splits, stop words nothing, names their line too."""
    if is_han(token):
        return han(token)
    if token in STOPWORDS:
        return []
    prefix = series_prefix(token)
    return [english(token), prefix] if prefix else [english(token)]


def series_prefix(term: str) -> str | None:
    """`graviton` for `graviton5`: the product line a numbered name belongs to."""
    match = _SERIES.fullmatch(term)
    if match and len(match.group(1)) >= 3 and not match.group(3):
        return match.group(1)
    return None


def build_index(knowledge: Knowledge, han: HanSplitter = han_terms) -> Index:
    """Index the knowledge; at 100,000 facts this still makes hundreds of thousands of objects.

    They are made `cache.long_lived`: the cyclic garbage collector paused, then everything frozen out
    of its reach, the knowledge's millions of objects included.

    A knowledge of `cache.CACHE_FROM` facts or more is read from the cache when the same knowledge
    was indexed by the same code before, and cached when it was not (see knowledge/cache.py).
    """
    facts = (
        knowledge.facts if isinstance(knowledge.facts, FactStore) else FactStore.of(knowledge.facts.values())
    )
    key = _cache_key(knowledge, facts) if han is han_terms and len(facts) >= cache.CACHE_FROM else None
    if key is not None:
        cached = cache.load("index", key, Index)
        if cached is not None:
            cached.entries.facts = facts
            return cached
    with cache.long_lived():
        index = _build(knowledge, facts, han)
    if key is not None:
        cache.save("index", key, index)
    return index


def _cache_key(knowledge: Knowledge, facts: FactStore) -> str:
    """A digest of everything the index is made of: the facts' bytes, the launches and the packs."""
    digest = hashlib.sha256(facts.digest.encode())
    for item in (*knowledge.launches.values(), *knowledge.packs.values()):
        digest.update(item.model_dump_json().encode())
    return digest.hexdigest()


class _Memo(dict[str, Any]):
    """A function's results by argument; lookups of known arguments stay in C."""

    def __init__(self, function: Callable[[str], Any]) -> None:
        super().__init__()
        self.function = function

    def __missing__(self, key: str) -> Any:
        value = self[key] = self.function(key)
        return value


class _Vocabulary(dict[str, int]):
    """Token ids by token, given out in order of first sight; `tokens` lists them by id."""

    def __init__(self) -> None:
        super().__init__({_END: 0})
        self.tokens = [_END]

    def __missing__(self, token: str) -> int:
        number = self[token] = len(self.tokens)
        self.tokens.append(token)
        return number


def _build(knowledge: Knowledge, facts: FactStore, han: HanSplitter) -> Index:
    asked_postings: defaultdict[str, array[int]] = defaultdict(partial(array, "i"))
    answered_postings: defaultdict[str, array[int]] = defaultdict(partial(array, "i"))
    vocabulary = _Vocabulary()
    rows: array[int] = array("H")
    starts = array("i", [0])
    term_rows: array[int] = array("H")
    term_starts = array("i", [0])

    cached_term = _Memo(term_of).__getitem__
    launch_names: defaultdict[str, list[str]] = defaultdict(list)
    for launch in knowledge.launches.values():
        for fact_id in launch.facts:
            launch_names[fact_id].extend((launch.name, *launch.aliases))
    topic_names: defaultdict[str, set[str]] = defaultdict(set)
    speakers = {speaker for pack in knowledge.packs.values() for speaker in pack.speakers}
    subjects: set[str] = set()
    seen: set[tuple[tuple[str, ...], str]] = set()
    arounds: dict[str, frozenset[str]] = {}
    terms_of = _Memo(lambda text: tuple(dict.fromkeys(text_terms(text, han)))).__getitem__
    expand = _Memo(partial(word_terms, han=han, english=cached_term)).__getitem__
    numbered = _Memo(_numbered).__getitem__

    for first in range(0, len(facts), _CHUNK):
        chunk = [facts.record(position) for position in range(first, min(first + _CHUNK, len(facts)))]
        segmented = iter(plain_segments([text for fact in chunk for text in _texts(fact)]))
        for position, fact in enumerate(chunk, first):
            segments = [next(segmented) for _ in range(_segment_count(fact))]
            terms, asked, answered = _fact_terms(segments, expand, cached_term)
            row = _encoded(vocabulary, segments)
            term_row = _encoded(vocabulary, map(frozenset, terms))  # each term once
            if rows.typecode == "H" and len(vocabulary) > _NARROW:
                rows, term_rows = array("i", rows), array("i", term_rows)
            rows.extend(row)
            starts.append(len(rows))
            term_rows.extend(term_row)
            term_starts.append(len(term_rows))
            if fact.speaker:
                speakers.add(fact.speaker)
            subject = _subject(fact.id, fact.keywords, fact.topic, launch_names, terms_of)
            around = arounds.get(fact.topic)
            if around is None:
                around = arounds[fact.topic] = frozenset(terms_of(fact.topic.replace("-", " ")))
            if (subject, fact.topic) not in seen:
                seen.add((subject, fact.topic))
                subjects.update(t for t in (*subject, *around) if not t.isdigit() and not is_han(t))
            topic_names[fact.topic].update(t for t in asked if t in subjects or numbered(t))
            for term in asked:
                asked_postings[term].append(position)
            for term in answered:
                answered_postings[term].append(position)
    people = sorted(speakers)
    by_digits: dict[str, list[str]] = defaultdict(list)
    by_initial: dict[str, list[str]] = defaultdict(list)
    series: dict[str, set[str]] = defaultdict(set)
    df = {term: len(positions) for term, positions in asked_postings.items()}
    for term, positions in answered_postings.items():
        df[term] = df.get(term, 0) + len(positions)
    # Buckets in a fixed order, commonest term first: a misspelling as close to two terms means the
    # commoner, in every process (not whichever the hash seed's set order put first).
    for term in sorted(df, key=lambda t: (-df[t], t)):
        if is_han(term):
            continue
        if has_digit(term):
            by_digits[_digit_key(term)].append(term)
            match = _SERIES.fullmatch(term)
            if match:
                series[match.group(1)].add(match.group(2))
        else:
            by_initial[term[0]].append(term)
    weights = {term: math.log(1.0 + len(facts) / count) for term, count in df.items()}
    entries = Entries(
        facts,
        vocabulary.tokens,
        rows,
        starts,
        term_rows,
        term_starts,
        expand,
        cached_term,
        weights,
        dict(launch_names),
        arounds,
        Names(people),
        han,
    )
    if len(facts) <= ENTRY_CACHE:
        # A keynote-sized knowledge keeps every entry made, parts and all, so no question pays for
        # making one (its first asker would, and the slowest questions set the p99).
        for position in range(len(facts)):
            entry = entries[position]
            entry.answered, entry.subject, entry.kinds  # noqa: B018  (made now, read later)
    return Index(
        entries,
        df,
        dict(asked_postings),
        dict(answered_postings),
        dict(by_digits),
        dict(by_initial),
        dict(series),
        han,
        weights,
        frozenset(subjects),
        frozenset(word.casefold() for person in people for word in person.split()),
        _pack_terms(knowledge, han),
        {
            topic: frozenset(names & subjects | {n for n in names if has_digit(n)})
            for topic, names in topic_names.items()
        },
        {
            (term, answered): _bitmap(positions, len(facts))
            for answered, postings in ((False, asked_postings), (True, answered_postings))
            for term, positions in postings.items()
            if len(positions) * 32 >= len(facts)
        },
    )


def _texts(fact: Record) -> list[str]:
    """A fact's texts in the order of its segments: variants (English, Chinese), keywords, answers."""
    return [*fact.en, *fact.zh, *fact.keywords, fact.answer_en, fact.answer_zh]


def _segment_count(fact: Record) -> int:
    return len(fact.en) + len(fact.zh) + len(fact.keywords) + 2


def _encoded(vocabulary: _Vocabulary, segments: Iterable[Iterable[str]]) -> list[int]:
    """Segments as ids, each ended by 0 but the last: what `_decoded` reads back."""
    row: list[int] = []
    for segment in segments:
        row += map(vocabulary.__getitem__, segment)
        row.append(0)
    return row[:-1]


def _decoded(tokens: list[str], ids: array[int]) -> list[list[str]]:
    """A row's segments, as the strings of their ids (joined and split again, all in C)."""
    return [piece.split() for piece in " ".join(map(tokens.__getitem__, ids)).split(_END)]


def _fact_terms(
    segments: list[list[str]], expand: Callable[[str], list[str]], english: Callable[[str], str]
) -> tuple[list[list[str]], frozenset[str], frozenset[str]]:
    """The terms of each asked segment (variants, keywords), then the terms the fact is asked with
    and those only its answer has."""
    terms = [_terms(tokens, expand, english) for tokens in segments[:-2]]
    asked = frozenset(chain.from_iterable(terms))
    answered = frozenset(_terms(segments[-2] + segments[-1], expand, english)) - asked
    return terms, asked, answered


def _subject(
    fact_id: str,
    keywords: Iterable[str],
    topic: str,
    launch_names: dict[str, list[str]],
    terms_of: Callable[[str], tuple[str, ...]],
) -> tuple[str, ...]:
    names = launch_names.get(fact_id, [])
    named = next((k for k in keywords if _name_like(k)), None) or (names[0] if names else topic)
    return terms_of(named)


def _pack_terms(knowledge: Knowledge, han: HanSplitter) -> dict[str, frozenset[str]]:
    named: defaultdict[str, set[str]] = defaultdict(set)
    for pack in knowledge.packs.values():
        texts = [pack.event, pack.title.en, *pack.speakers]
        terms = {t for text in texts for t in text_terms(text, han)}
        # `re:Invent` is typed `reinvent` as often as `re invent`.
        joined = (
            "".join(ch for ch in word if ch.isalnum()).casefold() for text in texts for word in text.split()
        )
        terms |= {term_of(word) for word in joined}
        for term in terms:
            if term and not is_han(term):
                named[term].add(pack.id)
    return {term: frozenset(packs) for term, packs in named.items()}


def _numbered(term: str) -> bool:
    """`graviton5`, `m9g`: a name with a number in it, not a bare number."""
    return has_digit(term) and not term.isdigit()


def _name_like(keyword: str) -> bool:
    """`Graviton5`, `TwelveLabs`, `Lambda Managed Instances`: a name, where `cooling` or `CPU cooling`
    is a concept: every word capitalised or numbered."""
    words = keyword.split()
    return bool(words) and all(word[0].isupper() or word[0].isdigit() for word in words)


def resolve(index: Index, term: str) -> tuple[str, float] | None:
    """The vocabulary term a misspelt or abbreviated Latin term stands for, with a credit below 1.

    `gravtion5` stands for `graviton5` and `trn3` for `trainium3`, but `graviton6` stands for nothing:
    digits must agree exactly, because a different number is a different product.
    """
    if has_digit(term):
        bucket = index.by_digits.get(_digit_key(term), ())
        found = process.extractOne(term, bucket, scorer=fuzz.ratio, score_cutoff=80)
        if found is not None:
            return found[0], found[1] / 100
        abbreviated = next((candidate for candidate in bucket if _abbreviates(term, candidate)), None)
        if abbreviated:
            return abbreviated, 0.85
        return _initialled(index, term, bucket)
    if len(term) < 4:
        return None
    bucket = index.by_initial.get(term[0], ())
    # One swapped, missing or extra letter first (`labmda`, `aplpe`, `prjoect` is `project`, not
    # `protect`), then a looser likeness for long words, then two edits in a long word.
    # A short word only by swapping two letters (`lmsi` is `lmis`, though `lmi` is as close).
    for candidate, _, _ in process.extract(term, bucket, scorer=OSA.distance, score_cutoff=1, limit=None):
        if len(term) >= 6 or sorted(candidate) == sorted(term):
            return candidate, 0.85
    found = process.extractOne(term, bucket, scorer=fuzz.ratio, score_cutoff=85) if len(term) >= 5 else None
    if found is not None:
        return found[0], found[1] / 100
    if len(term) >= 8:
        swapped = process.extractOne(term, bucket, scorer=OSA.distance, score_cutoff=2)
        if swapped is not None:
            return swapped[0], 0.8
    return None


_INITIALLED = re.compile(r"([a-z])(\d+)")


def _initialled(index: Index, term: str, bucket: Iterable[str]) -> tuple[str, float] | None:
    """`g5` for `graviton5`: one letter and the number, for the product line with the most generations
    (`graviton` with 4 and 5 over a stray `gpu 4`), when no other line has as many."""
    match = _INITIALLED.fullmatch(term)
    if match is None:
        return None
    lines = sorted(
        (
            (len(index.series.get(found.group(1), ())), candidate)
            for candidate in bucket
            if (found := _SERIES.fullmatch(candidate))
            and not found.group(3)
            and found.group(2) == match.group(2)
        ),
        reverse=True,
    )
    if not lines or (len(lines) > 1 and lines[0][0] == lines[1][0]):
        return None
    return lines[0][1], 0.8


def _digit_key(term: str) -> str:
    """Misspellings keep the initial and, for a numbered name, exactly the digits."""
    return f"{term[0]}{digits_of(term)}"


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
