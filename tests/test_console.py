"""The console adapter driven the way a user drives it: lines on a pipe in, plain replies out.

On a terminal it is driven through a pseudo-terminal in tests/test_console_tty.py.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from adapters.console.adapter import ConsoleAdapter
from adapters.console.commands import say
from bot.app import Bot
from bot.commands.launch import launch_list
from bot.replies import Button
from bot.settings import Settings
from bot.storage import open_storage
from bot.texts import examples, text
from knowledge.loader import BUNDLED_DIR, load_knowledge
from tests.conftest import run_bot, write_fact
from tests.failing import QUESTION, assert_logged_without_the_question, failing_bot

BOX = "╭╮╰╯│─"


def replies_in(output: str) -> list[str]:
    """Piped output's replies: a blank line separates them, and none has one inside."""
    return output.rstrip("\n").split("\n\n")


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
    closest, chosen = run.stdout.split("Closest launches:\n", 1)[1].split("\n\n", 1)
    first = closest.split("1. ", 1)[1].splitlines()[0].strip()
    assert chosen.startswith(f"{first} ("), "typing 1 opens the first suggested launch's card"


def test_piped_output_is_plain_text_one_line_per_line() -> None:
    lines = ["how many cores does graviton5 have?", "how many cores does graviton6 have?", "/launch trn3"]
    run = run_bot(stdin="\n".join(lines) + "\n")
    assert run.returncode == 0, run.stderr
    assert not set(run.stdout) & set(BOX), "no box characters on a pipe"
    assert "\x1b[" not in run.stdout, "no colours on a pipe"
    replies = replies_in(run.stdout)
    assert replies[0] == "Graviton5 puts 192 cores in a single package.\nKeynote 28:00 · Dave Brown"
    assert replies[1].startswith(
        f"{text('dont_know', 'en', keynote='the keynote')}\n{text('did_you_mean', 'en')}\n  1. "
    )
    assert replies[2].startswith("Trainium3 UltraServer (Announced)\n")
    longest = max(replies[2].splitlines(), key=len)
    assert len(longest) > 120, "a long line is not wrapped at the pipe's 120 columns"
    assert "Helpful?" not in run.stdout, "the rating hint is for people at a terminal"


def test_a_mistyped_command_suggests_the_nearest_first_and_its_number_keeps_the_words() -> None:
    run = run_bot(stdin="/lanch trn3\n1\n")
    assert run.returncode == 0, run.stderr
    suggestions, card = run.stdout.split("\n\n", 1)
    assert suggestions.splitlines()[2] == "  1. /launch trn3", "nearest first, with the words typed after it"
    assert card.startswith("Trainium3 UltraServer (Announced)")


def test_a_number_with_no_list_showing_gets_a_hint_and_is_not_a_missed_question() -> None:
    run = run_bot(stdin="1\nhow many cores does graviton6 have?\n4\n/help\n2\n")
    assert run.returncode == 0, run.stderr
    replies = replies_in(run.stdout)
    assert replies[0] == say("no_list", "en")
    assert replies[2] == say("out_of_range", "en", count=3), "the list on screen had three"
    assert replies[-1] == say("no_list", "en"), "/help numbers nothing"
    assert text("dont_know", "en", keynote="the keynote") not in replies[0] + replies[2] + replies[-1]

    storage = open_storage(Settings())  # the database the bot just used, in the test's DATA_DIR
    try:
        assert [m.question for m in storage.missed_questions()] == ["how many cores does graviton6 have?"]
    finally:
        storage.close()


def test_plus_and_minus_rate_the_answer_just_shown() -> None:
    run = run_bot(stdin="how many cores does graviton5 have?\n+\n+\nwhat is s3 vectors?\n-\n")
    assert run.returncode == 0, run.stderr
    replies = replies_in(run.stdout)
    assert replies[1] == replies[4] == text("feedback_thanks", "en")
    assert replies[2] == say("nothing_to_rate", "en"), "one answer, one rating"

    storage = open_storage(Settings())
    try:
        votes = {v.fact_id: (v.up, v.down) for v in storage.fact_votes()}
    finally:
        storage.close()
    assert votes.pop("graviton5-cores") == (1, 0)
    assert list(votes.values()) == [(0, 1)], votes


def test_as_user_acts_as_a_channel_member_until_as_manager() -> None:
    run = run_bot(stdin="/as user\n/reload\n/digest subscribe daily 09:00\n/as boss\n/as manager\n/reload\n")
    assert run.returncode == 0, run.stderr
    replies = replies_in(run.stdout)
    assert replies[0] == say("as_user", "en")
    assert replies[1] == replies[2] == text("not_allowed", "en")
    assert replies[3] == say("as_usage", "en")
    assert replies[4] == say("as_manager", "en")
    assert replies[5].startswith("Knowledge reloaded")


def test_small_talk_numbers_its_example_questions_where_they_stand() -> None:
    run = run_bot(stdin="hi\n2\n")
    assert run.returncode == 0, run.stderr
    greeting, answer = replies_in(run.stdout)
    expected = examples(load_knowledge(BUNDLED_DIR), "en")
    assert greeting.splitlines()[1:] == [f"{n}. {q}" for n, q in enumerate(expected, 1)]
    assert answer.startswith("Project Mantle")


async def test_a_list_of_buttons_is_numbered_where_it_stands_and_a_number_clicks_one(bot: Bot) -> None:
    """What the launch list shows once it carries a button per launch (requested of bot/): numbers
    where the bullets were, in the order shown, and a number opens that launch's card."""
    snapshot = bot.live.current
    listing = launch_list(snapshot.knowledge, "en")
    launches = snapshot.knowledge.launches.values()
    with_buttons = listing.model_copy(
        update={"buttons": [Button(label=x.name, action="launch", value=x.id) for x in launches]}
    )
    console = Console(record=True, width=200)
    adapter = ConsoleAdapter(bot, io.StringIO(), console)
    adapter.show(with_buttons)
    shown = console.export_text().splitlines()
    numbered = [line for line in shown if line[:1].isdigit()]
    assert len(numbered) == len(launches) and not [line for line in shown if line.startswith("• ")]
    assert numbered[0].startswith("1. ") and numbered[-1].startswith(f"{len(launches)}. ")
    third = numbered[2].split(". ", 1)[1].rsplit(" (", 1)[0]

    assert await adapter.handle("3")
    assert console.export_text().startswith(f"\n{third} ("), "a blank line, then the card"


def test_the_launch_list_is_numbered_and_a_number_opens_that_launch() -> None:
    run = run_bot(stdin="/launch\n2\n")
    assert run.returncode == 0, run.stderr
    listing, card = replies_in(run.stdout)
    second = next(line for line in listing.splitlines() if line.startswith("2. "))
    assert card.startswith(second.removeprefix("2. "))


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
