"""`.env.example` is the settings' template: it must list every setting, explained, with values that load."""

from __future__ import annotations

import re

import pytest

from bot.settings import Settings, load_settings
from tests.conftest import ROOT

EXAMPLE = ROOT / ".env.example"
SETTING = re.compile(r"^(?:#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def settings_lines() -> list[tuple[int, str, str]]:
    """(line number, name, value) of each `NAME=value` line, commented out or not."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return [
        (number, match["name"], match["value"])
        for number, line in enumerate(lines)
        if (match := SETTING.match(line.strip()))
    ]


def test_every_setting_is_listed_once_and_nothing_else() -> None:
    names = [name for _, name, _ in settings_lines()]
    assert sorted(names) == sorted(field.upper() for field in Settings.model_fields)


def test_every_setting_is_explained_by_the_comment_above_it() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for number, name, _ in settings_lines():
        above = lines[number - 1].strip() if number else ""
        assert above.startswith("#") and not SETTING.match(above) and len(above) > 10, (
            f"{name} has no comment saying what it is"
        )


def test_the_example_values_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Uncommented, every example value loads: copying a line and uncommenting it is never an error."""
    for _, name, value in settings_lines():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.bot_platform == "console"


def test_the_file_as_shipped_changes_nothing() -> None:
    as_shipped = Settings(_env_file=EXAMPLE)  # type: ignore[call-arg]
    assert as_shipped == Settings(_env_file=None)  # type: ignore[call-arg]
