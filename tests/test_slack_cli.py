"""`python -m bot run slack` as an operator starts it: a real process, a fake Slack, and SIGTERM to stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from tests.conftest import CLI_CWD
from tests.fakes.slack import SIGNING_SECRET, FakeSlack, mention, sign, texts, wait_healthy

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_cli_serves_slack_over_http_and_stops_cleanly_on_sigterm(
    slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SLACK_") and key.lower() not in {"http_proxy", "https_proxy"}
    }
    env.update(
        SLACK_BOT_TOKEN="xoxb-fake",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        PORT=str(port),
        DATA_DIR=str(tmp_path),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "slack",
        cwd=CLI_CWD,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            await asyncio.wait_for(wait_healthy(session, url, lambda: process.returncode is None), 30)
            raw = json.dumps(mention("How many cores does Graviton5 have?", ts="1764690020.000100"))
            headers = {"Content-Type": "application/json", **sign(raw)}
            async with session.post(f"{url}/slack/events", data=raw, headers=headers) as response:
                assert response.status == 200
        await slack.wait_for(lambda: bool(slack.posted()), timeout=15)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    [message] = slack.posted()
    assert message["thread_ts"] == "1764690020.000100"
    assert "192" in "\n".join(texts(message))
    log = stderr.decode()
    assert log.count("fact graviton5-cores, confidence") == 1, "one INFO line per handled question"
    assert "How many cores" not in log, "the user's message is never logged"
    assert "xoxb-fake" not in log and SIGNING_SECRET not in log, "secrets are never logged"
