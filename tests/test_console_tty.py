"""The console on a terminal, as a user sees it: `python -m bot` on a pseudo-terminal, screen by screen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.console.commands import say
from bot.settings import Settings
from bot.storage import open_storage, tables
from bot.texts import text
from tests.conftest import write_fact
from tests.terminal import Terminal

BOX = "╭╮╰╯│"
Start = Callable[..., Terminal]


@pytest.fixture
def start() -> Iterator[Start]:
    """Start `python -m bot ARGS` on a pseudo-terminal; every bot started is stopped after the test."""
    started: list[Terminal] = []

    def spawn(*args: str, env: dict[str, str] | None = None) -> Terminal:
        terminal = Terminal(*args, env=env)
        started.append(terminal)
        return terminal

    yield spawn
    for terminal in started:
        terminal.close()


def test_lines_can_be_edited_recalled_with_the_up_arrow_and_the_screen_cleared(start: Start) -> None:
    bot = start()
    bot.wait_for_prompt()
    bot.type("how many cores does graviton6 have?")
    bot.press("left", len("6 have?"))
    bot.press("delete")
    bot.type("5")
    bot.wait_for(lambda t: t.cursor_line() == "> how many cores does graviton5 have?")
    bot.type("\r")
    bot.wait_for(lambda t: "192 cores" in t.text() and t.cursor_line() == ">")

    bot.press("up")
    bot.wait_for(lambda t: t.cursor_line() == "> how many cores does graviton5 have?")
    bot.type("\r")
    bot.wait_for(lambda t: t.text().count("192 cores") == 2 and t.cursor_line() == ">")
    assert b"^[[" not in bot.seen and "^[" not in bot.text() and "^L" not in bot.text()

    bot.press("ctrl-l")
    bot.wait_for(lambda t: t.text() == ">")
    bot.press("ctrl-d")
    assert bot.exit_status() == 0


def test_a_reload_error_prints_above_the_prompt_and_keeps_what_is_being_typed(
    start: Start, tmp_path: Path
) -> None:
    facts = write_fact(tmp_path, "alpha", "Alpha is the first letter.")
    bot = start(env={"KNOWLEDGE_DIR": str(tmp_path), "KNOWLEDGE_POLL_SECONDS": "0.1"})
    bot.wait_for_prompt()
    bot.type("what is al")
    bot.wait_for(lambda t: t.cursor_line() == "> what is al")

    facts.write_text("facts:\n  - id: Bad Id\n", encoding="utf-8")
    bot.wait_for(lambda t: "knowledge reload failed" in t.text() and t.cursor_line() == "> what is al")
    screen = bot.text()
    assert screen.index("knowledge reload failed") < screen.index("> what is al")
    assert "> what is al" not in screen.split("knowledge reload failed")[0], "not drawn over the prompt"

    bot.type("pha?\r")
    bot.wait_for(lambda t: "Alpha is the first letter." in t.text() and t.cursor_line() == ">")


def test_a_scheduled_digest_prints_above_the_prompt_and_keeps_what_is_being_typed(start: Start) -> None:
    bot = start(env={"DIGEST_POLL_SECONDS": "0.1"})
    bot.wait_for_prompt()
    bot.type("/digest subscribe daily 09:00 ai chips\r")
    bot.wait_for(lambda t: "╰" in t.text() and t.cursor_line() == ">")
    bot.type("how many")
    bot.wait_for(lambda t: t.cursor_line() == "> how many")

    storage = open_storage(Settings())  # the bot's own database, in the test's DATA_DIR
    try:
        with storage.engine.begin() as connection:  # the clock moves on: the digest is due now
            past = datetime.now(UTC) - timedelta(minutes=1)
            connection.execute(sa.update(tables.subscriptions).values(next_run=past))
    finally:
        storage.close()
    title = text("digest_title", "en", event="AWS re:Invent 2025")
    bot.wait_for(lambda t: title in t.text() and t.cursor_line() == "> how many")
    screen = bot.text()
    assert screen.index(title) < screen.rindex("> how many")
    assert "Trainium3 UltraServer" in screen.split("> how many")[-2]

    bot.type(" cores does graviton5 have?\r")
    bot.wait_for(lambda t: "192 cores" in t.text() and t.cursor_line() == ">")


def test_the_terminal_shows_panels_whose_lists_are_picked_by_number_and_answers_rated(start: Start) -> None:
    bot = start()
    bot.wait_for_prompt()
    bot.type("/lanch trn3\r")
    bot.wait_for(lambda t: "1. /launch trn3" in t.text() and t.cursor_line() == ">")
    assert all(corner in bot.text() for corner in BOX)

    bot.type("1\r")
    bot.wait_for(lambda t: "Trainium3 UltraServer (Announced)" in t.text() and t.cursor_line() == ">")
    bot.type("1\r")
    bot.wait_for(lambda t: say("no_list", "en") in t.text() and t.cursor_line() == ">")
    assert text("dont_know", "en", keynote="the keynote") not in bot.text()

    bot.type("how many cores does graviton5 have?\r")
    bot.wait_for(lambda t: say("rate", "en") in t.text() and t.cursor_line() == ">")
    bot.type("+\r")
    bot.wait_for(lambda t: text("feedback_thanks", "en") in t.text() and t.cursor_line() == ">")

    bot.type("/as user\r")
    bot.wait_for_prompt("user>")
    bot.type("/reload\r")
    bot.wait_for(lambda t: text("not_allowed", "en") in t.text() and t.cursor_line() == "user>")
    bot.type("/quit\r")
    assert bot.exit_status() == 0
