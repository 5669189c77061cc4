"""The README is the front door: its two commands, and every command and setting, must stay true."""

from __future__ import annotations

import re

from bot.cli import _parser
from bot.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_under(heading: str) -> str:
    match = re.search(rf"### {re.escape(heading)}\n+```sh\n(.+?)\n```", README)
    assert match, f"README has no ```sh block under '### {heading}'"
    return match.group(1)


def test_run_command_installs_and_starts_the_bot() -> None:
    command = command_under("Run the bot")
    assert "pip install ." in command
    assert command.endswith("python -m bot")


def test_ci_runs_the_readme_test_command_word_for_word() -> None:
    command = command_under("Run the tests")
    assert "pytest" in command
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`{name.upper()}`" in README, f"{name.upper()} is not in the README's settings table"


def test_every_cli_command_is_documented() -> None:
    subcommands = next(a for a in _parser()._actions if a.dest == "command").choices
    assert subcommands
    for name in subcommands:
        assert f"python -m bot {name}" in README, f"`python -m bot {name}` is not in the README"
