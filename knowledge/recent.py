"""The latest values made, by key: how the index keeps entries, the fact store facts, and the matcher
questions and answers, so that a large knowledge never holds them all."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """At most `size` values, the oldest made dropped first. It keeps no function (the maker is
    passed to `get`), so an owner keeping one is never tied in a reference cycle, as it would be by
    an lru_cache of its own method: the index freezes the cyclic collector out of its objects."""

    __slots__ = ("_values", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: dict[K, V] = {}

    def get(self, key: K, make: Callable[[K], V]) -> V:
        value = self._values.get(key)
        if value is None:
            if len(self._values) >= self.size:
                del self._values[next(iter(self._values))]
            value = self._values[key] = make(key)
        return value

    def clear(self) -> None:
        self._values.clear()

    def __iter__(self) -> Iterator[K]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
