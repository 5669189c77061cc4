"""Feedback and missed questions, stored through the bot and reported by `python -m bot gaps`."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Bot
from bot.context import Context
from bot.curation.gaps import group_questions, normalise
from bot.live import LiveKnowledge
from bot.storage import MissedQuestion, Storage
from knowledge.models import Language
from tests.conftest import run_bot
from tests.persistence import Clock, write_knowledge

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WORLD_CUP = ["Who won the World Cup in 2022?", "who won the world cup 2022", "Who won the 2022 World Cup??"]
WEATHER = ["What's the weather in Las Vegas?", "what is the weather in las vegas"]


def missed(question: str, minutes: int = 0, language: Language = "en") -> MissedQuestion:
    return MissedQuestion(question, language, "slack", NOW + timedelta(minutes=minutes), [])


def test_normalise_drops_case_width_and_punctuation() -> None:
    assert normalise("  Who WON the World-Cup??  ") == "who won the world cup"
    assert normalise("Ｇｒａｖｉｔｏｎ５ 有多少核心？") == "graviton5 有多少核心"


def test_similar_wordings_group_together_and_the_biggest_group_comes_first() -> None:
    questions = [missed(q, n) for n, q in enumerate(WEATHER + WORLD_CUP)]
    questions.append(missed("Graviton5的价格是多少？", 9, "zh"))
    questions.append(missed("Graviton5的价格是多少", 10, "zh"))
    groups = group_questions(questions)
    assert [(g.count, g.question) for g in groups] == [
        (3, "Who won the World Cup in 2022?"),
        (2, "Graviton5的价格是多少？"),
        (2, "What's the weather in Las Vegas?"),
    ]
    assert groups[0].variants == WORLD_CUP[1:]
    assert groups[1].languages == ["zh"]
    assert groups[1].last_asked == NOW + timedelta(minutes=10)


def test_different_questions_stay_apart() -> None:
    groups = group_questions(
        [missed("How much does Lambda cost?"), missed("How many cores does Trainium have?")]
    )
    assert len(groups) == 2


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    return write_knowledge(tmp_path / "knowledge")


async def populate(database: str, knowledge_dir: Path) -> None:
    """Questions and votes arriving the way adapters deliver them."""
    storage = Storage(database)
    clock = Clock(NOW)
    bot = Bot(LiveKnowledge(knowledge_dir), storage=storage, clock=clock)
    for n, question in enumerate(WORLD_CUP + WEATHER):
        clock.advance(minutes=1)
        ctx = Context(platform="slack", channel="C1", user=f"U{n}")
        reply = await bot.message(f"<@UBOT> {question}", ctx)
        assert reply.kind == "abstain", question
    for user in ("U1", "U2", "U3"):
        await bot.action("feedback_down", "g5-cores", Context(platform="discord", channel="D", user=user))
    await bot.action("feedback_up", "g5-cores", Context(platform="discord", channel="D", user="U4"))
    await bot.action("feedback_down", "trn3-memory", Context(platform="slack", channel="C1", user="U1"))
    await bot.action("feedback_down", "no-such-fact", Context(platform="slack", channel="C1", user="U1"))
    await bot.command("ask", "   ", Context(platform="slack", channel="C1", user="U1"))
    await bot.drain()
    storage.close()


def run_gaps(database: str, knowledge_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_bot("gaps", *args, env={"DATABASE_URL": database, "KNOWLEDGE_DIR": str(knowledge_dir)})


async def test_gaps_reports_what_users_missed_and_disliked(tmp_path: Path, knowledge_dir: Path) -> None:
    database = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    await populate(database, knowledge_dir)

    text = run_gaps(database, knowledge_dir)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "Unanswered questions: 5 asked, top 2 groups"
    assert lines[1].startswith("    3×  Who won the World Cup in 2022?  [en, last 2026-11-27]")
    assert lines[2] == "        also: who won the world cup 2022 | Who won the 2022 World Cup??"
    weather = next(n for n, line in enumerate(lines) if "Las Vegas" in line)
    assert lines[weather].startswith("    2×  What's the weather in Las Vegas?")
    most_disliked = lines.index("Facts with the most 👎:")
    assert lines[most_disliked + 1 :] == [
        "    3 👎    1 👍  g5-cores: How many cores does Graviton5 have?",
        "    1 👎    0 👍  trn3-memory: How much memory does Trainium3 have?",
    ]

    as_json = run_gaps(database, knowledge_dir, "--json", "--limit", "1")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["missed"] == 5
    assert [(g["count"], g["question"]) for g in report["groups"]] == [(3, "Who won the World Cup in 2022?")]
    assert report["disliked"] == [
        {"fact_id": "g5-cores", "down": 3, "up": 1, "question": "How many cores does Graviton5 have?"}
    ]


def test_gaps_on_an_unreachable_database_says_so(knowledge_dir: Path) -> None:
    run = run_gaps("postgresql://nobody@127.0.0.1:1/none", knowledge_dir)
    assert run.returncode == 1
    assert "cannot read the database postgresql+psycopg://nobody@127.0.0.1:1/none" in run.stderr


async def test_answered_questions_are_not_stored_and_mentions_are_scrubbed(
    tmp_path: Path, knowledge_dir: Path
) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    bot = Bot(LiveKnowledge(knowledge_dir), storage=storage, clock=Clock(NOW))
    ctx = Context(platform="slack", channel="C1", user="U1")
    answered = await bot.message("How many cores does Graviton5 have?", ctx)
    assert answered.kind == "answer"
    missed = await bot.message("<@UBOT> did <@U0ALICE|alice> win the World Cup in <#C0SPORTS>?", ctx)
    assert missed.kind == "abstain"
    await bot.drain()
    assert [m.question for m in storage.missed_questions()] == ["did @… win the World Cup in @…?"]
    storage.close()
