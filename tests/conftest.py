"""Shared fixtures: a bot talking to the bundled knowledge, the way a user would."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Bot
from bot.live import LiveKnowledge
from knowledge.loader import BUNDLED_DIR, Knowledge, load_knowledge

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge(BUNDLED_DIR)


@pytest.fixture
def bot() -> Bot:
    return Bot(LiveKnowledge(BUNDLED_DIR))
