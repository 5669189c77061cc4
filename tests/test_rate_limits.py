"""Per-user rate limits (RATE_LIMIT_PER_MINUTE): the window, the one polite refusal, silence after it,
what counts (questions, commands, clicks), who is exempt, and the limit held across two replicas sharing
PostgreSQL (issue 14)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from adapters.slack import SlackAdapter
from bot.app import Bot
from bot.context import Context
from bot.live import LiveKnowledge
from bot.service.limits import LocalSlots, RateLimiter, is_silent
from bot.storage import Storage
from knowledge.loader import BUNDLED_DIR
from tests.fakes.slack import USER_ID, FakeSlack, mention, sign, slack_settings
from tests.persistence import postgres_url_fixture  # noqa: F401  (fixture)

QUESTION = "How many cores does Graviton5 have?"
ALLOWED = (True, False, 0.0)
ADA = Context(platform="slack", channel="C1", user="UADA00001", conversation="slack:C1:-:UADA00001")
GRACE = Context(platform="slack", channel="C1", user="UGRACE001", conversation="slack:C1:-:UGRACE001")


@pytest.fixture(scope="module")
def live() -> LiveKnowledge:
    return LiveKnowledge(BUNDLED_DIR)


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides_and_the_refusal_is_told_once_until_a_slot_frees() -> None:
    clock = Ticks()
    slots = LocalSlots(limit=3, window=60.0, clock=clock)
    for seconds in (0.0, 10.0, 20.0):
        clock.now = 1000.0 + seconds
        assert slots.take("slack:U1").allowed
    clock.now = 1030.0
    first = slots.take("slack:U1")
    assert not first.allowed and first.tell and first.retry_after == pytest.approx(30.0)
    quiet = slots.take("slack:U1")
    assert not quiet.allowed and not quiet.tell
    assert slots.take("slack:U2").allowed, "another user has slots of their own"
    clock.now = 1060.0  # the first request's slot frees
    assert slots.take("slack:U1").allowed
    clock.now = 1061.0
    again = slots.take("slack:U1")
    assert not again.allowed and again.tell and again.retry_after == pytest.approx(9.0)


async def test_over_the_limit_the_bot_says_so_once_in_the_users_language_then_stays_quiet(
    live: LiveKnowledge,
) -> None:
    bot = Bot(live, limiter=RateLimiter(2))
    assert "192" in (await bot.message(QUESTION, ADA)).plain_text()
    assert (await bot.command("launch", "trn3", ADA)).kind == "launch"

    told = await bot.message("Graviton5有多少个核心？", ADA)
    assert told.private and told.language == "zh" and "秒后再试" in told.plain_text()
    dropped = await bot.action("feedback_up", "graviton5-cores", ADA)
    assert is_silent(dropped) and dropped.private
    assert is_silent(await bot.message(QUESTION, ADA))

    assert "192" in (await bot.message(QUESTION, GRACE)).plain_text(), "the limit is per user"


async def test_the_polite_refusal_says_when_to_try_again(live: LiveKnowledge) -> None:
    bot = Bot(live, limiter=RateLimiter(1))
    await bot.message(QUESTION, ADA)
    told = await bot.message(QUESTION, ADA)
    assert told.kind == "notice"
    text = told.plain_text()
    assert "slow down" in text and "try again in" in text
    seconds = int(text.split("try again in ")[1].split(" ")[0])
    assert 1 <= seconds <= 60


async def test_the_console_the_shell_and_a_limit_of_zero_are_never_limited(live: LiveKnowledge) -> None:
    limited = Bot(live, limiter=RateLimiter(1))
    for _ in range(3):
        assert "192" in (await limited.message(QUESTION)).plain_text()  # the console's own context
        assert "192" in (await limited.message(QUESTION, Context(platform="cli"))).plain_text()
    unlimited = Bot(live, limiter=RateLimiter(0))
    for _ in range(3):
        assert "192" in (await unlimited.message(QUESTION, ADA)).plain_text()


# -- the slots in the database ---------------------------------------------------------------------------


async def test_rate_slots_in_the_database_expire_and_the_refusal_is_told_once(postgres_url: str) -> None:
    """Only a shared database (PostgreSQL) keeps rate slots: a SQLite file is one process's own."""
    storage = Storage(postgres_url, user_salt="salt")
    try:
        now = datetime(2025, 12, 2, 17, 0, tzinfo=UTC)
        window = timedelta(seconds=60)
        slack, discord = [
            lambda seconds, platform=platform: storage.take_rate_slot(
                platform, "U1", 2, now + timedelta(seconds=seconds), window
            )
            for platform in ("slack", "discord")
        ]
        assert await slack(0) == ALLOWED
        assert await slack(5) == ALLOWED
        assert await slack(20) == (False, True, 40.0)
        assert await slack(21) == (False, False, 39.0)
        assert await discord(0) == ALLOWED, "platforms have their own users"
        assert await slack(61) == ALLOWED
        assert await slack(62) == (False, True, 3.0)
        with storage.engine.connect() as connection:
            keys = [row[0] for row in connection.exec_driver_sql("SELECT key FROM deliveries")]
        assert keys and all("U1" not in key for key in keys), "never the raw user id"
    finally:
        storage.close()


async def test_two_replicas_on_postgresql_share_one_limit_under_concurrent_requests(
    postgres_url: str,
) -> None:
    replicas = [Storage(postgres_url, user_salt="salt") for _ in range(2)]
    limiters = [RateLimiter(5, storage) for storage in replicas]
    try:
        assert all(limiter.storage is not None for limiter in limiters), "PostgreSQL is shared"
        verdicts = await asyncio.gather(*(limiters[n % 2].verdict("slack", "UBUSY0001") for n in range(16)))
        assert sum(v.allowed for v in verdicts) == 5
        assert sum(v.tell for v in verdicts) == 1, "one replica tells the user, once"
        other = await limiters[1].verdict("slack", "UCALM0001")
        assert other.allowed
    finally:
        for storage in replicas:
            storage.close()


# -- two Slack replicas on one PostgreSQL, on the wire ----------------------------------------------------


async def test_the_limit_holds_across_two_slack_replicas_on_postgresql(
    slack: FakeSlack, live: LiveKnowledge, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    storages = [Storage(postgres_url, user_salt="salt") for _ in range(2)]
    adapters = [
        SlackAdapter(Bot(live, storage=storage, limiter=RateLimiter(3, storage)), slack_settings(slack))
        for storage in storages
    ]
    try:
        urls = [f"http://127.0.0.1:{await adapter.start_http('127.0.0.1', 0)}" for adapter in adapters]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            for n in range(7):  # one user, alternating replicas: 3 answered, 1 told, 3 dropped
                raw = json.dumps(mention(QUESTION, ts=f"1764692000.{n:06d}"))
                headers: dict[str, Any] = {"Content-Type": "application/json", **sign(raw)}
                async with session.post(f"{urls[n % 2]}/slack/events", data=raw, headers=headers) as response:
                    assert response.status == 200
                await adapters[n % 2].settled()
        answers = slack.posted()
        assert sorted(m["thread_ts"] for m in answers) == [f"1764692000.{n:06d}" for n in range(3)]
        [told] = slack.posted("chat.postEphemeral")
        assert told["user"] == USER_ID and "try again in" in told["text"]
    finally:
        for adapter in adapters:
            await adapter.close()
        for storage in storages:
            storage.close()
