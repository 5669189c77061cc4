"""The layout's promises, checked: imports flow one way, and the adapters keep one small contract."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import adapters.console as console
import adapters.discord as discord_adapter
import adapters.slack as slack
from adapters import Adapter, Run
from adapters.console.adapter import ConsoleAdapter
from adapters.discord.adapter import DiscordAdapter
from adapters.slack.adapter import SlackAdapter

ROOT = Path(__file__).resolve().parent.parent

CONTRACT: list[tuple[type[Adapter], Run]] = [
    (ConsoleAdapter, console.run),
    (SlackAdapter, slack.run),
    (DiscordAdapter, discord_adapter.run),
]
"""mypy checks each adapter class against `Adapter` and each `run` against `Run` here."""


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, at run time or for type checking alike."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_knowledge_imports_neither_bot_nor_adapters() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & {"bot", "adapters"})
        for path in modules("knowledge")
        if imported_packages(path) & {"bot", "adapters"}
    }
    assert offenders == {}


def test_bot_imports_adapters_only_where_the_program_is_assembled() -> None:
    offenders = [
        str(path.relative_to(ROOT)) for path in modules("bot") if "adapters" in imported_packages(path)
    ]
    assert offenders == ["bot/cli.py"]


def test_the_import_walk_sees_a_violation(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.app import Bot\n")
    assert "bot" in imported_packages(sneaky)


def test_bot_has_at_most_a_dozen_modules_at_its_top_level() -> None:
    top = [p.name for p in (ROOT / "bot").glob("*.py")]
    assert len(top) <= 12, top


@pytest.mark.parametrize("platform", ["console", "slack", "discord"])
def test_every_adapter_renders_with_render_in_render_py(platform: str) -> None:
    module = importlib.import_module(f"adapters.{platform}.render")
    assert callable(module.render)


def test_every_adapter_names_its_platform_and_can_post() -> None:
    for adapter, run in CONTRACT:
        assert adapter.platform in {"console", "slack", "discord"}
        assert callable(adapter.post) and callable(run)
