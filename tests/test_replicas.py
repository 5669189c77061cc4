"""Several bot processes on one PostgreSQL, and a database that refuses, freezes and comes back (issue 13).

Real `python -m bot run slack` processes (replicas) against a fake Slack on 127.0.0.1 and the shared
PostgreSQL; for the frozen database, a PostgreSQL the test starts itself and stops with SIGSTOP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import socket
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import sqlalchemy as sa

from adapters.slack import SlackAdapter
from bot.app import Bot
from bot.digests.schedule import parse_schedule
from bot.digests.scheduler import Scheduler
from bot.live import LiveKnowledge
from bot.service.background import background
from bot.storage import Storage, tables
from knowledge.loader import BUNDLED_DIR
from tests.conftest import CLI_CWD
from tests.fakes.slack import (
    ADMIN_ID,
    SIGNING_SECRET,
    FakeSlack,
    block_actions,
    mention,
    sign,
    slack_settings,
    slash_command,
    texts,
    wait_healthy,
)
from tests.persistence import OwnPostgres, postgres_url_fixture  # noqa: F401  (fixture)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def visible(message: dict[str, Any]) -> str:
    return "\n".join(texts(message))


class Replica:
    """`python -m bot run slack` in HTTP mode on a port of its own, sharing the test's database."""

    def __init__(self, slack: FakeSlack, database: str, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"replica-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DIGEST_"))},
            "SLACK_BOT_TOKEN": "xoxb-fake",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "PORT": str(self.port),
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": database,
            "USER_HASH_SALT": "replica-salt",
            "KNOWLEDGE_POLL_SECONDS": "60",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, session: aiohttp.ClientSession, serving: bool = True) -> Replica:
        with self.log.open("wb") as log_file:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "slack", cwd=CLI_CWD, env=self.env, stderr=log_file
            )
        if serving:
            alive = lambda: self.process is not None and self.process.returncode is None  # noqa: E731
            await asyncio.wait_for(wait_healthy(session, self.url, alive), 60)
        return self

    async def in_flight(self, session: aiohttp.ClientSession) -> int:
        async with session.get(f"{self.url}/healthz") as response:
            return int((await response.json())["in_flight"])

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 20)
            self.kill()
            await self.process.wait()


async def settle(session: aiohttp.ClientSession, replicas: list[Replica]) -> None:
    """Until every replica has finished the replies it started."""
    async with asyncio.timeout(60):
        while any([await replica.in_flight(session) for replica in replicas]):
            await asyncio.sleep(0.05)


# -- 3 and 14. two replicas: a retry or a replay reaching the other one is not answered again -------


