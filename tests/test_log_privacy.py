"""At DEBUG, third-party loggers (slack_bolt, slack_sdk, discord.py, aiohttp) never write tokens, message
text, raw user ids or response_urls to the log, in plain text or JSON lines (LOG_FORMAT=json, issue 14);
and an unset USER_HASH_SALT is warned about (issue 13)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.conftest import CLI_CWD
from tests.fakes import discord as fake_discord
from tests.fakes.discord import DM_CHANNEL_ID, FakeDiscord, Sent, message_payload, user
from tests.fakes.slack import (
    SIGNING_SECRET,
    USER_ID,
    FakeSlack,
    mention,
    sign,
    slash_command,
    wait_healthy,
)

WORDS = "Ada Lovelace asks how many cores Graviton5 has"
SECRET_PATH = "T0KEYNOTE-1764690000-r3sp0nseS3cretPath"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def debug_lines(log: str, log_format: str, library: str) -> bool:
    """Whether the log holds DEBUG lines from `library` (and, for JSON, that every line is an object)."""
    if log_format == "text":
        return f"DEBUG {library}" in log
    records = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)
    return any(r["level"] == "DEBUG" and str(r["logger"]).startswith(library) for r in records)


LOG_FORMATS = pytest.mark.parametrize("log_format", ["text", "json"])


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "USER_HASH"))
        and k.lower() not in {"http_proxy", "https_proxy"}
    }


@LOG_FORMATS
async def test_slack_debug_logs_hold_no_token_text_id_or_response_url(
    slack: FakeSlack, tmp_path: Path, log_format: str
) -> None:
    port = free_port()
    env = {
        **_clean_env(),
        "SLACK_BOT_TOKEN": "xoxb-1234-5678-s3cr3tT0ken",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
        "DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": log_format,
    }
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "slack", cwd=CLI_CWD, env=env, stderr=log_file
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            await asyncio.wait_for(wait_healthy(session, url, lambda: process.returncode is None), 60)
            raw = json.dumps(mention(WORDS, ts="1764690500.000100"))
            async with session.post(
                f"{url}/slack/events", data=raw, headers={"Content-Type": "application/json", **sign(raw)}
            ) as response:
                assert response.status == 200
            form = urlencode(slash_command("/ask", WORDS, slack.response_url(SECRET_PATH)))
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(form)}
            async with session.post(f"{url}/slack/events", data=form, headers=headers) as response:
                assert response.status == 200
        await slack.wait_for(lambda: bool(slack.posted()) and bool(slack.responses_to(SECRET_PATH)), 30)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = log_path.read_text(encoding="utf-8")
    assert debug_lines(log, log_format, "slack_sdk") or debug_lines(log, log_format, "slack_bolt"), (
        "DEBUG lines are still written"
    )
    for secret in ("Ada Lovelace", "Lovelace", "s3cr3tT0ken", SECRET_PATH, USER_ID, SIGNING_SECRET):
        assert secret not in log, f"{secret!r} is in the DEBUG log"


@LOG_FORMATS
async def test_discord_debug_logs_hold_no_token_text_or_user_id(tmp_path: Path, log_format: str) -> None:
    fake = FakeDiscord()
    await fake.start()
    env = {
        **_clean_env(),
        "DISCORD_TOKEN": "MTQ0NTQ1OTk4MDExMzI2NDcwMg.GhIjKl.s3cr3t-d1sc0rd-t0ken-abcdefghijk",
        "DISCORD_API_URL": fake.api_url,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": log_format,
    }
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "discord", cwd=CLI_CWD, env=env, stderr=log_file
        )
    try:
        await fake.wait_for(lambda: fake.identifies() >= 1 or process.returncode is not None, timeout=60)
        assert process.returncode is None, log_path.read_text()
        await fake.dispatch(
            "MESSAGE_CREATE",
            message_payload(fake.next_id(), DM_CHANNEL_ID, WORDS, user(fake_discord.USER_ID, "ada")),
        )
        interaction = fake.slash("ask", {"question": WORDS})
        await fake.dispatch("INTERACTION_CREATE", interaction)
        answer = await fake.wait_request("POST", f"/channels/{DM_CHANNEL_ID}/messages", timeout=30)
        assert Sent.of(answer).embeds
        await fake.wait_request("POST", "/callback", timeout=30)
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
        await fake.close()
    log = log_path.read_text(encoding="utf-8")
    assert debug_lines(log, log_format, "discord"), "DEBUG lines are still written"
    for secret in (
        "Ada Lovelace",
        "Lovelace",
        "s3cr3t-d1sc0rd-t0ken",
        interaction["token"],
        fake_discord.USER_ID,
    ):
        assert secret not in log, f"{secret!r} is in the DEBUG log"


def test_an_unset_user_hash_salt_is_warned_about_at_start(tmp_path: Path) -> None:
    from tests.conftest import run_bot

    quiet = run_bot("run", "console", stdin="/help\n", env={"DATA_DIR": str(tmp_path)})
    assert quiet.returncode == 0, quiet.stderr
    assert "USER_HASH_SALT is not set" in quiet.stderr
    assert "re-identif" in quiet.stderr or "tell who voted" in quiet.stderr

    salted = run_bot(
        "run", "console", stdin="/help\n", env={"DATA_DIR": str(tmp_path), "USER_HASH_SALT": "x"}
    )
    assert "USER_HASH_SALT is not set" not in salted.stderr
    salt_file = tmp_path / "secrets" / "salt"
    from_file = run_bot(
        "run",
        "console",
        stdin="/help\n",
        env={"DATA_DIR": str(tmp_path), "USER_HASH_SALT_FILE": str(salt_file)},
    )
    assert from_file.returncode == 0, from_file.stderr
    assert "USER_HASH_SALT is not set" not in from_file.stderr
    assert salt_file.stat().st_mode & 0o077 == 0 and len(salt_file.read_text().strip()) == 64
