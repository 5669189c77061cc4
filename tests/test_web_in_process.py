"""WEB_ENABLED=1: the curators' console runs in the bot's own process, beside the platform."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

from tests.conftest import CLI_CWD


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            loaded: dict[str, object] = json.loads(response.read())
            return loaded
    except OSError:
        return None


def test_the_console_serves_beside_the_bot_and_sees_its_questions() -> None:
    port = free_port()
    env = {**os.environ, "WEB_ENABLED": "1", "WEB_PORT": str(port), "WEB_HOST": "127.0.0.1"}
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=CLI_CWD,
        env=env,
        text=True,
    )
    try:
        assert bot.stdin is not None
        bot.stdin.write("how many cores does graviton5 have?\n")
        bot.stdin.flush()
        deadline = time.monotonic() + 30
        stats = None
        while time.monotonic() < deadline:
            stats = get(f"http://127.0.0.1:{port}/api/stats")
            if stats and "answered" in json.dumps(stats) and '"answered": 1' in json.dumps(stats):
                break
            time.sleep(0.2)
        assert get(f"http://127.0.0.1:{port}/healthz") is not None, "the console answers beside the bot"
        assert stats is not None and '"answered": 1' in json.dumps(stats), stats
    finally:
        if bot.stdin is not None:
            bot.stdin.close()
        bot.wait(timeout=30)
    assert bot.returncode == 0