async def test_a_retry_reaching_the_other_replica_is_answered_once(
    slack: FakeSlack, postgres_url: str, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        one = Replica(slack, postgres_url, tmp_path / "one")
        two = Replica(slack, postgres_url, tmp_path / "two")
        try:
            await one.start(session)
            await two.start(session)
            events = [
                mention("How many cores does Graviton5 have?", ts=f"1764690400.{n:06d}") for n in range(10)
            ]
            for event in events:
                raw = json.dumps(event)
                headers = {"Content-Type": "application/json", **sign(raw)}
                async with session.post(f"{one.url}/slack/events", data=raw, headers=headers) as response:
                    assert response.status == 200
                retry = {
                    **headers,
                    **sign(raw),
                    "X-Slack-Retry-Num": "1",
                    "X-Slack-Retry-Reason": "http_timeout",
                }
                async with session.post(f"{two.url}/slack/events", data=raw, headers=retry) as response:
                    assert response.status == 200
            command = urlencode(slash_command("/ask", "What is NKI?", slack.response_url("replayed")))
            signed = {"Content-Type": "application/x-www-form-urlencoded", **sign(command)}
            for replica in (one, two, one):
                async with session.post(
                    f"{replica.url}/slack/events", data=command, headers=signed
                ) as response:
                    assert response.status == 200
            await slack.wait_for(
                lambda: len(slack.posted()) >= 10 and bool(slack.responses_to("replayed")), 60
            )
            await settle(session, [one, two])
        finally:
            await one.stop()
            await two.stop()
    duplicates = len(slack.posted()) - len(events)
    assert duplicates == 0
    assert sorted(m["thread_ts"] for m in slack.posted()) == sorted(e["event"]["ts"] for e in events)
    assert len(slack.responses_to("replayed")) == 1


# -- 4. first votes on a fresh database: the salt is created once, no vote is lost ---------------


async def test_concurrent_first_votes_on_a_fresh_database_are_all_stored(
    slack: FakeSlack, postgres_url: str
) -> None:
    voters = 16
    storage = Storage(postgres_url)  # no USER_HASH_SALT: the database creates its own
    bot = Bot(LiveKnowledge(BUNDLED_DIR), storage=storage)
    adapter = SlackAdapter(bot, slack_settings(slack))
    port = await adapter.start_http("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

            async def vote(n: int) -> int:
                click = block_actions(
                    "feedback_up:1", "graviton5-cores", slack.response_url(f"v{n}"), user=f"UVOTER{n:04d}"
                )
                raw = urlencode({"payload": json.dumps(click)})
                headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(raw)}
                async with session.post(
                    f"http://127.0.0.1:{port}/slack/events", data=raw, headers=headers
                ) as r:
                    return r.status

            assert set(await asyncio.gather(*(vote(n) for n in range(voters)))) == {200}
            await slack.wait_for(lambda: all(slack.responses_to(f"v{n}") for n in range(voters)))
            await adapter.settled()
            await bot.drain()
        with storage.engine.connect() as connection:
            stored = connection.execute(sa.select(sa.func.count()).select_from(tables.feedback)).scalar_one()
            salts = connection.execute(sa.select(sa.func.count()).select_from(tables.meta)).scalar_one()
    finally:
        await adapter.close()
        storage.close()
    lost = voters - stored
    assert lost == 0
    assert salts == 1


# -- 13. a digest is posted once, even when its poster dies or Slack is slower than the timeout ----


def _due_subscriptions(storage: Storage, channels: list[str], due: datetime) -> None:
    schedule, _ = parse_schedule(["daily", "09:00"], "UTC")
    for channel in channels:
        storage.add_subscription("slack", channel, schedule, None, "en", due - timedelta(days=1))
    with storage.engine.begin() as connection:
        connection.execute(sa.update(tables.subscriptions).values(next_run=due))


async def test_a_replica_killed_after_slack_took_the_digest_does_not_get_it_posted_twice(
    slack: FakeSlack, postgres_url: str, tmp_path: Path
) -> None:
    channels = [f"C0DIGEST{n}" for n in range(5)]
    storage = Storage(postgres_url, user_salt="s")
    _due_subscriptions(storage, channels, datetime.now(UTC) - timedelta(minutes=1))
    slack.held["chat.postMessage"] = asyncio.Event()  # Slack takes each post, and answers only later
    env = {"DIGEST_POLL_SECONDS": "0.2", "DIGEST_LEASE_SECONDS": "6", "DIGEST_RETRY_SECONDS": "1"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            first = await Replica(slack, postgres_url, tmp_path / "first", **env).start(session)
            try:
                await slack.wait_for(lambda: slack.waiting == len(channels), 60)
                first.kill()  # kill -9: Slack has every digest, the replica recorded none
                await first.stop()
            finally:
                first.kill()
            slack.held["chat.postMessage"].set()
            second = await Replica(slack, postgres_url, tmp_path / "second", **env).start(session)
            try:
                async with asyncio.timeout(90):  # the lease runs out, the second replica takes over
                    while any(s.last_posted_at is None for s in storage.subscriptions("slack")):
                        await asyncio.sleep(0.1)
            finally:
                await second.stop()
    finally:
        storage.close()
    posted = [message["channel"] for message in slack.posted()]
    twice = [channel for channel in channels if posted.count(channel) > 1]
    assert twice == [], f"{len(twice)} of {len(channels)} channels got the digest twice"
    assert sorted(posted) == channels


async def test_a_slack_slower_than_the_post_timeout_gets_each_digest_once(
    slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    channels = [f"C0SLOW{n:02d}" for n in range(10)]
    storage = Storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}", user_salt="s")
    now = datetime(2026, 11, 27, 9, 1, tzinfo=UTC)
    _due_subscriptions(storage, channels, now - timedelta(minutes=1))
    clock = [now]
    bot = Bot(LiveKnowledge(BUNDLED_DIR), storage=storage, clock=lambda: clock[0])
    adapter = SlackAdapter(bot, slack_settings(slack))
    scheduler = Scheduler(
        bot.live,
        storage,
        adapter,
        clock=lambda: clock[0],
        lease=timedelta(seconds=1),
        retry=timedelta(minutes=1),
    )
    slack.held["chat.postMessage"] = asyncio.Event()
    try:
        with caplog.at_level(logging.WARNING, logger="bot.digests"):
            for attempt in range(3):
                await scheduler.tick()  # every post outlasts the timeout: recorded as failed
                slack.held["chat.postMessage"].set()  # ...though Slack took it
                clock[0] += timedelta(minutes=2**attempt + 1)
            await scheduler.tick()
    finally:
        await adapter.close()
    subscriptions = storage.subscriptions("slack")
    storage.close()
    posted = [message["channel"] for message in slack.posted()]
    assert {channel: posted.count(channel) for channel in channels} == dict.fromkeys(channels, 1)
    assert all(s.last_posted_at is not None for s in subscriptions), "each digest is recorded as posted"


# -- 6. a frozen database stalls nothing else, and loses no write ---------------------------------


async def test_a_frozen_database_stalls_nothing_and_loses_no_vote(
    slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if os.geteuid() == 0 and shutil.which("runuser") is None and not hasattr(os, "setuid"):
        pytest.skip("cannot run initdb as another user")
    server = OwnPostgres(free_port())
    server.start()
    knowledge = tmp_path / "knowledge"
    shutil.copytree(BUNDLED_DIR, knowledge)
    votes = 200
    storage = Storage(server.url, user_salt="s", connect_timeout=2, statement_timeout=2, workers=3)
    bot = Bot(LiveKnowledge(knowledge), storage=storage)
    settings = slack_settings(slack, knowledge_poll_seconds=0.05, data_dir=tmp_path, digest_poll_seconds=0.2)
    adapter = SlackAdapter(bot, settings)
    port = await adapter.start_http("127.0.0.1", 0)
    url = f"http://127.0.0.1:{port}/slack/events"
    caplog.set_level(logging.INFO)
    try:
        storage.prepare()
        async with (
            background(bot, settings, poster=adapter),
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
        ):

            async def post_form(fields: dict[str, str]) -> int:
                raw = urlencode(fields)
                headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(raw)}
                async with session.post(url, data=raw, headers=headers) as response:
                    return response.status

            server.freeze()
            # /digest list answers "unavailable" while the database is still frozen
            await post_form(slash_command("/digest", "list", slack.response_url("list"), ADMIN_ID))
            await slack.wait_for(lambda: bool(slack.responses_to("list")), 60)
            assert "unavailable" in visible(slack.responses_to("list")[0])
            assert server.frozen, "still frozen"

            # a knowledge edit is picked up while the database is frozen
            graviton = knowledge / "graviton.yaml"
            graviton.write_text(
                graviton.read_text(encoding="utf-8").replace("192 cores", "193 cores"), encoding="utf-8"
            )
            async with asyncio.timeout(60):
                while "193" not in (await bot.message("How many cores does Graviton5 have?")).plain_text():
                    await asyncio.sleep(0.05)

            # 200 votes while frozen: all thanked at once, all waiting for the database
            clicks = [
                {
                    "payload": json.dumps(
                        block_actions(
                            "feedback_up:1", "graviton5-cores", slack.response_url(f"v{n}"), user=f"UV{n:07d}"
                        )
                    )
                }
                for n in range(votes)
            ]
            assert set(await asyncio.gather(*(post_form(click) for click in clicks))) == {200}
            await slack.wait_for(lambda: all(slack.responses_to(f"v{n}") for n in range(votes)), 120)
            assert server.frozen, "still frozen"

            server.thaw()

            def stored_votes() -> int:
                with storage.engine.connect() as connection:
                    query = sa.select(sa.func.count()).select_from(tables.feedback)
                    return int(connection.execute(query).scalar_one())

            async with asyncio.timeout(120):
                while (counted := await storage.call(stored_votes)) != votes:
                    await asyncio.sleep(0.1)
            await adapter.settled()
    finally:
        await adapter.close()
        storage.close()
        server.stop()
    lost = votes - counted
    assert lost == 0
    assert storage.dropped_writes == 0


def test_first_votes_from_eight_replicas_at_once_create_one_salt_and_lose_none(postgres_url: str) -> None:
    """Eight bot processes' storages (separate engines, as replicas have) each take their first vote at
    the same instant on a fresh database without USER_HASH_SALT: one salt, eight votes."""
    replicas = [Storage(postgres_url) for _ in range(8)]
    for replica in replicas:
        replica.prepare()
    barrier = threading.Barrier(len(replicas))
    failures: list[BaseException] = []

    def vote(n: int) -> None:
        barrier.wait(timeout=30)
        try:
            replicas[n].record_feedback("graviton5-cores", True, "slack", f"UREPLICA{n}", datetime.now(UTC))
        except BaseException as error:  # what the old select-then-insert raised: UniqueViolation
            failures.append(error)

    threads = [threading.Thread(target=vote, args=(n,)) for n in range(len(replicas))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with replicas[0].engine.connect() as connection:
        stored = connection.execute(sa.select(sa.func.count()).select_from(tables.feedback)).scalar_one()
        salts = connection.execute(sa.select(sa.func.count()).select_from(tables.meta)).scalar_one()
    hashes = {replica.user_hash("slack", "USAME") for replica in replicas}
    for replica in replicas:
        replica.close()
    assert failures == []
    assert (stored, salts, len(hashes)) == (len(replicas), 1, 1)
