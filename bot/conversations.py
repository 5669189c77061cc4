"""Conversations: what one user in one place was last answered about, so "and its bandwidth?" follows on.

A conversation is keyed by the adapter (`Context.conversation`): a Slack thread or DM, a Discord
channel or thread, a console session, always with the user in the key, so it never crosses users or
channels. It remembers only the topic of the last answered turn, for a few minutes and a few turns,
in memory: a follow-up minutes later in another replica starts afresh, which is what people expect
of a chat anyway.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from knowledge.matcher import Topic

TTL = timedelta(minutes=10)
"""A follow-up after this long is a new conversation: the earlier topic is no longer on anyone's mind."""
MAX_TURNS = 6
"""Follow-ups in a row that lean on one answered topic; after that a question must name its subject."""
MAX_CONVERSATIONS = 10_000
"""Conversations kept at once; the least recently used are forgotten first."""


def conversation_key(platform: str, channel: str | None, thread: str | None, user: str | None) -> str | None:
    """One user in one place: a thread when there is one, else the channel or DM. None (no memory)
    when the platform does not say who or where."""
    if not channel or not user:
        return None
    return f"{platform}:{channel}:{thread or '-'}:{user}"


@dataclass(frozen=True)
class Remembered:
    topic: Topic
    at: datetime
    turns: int


class Conversations:
    def __init__(
        self, ttl: timedelta = TTL, max_turns: int = MAX_TURNS, capacity: int = MAX_CONVERSATIONS
    ) -> None:
        self.ttl = ttl
        self.max_turns = max_turns
        self.capacity = capacity
        self._kept: OrderedDict[str, Remembered] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def topic(self, key: str | None, now: datetime) -> Topic | None:
        """The topic a follow-up in this conversation refers to, if it is still fresh."""
        if key is None:
            return None
        kept = self._kept.get(key)
        if kept is None:
            return None
        if now - kept.at > self.ttl or kept.turns >= self.max_turns:
            del self._kept[key]
            return None
        return kept.topic

    def remember(self, key: str | None, topic: Topic, now: datetime, follow_up: bool) -> None:
        """After an answer: a new topic starts a fresh count, a follow-up adds a turn to the old one."""
        if key is None:
            return
        kept = self._kept.get(key)
        turns = kept.turns + 1 if follow_up and kept is not None else 1
        self._kept[key] = Remembered(topic, now, turns)
        self._kept.move_to_end(key)
        while len(self._kept) > self.capacity:
            self._kept.popitem(last=False)
