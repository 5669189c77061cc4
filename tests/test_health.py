"""The container health check: fresh while the bot runs, failing when it stops or is stuck."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bot.app import Bot
from bot.service import health
from bot.service.background import background
from bot.settings import Settings
from tests.conftest import CLI_CWD, run_bot
from tests.skips import skip_or_fail


def test_missing_fresh_and_stale_heartbeats(tmp_path: Path) -> None:
    path = health.heartbeat_file(tmp_path)
    missing = health.check(path)
    assert missing is not None and "not running" in missing
    health.touch(path)
    assert health.check(path) is None
    stale = health.check(path, now=time.time() + health.STALE_SECONDS + 5)
    assert stale is not None and "stuck or stopped" in stale


async def test_a_running_bot_keeps_its_heartbeat_fresh_and_stops_it_on_the_way_out(
    bot: Bot, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    path = health.heartbeat_file(tmp_path)
    async with background(bot, settings):
        async with asyncio.timeout(5):
            while not path.exists():
                await asyncio.sleep(0.01)
        assert health.check(path) is None
    stopped = health.check(path)
    assert stopped is not None and "not running" in stopped


def test_another_bots_heartbeat_in_the_same_file_is_left_alone(tmp_path: Path) -> None:
    path = health.heartbeat_file(tmp_path)
    path.write_text(f"{time.time():.0f} {os.getpid() + 1}\n", encoding="utf-8")
    health.stop(path)
    assert health.check(path) is None


def test_health_command_exit_codes(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path)}
    assert run_bot("health", env=env).returncode == 1
    health.touch(health.heartbeat_file(tmp_path))
    fresh = run_bot("health", env=env)
    assert fresh.returncode == 0, fresh.stderr


def test_health_on_a_read_only_data_dir_says_what_is_wrong(tmp_path: Path) -> None:
    """The bot runs with DATA_DIR mounted read-only (a private mount namespace, so nothing else sees it):
    `health` must say the bot cannot write there, not that it is not running."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        skip_or_fail("needs root and unshare(1) to mount DATA_DIR read-only")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    script = (
        'mount --bind "$DATA_DIR" "$DATA_DIR" && mount -o remount,bind,ro "$DATA_DIR" && '
        f"exec {sys.executable} -m bot run console"
    )
    env = {**os.environ, "DATA_DIR": str(data_dir), "COLUMNS": "120"}
    bot = subprocess.Popen(
        ["unshare", "-m", "sh", "-c", script],
        cwd=CLI_CWD,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            checked = run_bot("health", env={"DATA_DIR": str(data_dir)})
            if "cannot write" in checked.stderr or bot.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert bot.poll() is None, bot.communicate()[1].decode()
    finally:
        if bot.poll() is None:
            bot.terminate()
        bot.communicate(timeout=30)
    assert checked.returncode == 1
    assert "not running" not in checked.stderr
    assert "the bot is running" in checked.stderr and "Read-only file system" in checked.stderr, (
        checked.stderr
    )
