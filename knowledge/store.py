"""Facts kept compact, and made into pydantic `Fact`s only when read.

At a conference's size the Fact objects are most of the bot's memory: 100,000 of them (each with its
Variants, Bilingual, lists and strings) take about 330 MB, the same facts marshalled into one bytes
buffer about 40 MB. A fact is made again when read (tens of microseconds; a question reads a dozen)
and the FACT_CACHE most recently made are kept, so a keynote-sized knowledge is made once.
"""

from __future__ import annotations

import hashlib
import marshal
from array import array
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel

from knowledge.models import Bilingual, Fact, Variants
from knowledge.recent import Recent

FACT_CACHE = 1024
"""Facts kept made at once: every fact of a keynote-sized knowledge, the latest of a larger one."""
_MARSHAL_VERSION = 2
"""Marshal's last format without back-references: equal facts always give equal bytes."""
_OPTIONAL = ("speaker", "keywords", "kinds")
"""The fields a curator may leave out: which were given is kept, so a made fact's
`model_fields_set` is the loaded one's."""
_REQUIRED = frozenset(name for name in Fact.model_fields if name not in _OPTIONAL)
_BOTH = frozenset({"en", "zh"})


class Record(NamedTuple):
    """A stored fact's fields as they are kept: what building the index reads, without making the
    fact (a few microseconds instead of tens)."""

    id: str
    topic: str
    timestamp: str
    speaker: str | None
    en: tuple[str, ...]
    """Its English question variants."""
    zh: tuple[str, ...]
    answer_en: str
    answer_zh: str
    keywords: tuple[str, ...]
    kinds: tuple[str, ...]
    given: int
    """Which of the optional fields were given, one bit each in `_OPTIONAL`'s order."""


class FactStore(Mapping[str, Fact]):
    """Facts by id, in load order, each stored as marshalled field values; positions are the order
    the index numbers facts in."""

    def __init__(self, ids: list[str], blob: bytes, offsets: array[int]) -> None:
        self.ids = ids
        self.blob = blob
        """Every fact's marshalled fields, one after the other."""
        self.offsets = offsets
        """Where each fact begins in `blob` (one more at the end)."""
        self.positions = {fact_id: position for position, fact_id in enumerate(ids)}
        if len(self.positions) != len(ids):
            raise ValueError("duplicate fact id")
        self._made: Recent[int, Fact] = Recent(FACT_CACHE)

    @classmethod
    def of(cls, facts: Iterable[Fact]) -> FactStore:
        """The store of `facts`, read one at a time: a generator of facts never holds them all."""
        ids: list[str] = []
        blob = bytearray()
        offsets = array("q", [0])
        for fact in facts:
            ids.append(fact.id)
            blob += marshal.dumps(_fields(fact), _MARSHAL_VERSION)
            offsets.append(len(blob))
        return cls(ids, bytes(blob), offsets)

    @classmethod
    def joined(cls, parts: Iterable[tuple[FactStore, Mapping[str, str]]]) -> FactStore:
        """Several stores as one, in order; each part's mapping gives some of its facts a new id (ids
        two packs share). The other facts' bytes are copied as they are, not made and stored again."""
        ids: list[str] = []
        blob = bytearray()
        offsets = array("q", [0])
        for store, renamed in parts:
            for position, fact_id in enumerate(store.ids):
                new_id = renamed.get(fact_id)
                if new_id is None:
                    ids.append(fact_id)
                    blob += store.blob[store.offsets[position] : store.offsets[position + 1]]
                else:
                    ids.append(new_id)
                    record = store.record(position)._replace(id=new_id)
                    blob += marshal.dumps(tuple(record), _MARSHAL_VERSION)
                offsets.append(len(blob))
        return cls(ids, bytes(blob), offsets)

    @cached_property
    def digest(self) -> str:
        """A digest of the facts: equal digests, equal facts (what a cached index is found by)."""
        digest = hashlib.sha256(self.blob)
        digest.update("\0".join(self.ids).encode())
        return digest.hexdigest()

    def __reduce__(self) -> tuple[type[FactStore], tuple[list[str], bytes, array[int]], dict[str, str]]:
        """Pickled as its ids and bytes, and its digest (a cold start need not hash 40 MB again):
        positions are made again and no made fact is kept."""
        return FactStore, (self.ids, self.blob, self.offsets), {"digest": self.digest}

    def __getitem__(self, fact_id: str) -> Fact:
        return self.at(self.positions[fact_id])

    def __contains__(self, fact_id: object) -> bool:
        return fact_id in self.positions

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __eq__(self, other: object) -> bool:
        """Equal bytes are equal facts, so equal stores compare without making their facts (facts
        that differ only in which optional fields were written compare equal, as pydantic's do)."""
        if isinstance(other, FactStore) and self.ids == other.ids and self.blob == other.blob:
            return True
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def at(self, position: int) -> Fact:
        """The fact at a position (made when not among the latest read)."""
        return self._made.get(position, self._make)

    def record(self, position: int) -> Record:
        """The fields of the fact at a position, without making the fact."""
        return Record._make(
            marshal.loads(memoryview(self.blob)[self.offsets[position] : self.offsets[position + 1]])
        )

    def _make(self, position: int) -> Fact:
        record = self.record(position)
        questions = _constructed(Variants, {"en": list(record.en), "zh": list(record.zh)}, set(_BOTH))
        answer = _constructed(Bilingual, {"en": record.answer_en, "zh": record.answer_zh}, set(_BOTH))
        values = {
            "id": record.id,
            "topic": record.topic,
            "timestamp": record.timestamp,
            "speaker": record.speaker,
            "questions": questions,
            "answer": answer,
            "keywords": list(record.keywords),
            "kinds": list(record.kinds),
        }
        given = {*_REQUIRED, *(name for bit, name in enumerate(_OPTIONAL) if record.given >> bit & 1)}
        return _constructed(Fact, values, given)


_Model = TypeVar("_Model", bound=BaseModel)


def _constructed(model: type[_Model], values: dict[str, Any], given: set[str]) -> _Model:
    """What `model.model_construct(given, **values)` makes when `values` has every field, in order,
    without its loop over the fields and their aliases: half the cost of making a fact, a dozen times
    per question at a conference's size. tests/test_store.py checks that both make the same."""
    made = model.__new__(model)
    object.__setattr__(made, "__dict__", values)
    object.__setattr__(made, "__pydantic_fields_set__", given)
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made


def _fields(fact: Fact) -> tuple[Any, ...]:
    given = sum(1 << bit for bit, name in enumerate(_OPTIONAL) if name in fact.model_fields_set)
    return (
        fact.id,
        fact.topic,
        fact.timestamp,
        fact.speaker,
        tuple(fact.questions.en),
        tuple(fact.questions.zh),
        fact.answer.en,
        fact.answer.zh,
        tuple(fact.keywords),
        tuple(fact.kinds),
        given,
    )
