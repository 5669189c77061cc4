"""`/digest subscribe|list|unsubscribe`: a channel's scheduled digests, managed from the channel.

Anyone may list; only channel managers (Context.can_manage, decided by the adapter) may change.
Every mistake gets a private reply naming what was wrong, followed by the usage line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.context import Context
from bot.digests.message import resolve_topic, topic_label
from bot.digests.schedule import Schedule, ScheduleError, parse_schedule
from bot.replies import Reply, Section
from bot.texts import text
from knowledge.language import detect_language
from knowledge.loader import Knowledge
from knowledge.models import LANGUAGES, Language

if TYPE_CHECKING:
    from bot.storage import Storage, Subscription

SUBCOMMANDS = ("subscribe", "list", "unsubscribe")
_ID = re.compile(r"[0-9]{1,9}")
"""A subscription number as typed: ASCII digits (`²` passes str.isdigit, not int()), small enough for
any database's integer column."""
MAX_PER_CHANNEL = 10
_WEEKDAYS_ZH = "一二三四五六日"


@dataclass(frozen=True)
class SubscribeRequest:
    schedule: Schedule
    topic: str | None
    language: Language


def is_subscription_command(args: str) -> bool:
    words = args.split(maxsplit=1)
    return bool(words) and words[0].casefold() in SUBCOMMANDS


def parse_subscribe(words: list[str], knowledge: Knowledge, default_language: Language) -> SubscribeRequest:
    """`SCHEDULE [TOPIC] [tz=ZONE] [lang=en|zh]`, options anywhere; raises ScheduleError on mistakes."""
    timezone = "UTC"
    language: Language | None = None
    rest: list[str] = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            rest.append(word)
        elif key.casefold() in ("tz", "timezone"):
            timezone = value
        elif key.casefold() in ("lang", "language"):
            language = _language(value)
        else:
            raise ScheduleError("sub_option", got=word)
    schedule, topic_words = parse_schedule(rest, timezone)
    topic = " ".join(topic_words)
    theme: str | None = None
    if topic:
        theme = resolve_topic(knowledge, topic)
        if theme is None:
            raise ScheduleError("digest_unknown_topic", topic=topic)
    if language is None:
        language = detect_language(topic) if topic else default_language
    return SubscribeRequest(schedule, theme, language)


def _language(value: str) -> Language:
    for language in LANGUAGES:
        if value.casefold() == language:
            return language
    raise ScheduleError("sub_language", got=value)


def format_run(when: datetime, timezone: str, language: Language) -> str:
    local = when.astimezone(ZoneInfo(timezone))
    if language == "zh":
        return f"{local:%Y-%m-%d}（周{_WEEKDAYS_ZH[local.weekday()]}）{local:%H:%M} {timezone}"
    return f"{local:%a %Y-%m-%d %H:%M} {timezone}"


async def subscription_reply(
    storage: Storage | None,
    knowledge: Knowledge,
    args: str,
    ctx: Context,
    language: Language,
    now: datetime,
) -> Reply:
    words = args.split()
    action = words[0].casefold()
    if ctx.channel is None:
        return Reply.error(text("sub_channel_only", language), language)
    if action != "list" and not ctx.can_manage:
        return Reply.error(text("not_allowed", language), language)
    if storage is None:
        return Reply.error(text("sub_unavailable", language), language)
    if action == "subscribe":
        return await _subscribe(storage, knowledge, words[1:], ctx, language, now)
    if action == "unsubscribe":
        return await _unsubscribe(storage, words[1:], ctx, language)
    return await _list(storage, knowledge, ctx, language)


async def _subscribe(
    storage: Storage, knowledge: Knowledge, words: list[str], ctx: Context, language: Language, now: datetime
) -> Reply:

    assert ctx.channel is not None
    try:
        request = parse_subscribe(words, knowledge, language)
    except ScheduleError as error:
        return Reply.error(error.message(language), language, text("sub_usage", language))
    existing = await storage.call(storage.subscriptions, ctx.platform, ctx.channel)
    if existing is None:
        return Reply.error(text("sub_unavailable", language), language)
    if len(existing) >= MAX_PER_CHANNEL:
        return Reply.error(text("sub_too_many", language, count=len(existing)), language)
    created = await storage.call(
        storage.add_subscription,
        ctx.platform,
        ctx.channel,
        request.schedule,
        request.topic,
        request.language,
        now,
    )
    if created is None:
        return Reply.error(text("sub_unavailable", language), language)
    language = created.language
    message = text(
        "sub_created",
        language,
        id=created.id,
        topic=_topic_part(knowledge, created.topic, language),
        schedule=f"{created.schedule.describe(language)} ({created.schedule.timezone})",
        next=format_run(created.next_run, created.schedule.timezone, language),
    )
    return Reply.notice(message, language, private=False)


def _topic_part(knowledge: Knowledge, topic: str | None, language: Language) -> str:
    if topic is None:
        return ""
    label = topic_label(knowledge, topic, language)
    return f"（{label}）" if language == "zh" else f" on {label}"


async def _unsubscribe(storage: Storage, words: list[str], ctx: Context, language: Language) -> Reply:
    assert ctx.channel is not None
    raw = words[0].lstrip("#") if len(words) == 1 else ""
    if not _ID.fullmatch(raw):
        got = " ".join(words)
        if not got:
            return Reply.error(text("sub_id_needed", language), language)
        return Reply.error(text("sub_bad_id", language, got=got[:40]), language, text("sub_usage", language))
    removed = await storage.call(storage.remove_subscription, ctx.platform, ctx.channel, int(raw))
    if removed is None:
        return Reply.error(text("sub_unavailable", language), language)
    if not removed:
        return Reply.error(text("sub_not_found", language, id=raw), language)
    return Reply.notice(text("sub_removed", language, id=raw), language, private=False)


def _line(knowledge: Knowledge, subscription: Subscription, language: Language) -> str:
    line = text(
        "sub_line",
        language,
        id=subscription.id,
        schedule=f"{subscription.schedule.describe(language)} ({subscription.schedule.timezone})",
        topic=f" · {topic_label(knowledge, subscription.topic, language)}" if subscription.topic else "",
        lang=subscription.language,
        next=format_run(subscription.next_run, subscription.schedule.timezone, language),
    )
    if subscription.paused:
        line += "\n" + text("sub_paused", language, reason=subscription.paused)
    if subscription.attempts and subscription.last_error:
        failing = text("sub_failing", language, attempts=subscription.attempts, error=subscription.last_error)
        line += "\n" + failing
    return line


async def _list(storage: Storage, knowledge: Knowledge, ctx: Context, language: Language) -> Reply:
    assert ctx.channel is not None
    found = await storage.call(storage.subscriptions, ctx.platform, ctx.channel)
    if found is None:
        return Reply.error(text("sub_unavailable", language), language)
    if not found:
        return Reply.notice(text("sub_list_empty", language), language)
    return Reply(
        kind="notice",
        language=language,
        private=True,
        title=text("sub_list_title", language),
        sections=[Section(text=_line(knowledge, subscription, language)) for subscription in found],
    )
