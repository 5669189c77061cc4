"""The overview's numbers: questions per day, answered against declined, 👍 against 👎, by platform and
language, the most asked facts and the biggest gaps, over the last DAYS days."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot.curation.gaps import QuestionGroup
from bot.curation.records import AskedRow, Vote
from knowledge.loader import Knowledge

DAYS = 30


@dataclass
class Day:
    day: date
    answered: int = 0
    declined: int = 0
    small_talk: int = 0
    up: int = 0
    down: int = 0

    @property
    def asked(self) -> int:
        return self.answered + self.declined + self.small_talk


@dataclass
class TopFact:
    fact_id: str
    question: str | None
    asked: int
    up: int
    down: int


@dataclass
class Stats:
    since: date
    days: list[Day]
    platforms: dict[str, int]
    languages: dict[str, int]
    top_facts: list[TopFact]
    top_gaps: list[QuestionGroup] = field(default_factory=list)

    @property
    def asked(self) -> int:
        return sum(day.asked for day in self.days)

    @property
    def answered(self) -> int:
        return sum(day.answered for day in self.days)

    @property
    def declined(self) -> int:
        return sum(day.declined for day in self.days)

    @property
    def up(self) -> int:
        return sum(day.up for day in self.days)

    @property
    def down(self) -> int:
        return sum(day.down for day in self.days)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "asked": self.asked,
            "answered": self.answered,
            "declined": self.declined,
            "up": self.up,
            "down": self.down,
            "days": [{**asdict(day), "day": day.day.isoformat(), "asked": day.asked} for day in self.days],
            "platforms": self.platforms,
            "languages": self.languages,
            "top_facts": [asdict(fact) for fact in self.top_facts],
            "top_gaps": [
                {**asdict(group), "last_asked": group.last_asked.isoformat()} for group in self.top_gaps
            ],
        }


def since(now: datetime, days: int = DAYS) -> datetime:
    """The start (midnight UTC) of the first of the last `days` days, today included."""
    start = (now - timedelta(days=days - 1)).date()
    return datetime(start.year, start.month, start.day, tzinfo=now.tzinfo)


def stats(
    now: datetime,
    asked: list[AskedRow],
    votes: list[Vote],
    knowledge: Knowledge,
    gaps: list[QuestionGroup],
    days: int = DAYS,
    top: int = 8,
) -> Stats:
    first = since(now, days).date()
    by_day = {first + timedelta(days=n): Day(first + timedelta(days=n)) for n in range(days)}
    platforms: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    facts: Counter[str] = Counter()
    for row in asked:
        day = by_day.get(row.created_at.date())
        if day is None:
            continue
        if row.outcome == "answered":
            day.answered += 1
            if row.fact_id:
                facts[row.fact_id] += 1
        elif row.outcome == "declined":
            day.declined += 1
        else:
            day.small_talk += 1
        platforms[row.platform] += 1
        languages[row.language] += 1
    ups: Counter[str] = Counter()
    downs: Counter[str] = Counter()
    for vote in votes:
        day = by_day.get(vote.created_at.date())
        if day is None:
            continue
        if vote.up:
            day.up += 1
            ups[vote.fact_id] += 1
        else:
            day.down += 1
            downs[vote.fact_id] += 1
    top_facts = []
    for fact_id, count in facts.most_common(top):
        fact = knowledge.facts.get(fact_id)
        question = fact.canonical_question("en") if fact else None
        top_facts.append(TopFact(fact_id, question, count, ups[fact_id], downs[fact_id]))
    return Stats(
        since=first,
        days=list(by_day.values()),
        platforms=dict(platforms.most_common()),
        languages=dict(languages.most_common()),
        top_facts=top_facts,
        top_gaps=gaps[:top],
    )
