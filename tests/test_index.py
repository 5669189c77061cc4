"""The compact index: entries made on demand and coverage read from postings say what prepared term
sets would say, so answers do not depend on which entries happen to be kept."""

from __future__ import annotations

import dataclasses
import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.index import ANSWER_CREDIT, Entry, Index, QueryTerm, build_index, resolve
from knowledge.loader import Knowledge
from knowledge.recent import Recent

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def index(knowledge: Knowledge) -> Index:
    return build_index(knowledge)


def test_an_entry_made_again_after_it_was_dropped_is_the_same(index: Index) -> None:
    kept = list(index.entries)
    index.entries.made.clear()
    remade = [index.entries[position] for position in reversed(range(len(kept)))][::-1]
    assert remade == kept
    assert [(e.answered, e.subject, e.kinds) for e in remade] == [
        (e.answered, e.subject, e.kinds) for e in kept
    ]


def test_only_the_latest_entries_are_kept(knowledge: Knowledge, index: Index) -> None:
    entries = dataclasses.replace(index.entries, made=Recent(5))
    for position in range(20):
        entries[position]
    assert list(entries.made) == list(range(15, 20))
    assert [entry.fact for entry in entries] == list(knowledge.facts.values())


def test_entries_hold_each_facts_terms_and_variants(knowledge: Knowledge, index: Index) -> None:
    for entry, fact in zip(index.entries, knowledge.facts.values(), strict=True):
        assert entry.fact is fact
        variants = len(fact.questions.en) + len(fact.questions.zh)
        assert len(entry.variant_terms) == len(entry.variant_weights) == variants
        assert len(entry.sorted_en) == len(fact.questions.en)
        assert len(entry.sorted_zh) == len(fact.questions.zh)
        assert all(set(terms) <= entry.asked for terms in entry.variant_terms)
        assert entry.asked.isdisjoint(entry.answered)
        for terms, weight in zip(entry.variant_terms, entry.variant_weights, strict=True):
            assert len(set(terms)) == len(terms)
            assert weight == pytest.approx(sum(index.weights[t] for t in terms))


def test_entries_are_left_untracked_by_the_cyclic_collector(index: Index) -> None:
    """What an entry keeps per variant is plain tuples, which the collector stops walking (an entry made
    now: the ones made with the index are frozen out of the collector's reach, tracked or not)."""
    entry = dataclasses.replace(index.entries, made=Recent(5))[0]
    gc.collect()  # the inner tuples first,
    gc.collect()  # then the tuples of them
    assert not any(gc.is_tracked(part) for part in (entry.variant_terms, entry.variant_weights))
    assert not any(gc.is_tracked(part) for part in (entry.sorted_en, entry.sorted_zh))


def _coverage(terms: list[QueryTerm], entry: Entry) -> float:
    matched = 0.0
    for term in terms:
        if term.known:
            if term.term in entry.asked:
                matched += term.weight * term.credit
            elif term.term in entry.answered:
                matched += term.weight * term.credit * ANSWER_CREDIT
    return matched


def test_coverage_from_postings_and_bitmaps_is_coverage_from_term_sets(index: Index) -> None:
    assert index.bitmaps, "the bundled knowledge has terms common enough for a bitmap"
    common = [term for term, _ in index.bitmaps]
    rare = [term for term, count in index.df.items() if count * 32 < index.size][:40]
    terms = [QueryTerm(term, index.idf(term), True, credit=0.9) for term in [*common[:8], *rare]]
    terms.append(QueryTerm("nowhere", 1.0, False))
    positions = list(range(index.size))
    found = index.coverage(terms, positions)
    assert found == [_coverage(terms, index.entries[p]) for p in positions]


def test_candidates_share_what_their_term_sets_share(index: Index) -> None:
    rare = sorted(index.df, key=index.df.__getitem__)[:6]
    terms = [QueryTerm(term, index.idf(term), True) for term in rare]
    found, complete = index.candidates(terms, limit=index.size)
    assert complete
    expected = {p: _coverage(terms, index.entries[p]) for p in range(index.size)}
    assert {p: shared for p, shared in found} == pytest.approx({p: s for p, s in expected.items() if s})


def test_a_misspelling_as_close_to_two_terms_means_the_one_it_swaps_letters_of(index: Index) -> None:
    """`lmsi` is one letter from `lmi` and two swapped from `lmis`: it is `lmis`, in every process."""
    assert {"lmi", "lmis"} <= set(index.by_initial["l"])
    assert resolve(index, "lmsi") == ("lmis", 0.85)


def test_answers_do_not_depend_on_the_hash_seed() -> None:
    """Two processes with different string hashing (so different set orders) answer alike: a cold
    start from the cache must answer as the process that built it did."""
    script = (
        "from benchmarks.matcher import bundled_questions\n"
        "from knowledge.loader import load_knowledge\n"
        "from knowledge.matcher import Matcher\n"
        "knowledge = load_knowledge()\n"
        "matcher = Matcher(knowledge, answers=0)\n"
        "for question in bundled_questions(knowledge):\n"
        "    answer = matcher.ask(question.text)\n"
        "    fact = answer.fact.id if answer.answered and answer.fact else None\n"
        "    print(fact, round(answer.confidence, 6))\n"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    ]
    assert outputs[0].count("\n") > 1_000
    assert outputs[0] == outputs[1] == outputs[2]
