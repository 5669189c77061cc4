"""The curators' console's own tables: every question asked, the edits curators made, and review marks.

They live beside the bot's tables in the same database but in their own `MetaData`, created with
`ensure_tables` (idempotent, `checkfirst`) when the console or the question recorder starts: the bot's
schema migrations (bot/storage) never need to know about them.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.storage.tables import UTCDateTime

metadata = sa.MetaData()

asked = sa.Table(
    "curation_asked",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("outcome", sa.String(12), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("fact_id", sa.String(200)),
    sa.Column("pack", sa.String(80)),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Index("ix_curation_asked_created", "created_at"),
)
"""One row per question the bot was asked (small talk included), for the charts and the review."""

edits = sa.Table(
    "curation_edits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("curator", sa.String(80), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("file", sa.String(300), nullable=False),
    sa.Column("fact_id", sa.String(200)),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("diff", sa.Text, nullable=False),
    sa.Index("ix_curation_edits_created", "created_at"),
)
"""The audit log: when, what, by which signed-in curator, with the diff that was written."""

reviewed = sa.Table(
    "curation_reviewed",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("curator", sa.String(80), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("verdict", sa.String(20), nullable=False),
    sa.Column("fact_id", sa.String(200)),
)
"""What a curator decided about a question on the review page: `confirmed`, `moved` or `unanswerable`."""

_ready: set[int] = set()
_lock = threading.Lock()


def ensure_tables(engine: Engine) -> None:
    """Create the console's tables if they are missing (once per engine and process)."""
    if id(engine) in _ready:
        return
    with _lock:
        if id(engine) not in _ready:
            metadata.create_all(engine, checkfirst=True)
            _ready.add(id(engine))
