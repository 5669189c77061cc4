"""The tables as the current schema version has them; migrations.py is what creates and changes them.

Times are stored as naive UTC (`UTCDateTime`), the one representation SQLite and PostgreSQL compare
the same way; the application only ever sees aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("storage takes aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("channel", sa.String(200), nullable=False),
    sa.Column("cron", sa.String(100), nullable=False),
    sa.Column("schedule_text", sa.String(100), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("topic", sa.String(200)),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("next_run", UTCDateTime, nullable=False),
    sa.Column("claimed_until", UTCDateTime),
    sa.Column("claim_token", sa.String(32)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(500)),
    sa.Column("last_posted_at", UTCDateTime),
    sa.Column("last_fingerprint", sa.String(64)),
    sa.Column("last_hashes", sa.JSON),
    sa.Column("paused", sa.String(40)),
    sa.Index("ix_subscriptions_channel", "platform", "channel"),
    sa.Index("ix_subscriptions_next_run", "next_run"),
)
"""`paused`: why the digest is on hold (the app was uninstalled, the bot left or lost the channel), or
NULL when it posts; the scheduler skips paused subscriptions until the adapter resumes them."""

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("fact_id", sa.String(80), nullable=False),
    sa.Column("vote", sa.SmallInteger, nullable=False),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("user_hash", sa.String(64)),
    sa.Index("ix_feedback_fact", "fact_id"),
    sa.Index("ix_feedback_user", "platform", "user_hash", "fact_id"),
)

unanswered = sa.Table(
    "unanswered",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("suggestions", sa.JSON, nullable=False),
    sa.Index("ix_unanswered_created", "created_at"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Index("ix_deliveries_expires", "expires_at"),
)
"""Keys with an expiry, shared by every replica, each claimed by the INSERT that creates it: platform
deliveries already handled (Slack event ids, trigger ids), so of two replicas handed the same delivery only
one answers; and per-user rate-limit slots (`rate:...`, a hashed user id), so the limit holds across them."""
