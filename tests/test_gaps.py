"""Feedback and missed questions, stored through the bot and reported by `python -m bot gaps`."""

from __future__ import annotations

import json
import random
import subprocess
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.curation.gaps as gaps
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


# -- issue 13: a curator's terminal is safe, grouping scales, old questions expire -----------------


async def test_gaps_never_prints_a_chat_users_control_characters(tmp_path: Path, knowledge_dir: Path) -> None:
    database = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    storage = Storage(database)
    bot = Bot(LiveKnowledge(knowledge_dir), storage=storage, clock=Clock(NOW))
    ctx = Context(platform="slack", channel="C1", user="U1")
    hostile = "\x1b]0;pwned\x07who won the \x1b[2Jworld cup\u202e in 2022?\x9b31m\r\nlast line\x00"
    assert (await bot.message(hostile, ctx)).kind == "abstain"
    await bot.drain()
    storage.close()

    report = run_gaps(database, knowledge_dir)
    assert report.returncode == 0, report.stderr
    assert "who won the" in report.stdout and "world cup" in report.stdout
    shown = report.stdout.replace("\n", "")
    assert not [c for c in shown if unicodedata.category(c) in ("Cc", "Cf")], repr(report.stdout)


def test_grouping_compares_each_question_with_a_few_groups_not_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Complexity, not time: count the comparisons. Comparing every new question with every group made
    20,000 questions take two minutes; with the index each question meets a bounded number of groups."""
    rng = random.Random(13)
    letters = "abcdefghijklmnopqrstuvwxyz"
    products = ["".join(rng.choice(letters) for _ in range(rng.randint(5, 9))) for _ in range(600)]
    forms = ["how many {} does {} have", "what is the price of {} in {}", "is {} faster than {}", "{} vs {}"]
    questions = [
        missed(rng.choice(forms).format(rng.choice(products), rng.choice(products)), n) for n in range(3000)
    ]
    compared = [0]
    real = gaps.process.extractOne

    def counting(query: str, choices: list[str], **options: Any) -> Any:
        compared[0] += len(choices)
        return real(query, choices, **options)

    monkeypatch.setattr(gaps.process, "extractOne", counting)
    groups = gaps.group_questions(questions)
    assert sum(group.count for group in groups) == len(questions)
    assert compared[0] <= 200 * len(questions), (
        f"{compared[0]:,} comparisons for {len(questions):,} questions"
    )


async def test_missed_questions_older_than_the_retention_are_gone(
    tmp_path: Path, knowledge_dir: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    storage = Storage(database)
    now = datetime.now(UTC)
    for age_days, question in (
        (200, "Who won the World Cup in 1998?"),
        (2, "What's the weather in Las Vegas?"),
    ):
        bot = Bot(LiveKnowledge(knowledge_dir), storage=storage, clock=Clock(now - timedelta(days=age_days)))
        assert (
            await bot.message(question, Context(platform="slack", channel="C1", user="U1"))
        ).kind == "abstain"
        await bot.drain()
    storage.close()

    report = run_gaps(database, knowledge_dir, "--json")
    assert report.returncode == 0, report.stderr
    assert [g["question"] for g in json.loads(report.stdout)["groups"]] == [
        "What's the weather in Las Vegas?"
    ]
    assert [m.question for m in Storage(database).missed_questions()] == ["What's the weather in Las Vegas?"]
