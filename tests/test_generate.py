"""The benchmark's synthetic conference: written as packs, it loads as the knowledge it was made from,
so the benchmark's start from files measures the knowledge it measured in memory."""

from __future__ import annotations

from pathlib import Path

from benchmarks.generate import PACK_SIZE, generate, write_conference
from knowledge.loader import load_knowledge
from knowledge.matcher import Matcher
from knowledge.store import FactStore


def test_a_written_conference_loads_as_the_generated_knowledge(tmp_path: Path) -> None:
    knowledge, questions = generate(2 * PACK_SIZE + 7)
    assert isinstance(knowledge.facts, FactStore)
    write_conference(knowledge, tmp_path)
    loaded = load_knowledge(tmp_path)
    assert len(loaded.packs) == 3
    assert loaded.facts == knowledge.facts, "the same facts, though YAML leaves out defaults"
    built, started = Matcher(knowledge), Matcher(loaded)
    for question in questions:
        assert started.ask(question.text).fact == built.ask(question.text).fact
