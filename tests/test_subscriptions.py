"""`/digest subscribe|list|unsubscribe` typed into a channel, through Bot.command as adapters call it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Bot
from bot.context import Context
from bot.digests.subscriptions import MAX_PER_CHANNEL
from bot.live import LiveKnowledge
from bot.storage import Storage
from tests.persistence import Clock, db_url_fixture, storage_fixture, write_knowledge  # noqa: F401

NOW = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)  # a Friday
MANAGER = Context(platform="slack", channel="C1", user="U1", can_manage=True)
MEMBER = Context(platform="slack", channel="C1", user="U2", can_manage=False)


@pytest.fixture
def live(tmp_path: Path) -> LiveKnowledge:
    return LiveKnowledge(write_knowledge(tmp_path / "knowledge"))


@pytest.fixture
def bot(live: LiveKnowledge, storage: Storage) -> Bot:
    return Bot(live, storage=storage, clock=Clock(NOW))


async def test_subscribe_list_and_unsubscribe(bot: Bot, storage: Storage) -> None:
    created = await bot.command("digest", "subscribe weekdays 09:00 ai chips tz=Asia/Shanghai", MANAGER)
    assert created.kind == "notice" and not created.private
    assert created.plain_text() == (
        "Subscribed #1: the digest on AI chips will be posted here every weekday (Monday to Friday) at 09:00 "
        "(Asia/Shanghai). "
        "Next: Mon 2026-11-30 09:00 Asia/Shanghai."
    )
    (stored,) = storage.subscriptions("slack", "C1")
    assert (stored.topic, stored.language, stored.schedule.timezone) == ("ai-chips", "en", "Asia/Shanghai")

    listed = await bot.command("digest", "list", MEMBER)
    assert listed.private
    assert listed.title == "Digest subscriptions in this channel"
    assert [s.text for s in listed.sections] == [
        "#1 · every weekday (Monday to Friday) at 09:00 (Asia/Shanghai) · AI chips · en · "
        "next: Mon 2026-11-30 09:00 Asia/Shanghai"
    ]

    removed = await bot.command("digest", "unsubscribe 1", MANAGER)
    assert removed.plain_text() == "Unsubscribed #1."
    assert storage.subscriptions("slack", "C1") == []
    empty = await bot.command("digest", "list", MANAGER)
    assert empty.plain_text().startswith("This channel has no digest subscriptions.")


async def test_a_chinese_topic_makes_a_chinese_subscription(bot: Bot, storage: Storage) -> None:
    reply = await bot.command("digest", "subscribe daily 09:00 AI 芯片 tz=Asia/Shanghai", MANAGER)
    assert reply.language == "zh"
    assert reply.plain_text() == (
        "已订阅 #1：摘要（AI 芯片）将按 每天 09:00 (Asia/Shanghai) 在本频道发布。"
        "下一次：2026-11-28（周六）09:00 Asia/Shanghai。"
    )
    (stored,) = storage.subscriptions("slack", "C1")
    assert stored.language == "zh"


async def test_lang_option_sets_the_digest_language(bot: Bot, storage: Storage) -> None:
    await bot.command("digest", "subscribe weekly mon 08:30 lang=zh", MANAGER)
    (stored,) = storage.subscriptions("slack", "C1")
    assert (stored.language, stored.topic, stored.schedule.cron) == ("zh", None, "30 8 * * 1")


async def test_only_channel_managers_change_subscriptions(bot: Bot, storage: Storage) -> None:
    denied = await bot.command("digest", "subscribe daily 09:00", MEMBER)
    assert (denied.kind, denied.private) == ("error", True)
    assert denied.plain_text() == "Only channel managers can do that."
    await bot.command("digest", "subscribe daily 09:00", MANAGER)
    denied = await bot.command("digest", "unsubscribe 1", MEMBER)
    assert denied.plain_text() == "Only channel managers can do that."
    assert len(storage.subscriptions("slack", "C1")) == 1


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ("subscribe", "The schedule is missing."),
        ("subscribe daily 9am", "`daily` needs a 24-hour time like 09:00, not “9am”."),
        (
            "subscribe daily 09:00 tz=Moon/Base",
            "Unknown time zone “Moon/Base”: use a name like UTC, Europe/London or Asia/Shanghai.",
        ),
        ("subscribe daily 09:00 quantum knitting", "No digest topic “quantum knitting”."),
        ("subscribe daily 09:00 lang=fr", "Unknown language “fr”: use lang=en or lang=zh."),
        ("subscribe daily 09:00 colour=blue", "Unknown option “colour=blue”: use tz=ZONE or lang=en|zh."),
        ("subscribe 0,30 * * * *", "“0,30 * * * *” runs more than once an hour; digests are at most hourly."),
    ],
)
async def test_mistakes_get_a_private_reply_saying_what_was_wrong(
    bot: Bot, storage: Storage, args: str, problem: str
) -> None:
    reply = await bot.command("digest", args, MANAGER)
    assert (reply.kind, reply.private) == ("error", True)
    assert reply.sections[0].text == problem
    assert reply.sections[1].text.startswith("Usage: /digest subscribe daily 09:00")
    assert storage.subscriptions("slack", "C1") == []


async def test_a_channel_cannot_remove_another_channels_subscription(bot: Bot, storage: Storage) -> None:
    await bot.command("digest", "subscribe daily 09:00", MANAGER)
    elsewhere = Context(platform="slack", channel="C2", user="U1", can_manage=True)
    reply = await bot.command("digest", "unsubscribe 1", elsewhere)
    assert reply.plain_text() == "No digest subscription #1 in this channel; /digest list shows them."
    assert len(storage.subscriptions("slack", "C1")) == 1


async def test_a_channel_has_a_limit_of_subscriptions(bot: Bot) -> None:
    for hour in range(MAX_PER_CHANNEL):
        reply = await bot.command("digest", f"subscribe daily {hour:02}:00", MANAGER)
        assert reply.kind == "notice"
    reply = await bot.command("digest", "subscribe daily 23:00", MANAGER)
    assert reply.kind == "error"
    assert reply.plain_text().startswith(f"This channel already has {MAX_PER_CHANNEL} digest subscriptions")


async def test_subscriptions_need_a_channel_and_storage(live: LiveKnowledge, bot: Bot) -> None:
    no_channel = await bot.command("digest", "list", Context(platform="console", can_manage=True))
    assert no_channel.plain_text() == "Digest subscriptions belong to a channel: use this command in one."
    without_storage = Bot(live)
    reply = await without_storage.command("digest", "subscribe daily 09:00", MANAGER)
    assert (reply.kind, reply.private) == ("error", True)
    assert reply.plain_text().startswith("Digest subscriptions are unavailable right now")


async def test_the_plain_digest_command_is_unchanged(bot: Bot) -> None:
    reply = await bot.command("digest", "ai chips", MEMBER)
    assert reply.kind == "digest"
    assert [s.heading for s in reply.sections] == ["AI chips"]


async def test_unsubscribe_without_an_id_says_an_id_is_needed_and_where_to_find_it(bot: Bot) -> None:
    reply = await bot.command("digest", "unsubscribe", MANAGER)
    assert reply.kind == "error" and reply.private
    assert "/digest unsubscribe 3" in reply.plain_text() and "/digest list" in reply.plain_text()
    assert "#?" not in reply.plain_text()


async def test_a_paused_subscription_says_so_in_the_list(bot: Bot, storage: Storage) -> None:
    await bot.command("digest", "subscribe daily 09:00", MANAGER)
    storage.pause_subscriptions("slack", ["C1"], "bot removed from the channel")
    listed = (await bot.command("digest", "list", MEMBER)).plain_text()
    assert "paused: the bot cannot post here (bot removed from the channel)" in listed
