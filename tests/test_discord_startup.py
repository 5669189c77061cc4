"""Discord start-up failures are one clear line naming the setting, never discord.py's traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.discord.adapter import DiscordAdapter, serve
from bot.app import Bot
from bot.errors import StartupError
from bot.live import LiveKnowledge
from bot.settings import SettingsError
from knowledge.loader import BUNDLED_DIR
from tests.conftest import run_bot
from tests.fakes.discord import FakeDiscord
from tests.scraping import free_port
from tests.test_discord_wire import settings_for


def test_an_unreachable_discord_api_exits_1_with_one_line(tmp_path: Path) -> None:
    api_url = f"http://127.0.0.1:{free_port()}/api/v10"  # nothing listens there
    run = run_bot(
        "run",
        "discord",
        env={
            "DISCORD_TOKEN": "fake-token",
            "DISCORD_API_URL": api_url,
            "DATA_DIR": str(tmp_path),
            "USER_HASH_SALT": "test-salt",
            "LOG_LEVEL": "ERROR",
            "NO_PROXY": "*",
        },
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    [line] = lines
    assert line.startswith(f"cannot reach the Discord API at {api_url} (DISCORD_API_URL): ")
    assert len(line) < 300


def test_at_the_default_log_level_the_failure_is_still_no_traceback(tmp_path: Path) -> None:
    api_url = f"http://127.0.0.1:{free_port()}/api/v10"
    env = {"DISCORD_TOKEN": "fake-token", "DISCORD_API_URL": api_url, "DATA_DIR": str(tmp_path)}
    run = run_bot("run", "discord", env=env)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("cannot reach the Discord API at")


async def test_an_api_refusing_the_login_is_a_startup_error(
    discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    discord_fake.failures[("GET", "/users/@me")] = 403
    adapter = DiscordAdapter(Bot(LiveKnowledge(BUNDLED_DIR)), settings_for(discord_fake, tmp_path))
    with pytest.raises(StartupError) as raised:
        await serve(adapter)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"the Discord API at {discord_fake.api_url} (DISCORD_API_URL) answered 403")


async def test_a_rejected_token_is_a_settings_error(discord_fake: FakeDiscord, tmp_path: Path) -> None:
    discord_fake.failures[("GET", "/users/@me")] = 401
    adapter = DiscordAdapter(Bot(LiveKnowledge(BUNDLED_DIR)), settings_for(discord_fake, tmp_path))
    with pytest.raises(SettingsError, match="Discord rejected DISCORD_TOKEN"):
        await serve(adapter)
