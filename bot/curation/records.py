"""What the console stores: every question asked (recorded by an observer of the bot, in the background),
the audit log of edits, and the review marks. Synchronous methods, run through `Storage.call`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.app import Asked
from bot.curation import tables
from bot.storage import Storage
from bot.storage.store import MAX_QUESTION_CHARS, background_write, clean_text
from bot.storage.tables import feedback

log = logging.getLogger(__name__)

SWEEP_EVERY = 600.0
"""Seconds between deletions of asked questions older than the storage's retention."""


@dataclass(frozen=True)
class AskedRow:
    created_at: datetime
    platform: str
    language: str
    outcome: str
    question: str
    fact_id: str | None
    confidence: float


@dataclass(frozen=True)
class Edit:
    id: int
    created_at: datetime
    curator: str
    action: str
    file: str
    fact_id: str | None
    summary: str
    diff: str

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class Vote:
    created_at: datetime
    fact_id: str
    up: bool


class Records:
    """The console's rows in the bot's database (its engine, its threads, its retention)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._next_sweep = 0.0

    def prepare(self) -> None:
        self.storage.prepare()
        tables.ensure_tables(self.storage.engine)

    @background_write
    def record_asked(self, asked: Asked) -> None:
        self.prepare()
        self.storage.insert(
            tables.asked,
            {
                "created_at": asked.at,
                "platform": clean_text(asked.platform)[:20],
                "language": asked.language,
                "outcome": asked.outcome,
                "question": clean_text(asked.question)[:MAX_QUESTION_CHARS],
                "fact_id": asked.fact_id,
                "pack": asked.pack,
                "confidence": float(asked.confidence),
            },
        )
        if self.storage.retention is not None and time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + SWEEP_EVERY
            old = tables.asked.c.created_at < asked.at - self.storage.retention
            with self.storage.begin() as connection:
                connection.execute(sa.delete(tables.asked).where(old))

    def asked_since(self, since: datetime) -> list[AskedRow]:
        self.prepare()
        table = tables.asked
        query = (
            sa.select(
                table.c.created_at,
                table.c.platform,
                table.c.language,
                table.c.outcome,
                table.c.question,
                table.c.fact_id,
                table.c.confidence,
            )
            .where(table.c.created_at >= since)
            .order_by(table.c.created_at, table.c.id)
        )
        with self.storage.engine.connect() as connection:
            return [AskedRow(*row) for row in connection.execute(query).all()]

    def votes_since(self, since: datetime) -> list[Vote]:
        self.prepare()
        query = sa.select(feedback.c.created_at, feedback.c.fact_id, feedback.c.vote).where(
            feedback.c.created_at >= since
        )
        with self.storage.engine.connect() as connection:
            return [Vote(at, fact_id, vote > 0) for at, fact_id, vote in connection.execute(query).all()]

    def record_edit(
        self, at: datetime, curator: str, action: str, file: str, fact_id: str | None, summary: str, diff: str
    ) -> None:
        self.prepare()
        with self.storage.engine.begin() as connection:
            connection.execute(
                sa.insert(tables.edits).values(
                    created_at=at,
                    curator=clean_text(curator)[:80],
                    action=action,
                    file=file,
                    fact_id=fact_id,
                    summary=clean_text(summary),
                    diff=clean_text(diff),
                )
            )

    def edits(self, limit: int = 100, fact_id: str | None = None) -> list[Edit]:
        self.prepare()
        table = tables.edits
        query = sa.select(table).order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit)
        if fact_id is not None:
            query = query.where(table.c.fact_id == fact_id)
        with self.storage.engine.connect() as connection:
            return [Edit(**row) for row in connection.execute(query).mappings()]

    def record_review(
        self, at: datetime, curator: str, question: str, verdict: str, fact_id: str | None
    ) -> None:
        self.prepare()
        with self.storage.engine.begin() as connection:
            connection.execute(
                sa.insert(tables.reviewed).values(
                    created_at=at,
                    curator=clean_text(curator)[:80],
                    question=clean_text(question)[:MAX_QUESTION_CHARS],
                    verdict=verdict,
                    fact_id=fact_id,
                )
            )

    def reviewed(self) -> dict[str, str]:
        """Each reviewed question's latest verdict."""
        self.prepare()
        table = tables.reviewed
        query = sa.select(table.c.question, table.c.verdict).order_by(table.c.created_at, table.c.id)
        with self.storage.engine.connect() as connection:
            return {question: verdict for question, verdict in connection.execute(query).all()}


class QuestionRecorder:
    """An observer for `Bot(observers=[...])`: stores each asked question in the background.

    It never blocks a reply, nor starts a task per question: the row joins the storage's queue of
    background writes (`Storage.write`), stored in batches, kept while the database is away, and
    stored before the bot stops (`Bot.drain`). `drain` awaits what is still queued.
    """

    def __init__(self, storage: Storage) -> None:
        self.records = Records(storage)

    def __call__(self, asked: Asked) -> None:
        try:
            self.records.storage.write(self.records.record_asked, asked)
        except RuntimeError:
            return  # a one-shot command with no loop: nothing to chart

    async def drain(self) -> None:
        await self.records.storage.drain()
