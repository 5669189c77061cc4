"""`GET /healthz` says what is up (200 when the bot can answer, 503 otherwise), every server binds to HOST,
and the heartbeat stops the moment the bot does (issue 14)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from adapters.slack import run
from bot.app import Bot
from bot.live import LiveKnowledge
from bot.service import health
from bot.service.background import background
from bot.service.endpoints import Endpoints
from bot.service.health import PlatformStatus
from bot.settings import Settings
from bot.storage import Storage
from knowledge.loader import BUNDLED_DIR
from tests.conftest import run_bot
from tests.fakes.slack import FakeSlack, slack_settings
from tests.scraping import free_port, until_healthy
from tests.scraping import health as read_health


@pytest.fixture(scope="module")
def live() -> LiveKnowledge:
    return LiveKnowledge(BUNDLED_DIR)


class Platform:
    """An adapter whose connection the test sets."""

    platform = "discord"

    def __init__(self, ok: bool) -> None:
        self.ok = ok

    async def status(self) -> PlatformStatus:
        return PlatformStatus(self.ok, "connected" if self.ok else "the gateway connection is down")

    async def post(self, channel: str, reply: object) -> None:
        raise NotImplementedError


async def test_health_is_503_while_the_platform_is_down_and_200_when_it_is_back(live: LiveKnowledge) -> None:
    platform = Platform(ok=False)
    status, body = await health.report(Bot(live), platform)
    assert status == 503 and body["ok"] is False
    assert body["platform"] == {"name": "discord", "ok": False, "detail": "the gateway connection is down"}
    assert body["knowledge"]["ok"] is True
    platform.ok = True
    status, body = await health.report(Bot(live), platform)
    assert status == 200 and body["ok"] is True


async def test_a_database_that_is_away_is_reported_but_the_bot_still_answers(
    live: LiveKnowledge, tmp_path: Path
) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    try:
        storage.available = False  # as `Storage.call` leaves it after a failed operation
        status, body = await health.report(Bot(live, storage=storage), Platform(ok=True))
        assert status == 200
        assert body["database"] == {"ok": False, "detail": "sqlite unavailable", "pending_writes": 0}
    finally:
        storage.close()


async def test_shutting_down_is_503(live: LiveKnowledge) -> None:
    status, body = await health.report(Bot(live), Platform(ok=True), stopping=True)
    assert status == 503 and body["platform"]["detail"] == "shutting down"


async def test_the_console_serves_health_and_metrics_on_metrics_port_until_it_stops(
    live: LiveKnowledge, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, metrics_port=0, host="127.0.0.1")  # type: ignore[call-arg]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        async with background(Bot(live), settings) as endpoints:
            assert isinstance(endpoints, Endpoints) and endpoints.port
            url = f"http://127.0.0.1:{endpoints.port}"
            body = await until_healthy(session, url)
            assert body["platform"] == {"name": None, "ok": True, "detail": "running"}
            async with session.get(f"{url}/metrics") as response:
                assert "keynote_knowledge_facts" in await response.text()
        with pytest.raises(aiohttp.ClientConnectionError):
            await read_health(session, url)


# -- HOST -----------------------------------------------------------------------------------------------


async def refused(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(f"{url}/healthz"):
            return False
    except aiohttp.ClientConnectionError:
        return True


@pytest.mark.parametrize(("host", "reachable_elsewhere"), [("127.0.0.1", False), ("0.0.0.0", True)])
async def test_every_server_binds_to_host(
    slack: FakeSlack, live: LiveKnowledge, host: str, reachable_elsewhere: bool
) -> None:
    """127.0.0.2 is this machine too (all of 127.0.0.0/8 is loopback): a server bound to 127.0.0.1 does not
    answer there, one bound to every address (0.0.0.0) does."""
    port, metrics_port = free_port(), free_port()
    task = asyncio.create_task(
        run(Bot(live), slack_settings(slack, port=port, metrics_port=metrics_port, host=host))
    )
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            for served in (port, metrics_port):
                await until_healthy(session, f"http://127.0.0.1:{served}")
                assert await refused(session, f"http://127.0.0.2:{served}") is not reachable_elsewhere
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# -- the heartbeat ---------------------------------------------------------------------------------------


def test_health_fails_the_moment_the_console_quits(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path)}
    quit_at_once = run_bot("run", "console", stdin="how many cores does graviton5 have?\n/quit\n", env=env)
    assert quit_at_once.returncode == 0, quit_at_once.stderr
    checked = run_bot("health", env=env)
    assert checked.returncode == 1
    assert "not running" in checked.stderr
