"""Discord: the bot removed from a guild, or a channel deleted, pauses those channels' digests (the
scheduler skips them instead of failing every slot); the bot added back to the guild resumes them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.discord.adapter import DiscordAdapter
from bot.app import Bot
from bot.digests.schedule import parse_schedule
from bot.digests.scheduler import Scheduler
from bot.live import LiveKnowledge
from bot.storage import Storage
from knowledge.loader import BUNDLED_DIR
from tests.fakes.discord import CHANNEL_ID, GUILD_ID, FakeDiscord, guild_create
from tests.persistence import Clock
from tests.test_discord_wire import connected, settings_for

ELSEWHERE = "424242424242424242"
"""A channel in another guild, whose digests go on."""
START = datetime(2025, 12, 3, 8, 0, tzinfo=UTC)


class World:
    def __init__(self, discord_fake: FakeDiscord, tmp_path: Path) -> None:
        self.discord_fake = discord_fake
        self.clock = Clock(START)
        self.storage = Storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}", user_salt="test")
        self.bot = Bot(LiveKnowledge(BUNDLED_DIR), storage=self.storage, clock=self.clock)
        self.adapter = DiscordAdapter(self.bot, settings_for(discord_fake, tmp_path))
        self.scheduler = Scheduler(self.bot.live, self.storage, self.adapter, clock=self.clock)
        schedule, _ = parse_schedule(["daily", "09:00"], "UTC")
        for channel in (CHANNEL_ID, ELSEWHERE):
            self.storage.add_subscription("discord", channel, schedule, None, "en", START)

    def paused(self) -> dict[str, str | None]:
        return {s.channel: s.paused for s in self.storage.subscriptions("discord")}

    async def until_paused(self, expected: dict[str, str | None], timeout: float = 10.0) -> None:
        """Poll: the adapter stores the change after the gateway event, with nothing for the fake to see."""
        async with asyncio.timeout(timeout):
            while self.paused() != expected:
                await asyncio.sleep(0.02)

    async def slot(self, days: int) -> set[str]:
        before = len(self.discord_fake.created)
        self.clock.now = START.replace(hour=9, minute=1) + timedelta(days=days)
        await self.scheduler.tick()
        return {str(m["channel_id"]) for m in self.discord_fake.created[before:]}


@pytest.fixture
async def world(discord_fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    state = World(discord_fake, tmp_path)
    try:
        async with connected(state.adapter, discord_fake):
            await discord_fake.wait_for(lambda: state.adapter.client.get_guild(int(GUILD_ID)) is not None)
            yield state
    finally:
        state.storage.close()


async def test_removed_from_a_guild_its_digests_pause_until_the_bot_is_added_back(world: World) -> None:
    await world.discord_fake.dispatch("GUILD_DELETE", {"id": GUILD_ID})
    await world.until_paused({CHANNEL_ID: "guild_remove", ELSEWHERE: None})
    assert await world.slot(0) == {ELSEWHERE}
    assert await world.slot(1) == {ELSEWHERE}

    await world.discord_fake.dispatch("GUILD_CREATE", guild_create())
    await world.until_paused({CHANNEL_ID: None, ELSEWHERE: None})
    assert await world.slot(2) == {CHANNEL_ID, ELSEWHERE}


async def test_a_guild_outage_is_not_a_removal(world: World) -> None:
    await world.discord_fake.dispatch("GUILD_DELETE", {"id": GUILD_ID, "unavailable": True})
    await world.discord_fake.dispatch("CHANNEL_DELETE", {**guild_create()["channels"][0], "id": "555"})
    await asyncio.sleep(0.3)  # the gateway's events are handled in order: the first is long done
    assert world.paused() == {CHANNEL_ID: None, ELSEWHERE: None}


async def test_a_deleted_channel_pauses_its_digests(world: World) -> None:
    channel = guild_create()["channels"][0]
    await world.discord_fake.dispatch("CHANNEL_DELETE", channel)
    await world.until_paused({CHANNEL_ID: "channel_deleted", ELSEWHERE: None})
    assert await world.slot(0) == {ELSEWHERE}
    # Coming back to the guild does not bring a deleted channel back.
    await world.discord_fake.dispatch("GUILD_DELETE", {"id": GUILD_ID})
    await world.discord_fake.dispatch("GUILD_CREATE", guild_create())
    await asyncio.sleep(0.3)
    assert await world.slot(1) == {ELSEWHERE}
    assert world.paused() == {CHANNEL_ID: "channel_deleted", ELSEWHERE: None}
