"""The console adapter driven the way a user drives it: lines on a pipe in, rendered replies out."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from adapters.console.adapter import ConsoleAdapter
from bot.app import Bot
from tests.conftest import run_bot, write_fact
from tests.failing import QUESTION, assert_logged_without_the_question, failing_bot


def test_piped_question_and_command_both_answered() -> None:
    run = run_bot(stdin="how many cores does graviton5 have?\n/launch trn3\n")
    assert run.returncode == 0, run.stderr
    assert "INFO" not in run.stderr, "service log lines stay out of the console chat"
    assert "192" in run.stdout
    assert "Trainium3" in run.stdout
    assert run.stdout.index("192") < run.stdout.index("Trainium3")


def test_chinese_question_gets_a_chinese_answer() -> None:
    run = run_bot(stdin="Graviton5有多少个核心？\n")
    assert run.returncode == 0, run.stderr
    assert "192" in run.stdout
    assert "核" in run.stdout


def test_quit_ends_the_session_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    write_fact(tmp_path, "alpha", "Alpha is the first letter.")
    run = run_bot(stdin="\n   \n/help\n/quit\n/launch\n", env={"KNOWLEDGE_DIR": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert "/digest" in run.stdout
    assert "Launches at the keynote" not in run.stdout


async def test_a_suggestion_number_asks_that_suggestion(bot: Bot) -> None:
    console = Console(record=True, width=1000)
    adapter = ConsoleAdapter(bot, io.StringIO("how many cores does graviton6 have?\n1\n"), console)
    await adapter.loop()
    abstained = await bot.message("how many cores does graviton6 have?")
    expected = await bot.action("ask", abstained.suggestions[0])
    assert expected.kind == "answer"
    after_suggestions = console.export_text().split("Did you mean", 1)[1]
    assert expected.sections[0].text in after_suggestions


def test_a_number_after_an_unknown_launch_opens_that_launch() -> None:
    run = run_bot(stdin="/launch graviton 9000\n1\n")
    assert run.returncode == 0, run.stderr
    closest, chosen = run.stdout.split("Closest launches:", 1)[1].split("╰", 1)
    first = closest.split("1. ", 1)[1].split("│", 1)[0].strip()
    assert f"{first} (" in chosen, "typing 1 opens the first suggested launch's card"


def test_invalid_knowledge_stops_the_bot_with_the_check_message(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("facts:\n  - id: Bad Id\n", encoding="utf-8")
    run = run_bot(stdin="hello\n", env={"KNOWLEDGE_DIR": str(tmp_path)})
    assert run.returncode == 1
    assert "broken.yaml" in run.stderr
    assert "Bad Id" in run.stderr


def test_shell_commands_print_cards() -> None:
    launch = run_bot("launch", "graviton", "5")
    assert launch.returncode == 0, launch.stderr
    assert "Graviton5" in launch.stdout and "192" in launch.stdout
    listing = run_bot("launch")
    assert listing.returncode == 0 and "S3 Vectors" in listing.stdout and "Trainium3" in listing.stdout
    digest = run_bot("digest", "ai", "chips")
    assert digest.returncode == 0 and "Trainium3" in digest.stdout and "Graviton5" not in digest.stdout
    unknown = run_bot("launch", "quantum", "toaster")
    assert unknown.returncode == 1
    assert "quantum toaster" in unknown.stdout


def test_settings_errors_name_the_variable_not_the_value() -> None:
    run = run_bot("run", "slack", env={"SLACK_BOT_TOKEN": "xoxb-secret-value", "PORT": "not-a-port"})
    assert run.returncode == 2
    assert "PORT" in run.stderr
    assert "xoxb-secret-value" not in run.stderr + run.stdout
    database = run_bot("run", env={"DATABASE_URL": "mysql://admin:hunter2@db/keynote"})
    assert database.returncode == 2
    assert "DATABASE_URL" in database.stderr and "postgresql://" in database.stderr
    assert "hunter2" not in database.stderr + database.stdout
    missing = run_bot("run", "slack", env={"SLACK_BOT_TOKEN": "xoxb-secret-value"})
    assert missing.returncode == 2
    assert "SLACK_SIGNING_SECRET" in missing.stderr
    assert "xoxb-secret-value" not in missing.stderr + missing.stdout


async def test_a_failing_bot_says_so_in_the_console_and_logs_no_words(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    console = Console(record=True, width=200)
    adapter = ConsoleAdapter(failing_bot(bot.live), io.StringIO(QUESTION + "\n/launch trn3\n"), console)
    await adapter.loop()

    assert console.export_text().count("Sorry, something went wrong; please try again.") == 2
    assert_logged_without_the_question(caplog)
