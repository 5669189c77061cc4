"""`/metrics` and `/healthz` read over HTTP from a running bot on Slack (HTTP and Socket Mode) and Discord,
against the fakes: the counters move when questions are asked, limited, and when a reply fails (issue 14)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from adapters.discord.adapter import DiscordAdapter, serve
from adapters.slack import run
from bot.app import Bot
from bot.live import LiveKnowledge
from bot.service import logs, metrics
from bot.service.limits import RateLimiter
from bot.settings import Settings
from knowledge.loader import BUNDLED_DIR
from tests.fakes import discord as fake_discord
from tests.fakes.discord import DM_CHANNEL_ID, FakeDiscord, RateLimit, Sent, message_payload, user
from tests.fakes.slack import (
    CHANNEL_ID,
    USER_ID,
    FakeSlack,
    envelope,
    mention,
    sign,
    slack_settings,
)
from tests.scraping import Samples, free_port, scrape, until_counted, until_healthy, value

APP_TOKEN = "xapp-fake"
QUESTION = "How many cores does Graviton5 have?"
EPHEMERAL = 64


@pytest.fixture(scope="module")
def live() -> LiveKnowledge:
    """One knowledge for the module: building the matcher takes most of a second."""
    return LiveKnowledge(BUNDLED_DIR)


def measured_bot(live: LiveKnowledge, per_minute: int) -> Bot:
    """The bot as `python -m bot run` assembles it: counted, logged, and limited per user."""
    return Bot(live, observers=[metrics.count_question, logs.log_question], limiter=RateLimiter(per_minute))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as opened:
        yield opened


@contextlib.asynccontextmanager
async def running(work: asyncio.Future[None] | asyncio.Task[None]) -> AsyncIterator[None]:
    """Run the bot for the block; it must still be running at the end."""
    try:
        yield
        assert not work.done(), work.exception() if not work.cancelled() else "cancelled"
    finally:
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)


def questions(samples: Samples, platform: str, outcome: str, language: str = "en") -> float:
    return value(samples, "keynote_questions_total", platform=platform, language=language, outcome=outcome)


async def post_event(session: aiohttp.ClientSession, url: str, body: dict[str, object]) -> None:
    raw = json.dumps(body)
    headers = {"Content-Type": "application/json", **sign(raw)}
    async with session.post(f"{url}/slack/events", data=raw, headers=headers) as response:
        assert response.status == 200


def assert_no_user_data(text: str) -> None:
    """No label holds a user id or a user's words."""
    for secret in (USER_ID, "UOTHER001", fake_discord.USER_ID, "Graviton5", "cores"):
        assert secret not in text, f"{secret!r} is in /metrics"


# -- Slack, HTTP mode ----------------------------------------------------------------------------------


async def test_slack_http_serves_both_endpoints_and_counts_answers_limits_and_failed_posts(
    slack: FakeSlack, live: LiveKnowledge, session: aiohttp.ClientSession
) -> None:
    port, metrics_port = free_port(), free_port()
    settings = slack_settings(slack, port=port, metrics_port=metrics_port, host="127.0.0.1")
    events, side = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}"
    async with running(asyncio.create_task(run(measured_bot(live, per_minute=2), settings))):
        for url in (events, side):
            body = await until_healthy(session, url)
            assert body["ok"] is True
            assert body["platform"] == {
                "name": "slack",
                "ok": True,
                "detail": "serving Slack events over HTTP",
            }
            assert body["knowledge"]["ok"] is True and body["knowledge"]["facts"] > 100
            assert len(body["knowledge"]["version"]) == 12
            assert body["database"]["ok"] is False  # this bot has no database: it still answers
            assert body["in_flight"] == 0
        before = await scrape(session, events)

        def replied(count: int) -> Callable[[], bool]:
            return lambda: len(slack.posted()) + len(slack.posted("chat.postEphemeral")) >= count

        for n in range(4):  # a limit of 2 a minute: answered, answered, told to wait, dropped quietly
            await post_event(session, events, mention(QUESTION, ts=f"1764691000.{n:06d}"))
            await slack.wait_for(replied(min(n, 2) + 1))
        after = await until_counted(
            session,
            side,
            lambda s: questions(s, "slack", "limited") >= questions(before, "slack", "limited") + 2,
        )
        assert questions(after, "slack", "answered") == questions(before, "slack", "answered") + 2
        assert [m["thread_ts"] for m in slack.posted()] == ["1764691000.000000", "1764691000.000001"]
        [told] = slack.posted("chat.postEphemeral")
        assert told["user"] == USER_ID and "try again in" in told["text"]
        assert value(after, "keynote_replies_posted_total", platform="slack") == (
            value(before, "keynote_replies_posted_total", platform="slack") + 3
        )
        handled = value(after, "keynote_handling_seconds_count", platform="slack")
        assert handled == value(before, "keynote_handling_seconds_count", platform="slack") + 3
        assert value(after, "keynote_answer_confidence_count", platform="slack") >= 2

        slack.fail_next("chat.postMessage", 200, {"ok": False, "error": "channel_not_found"})
        await post_event(session, events, mention(QUESTION, ts="1764691001.000001", user="UOTHER001"))
        failed = await until_counted(
            session,
            events,
            lambda s: (
                value(s, "keynote_replies_failed_total", platform="slack", reason="refused")
                >= value(before, "keynote_replies_failed_total", platform="slack", reason="refused") + 1
            ),
        )
        assert questions(failed, "slack", "answered") == questions(before, "slack", "answered") + 3
        async with session.get(f"{side}/metrics") as response:
            assert_no_user_data(await response.text())
        for name in ("keynote_knowledge_facts", "keynote_knowledge_launches", "keynote_conversations"):
            assert (name, frozenset()) in failed, name
        assert ("process_resident_memory_bytes", frozenset()) in failed


