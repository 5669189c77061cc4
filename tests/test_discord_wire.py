"""The Discord adapter on the wire: the real discord.py client against a fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from pydantic import SecretStr

from adapters.discord.adapter import DiscordAdapter, serve
from bot.app import Bot
from bot.context import Context
from bot.errors import DeliveryError
from bot.live import LiveKnowledge
from bot.replies import Button, Reply, Section
from bot.settings import Settings
from bot.storage import Storage
from knowledge.loader import BUNDLED_DIR
from tests.conftest import CLI_CWD
from tests.failing import QUESTION, assert_logged_without_the_question, failing_bot
from tests.fakes.discord import (
    APP_ID,
    BOT_ID,
    BOT_ROLE_ID,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    GUILD_ID,
    MANAGER_ID,
    MANAGER_ROLE_ID,
    OTHER_BOT_ID,
    USER_ID,
    FakeDiscord,
    RateLimit,
    Request,
    Sent,
    member,
    message_payload,
    user,
)
from tests.persistence import Clock

ROOT = Path(__file__).resolve().parent.parent
EPHEMERAL = 64
MESSAGES = f"/channels/{CHANNEL_ID}/messages"


@pytest.fixture(scope="module")
def shared_bot() -> Bot:
    """One bot for the module: building the matcher takes a second, and these tests only read from it."""
    return Bot(LiveKnowledge(BUNDLED_DIR))


def settings_for(discord_fake: FakeDiscord, data_dir: Path, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=SecretStr("fake-token"),
        discord_api_url=discord_fake.api_url,
        discord_gateway_url=discord_fake.gateway_url,
        data_dir=data_dir,
        **extra,
    )


@contextlib.asynccontextmanager
async def connected(
    adapter: DiscordAdapter, discord_fake: FakeDiscord, shards: int = 1
) -> AsyncIterator[asyncio.Task[None]]:
    """Run the adapter until the block ends; the client task must stay alive throughout."""
    expected = discord_fake.identifies() + shards
    task = asyncio.create_task(serve(adapter))
    try:
        await discord_fake.wait_for(lambda: discord_fake.identifies() >= expected or task.done())
        assert not task.done(), task.exception()
        yield task
        assert not task.done(), task.exception()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def adapter(
    shared_bot: Bot, discord_fake: FakeDiscord, tmp_path: Path
) -> AsyncIterator[DiscordAdapter]:
    discord_adapter = DiscordAdapter(shared_bot, settings_for(discord_fake, tmp_path))
    async with connected(discord_adapter, discord_fake):
        yield discord_adapter


def guild_message(
    discord_fake: FakeDiscord, content: str, *, mention: bool = True, author_id: str = USER_ID, **kw: Any
) -> dict[str, Any]:
    author = member(author_id, "ada", roles=kw.pop("roles", []))
    return message_payload(
        discord_fake.next_id(),
        CHANNEL_ID,
        content,
        author["user"] | {"bot": kw.pop("bot", False)},
        guild_id=GUILD_ID,
        author_member=author,
        mentions=[user(BOT_ID, "keynote-bot", bot=True)] if mention else [],
        **kw,
    )


def buttons_of(request: Request) -> list[str]:
    body = request.body or {}
    payload = body.get("data", body) if "type" in body else body
    return [button["custom_id"] for row in payload.get("components", []) for button in row["components"]]


def assert_inert(request: Request) -> None:
    body = request.body or {}
    payload = body.get("data", body) if "type" in body else body
    assert payload["allowed_mentions"]["parse"] == []


async def test_a_mention_in_a_channel_is_answered_as_a_reply(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    question = "how many chips in a Trainium3 UltraServer? @everyone @here"
    message = guild_message(discord_fake, f"<@{BOT_ID}> {question} <@&{MANAGER_ROLE_ID}>")
    await discord_fake.dispatch("MESSAGE_CREATE", message)

    request = await discord_fake.wait_request("POST", MESSAGES)
    assert str(request.body["message_reference"]["message_id"]) == message["id"]
    assert_inert(request)
    [embed] = Sent.of(request).embeds
    assert "144 Trainium3 chips" in embed["description"]
    assert embed["footer"]["text"].startswith("Keynote ")
    assert buttons_of(request) == [
        "kb:feedback_up:trn3-ultraserver-chips",
        "kb:feedback_down:trn3-ultraserver-chips",
    ]


async def test_the_bots_own_role_counts_as_a_mention_and_is_stripped(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    message = guild_message(
        discord_fake, f"<@&{BOT_ROLE_ID}> /help", mention=False, mention_roles=[BOT_ROLE_ID]
    )
    await discord_fake.dispatch("MESSAGE_CREATE", message)

    request = await discord_fake.wait_request("POST", MESSAGES)
    assert Sent.of(request).embeds[0]["title"].startswith("keynote-bot: ask me about")


async def test_the_gateway_is_joined_without_privileged_intents(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    [identify] = [frame for frame in discord_fake.gateway_frames if frame.get("op") == 2]
    intents = discord.Intents._from_value(identify["d"]["intents"])
    assert intents.guilds and intents.guild_messages and intents.dm_messages
    assert not (intents.message_content or intents.members or intents.presences)
    assert discord_fake.gateway_queries[0]["v"] == "10"
    assert discord_fake.gateway_queries[0]["encoding"] == "json"


async def test_messages_without_a_mention_and_from_bots_are_ignored(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    await discord_fake.dispatch(
        "MESSAGE_CREATE", guild_message(discord_fake, "how many cores does Graviton5 have?", mention=False)
    )
    await discord_fake.dispatch(
        "MESSAGE_CREATE", guild_message(discord_fake, f"<@{BOT_ID}> hi", author_id=OTHER_BOT_ID, bot=True)
    )
    everyone = guild_message(
        discord_fake, "@everyone what is S3 Vectors?", mention=False, mention_everyone=True
    )
    await discord_fake.dispatch("MESSAGE_CREATE", everyone)
    last = guild_message(discord_fake, f"<@{BOT_ID}> what is S3 Vectors?")
    await discord_fake.dispatch("MESSAGE_CREATE", last)

    request = await discord_fake.wait_request("POST", MESSAGES)
    assert str(request.body["message_reference"]["message_id"]) == last["id"]
    assert len(discord_fake.find("POST", "/messages")) == 1


async def test_a_direct_message_is_answered_without_a_mention(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    message = message_payload(discord_fake.next_id(), DM_CHANNEL_ID, "/help", user(USER_ID, "ada"))
    await discord_fake.dispatch("MESSAGE_CREATE", message)

    request = await discord_fake.wait_request("POST", f"/channels/{DM_CHANNEL_ID}/messages")
    assert str(request.body["message_reference"]["message_id"]) == message["id"]
    assert "keynote-bot" in Sent.of(request).embeds[0]["title"]


async def test_an_empty_mention_and_a_4000_character_message_get_clear_replies(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    await discord_fake.dispatch("MESSAGE_CREATE", guild_message(discord_fake, f"<@{BOT_ID}>"))
    first = Sent.of(await discord_fake.wait_request("POST", MESSAGES))
    assert "Ask me a question about the keynote" in first.text()

    await discord_fake.dispatch("MESSAGE_CREATE", guild_message(discord_fake, f"<@{BOT_ID}> " + "w" * 4000))
    second = Sent.of(await discord_fake.wait_request("POST", MESSAGES, count=2))
    assert "4,000 characters long" in second.text()


async def test_only_channel_managers_may_reload(adapter: DiscordAdapter, discord_fake: FakeDiscord) -> None:
    await discord_fake.dispatch("MESSAGE_CREATE", guild_message(discord_fake, f"<@{BOT_ID}> /reload"))
    refused = Sent.of(await discord_fake.wait_request("POST", MESSAGES))
    assert "Only channel managers" in refused.text()

    manager = guild_message(
        discord_fake, f"<@{BOT_ID}> /reload", author_id=MANAGER_ID, roles=[MANAGER_ROLE_ID]
    )
    await discord_fake.dispatch("MESSAGE_CREATE", manager)
    done = Sent.of(await discord_fake.wait_request("POST", MESSAGES, count=2))
    assert "Knowledge reloaded" in done.text()


async def test_slash_ask_is_answered_directly(adapter: DiscordAdapter, discord_fake: FakeDiscord) -> None:
    await discord_fake.dispatch(
        "INTERACTION_CREATE", discord_fake.slash("ask", {"question": "what is S3 Vectors? <@&1> @everyone"})
    )

    request = await discord_fake.wait_request("POST", "/callback")
    assert request.body["type"] == 4
    assert_inert(request)
    assert "S3 Vectors brings vector storage to S3 scale" in Sent.of(request).text()
    assert not request.body["data"].get("flags", 0) & EPHEMERAL


async def test_an_empty_slash_ask_gets_an_ephemeral_hint(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.slash("ask", {}, dm=True))

    request = await discord_fake.wait_request("POST", "/callback")
    assert request.body["type"] == 4
    assert request.body["data"]["flags"] & EPHEMERAL
    assert "Ask me a question about the keynote" in Sent.of(request).text()


async def test_an_unknown_launch_offers_the_closest_as_buttons(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.slash("launch", {"name": "no such thing"}))

    request = await discord_fake.wait_request("POST", "/callback")
    data = request.body["data"]
    assert data["flags"] & EPHEMERAL
    assert "No launch called “no such thing”" in Sent.of(request).text()
    buttons = [button for row in data["components"] for button in row["components"]]
    assert buttons
    assert all(button["custom_id"].startswith("kb:launch:") for button in buttons)


async def test_launch_names_autocomplete(adapter: DiscordAdapter, discord_fake: FakeDiscord) -> None:
    await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.autocomplete("launch", "name", "trn"))
    await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.autocomplete("launch", "name", ""))

    fuzzy = await discord_fake.wait_request("POST", "/callback")
    assert fuzzy.body["type"] == 8
    assert fuzzy.body["data"]["choices"][0] == {
        "name": "Trainium3 UltraServer",
        "value": "trainium3-ultraserver",
    }
    everything = (await discord_fake.wait_request("POST", "/callback", count=2)).body["data"]["choices"]
    knowledge = adapter.bot.live.current.knowledge
    assert len(everything) == min(25, len(knowledge.launches))
    assert all(choice["name"] == knowledge.launches[choice["value"]].name for choice in everything)

    await discord_fake.dispatch(
        "INTERACTION_CREATE", discord_fake.slash("launch", {"name": "trainium3-ultraserver"})
    )
    card = await discord_fake.wait_request("POST", "/callback", count=3)
    assert Sent.of(card).embeds[0]["title"].startswith("Trainium3 UltraServer")


async def test_the_digest_command_sends_the_digest(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.slash("digest", {}))

    request = await discord_fake.wait_request("POST", "/callback")
    assert Sent.of(request).embeds[0]["title"] == "AWS re:Invent 2025 keynote digest"


async def test_a_bare_command_answers_in_the_users_discord_language(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.slash("digest", {}, locale="zh-CN"))

    request = await discord_fake.wait_request("POST", "/callback")
    assert Sent.of(request).embeds[0]["title"] == "AWS re:Invent 2025 主题演讲摘要"


async def test_clicking_a_suggestion_asks_it_and_feedback_is_acknowledged_privately(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    await discord_fake.dispatch(
        "MESSAGE_CREATE", guild_message(discord_fake, f"<@{BOT_ID}> How many cores does Graviton6 have?")
    )
    abstained = await discord_fake.wait_request("POST", MESSAGES)
    assert "I don't know that from the keynote." in Sent.of(abstained).text()
    suggestion = buttons_of(abstained)[0]
    assert suggestion == "kb:ask:How many cores does Graviton5 have?"

    await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.click(suggestion))
    answered = await discord_fake.wait_request("POST", "/callback")
    assert answered.body["type"] == 4
    assert not answered.body["data"].get("flags", 0) & EPHEMERAL
    assert "192 cores" in Sent.of(answered).text()

    await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.click(buttons_of(answered)[0]))
    thanks = await discord_fake.wait_request("POST", "/callback", count=2)
    assert thanks.body["data"]["flags"] & EPHEMERAL
    assert "Thanks for the feedback" in Sent.of(thanks).text()


async def test_a_long_suggestion_fits_a_custom_id_and_expires_after_a_restart(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    question = "how many cores " * 10
    custom_id = adapter.ids.encode("ask", question)
    assert len(custom_id) <= 100
    await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.click(custom_id, locale="zh-CN"))
    answered = await discord_fake.wait_request("POST", "/callback")
    assert not answered.body["data"].get("flags", 0) & EPHEMERAL

    adapter.ids = type(adapter.ids)()
    await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.click(custom_id, locale="zh-CN"))
    expired = await discord_fake.wait_request("POST", "/callback", count=2)
    assert expired.body["data"]["flags"] & EPHEMERAL
    assert "按钮已过期" in Sent.of(expired).text()


class GatedBot(Bot):
    """A bot that answers only when the test opens the gate: stands in for a slow answer."""

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot.live)
        self.gate = asyncio.Event()

    async def command(self, name: str, args: str, ctx: Context | None = None) -> Reply:
        await self.gate.wait()
        return await super().command(name, args, ctx or Context())


async def test_a_slow_answer_is_deferred_then_followed_up(
    shared_bot: Bot, discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    slow = GatedBot(shared_bot)
    adapter = DiscordAdapter(slow, settings_for(discord_fake, tmp_path), defer_after=0.01)
    async with connected(adapter, discord_fake):
        await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.slash("digest", {}))
        deferred = await discord_fake.wait_request("POST", "/callback")
        assert deferred.body["type"] == 5
        slow.gate.set()
        follow_up = await discord_fake.wait_request("POST", f"/webhooks/{APP_ID}/")
        assert Sent.of(follow_up).embeds[0]["title"] == "AWS re:Invent 2025 keynote digest"
        assert_inert(follow_up)

        slow.gate.clear()
        await discord_fake.dispatch(
            "INTERACTION_CREATE", discord_fake.slash("launch", {"name": "no such thing"})
        )
        assert (await discord_fake.wait_request("POST", "/callback", count=2)).body["type"] == 5
        slow.gate.set()
        private = await discord_fake.wait_request("POST", f"/webhooks/{APP_ID}/", count=2)
        assert discord_fake.find("DELETE", "/messages/@original")
        assert private.body["flags"] & EPHEMERAL


async def test_a_failing_bot_gets_a_polite_error_not_a_crash(
    shared_bot: Bot, discord_fake: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = DiscordAdapter(failing_bot(shared_bot.live), settings_for(discord_fake, tmp_path))
    async with connected(adapter, discord_fake):
        await discord_fake.dispatch(
            "MESSAGE_CREATE", guild_message(discord_fake, f"<@{BOT_ID}> Graviton5有多少个核心？")
        )
        assert "出了点问题" in Sent.of(await discord_fake.wait_request("POST", MESSAGES)).text()
        await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.slash("ask", {"question": QUESTION}))
        failed = await discord_fake.wait_request("POST", "/callback")
        assert failed.body["data"]["flags"] & EPHEMERAL
        assert "something went wrong" in Sent.of(failed).text()
    assert_logged_without_the_question(caplog)


async def test_commands_sync_once_and_not_again_when_unchanged(
    shared_bot: Bot, discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    async with connected(DiscordAdapter(shared_bot, settings_for(discord_fake, tmp_path)), discord_fake):
        sync = await discord_fake.wait_request("PUT", f"/applications/{APP_ID}/commands")
    names = {command["name"]: command for command in sync.body}
    assert set(names) == {"ask", "launch", "digest"}
    assert names["launch"]["options"][0]["autocomplete"] is True

    async with connected(DiscordAdapter(shared_bot, settings_for(discord_fake, tmp_path)), discord_fake):
        pass
    assert len(discord_fake.find("PUT", "/commands")) == 1
    assert len(discord_fake.find("GET", f"/applications/{APP_ID}/commands")) == 1

    guild_settings = settings_for(discord_fake, tmp_path, discord_guild_id=int(GUILD_ID))
    async with connected(DiscordAdapter(shared_bot, guild_settings), discord_fake):
        guild_sync = await discord_fake.wait_request("PUT", f"/guilds/{GUILD_ID}/commands")
    assert {command["name"] for command in guild_sync.body} == {"ask", "launch", "digest"}


async def test_a_429_is_waited_out(adapter: DiscordAdapter, discord_fake: FakeDiscord) -> None:
    discord_fake.rate_limits.append(RateLimit("POST", MESSAGES, retry_after=0.05))
    await discord_fake.dispatch("MESSAGE_CREATE", guild_message(discord_fake, f"<@{BOT_ID}> /help"))

    retried = await discord_fake.wait_request("POST", MESSAGES, count=2)
    assert retried.body["embeds"]
    assert discord_fake.rate_limits[0].count == 0


async def test_a_failed_send_is_logged_and_the_bot_keeps_answering(
    adapter: DiscordAdapter, discord_fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    discord_fake.failures[("POST", MESSAGES)] = 403
    with caplog.at_level(logging.ERROR, logger="adapters.discord"):
        await discord_fake.dispatch("MESSAGE_CREATE", guild_message(discord_fake, f"<@{BOT_ID}> /help"))
        await discord_fake.wait_request("POST", MESSAGES)
        await discord_fake.wait_for(lambda: any("failed" in r.getMessage() for r in caplog.records))
    discord_fake.failures.clear()

    await discord_fake.dispatch("MESSAGE_CREATE", guild_message(discord_fake, f"<@{BOT_ID}> /help"))
    request = await discord_fake.wait_request("POST", MESSAGES, count=2)
    assert Sent.of(request).embeds


async def test_a_dropped_gateway_is_resumed(adapter: DiscordAdapter, discord_fake: FakeDiscord) -> None:
    await discord_fake.drop()
    resume = await discord_fake.wait_for(
        lambda: next((f for f in discord_fake.gateway_frames if f.get("op") == 6), None)
    )
    assert resume["d"]["session_id"] == "session-0"
    await discord_fake.wait_for(lambda: 0 in discord_fake.sockets)

    await discord_fake.dispatch("MESSAGE_CREATE", guild_message(discord_fake, f"<@{BOT_ID}> /help"))
    assert Sent.of(await discord_fake.wait_request("POST", MESSAGES)).embeds


async def test_post_delivers_a_digest_to_a_channel(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    digest = await adapter.bot.command("digest", "")
    await adapter.post(CHANNEL_ID, digest)

    request = await discord_fake.wait_request("POST", MESSAGES)
    assert "message_reference" not in request.body
    assert_inert(request)
    assert Sent.of(request).embeds[0]["title"] == digest.title


async def _no_identify_pause(shard_id: int | None, *, initial: bool = False) -> None:
    """Discord allows one IDENTIFY per 5 s, which discord.py waits out; the fake has no such limit."""


async def test_a_refused_post_raises_so_the_scheduler_retries(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    discord_fake.failures[("POST", MESSAGES)] = 403
    try:
        with pytest.raises(DeliveryError, match=CHANNEL_ID):
            await adapter.post(CHANNEL_ID, await adapter.bot.command("digest", ""))
    finally:
        discord_fake.failures.clear()


async def test_post_splits_a_long_reply_into_messages_within_limits(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    sections = [Section(heading=f"part {n}", text=f"launch{n} " * 700) for n in range(6)]
    buttons = [Button(label="👍", action="feedback_up", value="graviton5-cores")]
    await adapter.post(CHANNEL_ID, Reply(kind="digest", title="Digest", sections=sections, buttons=buttons))
    with pytest.raises(DeliveryError, match="not-a-channel"):
        await adapter.post("not-a-channel", Reply(kind="digest", title="Digest"))
    await adapter.post(CHANNEL_ID, Reply(kind="notice", sections=[Section(text="done")]))

    *parts, last = [
        Sent.of(r)
        for r in await discord_fake.wait_for(
            lambda: len(discord_fake.find("POST", MESSAGES)) >= 3 and discord_fake.find("POST", MESSAGES)
        )
    ]
    assert "done" in last.text()
    assert len(parts) >= 2
    for part in parts:
        assert sum(len(e.get("description", "")) + len(e.get("title", "")) for e in part.embeds) <= 6000
    assert [buttons_of(part.request) for part in parts] == [[]] * (len(parts) - 1) + [
        ["kb:feedback_up:graviton5-cores"]
    ]
    text = "\n".join(part.text() for part in parts)
    assert all(f"launch{n} " in text for n in range(6))


async def test_sharded_client_answers_on_every_shard(
    shared_bot: Bot, discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    adapter = DiscordAdapter(shared_bot, settings_for(discord_fake, tmp_path, discord_shard_count=2))
    adapter.client.before_identify_hook = _no_identify_pause  # type: ignore[method-assign]
    async with connected(adapter, discord_fake, shards=2):
        shards = sorted(tuple(f["d"]["shard"]) for f in discord_fake.gateway_frames if f.get("op") == 2)
        assert shards == [(0, 2), (1, 2)]
        message = message_payload(discord_fake.next_id(), DM_CHANNEL_ID, "/help", user(USER_ID, "ada"))
        await discord_fake.dispatch("MESSAGE_CREATE", message, shard=1)
        await discord_fake.wait_request("POST", f"/channels/{DM_CHANNEL_ID}/messages")


async def test_python_m_bot_run_discord_answers_with_settings_from_the_environment(
    discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DISCORD_TOKEN": "fake-token",
        "DISCORD_API_URL": discord_fake.api_url,
        "DISCORD_GATEWAY_URL": discord_fake.gateway_url,
        "DATA_DIR": str(tmp_path),
    }
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "discord", cwd=CLI_CWD, env=env, stderr=log_file
        )
    try:
        await discord_fake.wait_for(
            lambda: discord_fake.identifies() >= 1 or process.returncode is not None, timeout=30
        )
        assert process.returncode is None, log_path.read_text()
        question = "how many cores does Graviton5 have?"
        await discord_fake.dispatch(
            "MESSAGE_CREATE",
            message_payload(discord_fake.next_id(), DM_CHANNEL_ID, question, user(USER_ID, "ada")),
        )
        request = await discord_fake.wait_request("POST", f"/channels/{DM_CHANNEL_ID}/messages")
        assert "192 cores" in Sent.of(request).text()
        assert (tmp_path / "discord-commands.json").exists()
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=10)


async def test_a_digest_subscribed_from_discord_is_posted_to_that_channel_when_due(
    discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    clock = Clock(datetime(2025, 12, 3, 8, 0, tzinfo=UTC))
    storage = Storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}", user_salt="test")
    bot = Bot(LiveKnowledge(BUNDLED_DIR), storage=storage, clock=clock)
    adapter = DiscordAdapter(bot, settings_for(discord_fake, tmp_path, digest_poll_seconds=0.05))
    try:
        async with connected(adapter, discord_fake):
            subscribe = f"<@{BOT_ID}> /digest subscribe daily 09:00"
            await discord_fake.dispatch(
                "MESSAGE_CREATE",
                guild_message(discord_fake, subscribe, author_id=MANAGER_ID, roles=[MANAGER_ROLE_ID]),
            )
            confirmed = await discord_fake.wait_request("POST", MESSAGES)
            assert "Subscribed #1" in Sent.of(confirmed).text()

            clock.now = clock.now.replace(hour=9, minute=1)
            digest = await discord_fake.wait_for(
                lambda: [r for r in discord_fake.find("POST", MESSAGES) if "message_reference" not in r.body]
            )
    finally:
        storage.close()
    [posted] = digest
    assert Sent.of(posted).embeds[0]["title"] == "AWS re:Invent 2025 keynote digest"
    assert "Graviton5" in Sent.of(posted).text()
    assert_inert(posted)


async def test_markdown_typed_by_a_user_is_shown_literally_in_the_answer_body(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    # The unknown name is echoed back in the embed's description, the reply's section text.
    typed = "**bold** __u__ ~~s~~ ||spoiler|| `code`"
    await discord_fake.dispatch("INTERACTION_CREATE", discord_fake.slash("launch", {"name": typed}))

    request = await discord_fake.wait_request("POST", "/callback")
    assert_inert(request)
    description = Sent.of(request).embeds[0]["description"]
    assert r"No launch called “\*\*bold\*\* \_\_u\_\_ \~\~s\~\~ \|\|spoiler\|\| \`code\`”" in description
    assert typed not in description


async def test_a_digest_posted_again_under_its_key_is_created_once(
    adapter: DiscordAdapter, discord_fake: FakeDiscord
) -> None:
    """A scheduled digest whose first send's outcome was lost (a timeout, a crash) is sent again with the
    same enforced nonce, and Discord returns the first message instead of creating a second (issue 13)."""
    digest = await adapter.bot.command("digest", "")
    await adapter.post_once(CHANNEL_ID, digest, "7:2026-11-27T09:00:00+00:00")
    await adapter.post_once(CHANNEL_ID, digest, "7:2026-11-27T09:00:00+00:00")
    sends = await discord_fake.wait_for(
        lambda: len(discord_fake.find("POST", MESSAGES)) >= 2 and discord_fake.find("POST", MESSAGES)
    )
    assert all(send.body["enforce_nonce"] is True for send in sends)
    assert sends[0].body["nonce"] == sends[1].body["nonce"]
    assert len(discord_fake.created) == 1
