"""The memory of recent deliveries that keeps Slack's retries from being answered twice."""

from __future__ import annotations

from adapters.slack.dedupe import RecentKeys


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_new_once_until_it_expires() -> None:
    clock = Clock()
    recent = RecentKeys(ttl=60, clock=clock)
    assert recent.first_time(["Ev1", "message:C1:1.0"]) is True
    assert recent.first_time(["Ev1"]) is False
    assert recent.first_time(["Ev2", "message:C1:1.0"]) is False, "same message, another event id"
    clock.now = 59.9
    assert recent.first_time(["Ev1"]) is False
    clock.now = 60.0
    assert recent.first_time(["Ev1"]) is True


def test_empty_keys_are_ignored_and_forgotten_keys_come_back() -> None:
    recent = RecentKeys(clock=Clock())
    assert recent.first_time(["", "Ev1"]) is True
    assert recent.first_time([""]) is True
    recent.forget(["Ev1"])
    assert recent.first_time(["Ev1"]) is True


def test_the_memory_is_bounded() -> None:
    recent = RecentKeys(ttl=3600, capacity=100, clock=Clock())
    for n in range(1000):
        assert recent.first_time([f"Ev{n}"]) is True
    assert recent.first_time(["Ev999"]) is False
    assert recent.first_time(["Ev0"]) is True, "the oldest keys make room for new ones"
