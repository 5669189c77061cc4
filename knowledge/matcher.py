"""Answer a question from the knowledge, or abstain with suggestions.

PLACEHOLDER INTERFACE: the real implementation replaces the bodies; the dataclasses and the public
methods' signatures are the contract the bot relies on.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.language import detect_language
from knowledge.loader import Knowledge, Problem
from knowledge.models import Fact, Language, Launch


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


@dataclass(frozen=True)
class LaunchLookup:
    launch: Launch | None
    suggestions: tuple[Launch, ...] = ()


class Matcher:
    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge

    def ask(self, question: str) -> Answer:
        language = detect_language(question)
        return Answer(question=question, answered=False, language=language, confidence=0.0)

    def find_launch(self, name: str) -> LaunchLookup:
        key = name.casefold().replace(" ", "")
        for launch in self.knowledge.launches.values():
            names = [launch.id, launch.name, *launch.aliases]
            if any(key == n.casefold().replace(" ", "") for n in names):
                return LaunchLookup(launch)
        return LaunchLookup(None, tuple(list(self.knowledge.launches.values())[:3]))

    def complete_launch(self, prefix: str, limit: int = 25) -> list[Launch]:
        return list(self.knowledge.launches.values())[:limit]


def ambiguous_facts(knowledge: Knowledge) -> list[Problem]:
    """Warnings for pairs of facts whose question variants the matcher cannot tell apart."""
    return []
