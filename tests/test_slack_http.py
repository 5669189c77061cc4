"""The Slack adapter in HTTP mode, on the wire: signed requests in, what a fake Slack received out."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from adapters.slack import SlackAdapter
from bot.app import Bot
from bot.errors import DeliveryError
from bot.live import LiveKnowledge
from bot.replies import Reply, Section
from bot.service.background import background
from bot.storage import Storage
from knowledge.loader import BUNDLED_DIR
from tests.failing import QUESTION, assert_logged_without_the_question, failing_bot
from tests.fakes.slack import (
    ADMIN_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    CONFIGURED_MANAGER,
    DM_CHANNEL_ID,
    OWNER_ID,
    USER_ID,
    FakeSlack,
    block_actions,
    direct_message,
    event_callback,
    mention,
    sign,
    slack_settings,
    slash_command,
    texts,
)
from tests.persistence import Clock


@pytest.fixture(scope="module")
def bot() -> Bot:
    """One bot for the module: building the matcher takes most of a second, and replies do not change it."""
    return Bot(LiveKnowledge(BUNDLED_DIR))


@dataclass
class Http:
    adapter: SlackAdapter
    session: aiohttp.ClientSession
    url: str

    async def event(
        self, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        raw = json.dumps(body)
        sent = {"Content-Type": "application/json", **sign(raw), **(headers or {})}
        async with self.session.post(f"{self.url}/slack/events", data=raw, headers=sent) as response:
            await response.read()
            return response

    async def form(self, fields: dict[str, str]) -> tuple[int, str]:
        raw = urlencode(fields)
        sent = {"Content-Type": "application/x-www-form-urlencoded", **sign(raw)}
        async with self.session.post(f"{self.url}/slack/events", data=raw, headers=sent) as response:
            return response.status, await response.text()

    async def click(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await self.form({"payload": json.dumps(payload)})


@pytest.fixture
async def http(slack: FakeSlack, bot: Bot) -> AsyncIterator[Http]:
    adapter = SlackAdapter(bot, slack_settings(slack))
    port = await adapter.start_http("127.0.0.1", 0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield Http(adapter, session, f"http://127.0.0.1:{port}")
    await adapter.close()


async def answered(
    http: Http, slack: FakeSlack, count: int = 1, method: str = "chat.postMessage"
) -> list[Any]:
    await slack.wait_for(lambda: len(slack.posted(method)) >= count)
    await http.adapter.settled()
    return slack.posted(method)


def visible(message: dict[str, Any]) -> str:
    return "\n".join(texts(message))


async def test_a_mention_is_answered_in_a_thread_under_the_question(http: Http, slack: FakeSlack) -> None:
    response = await http.event(mention("How many cores does Graviton5 have?", ts="1764690001.000100"))
    assert response.status == 200

    [message] = await answered(http, slack)
    assert message["channel"] == CHANNEL_ID
    assert message["thread_ts"] == "1764690001.000100"
    assert "192" in visible(message)
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds[0] == "section" and "context" in kinds and kinds[-1] == "actions"
    context = next(block for block in message["blocks"] if block["type"] == "context")
    assert "28:00" in context["elements"][0]["text"]
    feedback = message["blocks"][-1]["elements"]
    assert [(b["text"]["text"], b["value"]) for b in feedback] == [
        ("👍", "graviton5-cores"),
        ("👎", "graviton5-cores"),
    ]
    assert message["link_names"] is False and message["parse"] == "none"


async def test_a_mention_inside_a_thread_is_answered_in_that_thread(http: Http, slack: FakeSlack) -> None:
    await http.event(mention("/launch Graviton5", ts="1764690002.000500", thread_ts="1764690002.000100"))

    [message] = await answered(http, slack)
    assert message["thread_ts"] == "1764690002.000100"
    assert message["blocks"][0]["type"] == "header"
    assert "Graviton5" in message["blocks"][0]["text"]["text"]


async def test_a_direct_message_is_answered_in_the_dm(http: Http, slack: FakeSlack) -> None:
    await http.event(direct_message("Graviton5有多少个核心？"))

    [message] = await answered(http, slack)
    assert message["channel"] == DM_CHANNEL_ID
    assert "thread_ts" not in message
    assert "192" in visible(message)


async def test_bot_messages_edits_own_messages_and_channel_messages_are_ignored(
    http: Http, slack: FakeSlack
) -> None:
    await http.event(direct_message("/help", bot_id="B0OTHER"))
    await http.event(direct_message("/help", subtype="message_changed"))
    await http.event(direct_message("/help", user=BOT_USER_ID))
    await http.event(direct_message("/help", channel_type="channel", channel=CHANNEL_ID))
    await http.adapter.settled()
    assert slack.posted() == []

    await http.event(direct_message("/help", ts="1764690003.000100"))
    [message] = await answered(http, slack)
    assert message["channel"] == DM_CHANNEL_ID


async def test_slash_commands_are_acknowledged_empty_then_answered_through_the_response_url(
    http: Http, slack: FakeSlack
) -> None:
    status, body = await http.form(slash_command("/launch", "graviton5", slack.response_url("launch")))
    assert (status, body) == (200, "")
    status, body = await http.form(slash_command("/digest", "", slack.response_url("digest")))
    assert (status, body) == (200, "")
    await http.form(slash_command("/ask", "How many cores does Graviton5 have?", slack.response_url("ask")))

    await slack.wait_for(lambda: all(slack.responses_to(k) for k in ("launch", "digest", "ask")))
    [card] = slack.responses_to("launch")
    assert card["response_type"] == "in_channel"
    assert card["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": card["blocks"][0]["text"]["text"], "emoji": True},
    }
    assert card["blocks"][0]["text"]["text"].startswith("Graviton5")
    [digest] = slack.responses_to("digest")
    assert digest["response_type"] == "in_channel"
    assert "AWS re:Invent 2025 keynote digest" in visible(digest)
    [answer] = slack.responses_to("ask")
    assert answer["response_type"] == "in_channel" and "192" in visible(answer)
    assert slack.posted() == []


async def test_an_empty_ask_gets_a_usage_hint_only_the_asker_sees(http: Http, slack: FakeSlack) -> None:
    await http.form(slash_command("/ask", "   ", slack.response_url("empty")))

    await slack.wait_for(lambda: bool(slack.responses_to("empty")))
    [hint] = slack.responses_to("empty")
    assert hint["response_type"] == "ephemeral"
    assert "Ask me a question about the keynote" in visible(hint)


async def test_a_40000_character_message_gets_a_clear_refusal(http: Http, slack: FakeSlack) -> None:
    await http.event(mention("why " * 10_000))

    [refusal] = await answered(http, slack, method="chat.postEphemeral")
    assert refusal["user"] == USER_ID and refusal["channel"] == CHANNEL_ID
    assert "please ask in under 1,000 characters" in visible(refusal)
    assert slack.posted() == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Signature": "", "X-Slack-Request-Timestamp": ""},
        {"X-Slack-Signature": "v0=abc", "X-Slack-Request-Timestamp": "yesterday"},
        {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": str(int(time.time()))},
        sign(json.dumps({"other": "body"})),
        None,  # signed correctly, but 10 minutes ago
    ],
    ids=["absent", "empty", "garbage", "wrong", "other-body", "stale"],
)
async def test_unsigned_or_stale_requests_get_401_and_no_reply(
    http: Http, slack: FakeSlack, headers: dict[str, str] | None
) -> None:
    body = mention("How many cores does Graviton5 have?")
    raw = json.dumps(body)
    sent = {
        "Content-Type": "application/json",
        **(sign(raw, timestamp=int(time.time()) - 600) if headers is None else headers),
    }
    async with http.session.post(f"{http.url}/slack/events", data=raw, headers=sent) as response:
        assert response.status == 401
    await http.adapter.settled()
    assert slack.calls_to("chat.postMessage") == []


async def test_a_retried_delivery_is_answered_once(http: Http, slack: FakeSlack) -> None:
    body = mention("How many cores does Graviton5 have?")
    await http.event(body)
    await answered(http, slack)

    for attempt in ("1", "2"):
        response = await http.event(
            body, {"X-Slack-Retry-Num": attempt, "X-Slack-Retry-Reason": "http_timeout"}
        )
        assert response.status == 200
    await http.adapter.settled()
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_a_429_is_waited_out_and_the_message_sent_once(http: Http, slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
    await http.event(mention("How many cores does Graviton5 have?"))

    [message] = await answered(http, slack)
    assert "192" in visible(message)
    assert [call.status for call in slack.calls_to("chat.postMessage")] == [429, 200]


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, {"ok": False, "error": "channel_not_found"}), (404, "Not Found")],
    ids=["ok-false", "http-404"],
)
async def test_a_failed_post_is_logged_and_a_retry_can_still_answer(
    http: Http, slack: FakeSlack, caplog: pytest.LogCaptureFixture, status: int, body: Any
) -> None:
    slack.fail_next("chat.postMessage", status, body)
    event = mention("How many cores does Graviton5 have?")
    with caplog.at_level(logging.ERROR, logger="adapters.slack"):
        await http.event(event)
        await slack.wait_for(lambda: bool(slack.calls_to("chat.postMessage")))
        await http.adapter.settled()
    assert any("chat.postMessage to C0GENERAL failed" in r.getMessage() for r in caplog.records)
    assert slack.posted() == []

    async with http.session.get(f"{http.url}/healthz") as health:
        assert health.status == 200
    await http.event(event, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
    [message] = await answered(http, slack)
    assert "192" in visible(message)


async def test_echoed_user_text_is_escaped_and_never_pings(http: Http, slack: FakeSlack) -> None:
    # As Slack delivers it: a real <!channel> mention, @here typed as a word, and a literal "& <b>".
    await http.event(mention("/launch <!channel> @here @Everyone &amp; &lt;b&gt;"))
    await http.form(slash_command("/digest", "<!here> @channel", slack.response_url("digest")))

    [launch] = await answered(http, slack, method="chat.postEphemeral")
    await slack.wait_for(lambda: bool(slack.responses_to("digest")))
    [digest] = slack.responses_to("digest")
    assert digest["response_type"] == "ephemeral"
    shown = visible(launch) + visible(digest)
    assert "&lt;!channel&gt; @\u200bhere @\u200bEveryone &amp; &lt;b&gt;" in visible(launch)
    assert "&lt;!here&gt; @\u200bchannel" in visible(digest)
    for ping in ("<!channel>", "<!here>", "<!everyone>", "@here", "@channel", "@everyone", "@Everyone"):
        assert ping not in shown
    assert launch["parse"] == "none" and launch["link_names"] is False


async def test_a_did_you_mean_click_answers_in_the_same_thread(http: Http, slack: FakeSlack) -> None:
    payload = block_actions(
        "ask:0", "How many cores does Graviton5 have?", slack.response_url("click"), "1764690004.000100"
    )
    status, body = await http.click(payload)
    assert (status, body) == (200, "")

    [message] = await answered(http, slack)
    assert message["channel"] == CHANNEL_ID and message["thread_ts"] == "1764690004.000100"
    assert "192" in visible(message)


async def test_an_abstention_offers_buttons_that_ask_the_suggested_question(
    http: Http, slack: FakeSlack
) -> None:
    await http.event(mention("When is Graviton6 coming?", ts="1764690005.000100"))
    [abstained] = await answered(http, slack)
    assert "I don't know that from the keynote." in visible(abstained)
    buttons = [e for b in abstained["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons and all(b["action_id"].startswith("ask:") for b in buttons)
    assert "Did you mean:" in visible(abstained)

    choice = buttons[0]
    payload = block_actions(
        choice["action_id"], choice["value"], slack.response_url("c"), "1764690005.000100"
    )
    await http.click(payload)
    [_, answer] = await answered(http, slack, count=2)
    assert answer["thread_ts"] == "1764690005.000100"
    assert "I don't know" not in visible(answer)
    assert any(b["type"] == "context" for b in answer["blocks"])


async def test_feedback_is_acknowledged_and_thanked_only_to_the_user(http: Http, slack: FakeSlack) -> None:
    status, body = await http.click(
        block_actions("feedback_up:1", "graviton5-cores", slack.response_url("fb"))
    )
    assert (status, body) == (200, "")

    await slack.wait_for(lambda: bool(slack.responses_to("fb")))
    await http.adapter.settled()
    [thanks] = slack.responses_to("fb")
    assert thanks["response_type"] == "ephemeral" and thanks["replace_original"] is False
    assert "Thanks for the feedback" in visible(thanks)
    assert slack.posted() == []


async def test_a_launch_button_on_a_private_message_answers_through_the_response_url(
    http: Http, slack: FakeSlack
) -> None:
    await http.click(block_actions("launch:0", "graviton5", slack.response_url("launch"), ephemeral=True))

    await slack.wait_for(lambda: bool(slack.responses_to("launch")))
    [card] = slack.responses_to("launch")
    assert card["response_type"] == "in_channel"
    assert card["blocks"][0]["text"]["text"].startswith("Graviton5")


@pytest.mark.parametrize(
    ("user", "allowed"),
    [(USER_ID, False), (ADMIN_ID, True), (OWNER_ID, True), (CONFIGURED_MANAGER, True)],
    ids=["member", "admin", "owner", "configured"],
)
async def test_only_admins_owners_and_configured_users_may_manage(
    http: Http, slack: FakeSlack, user: str, allowed: bool
) -> None:
    await http.form(slash_command("/reload", "", slack.response_url("reload"), user=user))

    await slack.wait_for(lambda: bool(slack.responses_to("reload")))
    [reply] = slack.responses_to("reload")
    assert reply["response_type"] == "ephemeral"
    expected = "Knowledge reloaded" if allowed else "Only channel managers can do that."
    assert expected in visible(reply)


async def test_post_delivers_a_digest_to_the_given_channel(http: Http, slack: FakeSlack, bot: Bot) -> None:
    await http.adapter.post("C0DIGESTS", await bot.command("digest", ""))

    [message] = slack.posted()
    assert message["channel"] == "C0DIGESTS" and "thread_ts" not in message
    assert message["blocks"][0]["text"]["text"] == "AWS re:Invent 2025 keynote digest"
    assert "Graviton5" in visible(message)


async def test_healthz_answers_beside_the_events_endpoint(http: Http) -> None:
    async with http.session.get(f"{http.url}/healthz") as response:
        assert response.status == 200
        assert (await response.json())["ok"] is True


async def test_a_long_reply_arrives_whole_in_follow_up_messages(http: Http, slack: FakeSlack) -> None:
    paragraphs = [f"Paragraph {n}: " + "lorem ipsum " * 300 for n in range(60)]
    reply = Reply(kind="digest", title="Everything", sections=[Section(text=p) for p in paragraphs])

    await http.adapter.post(CHANNEL_ID, reply)

    messages = slack.posted()
    assert len(messages) == len(slack.calls_to("chat.postMessage")) == 3
    assert all(len(m["blocks"]) <= 50 for m in messages)
    sections = [b["text"]["text"] for m in messages for b in m["blocks"] if b["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    assert " ".join(sections).split() == " ".join(paragraphs).split()


async def test_the_events_url_answers_slacks_verification_challenge(http: Http) -> None:
    response = await http.event({"token": "unused", "challenge": "c-123", "type": "url_verification"})
    assert response.status == 200
    assert await response.json() == {"challenge": "c-123"}


async def test_post_raises_when_slack_refuses_so_a_scheduled_digest_is_retried(
    http: Http, slack: FakeSlack, bot: Bot
) -> None:
    slack.fail_next("chat.postMessage", 200, {"ok": False, "error": "not_in_channel"})
    digest = await bot.command("digest", "")
    with pytest.raises(DeliveryError, match="C0DIGESTS"):
        await http.adapter.post("C0DIGESTS", digest)
    await http.adapter.post("C0DIGESTS", digest)
    assert [m["channel"] for m in slack.posted()] == ["C0DIGESTS"]


async def test_a_digest_subscribed_from_slack_is_posted_to_that_channel_when_due(
    slack: FakeSlack, tmp_path: Path
) -> None:
    clock = Clock(datetime(2025, 12, 3, 8, 0, tzinfo=UTC))
    storage = Storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}", user_salt="test")
    bot = Bot(LiveKnowledge(BUNDLED_DIR), storage=storage, clock=clock)
    settings = slack_settings(slack, digest_poll_seconds=0.05)
    adapter = SlackAdapter(bot, settings)
    port = await adapter.start_http("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            http = Http(adapter, session, f"http://127.0.0.1:{port}")
            await http.form(
                slash_command("/digest", "subscribe daily 09:00", slack.response_url("sub"), ADMIN_ID)
            )
            await slack.wait_for(lambda: bool(slack.responses_to("sub")))
        [subscribed] = slack.responses_to("sub")
        assert "Subscribed #1" in visible(subscribed)
        assert slack.posted() == []

        clock.now = clock.now.replace(hour=9, minute=1)
        async with background(bot, settings, poster=adapter):
            await slack.wait_for(lambda: bool(slack.posted()))
    finally:
        await adapter.close()
        storage.close()
    [digest] = slack.posted()
    assert digest["channel"] == CHANNEL_ID
    assert "Graviton5" in visible(digest)


async def test_whether_a_user_may_manage_is_looked_up_once_not_per_message(
    http: Http, slack: FakeSlack
) -> None:
    for n in range(3):
        await http.event(direct_message("/help", ts=f"1764690030.00010{n}"))
    await answered(http, slack, count=3)
    assert [call.params["user"] for call in slack.calls_to("users.info")] == [USER_ID]


async def test_a_failing_bot_tells_the_user_privately_and_logs_no_words(
    slack: FakeSlack, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = SlackAdapter(failing_bot(bot.live), slack_settings(slack))
    port = await adapter.start_http("127.0.0.1", 0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        http = Http(adapter, session, f"http://127.0.0.1:{port}")
        await http.event(mention(QUESTION))
        await http.form(slash_command("/ask", QUESTION, slack.response_url("failed")))
        [ephemeral] = await answered(http, slack, method="chat.postEphemeral")
        await slack.wait_for(lambda: bool(slack.responses_to("failed")))
    await adapter.close()

    assert ephemeral["user"] == USER_ID and "something went wrong" in visible(ephemeral)
    [response] = slack.responses_to("failed")
    assert response["response_type"] == "ephemeral" and "something went wrong" in visible(response)
    assert slack.posted() == []
    assert_logged_without_the_question(caplog)


@pytest.mark.parametrize("delivery", ["app_mention-and-message.im", "redelivered-under-a-new-event-id"])
async def test_one_message_delivered_under_two_event_ids_is_answered_once(
    http: Http, slack: FakeSlack, delivery: str
) -> None:
    # A mention in a DM arrives as an app_mention and as a message.im; a message can also come again under
    # a new event id. The event ids differ; the message (channel and ts, client_msg_id) is the same.
    question = "How many cores does Graviton5 have?"
    if delivery == "app_mention-and-message.im":
        first = mention(question, ts="1764690040.000100", channel=DM_CHANNEL_ID)
        second = direct_message(f"<@{BOT_USER_ID}> {question}", ts="1764690040.000100")
    else:
        first = mention(question, ts="1764690041.000100")
        second = event_callback(dict(first["event"]))
    assert first["event_id"] != second["event_id"]
    for key in ("channel", "ts", "client_msg_id"):
        assert first["event"][key] == second["event"][key]

    for body in (first, second):
        response = await http.event(body)
        assert response.status == 200
    await http.adapter.settled()

    assert len(slack.calls_to("chat.postMessage")) == 1
    assert slack.calls_to("chat.postEphemeral") == []
    [message] = slack.posted()
    assert message["channel"] == first["event"]["channel"]
    assert "192" in visible(message)
