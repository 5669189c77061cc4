"""The knowledge cache: a large knowledge read back from disk is the knowledge and index a fresh load
and build would make, and a cache that is stale, corrupt or unwritable is never trusted or needed.

The bundled pack stands in for a large one (CACHE_FROM is lowered), so these tests stay fast."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from knowledge import cache, loader
from knowledge import index as index_module
from knowledge.index import Index, build_index
from knowledge.loader import BUNDLED_DIR, Knowledge, load_knowledge
from knowledge.matcher import Answer, Matcher, Topic
from knowledge.normalize import han_terms


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(cache, "CACHE_FROM", 1)
    return tmp_path / "xdg" / "keynote-bot"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return Path(shutil.copytree(BUNDLED_DIR, tmp_path / "pack"))


def cached_files(kind: str) -> list[Path]:
    return sorted(cache.cache_dir().glob(f"{kind}-*.pickle"))


def without_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any further load must come from the cache: reading a pack fails the test."""

    def refuse(*args: object) -> None:
        raise AssertionError("the knowledge was loaded from YAML, not from the cache")

    monkeypatch.setattr(loader, "_load_pack", refuse)


def without_building(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the index was built, not read from the cache")

    monkeypatch.setattr(index_module, "_build", refuse)


def asked(matcher: Matcher, knowledge: Knowledge) -> list[Answer]:
    """Every fact's variants, a follow-up to each, and a question the knowledge cannot answer."""
    answers = []
    for fact in knowledge.facts.values():
        for question in (*fact.questions.en, *fact.questions.zh):
            answers.append(matcher.ask(question))
        answers.append(matcher.ask("and when?", Topic(fact.id, fact.questions.en[0])))
    answers.append(matcher.ask("how many cores does graviton6 have?"))
    return answers


def test_a_cached_knowledge_and_index_answer_as_a_fresh_load_and_build(
    pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = load_knowledge(pack)
    fresh_matcher = Matcher(fresh)
    assert len(cached_files("knowledge")) == 1 and len(cached_files("index")) == 1
    without_yaml(monkeypatch)
    without_building(monkeypatch)
    knowledge = load_knowledge(pack)
    matcher = Matcher(knowledge)
    assert knowledge == fresh
    assert (knowledge.fingerprint, knowledge.fact_files, knowledge.packs, knowledge.fact_packs) == (
        fresh.fingerprint,
        fresh.fact_files,
        fresh.packs,
        fresh.fact_packs,
    )
    assert matcher.index.entries.facts is knowledge.facts, "the index reads the knowledge's own facts"
    assert asked(matcher, knowledge) == asked(fresh_matcher, fresh)


def test_a_changed_file_is_loaded_and_indexed_again(pack: Path) -> None:
    Matcher(load_knowledge(pack))
    facts = pack / "graviton.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").replace("192", "193"), encoding="utf-8")
    knowledge = load_knowledge(pack)
    assert any("193" in fact.answer.en for fact in knowledge.facts.values())
    matcher = Matcher(knowledge)
    assert len(cached_files("knowledge")) == 2 and len(cached_files("index")) == 2
    assert "193" in matcher.ask("how many cores does graviton5 have?").text


def test_a_corrupt_or_foreign_file_is_rebuilt(
    pack: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    expected = load_knowledge(pack)
    Matcher(expected)
    [knowledge_file], [index_file] = cached_files("knowledge"), cached_files("index")
    whole = knowledge_file.read_bytes()
    knowledge_file.write_bytes(whole[:1000])
    index_file.write_bytes(whole)
    with caplog.at_level(logging.WARNING, logger="knowledge.cache"):
        knowledge = load_knowledge(pack)
        index = build_index(knowledge)
    assert knowledge == expected
    assert isinstance(index, Index) and index.df == Matcher(expected).index.df
    assert "unreadable" in caplog.text and "holds something else" in caplog.text
    without_yaml(monkeypatch)
    without_building(monkeypatch)
    assert load_knowledge(pack) == expected, "the rebuilt files were cached again"
    build_index(knowledge)


def test_code_that_changed_does_not_read_what_older_code_cached(
    pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_knowledge(pack)
    monkeypatch.setattr(cache, "CODE_VERSION", "another version")
    without_yaml(monkeypatch)
    with pytest.raises(AssertionError, match="loaded from YAML"):
        load_knowledge(pack)


def test_the_same_files_elsewhere_are_a_different_knowledge(pack: Path, tmp_path: Path) -> None:
    """A directory without pack.yaml is named after itself, so its path is part of the key."""
    (pack / "pack.yaml").unlink()
    other = Path(shutil.copytree(pack, tmp_path / "other"))
    assert load_knowledge(pack).first_pack.id == "pack"
    assert load_knowledge(other).first_pack.id == "other"


def test_small_knowledge_and_other_splitters_are_not_cached(
    pack: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(load_knowledge(pack), han=lambda run: han_terms(run))
    assert cached_files("index") == []
    monkeypatch.setattr(cache, "CACHE_FROM", 10_000)
    Matcher(load_knowledge(pack))
    assert cached_files("index") == []


def test_an_unwritable_cache_is_skipped(
    pack: Path, cache_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache_home.parent.mkdir(parents=True)
    cache_home.write_text("not a directory", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="knowledge.cache"):
        knowledge = load_knowledge(pack)
        Matcher(knowledge)
    assert len(knowledge.facts) > 100
    assert "not cached" in caplog.text


def test_only_the_latest_files_are_kept(pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "KEEP", 2)
    for key in ("one", "two", "three"):
        cache.save("knowledge", key, key)
    assert len(cached_files("knowledge")) == 2
    assert cache.load("knowledge", "one", str) is None
    assert cache.load("knowledge", "three", str) == "three"