# -- Slack, Socket Mode --------------------------------------------------------------------------------


async def test_slack_socket_mode_serves_both_endpoints_on_metrics_port_and_counts_answers(
    slack: FakeSlack, live: LiveKnowledge, session: aiohttp.ClientSession
) -> None:
    metrics_port = free_port()
    settings = slack_settings(slack, slack_app_token=APP_TOKEN, metrics_port=metrics_port, host="127.0.0.1")
    url = f"http://127.0.0.1:{metrics_port}"
    async with running(asyncio.create_task(run(measured_bot(live, per_minute=20), settings))):
        body = await until_healthy(session, url)
        assert body["platform"] == {
            "name": "slack",
            "ok": True,
            "detail": "connected to Slack in Socket Mode",
        }
        before = await scrape(session, url)

        await slack.push(envelope("events_api", mention(QUESTION, ts="1764691100.000100")))
        await slack.wait_for(lambda: bool(slack.posted()))
        after = await until_counted(
            session,
            url,
            lambda s: (
                value(s, "keynote_replies_posted_total", platform="slack")
                > value(before, "keynote_replies_posted_total", platform="slack")
            ),
        )
        assert questions(after, "slack", "answered") == questions(before, "slack", "answered") + 1
        assert slack.posted()[0]["channel"] == CHANNEL_ID


# -- Discord -------------------------------------------------------------------------------------------


def discord_settings(fake: FakeDiscord, data_dir: Path, metrics_port: int) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=SecretStr("fake-token"),
        discord_api_url=fake.api_url,
        discord_gateway_url=fake.gateway_url,
        data_dir=data_dir,
        metrics_port=metrics_port,
        host="127.0.0.1",
    )


async def test_discord_serves_both_endpoints_and_counts_answers_limits_retries_and_failed_posts(
    live: LiveKnowledge, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    fake = FakeDiscord()
    await fake.start()
    metrics_port = free_port()
    url = f"http://127.0.0.1:{metrics_port}"
    adapter = DiscordAdapter(measured_bot(live, per_minute=2), discord_settings(fake, tmp_path, metrics_port))
    try:
        async with running(asyncio.create_task(serve(adapter))):
            body = await until_healthy(session, url)
            assert body["platform"] == {
                "name": "discord",
                "ok": True,
                "detail": "connected to the Discord gateway",
            }
            before = await scrape(session, url)

            dm = f"/channels/{DM_CHANNEL_ID}/messages"
            fake.rate_limits.append(RateLimit("POST", dm, retry_after=0.05))
            ada = user(fake_discord.USER_ID, "ada")
            await fake.dispatch(
                "MESSAGE_CREATE", message_payload(fake.next_id(), DM_CHANNEL_ID, QUESTION, ada)
            )
            await fake.wait_request("POST", dm, count=2)  # the 429, then the retry that went through
            for n in range(1, 3):  # the limit of 2 is reached: the third request is told, the fourth dropped
                await fake.dispatch("INTERACTION_CREATE", fake.slash("ask", {"question": QUESTION}))
                await fake.wait_request("POST", "/callback", count=n)
            await fake.dispatch("INTERACTION_CREATE", fake.slash("ask", {"question": QUESTION}))
            after = await until_counted(
                session,
                url,
                lambda s: questions(s, "discord", "limited") >= questions(before, "discord", "limited") + 2,
            )
            assert questions(after, "discord", "answered") == questions(before, "discord", "answered") + 2
            callbacks = fake.find("POST", "/callback")
            assert len(callbacks) == 2
            told = callbacks[1].body["data"]
            assert told["flags"] & EPHEMERAL and "try again in" in Sent.of(callbacks[1]).text()
            assert value(
                after, "keynote_platform_retries_total", platform="discord", reason="rate_limited"
            ) >= (
                value(before, "keynote_platform_retries_total", platform="discord", reason="rate_limited") + 1
            )
            assert value(after, "keynote_replies_posted_total", platform="discord") == (
                value(before, "keynote_replies_posted_total", platform="discord") + 3
            )

            fake.failures[("POST", dm)] = 403
            other = user("900000000000000099", "grace")
            await fake.dispatch(
                "MESSAGE_CREATE", message_payload(fake.next_id(), DM_CHANNEL_ID, QUESTION, other)
            )
            await until_counted(
                session,
                url,
                lambda s: (
                    value(s, "keynote_replies_failed_total", platform="discord", reason="client_error")
                    >= value(
                        before, "keynote_replies_failed_total", platform="discord", reason="client_error"
                    )
                    + 1
                ),
            )
            async with session.get(f"{url}/metrics") as response:
                assert_no_user_data(await response.text())
    finally:
        await fake.close()
