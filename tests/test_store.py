"""Facts kept compact: a fact read back from the store is the fact that was loaded, field for field."""

from __future__ import annotations

import pytest

from knowledge.loader import Knowledge
from knowledge.models import Bilingual, Fact, Variants
from knowledge.recent import Recent
from knowledge.store import FactStore


def test_the_loader_keeps_facts_compact(knowledge: Knowledge) -> None:
    assert isinstance(knowledge.facts, FactStore)


def test_a_stored_fact_reads_back_as_the_validated_one(knowledge: Knowledge) -> None:
    originals = [
        Fact.model_validate(fact.model_dump(exclude_unset=True)) for fact in knowledge.facts.values()
    ]
    store = FactStore.of(originals)
    assert list(store) == [fact.id for fact in originals]
    for fact, original in zip(store.values(), originals, strict=True):
        assert fact == original
        assert fact.model_fields_set == original.model_fields_set
        assert fact.model_dump_json(exclude_unset=True) == original.model_dump_json(exclude_unset=True)


def test_only_the_latest_facts_are_kept_made(knowledge: Knowledge) -> None:
    store = FactStore.of(knowledge.facts.values())
    store._made = Recent(5)
    first = store.at(0)
    assert store.at(0) is first, "a fact read again is not made again"
    for position in range(20):
        store.at(position)
    assert list(store._made) == list(range(15, 20))
    assert store.at(0) == first


def test_a_record_gives_the_fields_without_making_the_fact(knowledge: Knowledge) -> None:
    store = FactStore.of(knowledge.facts.values())
    for position, fact in enumerate(knowledge.facts.values()):
        record = store.record(position)
        assert (record.id, record.topic, record.speaker) == (fact.id, fact.topic, fact.speaker)
        assert (list(record.en), list(record.zh)) == (fact.questions.en, fact.questions.zh)
        assert (record.answer_en, record.answer_zh, list(record.keywords)) == (
            fact.answer.en,
            fact.answer.zh,
            fact.keywords,
        )
    assert list(store._made) == []


def test_joined_stores_rename_only_the_facts_asked(knowledge: Knowledge) -> None:
    facts = list(knowledge.facts.values())
    first, second = FactStore.of(facts[:3]), FactStore.of(facts[3:5])
    joined = FactStore.joined([(first, {facts[1].id: "pack/renamed"}), (second, {})])
    assert list(joined) == [facts[0].id, "pack/renamed", *(fact.id for fact in facts[2:5])]
    assert joined["pack/renamed"] == facts[1].model_copy(update={"id": "pack/renamed"})
    assert [joined[fact.id] for fact in (facts[0], *facts[2:5])] == [facts[0], *facts[2:5]]


def test_stores_compare_by_their_facts(knowledge: Knowledge) -> None:
    facts = list(knowledge.facts.values())
    assert FactStore.of(facts) == FactStore.of(facts)
    assert FactStore.of(facts) == {fact.id: fact for fact in facts}
    assert FactStore.of(facts) != FactStore.of(facts[1:])
    written = Fact.model_validate(facts[0].model_dump())
    assert written.model_fields_set != facts[0].model_fields_set
    assert FactStore.of([written, *facts[1:]]) == FactStore.of(facts), (
        "which fields were written is not content"
    )
    assert facts[0].id in FactStore.of(facts) and "no-such-fact" not in FactStore.of(facts)


def test_a_duplicate_id_is_refused(knowledge: Knowledge) -> None:
    fact = next(iter(knowledge.facts.values()))
    with pytest.raises(ValueError, match="duplicate fact id"):
        FactStore.of([fact, fact])


def test_a_fact_is_made_as_model_construct_makes_it(knowledge: Knowledge) -> None:
    """The store skips model_construct's loop over the fields: what it makes must not differ."""
    store = FactStore.of(knowledge.facts.values())
    for position, fact_id in enumerate(store):
        made, record = store.at(position), store.record(position)
        constructed = Fact.model_construct(
            made.model_fields_set,
            id=fact_id,
            topic=record.topic,
            timestamp=record.timestamp,
            speaker=record.speaker,
            questions=Variants.model_construct({"en", "zh"}, en=list(record.en), zh=list(record.zh)),
            answer=Bilingual.model_construct({"en", "zh"}, en=record.answer_en, zh=record.answer_zh),
            keywords=list(record.keywords),
            kinds=list(record.kinds),
        )
        for ours, theirs in ((made, constructed), (made.questions, constructed.questions)):
            assert vars(ours) == vars(theirs) and list(vars(ours)) == list(vars(theirs))
            assert ours.model_fields_set == theirs.model_fields_set
            assert (ours.__pydantic_extra__, ours.__pydantic_private__) == (
                theirs.__pydantic_extra__,
                theirs.__pydantic_private__,
            )
        assert repr(made) == repr(constructed) and made.model_dump_json() == constructed.model_dump_json()
