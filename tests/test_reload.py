"""Curators edit the YAML while the bot runs: changes are picked up, bad edits never take it down."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from bot.app import Bot
from bot.context import Context
from bot.live import LiveKnowledge
from knowledge.loader import KnowledgeError
from tests.conftest import write_fact

ADMIN = Context(can_manage=True)


def touch_later(path: Path) -> None:
    """Move the modification time forward so the change is seen even within one clock tick."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_refuses_to_start_on_invalid_knowledge(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("facts:\n  - id: x\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as error:
        LiveKnowledge(tmp_path)
    assert "bad.yaml:2: x: topic" in str(error.value)


def test_reload_swaps_in_new_knowledge(tmp_path: Path) -> None:
    path = write_fact(tmp_path, "alpha", "Alpha is first.")
    live = LiveKnowledge(tmp_path)
    before = live.current
    write_fact(tmp_path, "beta", "Beta is second.")
    touch_later(path)
    assert live.changed_on_disk()
    assert live.reload() is None
    assert set(live.current.knowledge.facts) == {"beta"}
    assert set(before.knowledge.facts) == {"alpha"}, "a snapshot taken before the reload must not change"
    assert not live.changed_on_disk()


def test_invalid_edit_keeps_the_last_good_knowledge_and_logs_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_fact(tmp_path, "alpha", "Alpha is first.")
    live = LiveKnowledge(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace('      zh: "Alpha is first.（中文）"\n', ""))
    with caplog.at_level(logging.ERROR):
        error = live.reload()
    assert error is not None
    assert "facts.yaml:8: alpha: answer.zh" in caplog.text
    assert set(live.current.knowledge.facts) == {"alpha"}


async def test_admin_reload_command_reports_problems(tmp_path: Path) -> None:
    path = write_fact(tmp_path, "alpha", "Alpha is first.")
    bot = Bot(LiveKnowledge(tmp_path))
    denied = await bot.command("reload", "", Context(can_manage=False))
    assert denied.kind == "error" and denied.private
    path.write_text("facts: [", encoding="utf-8")
    failed = await bot.command("reload", "", ADMIN)
    assert failed.kind == "error"
    assert "invalid YAML" in failed.plain_text()
    write_fact(tmp_path, "gamma", "Gamma is third.")
    done = await bot.command("reload", "", ADMIN)
    assert done.kind == "notice"
    assert "1 facts" in done.plain_text()


async def test_watch_picks_up_a_change_without_a_restart(tmp_path: Path) -> None:
    path = write_fact(tmp_path, "alpha", "Alpha is first.")
    live = LiveKnowledge(tmp_path)
    watcher = asyncio.create_task(live.watch(0.01))
    try:
        write_fact(tmp_path, "delta", "Delta is fourth.")
        touch_later(path)
        async with asyncio.timeout(5):
            while "delta" not in live.current.knowledge.facts:
                await asyncio.sleep(0.01)
    finally:
        watcher.cancel()
    assert set(live.current.knowledge.facts) == {"delta"}
