"""Shared fixtures: a bot talking to the bundled knowledge, the way a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Bot
from bot.live import LiveKnowledge
from bot.settings import Settings
from knowledge.loader import BUNDLED_DIR, Knowledge, load_knowledge
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent


CLI_CWD = ROOT / "tests"
"""Where tests run `python -m bot`: not the checkout's root, whose `.env` would leak a developer's
settings (tokens, BOT_PLATFORM) into the tests; PYTHONPATH points at the checkout instead."""


def run_bot(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` as a user runs it from a shell, with `env` on top of the test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=CLI_CWD,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
        timeout=60,
    )


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's settings, and the bot keeps its state (database, heartbeat) in a
    throwaway DATA_DIR, never in the checkout."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to fakes on 127.0.0.1: a developer's proxy settings must not reroute them."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack (Web API, response_urls, Socket Mode) on a free loopback port."""
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    """A fake Discord (REST API and gateway) on a free loopback port."""
    server = FakeDiscord()
    await server.start()
    yield server
    await server.close()


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge(BUNDLED_DIR)


@pytest.fixture
def bot() -> Bot:
    return Bot(LiveKnowledge(BUNDLED_DIR))


def write_fact(directory: Path, fact_id: str, answer_en: str, name: str = "facts.yaml") -> Path:
    """A minimal valid knowledge file with one fact, for tests that need knowledge they can change."""
    path = directory / name
    path.write_text(
        f"""facts:
  - id: {fact_id}
    topic: test
    timestamp: "1:00"
    questions:
      en: ["What is {fact_id}?"]
      zh: ["{fact_id}是什么？"]
    answer:
      en: "{answer_en}"
      zh: "{answer_en}（中文）"
""",
        encoding="utf-8",
    )
    return path
