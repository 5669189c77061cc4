"""The container health check: fresh while the bot runs, failing when it stops or is stuck."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.app import Bot
from bot.service import health
from bot.service.background import background
from bot.settings import Settings
from tests.conftest import run_bot


def test_missing_fresh_and_stale_heartbeats(tmp_path: Path) -> None:
    path = health.heartbeat_file(tmp_path)
    missing = health.check(path)
    assert missing is not None and "not running" in missing
    health.touch(path)
    assert health.check(path) is None
    stale = health.check(path, now=time.time() + health.STALE_SECONDS + 5)
    assert stale is not None and "stuck or stopped" in stale


async def test_a_running_bot_keeps_its_heartbeat_fresh(bot: Bot, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    path = health.heartbeat_file(tmp_path)
    async with background(bot, settings):
        async with asyncio.timeout(5):
            while not path.exists():
                await asyncio.sleep(0.01)
    assert health.check(path) is None


def test_health_command_exit_codes(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path)}
    assert run_bot("health", env=env).returncode == 1
    health.touch(health.heartbeat_file(tmp_path))
    fresh = run_bot("health", env=env)
    assert fresh.returncode == 0, fresh.stderr
