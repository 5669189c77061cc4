"""The Slack adapter in Socket Mode, and `run` in both modes, against a fake Slack's websocket and Web API."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.slack import SlackAdapter, run
from bot.app import Bot
from bot.live import LiveKnowledge
from bot.settings import SettingsError
from knowledge.loader import BUNDLED_DIR
from tests.failing import QUESTION, assert_logged_without_the_question, failing_bot
from tests.fakes.slack import (
    CHANNEL_ID,
    DM_CHANNEL_ID,
    USER_ID,
    FakeSlack,
    block_actions,
    direct_message,
    envelope,
    mention,
    sign,
    slack_settings,
    slash_command,
    texts,
    wait_healthy,
)

APP_TOKEN = "xapp-fake"


@pytest.fixture(scope="module")
def bot() -> Bot:
    """One bot for the module: building the matcher takes most of a second, and replies do not change it."""
    return Bot(LiveKnowledge(BUNDLED_DIR))


@pytest.fixture
async def adapter(slack: FakeSlack, bot: Bot) -> AsyncIterator[SlackAdapter]:
    connected = SlackAdapter(bot, slack_settings(slack, slack_app_token=APP_TOKEN))
    await connected.start_socket_mode(APP_TOKEN)
    yield connected
    await connected.close()


async def delivered(slack: FakeSlack, adapter: SlackAdapter, sent: dict[str, Any]) -> dict[str, Any]:
    """Push an envelope and wait for its acknowledgement and for the work it started."""
    await slack.push(sent)
    await slack.wait_for(lambda: any(a.get("envelope_id") == sent["envelope_id"] for a in slack.acks))
    await adapter.settled()
    return next(a for a in slack.acks if a["envelope_id"] == sent["envelope_id"])


def visible(message: dict[str, Any]) -> str:
    return "\n".join(texts(message))


async def test_a_mention_envelope_is_acknowledged_and_answered_in_a_thread(
    slack: FakeSlack, adapter: SlackAdapter
) -> None:
    sent = envelope("events_api", mention("How many cores does Graviton5 have?", ts="1764690010.000100"))
    ack = await delivered(slack, adapter, sent)

    assert ack == {"envelope_id": sent["envelope_id"]}
    [message] = slack.posted()
    assert message["channel"] == CHANNEL_ID and message["thread_ts"] == "1764690010.000100"
    assert "192" in visible(message)
    assert slack.connections == 1


async def test_a_retried_envelope_is_acknowledged_but_answered_once(
    slack: FakeSlack, adapter: SlackAdapter
) -> None:
    event = mention("How many cores does Graviton5 have?")
    await delivered(slack, adapter, envelope("events_api", event))
    await delivered(slack, adapter, envelope("events_api", event, retry_attempt=1))
    await delivered(slack, adapter, envelope("events_api", event, retry_attempt=2))

    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(slack.acks) == 3


async def test_a_direct_message_envelope_is_answered_in_the_dm(
    slack: FakeSlack, adapter: SlackAdapter
) -> None:
    await delivered(slack, adapter, envelope("events_api", direct_message("/launch trn3")))

    [message] = slack.posted()
    assert message["channel"] == DM_CHANNEL_ID
    assert message["blocks"][0]["text"]["text"].startswith("Trainium3")


async def test_a_slash_command_envelope_gets_an_empty_ack_then_a_response(
    slack: FakeSlack, adapter: SlackAdapter
) -> None:
    sent = envelope("slash_commands", slash_command("/digest", "ai chips", slack.response_url("digest")))
    ack = await delivered(slack, adapter, sent)

    assert ack == {"envelope_id": sent["envelope_id"]}
    [digest] = slack.responses_to("digest")
    assert digest["response_type"] == "in_channel"
    assert "Trainium3" in visible(digest) and "Graviton5" not in visible(digest)


async def test_a_button_click_envelope_answers_in_the_thread(slack: FakeSlack, adapter: SlackAdapter) -> None:
    click = block_actions(
        "ask:0", "How many cores does Graviton5 have?", slack.response_url("c"), "1764690011.1"
    )
    await delivered(slack, adapter, envelope("interactive", click))

    [message] = slack.posted()
    assert message["thread_ts"] == "1764690011.1" and "192" in visible(message)


async def test_a_failing_bot_tells_the_user_privately_over_the_socket(
    slack: FakeSlack, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    failing = SlackAdapter(failing_bot(bot.live), slack_settings(slack, slack_app_token=APP_TOKEN))
    await failing.start_socket_mode(APP_TOKEN)
    try:
        await delivered(slack, failing, envelope("events_api", mention(QUESTION)))
    finally:
        await failing.close()

    [ephemeral] = slack.posted("chat.postEphemeral")
    assert ephemeral["user"] == USER_ID and "something went wrong" in visible(ephemeral)
    assert slack.posted() == []
    assert_logged_without_the_question(caplog)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


async def test_run_connects_in_socket_mode_when_an_app_token_is_set(slack: FakeSlack, bot: Bot) -> None:
    task = asyncio.create_task(run(bot, slack_settings(slack, slack_app_token=APP_TOKEN)))
    try:
        await slack.push(envelope("events_api", mention("/launch graviton5", ts="1764690012.000100")))
        await slack.wait_for(lambda: bool(slack.posted()))
    finally:
        await stop(task)
    [message] = slack.posted()
    assert message["thread_ts"] == "1764690012.000100"
    assert message["blocks"][0]["text"]["text"].startswith("Graviton5")
    assert slack.calls[0].method == "auth.test"


async def test_run_serves_http_without_an_app_token(slack: FakeSlack, bot: Bot) -> None:
    port = free_port()
    task = asyncio.create_task(run(bot, slack_settings(slack, port=port), host="127.0.0.1"))
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            await asyncio.wait_for(wait_healthy(session, url), 10)
            raw = json.dumps(mention("How many cores does Graviton5 have?", ts="1764690013.000100"))
            headers = {"Content-Type": "application/json", **sign(raw)}
            async with session.post(f"{url}/slack/events", data=raw, headers=headers) as response:
                assert response.status == 200
            await slack.wait_for(lambda: bool(slack.posted()))
    finally:
        await stop(task)
    [message] = slack.posted()
    assert message["thread_ts"] == "1764690013.000100" and "192" in visible(message)
    assert slack.connections == 0


async def test_run_refuses_to_start_when_slack_rejects_the_token(slack: FakeSlack, bot: Bot) -> None:
    slack.fail_next("auth.test", 200, {"ok": False, "error": "invalid_auth"})
    with pytest.raises(SettingsError, match="invalid_auth"):
        await asyncio.wait_for(run(bot, slack_settings(slack, port=free_port()), host="127.0.0.1"), 10)


async def test_run_refuses_to_start_when_slack_rejects_the_app_token(slack: FakeSlack, bot: Bot) -> None:
    slack.fail_next("apps.connections.open", 200, {"ok": False, "error": "invalid_auth"})
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN"):
        await asyncio.wait_for(run(bot, slack_settings(slack, slack_app_token=APP_TOKEN)), 10)
    assert slack.connections == 0
