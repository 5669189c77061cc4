"""Persistent state: digest subscriptions, feedback and missed questions (see store.py)."""

from bot.storage.store import (
    FactVotes,
    MissedQuestion,
    Storage,
    Subscription,
    database_url,
    open_storage,
)

__all__ = ["FactVotes", "MissedQuestion", "Storage", "Subscription", "database_url", "open_storage"]
