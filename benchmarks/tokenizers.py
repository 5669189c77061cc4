"""Chinese tokenisation: character bigrams (what the matcher uses) against jieba segmentation.

    .venv/bin/python -m benchmarks.tokenizers

Accuracy is measured on Chinese questions the index has not seen: for every bundled fact with more
than one Chinese variant, its last Chinese variant is removed from the knowledge and then asked
(leave-one-out), plus the Chinese development questions of tests/development.py. Start-up cost is the
time a fresh interpreter needs to import jieba and load its dictionary.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

from knowledge.index import build_index
from knowledge.loader import BUNDLED_DIR, Knowledge, load_knowledge
from knowledge.matcher import Matcher
from knowledge.models import Variants
from knowledge.normalize import HAN_STOP, han_terms
from tests.development import ANSWERABLE

Splitter = Callable[[str], list[str]]


def jieba_words(run: str) -> list[str]:
    import jieba

    return [word for word in jieba.lcut(run) if not (len(word) == 1 and word in HAN_STOP)]


def jieba_words_and_characters(run: str) -> list[str]:
    return jieba_words(run) + [ch for ch in run if ch not in HAN_STOP]


SPLITTERS: dict[str, Splitter] = {
    "bigrams+chars": han_terms,
    "jieba": jieba_words,
    "jieba+chars": jieba_words_and_characters,
}


def leave_one_out(knowledge: Knowledge, splitter: Splitter) -> tuple[int, int]:
    right = total = 0
    for fact in knowledge.facts.values():
        if len(fact.questions.zh) < 2:
            continue
        held_out = fact.questions.zh[-1]
        reduced = fact.model_copy(
            update={"questions": Variants(en=fact.questions.en, zh=fact.questions.zh[:-1])}
        )
        facts = {**knowledge.facts, fact.id: reduced}
        smaller = Knowledge(facts=facts, launches=knowledge.launches, fingerprint="loo")
        answer = Matcher(smaller, build_index(smaller, splitter)).ask(held_out)
        total += 1
        right += answer.answered and answer.fact is not None and answer.fact.id == fact.id
    return right, total


def development(knowledge: Knowledge, splitter: Splitter) -> tuple[int, int]:
    matcher = Matcher(knowledge, build_index(knowledge, splitter))
    cases = [case for case in ANSWERABLE if case.language == "zh"]
    right = 0
    for case in cases:
        answer = matcher.ask(case.question)
        right += answer.answered and all(
            any(alt.casefold() in answer.text.casefold() for alt in group) for group in case.expect
        )
    return right, len(cases)


def jieba_start_up() -> float:
    code = (
        "import time; t = time.perf_counter(); import jieba; jieba.initialize(); "
        "print(time.perf_counter() - t)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return float(run.stdout.strip())


def main() -> int:
    knowledge = load_knowledge(BUNDLED_DIR)
    print(f"{'tokeniser':<15} {'leave-one-out':>14} {'dev zh':>12} {'build ms':>9}")
    for name, splitter in SPLITTERS.items():
        started = time.perf_counter()
        build_index(knowledge, splitter)
        build_ms = (time.perf_counter() - started) * 1000
        loo_right, loo_total = leave_one_out(knowledge, splitter)
        dev_right, dev_total = development(knowledge, splitter)
        print(
            f"{name:<15} {f'{loo_right}/{loo_total}':>14} {f'{dev_right}/{dev_total}':>12} {build_ms:>9.1f}"
        )
    print(f"jieba start-up in a fresh interpreter (dictionary cache warm): {jieba_start_up():.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
