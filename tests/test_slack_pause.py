"""Slack: uninstalling the app, revoking its token, removing the bot from a channel or archiving or
deleting the channel pauses that channel's digests (the scheduler skips them instead of failing every
slot); the bot coming back resumes them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.slack import SlackAdapter
from bot.app import Bot
from bot.digests.schedule import parse_schedule
from bot.digests.scheduler import Scheduler
from bot.live import LiveKnowledge
from bot.storage import Storage
from knowledge.loader import BUNDLED_DIR
from tests.fakes.slack import (
    BOT_USER_ID,
    CHANNEL_ID,
    USER_ID,
    FakeSlack,
    event_callback,
    sign,
    slack_settings,
)
from tests.persistence import Clock

OTHER_CHANNEL = "C0RANDOM1"
START = datetime(2025, 12, 3, 8, 0, tzinfo=UTC)


class Served:
    def __init__(self, slack: FakeSlack, tmp_path: Path) -> None:
        self.slack = slack
        self.clock = Clock(START)
        self.storage = Storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}", user_salt="test")
        self.bot = Bot(LiveKnowledge(BUNDLED_DIR), storage=self.storage, clock=self.clock)
        self.adapter = SlackAdapter(self.bot, slack_settings(slack))
        self.scheduler = Scheduler(self.bot.live, self.storage, self.adapter, clock=self.clock)
        self.url = ""
        schedule, _ = parse_schedule(["daily", "09:00"], "UTC")
        for channel in (CHANNEL_ID, OTHER_CHANNEL):
            self.storage.add_subscription("slack", channel, schedule, None, "en", START)

    async def event(self, session: aiohttp.ClientSession, event: dict[str, Any]) -> None:
        raw = json.dumps(event_callback(event))
        headers = {"Content-Type": "application/json", **sign(raw)}
        async with session.post(f"{self.url}/slack/events", data=raw, headers=headers) as response:
            assert response.status == 200
        await self.adapter.settled()

    def paused(self) -> dict[str, str | None]:
        return {s.channel: s.paused for s in self.storage.subscriptions("slack")}

    async def slot(self, days: int) -> set[str]:
        """Run the scheduler at 09:01 `days` after the start; the channels it posted to."""
        before = len(self.slack.posted())
        self.clock.now = START.replace(hour=9, minute=1) + timedelta(days=days)
        await self.scheduler.tick()
        return {m["channel"] for m in self.slack.posted()[before:]}


@pytest.fixture
async def served(slack: FakeSlack, tmp_path: Path) -> AsyncIterator[tuple[Served, aiohttp.ClientSession]]:
    state = Served(slack, tmp_path)
    port = await state.adapter.start_http("127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            yield state, session
    finally:
        await state.adapter.close()
        state.storage.close()


async def test_the_bot_removed_from_a_channel_pauses_its_digests_until_it_is_back(
    served: tuple[Served, aiohttp.ClientSession],
) -> None:
    state, session = served
    left = {"type": "member_left_channel", "user": BOT_USER_ID, "channel": CHANNEL_ID, "channel_type": "C"}
    await state.event(session, left)
    assert state.paused() == {CHANNEL_ID: "member_left_channel", OTHER_CHANNEL: None}
    assert await state.slot(0) == {OTHER_CHANNEL}
    assert await state.slot(1) == {OTHER_CHANNEL}
    assert state.slack.calls_to("conversations.history")  # the other channel's idempotency check
    assert all(call.params["channel"] != CHANNEL_ID for call in state.slack.calls_to("chat.postMessage"))

    joined = {
        "type": "member_joined_channel",
        "user": BOT_USER_ID,
        "channel": CHANNEL_ID,
        "channel_type": "C",
    }
    await state.event(session, joined)
    assert state.paused() == {CHANNEL_ID: None, OTHER_CHANNEL: None}
    assert await state.slot(2) == {CHANNEL_ID, OTHER_CHANNEL}


async def test_another_member_leaving_changes_nothing(served: tuple[Served, aiohttp.ClientSession]) -> None:
    state, session = served
    await state.event(session, {"type": "member_left_channel", "user": USER_ID, "channel": CHANNEL_ID})
    assert state.paused() == {CHANNEL_ID: None, OTHER_CHANNEL: None}


@pytest.mark.parametrize("kind", ["channel_archive", "channel_deleted", "group_archive", "group_deleted"])
async def test_an_archived_or_deleted_channel_pauses_its_digests(
    served: tuple[Served, aiohttp.ClientSession], kind: str
) -> None:
    state, session = served
    await state.event(session, {"type": kind, "channel": CHANNEL_ID, "user": USER_ID})
    assert state.paused() == {CHANNEL_ID: kind, OTHER_CHANNEL: None}
    assert await state.slot(0) == {OTHER_CHANNEL}


async def test_an_unarchived_channel_resumes(served: tuple[Served, aiohttp.ClientSession]) -> None:
    state, session = served
    await state.event(session, {"type": "channel_archive", "channel": CHANNEL_ID, "user": USER_ID})
    await state.event(session, {"type": "channel_unarchive", "channel": CHANNEL_ID, "user": USER_ID})
    assert state.paused() == {CHANNEL_ID: None, OTHER_CHANNEL: None}
    assert await state.slot(0) == {CHANNEL_ID, OTHER_CHANNEL}


async def test_uninstalling_pauses_every_digest_and_a_working_token_resumes_them(
    served: tuple[Served, aiohttp.ClientSession],
) -> None:
    state, session = served
    await state.event(session, {"type": "app_uninstalled"})
    assert state.paused() == {CHANNEL_ID: "app_uninstalled", OTHER_CHANNEL: "app_uninstalled"}
    assert await state.slot(0) == set()
    assert state.slack.calls_to("chat.postMessage") == []

    await state.adapter.check_token()  # the next start, after the app is installed again
    assert state.paused() == {CHANNEL_ID: None, OTHER_CHANNEL: None}
    assert await state.slot(1) == {CHANNEL_ID, OTHER_CHANNEL}


async def test_revoking_the_bot_token_pauses_but_a_user_token_does_not(
    served: tuple[Served, aiohttp.ClientSession],
) -> None:
    state, session = served
    await state.event(session, {"type": "tokens_revoked", "tokens": {"oauth": [USER_ID]}})
    assert state.paused() == {CHANNEL_ID: None, OTHER_CHANNEL: None}
    await state.event(session, {"type": "tokens_revoked", "tokens": {"bot": [BOT_USER_ID]}})
    assert state.paused() == {CHANNEL_ID: "tokens_revoked", OTHER_CHANNEL: "tokens_revoked"}
