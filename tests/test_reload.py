"""Curators edit the YAML while the bot runs: changes are picked up, bad edits never take it down."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

import bot.live as live_module
from bot.app import Bot
from bot.context import Context
from bot.live import LiveKnowledge
from bot.service.background import background
from bot.settings import Settings
from knowledge.loader import BUNDLED_DIR, KnowledgeError
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
    assert re.search(r"bad\.yaml(:\d+)?: x: topic", str(error.value))


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
    assert re.search(r"facts\.yaml(:\d+)?: alpha: answer\.zh", caplog.text)
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


# -- issue 13: a save cut short never empties the bot, and /reload never stalls it -----------------


def _copy_bundled(tmp_path: Path) -> Path:
    directory = tmp_path / "knowledge"
    shutil.copytree(BUNDLED_DIR, directory)
    return directory


def _cut_at_fact(path: Path, keep: int) -> str:
    """The file as a half-finished save leaves it: cut at a fact boundary, after `keep` facts."""
    text = path.read_text(encoding="utf-8")
    boundaries = [n for n in range(len(text)) if text.startswith("\n  - id:", n)]
    return text[: boundaries[keep] + 1]


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):
        while not condition():
            await asyncio.sleep(0.01)


def _logged(caplog: pytest.LogCaptureFixture, words: str) -> int:
    return sum(words in record.getMessage() for record in caplog.records)


async def test_an_emptied_or_cut_file_never_takes_graviton5_away(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = _copy_bundled(tmp_path)
    graviton = directory / "graviton.yaml"
    whole = graviton.read_text(encoding="utf-8")
    bot = Bot(LiveKnowledge(directory))
    facts = len(bot.live.current.knowledge.facts)
    settings = Settings(_env_file=None, data_dir=tmp_path, knowledge_poll_seconds=0.02)  # type: ignore[call-arg]
    question = "How many cores does Graviton5 have?"
    caplog.set_level(logging.INFO, logger="bot.live")
    async with background(bot, settings):
        graviton.write_text("", encoding="utf-8")
        touch_later(graviton)
        await _until(lambda: _logged(caplog, "graviton.yaml: the file has no facts and no launches") >= 1)
        assert "192" in (await bot.message(question)).plain_text()
        assert len(bot.live.current.knowledge.facts) == facts

        graviton.write_text(whole, encoding="utf-8")
        graviton.write_text(_cut_at_fact(graviton, 4), encoding="utf-8")
        touch_later(graviton)
        await _until(lambda: _logged(caplog, "knowledge reload held back") >= 1)
        assert "192" in (await bot.message(question)).plain_text()
        assert len(bot.live.current.knowledge.facts) == facts

        graviton.write_text(whole, encoding="utf-8")  # the save finished: nothing was lost
        touch_later(graviton)
        await _until(lambda: not bot.live.changed_on_disk() and bot.live._held is None)
        assert len(bot.live.current.knowledge.facts) == facts
        assert _logged(caplog, "applying the held-back") == 0
    assert "192" in (await bot.message(question)).plain_text()


async def test_a_big_drop_that_stays_is_applied_at_the_next_poll(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = _copy_bundled(tmp_path)
    live = LiveKnowledge(directory)
    before = len(live.current.knowledge.facts)
    graviton = directory / "graviton.yaml"
    in_file = graviton.read_text(encoding="utf-8").split("\nlaunches:")[0].count("\n  - id:")
    caplog.set_level(logging.INFO, logger="bot.live")
    graviton.write_text(_cut_at_fact(graviton, 4), encoding="utf-8")
    touch_later(graviton)
    watcher = asyncio.create_task(live.watch(0.02))
    try:
        await _until(lambda: _logged(caplog, "applying the held-back knowledge reload") >= 1)
        await _until(lambda: len(live.current.knowledge.facts) < before)
    finally:
        watcher.cancel()
    assert _logged(caplog, "knowledge reload held back") == 1
    assert len(live.current.knowledge.facts) == before - (in_file - 4)


async def test_reload_applies_a_held_back_drop_at_once(tmp_path: Path) -> None:
    directory = _copy_bundled(tmp_path)
    bot = Bot(LiveKnowledge(directory))
    graviton = directory / "graviton.yaml"
    graviton.write_text(_cut_at_fact(graviton, 4), encoding="utf-8")
    touch_later(graviton)
    assert bot.live._poll() is None, "held back"
    done = await bot.command("reload", "", ADMIN)
    assert done.kind == "notice" and "122 facts" in done.plain_text()


async def test_slash_reload_builds_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While /reload builds the knowledge (seconds with 10,000 facts), Slack still gets its acks and
    other users their answers: the build waits on a gate that the test opens only after an answer."""
    from adapters.slack import SlackAdapter
    from tests.fakes.slack import ADMIN_ID, FakeSlack, mention, sign, slack_settings, slash_command, texts

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    gate = threading.Event()
    building = threading.Event()
    released_by_timer: list[bool] = []
    real_load = live_module.load_knowledge

    def slow_load(directory: Path) -> Any:
        building.set()
        gate.wait()
        return real_load(directory)

    def failsafe() -> None:  # the old code blocks the loop: unblock it so the test can fail, not hang
        released_by_timer.append(True)
        gate.set()

    timer = threading.Timer(20, failsafe)
    bot = Bot(LiveKnowledge(BUNDLED_DIR))
    slack = await FakeSlack().start()
    adapter = SlackAdapter(bot, slack_settings(slack))
    port = await adapter.start_http("127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}/slack/events"
    monkeypatch.setattr(live_module, "load_knowledge", slow_load)
    timer.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            form = urlencode(slash_command("/reload", "", slack.response_url("reload"), ADMIN_ID))
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(form)}
            async with session.post(url, data=form, headers=headers) as response:
                assert response.status == 200
            await asyncio.to_thread(building.wait, 30)
            raw = json.dumps(mention("How many cores does Graviton5 have?"))
            headers = {"Content-Type": "application/json", **sign(raw)}
            async with session.post(url, data=raw, headers=headers) as response:
                assert response.status == 200
            await slack.wait_for(lambda: bool(slack.posted()), timeout=30)
            answered_while_building = not gate.is_set()
            gate.set()
            await slack.wait_for(lambda: bool(slack.responses_to("reload")), timeout=30)
    finally:
        timer.cancel()
        gate.set()
        await adapter.close()
        await slack.close()
    assert answered_while_building and not released_by_timer
    assert "192" in "\n".join(texts(slack.posted()[0]))
    [reloaded] = slack.responses_to("reload")
    assert "Knowledge reloaded" in "\n".join(texts(reloaded))
