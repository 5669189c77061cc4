"""Follow-ups on the wire: a conversation is one user in one place, on every platform.

Slack: a mention is answered in a thread under it, and a mention in that thread is a follow-up.
Discord: a channel (or thread). Console: the session. Each with a topic switch; Slack also with
another user in the same thread and a context that expires.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rich.console import Console

from adapters.console.adapter import ConsoleAdapter
from adapters.discord.adapter import DiscordAdapter
from adapters.slack import SlackAdapter
from bot.app import Bot
from tests.fakes.discord import BOT_ID, FakeDiscord, Sent
from tests.fakes.slack import CHANNEL_ID, FakeSlack, mention, sign, slack_settings, texts
from tests.persistence import Clock
from tests.test_discord_wire import MESSAGES, connected, guild_message, settings_for

THREAD = "1764690100.000100"


class SlackThread:
    """Mentions in one Slack thread, delivered as signed HTTP events to the real adapter."""

    def __init__(self, adapter: SlackAdapter, session: aiohttp.ClientSession, url: str, slack: FakeSlack):
        self.adapter, self.session, self.url, self.slack = adapter, session, url, slack
        self.sent = 0

    async def say(self, text: str, user: str = "UUSER0001", root: bool = False) -> dict[str, Any]:
        """Mention the bot (the first message starts the thread) and return what it posted back."""
        self.sent += 1
        ts = THREAD if root else f"1764690100.{self.sent:06d}"
        event = mention(text, ts=ts, thread_ts=None if root else THREAD, user=user)
        raw = json.dumps(event)
        headers = {"Content-Type": "application/json", **sign(raw)}
        async with self.session.post(f"{self.url}/slack/events", data=raw, headers=headers) as response:
            assert response.status == 200
        await self.slack.wait_for(lambda: len(self.slack.posted()) >= self.sent)
        await self.adapter.settled()
        return self.slack.posted()[-1]


@pytest.fixture
async def thread(slack: FakeSlack, bot: Bot) -> AsyncIterator[SlackThread]:
    clock = Clock(bot.clock())
    adapter = SlackAdapter(Bot(bot.live, clock=clock), slack_settings(slack))
    port = await adapter.start_http("127.0.0.1", 0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield SlackThread(adapter, session, f"http://127.0.0.1:{port}", slack)
    await adapter.close()


def shown(message: dict[str, Any]) -> str:
    return "\n".join(texts(message))


async def test_slack_follow_ups_in_a_thread_keep_the_topic_until_it_switches(thread: SlackThread) -> None:
    first = await thread.say("how many chips in a Trainium3 UltraServer?", root=True)
    assert first["channel"] == CHANNEL_ID and first["thread_ts"] == THREAD and "144" in shown(first)

    follow_up = await thread.say("what about its memory bandwidth?")
    assert follow_up["thread_ts"] == THREAD and "700" in shown(follow_up)

    switched = await thread.say("ok different q, how many cores on graviton5")
    assert "192" in shown(switched)
    after_switch = await thread.say("and the L3 cache per core?")
    assert "2.6" in shown(after_switch)


async def test_slack_another_user_in_the_thread_has_a_conversation_of_their_own(thread: SlackThread) -> None:
    await thread.say("how many chips in a Trainium3 UltraServer?", root=True)
    bob = await thread.say("what about its memory bandwidth?", user="UADMIN001")
    assert "700" not in shown(bob) and "Did you mean" in shown(bob)


async def test_slack_a_follow_up_after_ten_minutes_starts_afresh(thread: SlackThread) -> None:
    await thread.say("how many chips in a Trainium3 UltraServer?", root=True)
    clock = thread.adapter.bot.clock
    assert isinstance(clock, Clock)
    clock.advance(minutes=11)
    late = await thread.say("what about its memory bandwidth?")
    assert "700" not in shown(late)


async def test_discord_follow_ups_in_a_channel_keep_the_topic_until_it_switches(
    bot: Bot, tmp_path: Path
) -> None:
    fake = FakeDiscord()
    await fake.start()
    try:
        adapter = DiscordAdapter(Bot(bot.live), settings_for(fake, tmp_path))
        async with connected(adapter, fake):
            said = [
                ("how many chips in a Trainium3 UltraServer?", "144"),
                ("它的内存带宽呢？", "700"),
                ("ok different q, how many cores on graviton5", "192"),
                ("and the L3 cache per core?", "2.6"),
            ]
            for count, (question, expected) in enumerate(said, 1):
                await fake.dispatch("MESSAGE_CREATE", guild_message(fake, f"<@{BOT_ID}> {question}"))
                reply = Sent.of(await fake.wait_request("POST", MESSAGES, count=count))
                assert expected in reply.text(), (question, reply.text())
    finally:
        await fake.close()


async def test_console_follow_ups_keep_the_topic_until_it_switches(bot: Bot) -> None:
    lines = [
        "how many chips in a Trainium3 UltraServer?",
        "what about its memory bandwidth?",
        "ok different q, how many cores on graviton5",
        "and the L3 cache per core?",
    ]
    console = Console(record=True, width=200)
    await ConsoleAdapter(Bot(bot.live), io.StringIO("\n".join(lines) + "\n"), console).loop()
    shown_text = console.export_text()
    positions = [shown_text.find(expected) for expected in ("144", "700TB/s", "192 cores", "2.6x")]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), shown_text
