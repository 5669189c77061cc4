"""Starting on Slack or Discord logs no noise: no bolt token warning, no discord.py voice warnings."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from discord.voice_client import VoiceClient

from adapters.discord.adapter import DiscordAdapter
from adapters.slack import SlackAdapter
from bot.app import Bot
from bot.live import LiveKnowledge
from knowledge.loader import BUNDLED_DIR
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack, slack_settings
from tests.test_discord_wire import connected, settings_for

APP_TOKEN = "xapp-fake"
BOLT_WARNING = "will be unused"
VOICE_WARNING = "voice will NOT be supported"


@pytest.fixture(scope="module")
def bot() -> Bot:
    return Bot(LiveKnowledge(BUNDLED_DIR))


async def test_a_slack_start_logs_no_token_warning(
    slack: FakeSlack, bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # As deployed: the token is in the environment too, which bolt reads on its own.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-fake")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "fake-signing-secret")
    caplog.set_level(logging.DEBUG)
    adapter = SlackAdapter(bot, slack_settings(slack, slack_app_token=APP_TOKEN))
    try:
        await adapter.check_token()
        await adapter.start_socket_mode(APP_TOKEN)
    finally:
        await adapter.close()
    assert BOLT_WARNING not in caplog.text
    assert "connected to Slack in Socket Mode" in caplog.text
    # The client bolt built still goes to SLACK_API_URL with the bot token.
    assert [call.method for call in slack.calls][:2] == ["auth.test", "apps.connections.open"]
    assert adapter.client.token == "xoxb-fake"
    assert adapter.client.base_url == slack.api_url


async def test_a_discord_start_logs_no_voice_warnings(
    discord_fake: FakeDiscord,
    bot: Bot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # discord.py warns once per process; make this start the first one.
    monkeypatch.setattr(VoiceClient, "warn_nacl", True)
    monkeypatch.setattr(VoiceClient, "warn_dave", True)
    caplog.set_level(logging.DEBUG)
    adapter = DiscordAdapter(bot, settings_for(discord_fake, tmp_path))
    async with connected(adapter, discord_fake), asyncio.timeout(10):
        while not adapter.client.is_ready():  # the whole start, up to READY and the guild
            await asyncio.sleep(0.02)
    assert VOICE_WARNING not in caplog.text
    assert "discord.client" in {record.name for record in caplog.records}


def test_the_voice_filter_drops_only_those_two_warnings(
    bot: Bot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    DiscordAdapter(bot, settings_for(FakeDiscord(), tmp_path))
    client_log = logging.getLogger("discord.client")
    with caplog.at_level(logging.WARNING):
        client_log.warning("PyNaCl is not installed, voice will NOT be supported")
        client_log.warning("davey is not installed, voice will NOT be supported")
        client_log.warning("some other warning")
    assert [record.getMessage() for record in caplog.records] == ["some other warning"]
