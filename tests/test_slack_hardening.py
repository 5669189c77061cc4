"""What an attacker and a flaky Slack did to the HTTP adapter (issue 13), replayed on the wire.

Bad and unsigned bodies, replayed slash commands and clicks, Slack answering 500 and 429, a retry after
thousands of newer events, and text no database can store: each against the real adapter and a fake
Slack on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from adapters.slack import SlackAdapter
from bot.app import Bot
from bot.live import LiveKnowledge
from bot.storage import Storage
from knowledge.loader import BUNDLED_DIR
from tests.fakes.slack import (
    ADMIN_ID,
    CHANNEL_ID,
    FakeSlack,
    block_actions,
    direct_message,
    mention,
    sign,
    slack_settings,
    slash_command,
    texts,
)
from tests.persistence import db_url_fixture  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def bot() -> Bot:
    return Bot(LiveKnowledge(BUNDLED_DIR))


@dataclass
class Http:
    adapter: SlackAdapter
    session: aiohttp.ClientSession
    url: str

    async def raw(self, body: bytes, headers: dict[str, str]) -> int:
        async with self.session.post(f"{self.url}/slack/events", data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def event(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        raw = json.dumps(body)
        return await self.raw(
            raw.encode(), {"Content-Type": "application/json", **sign(raw), **(headers or {})}
        )

    async def form(self, fields: dict[str, str], signed: dict[str, str] | None = None) -> int:
        raw = urlencode(fields)
        headers = signed if signed is not None else sign(raw)
        return await self.raw(raw.encode(), {"Content-Type": "application/x-www-form-urlencoded", **headers})


async def serve(adapter: SlackAdapter) -> AsyncIterator[Http]:
    port = await adapter.start_http("127.0.0.1", 0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield Http(adapter, session, f"http://127.0.0.1:{port}")
    await adapter.close()


@pytest.fixture
async def http(slack: FakeSlack, bot: Bot) -> AsyncIterator[Http]:
    async for served in serve(SlackAdapter(bot, slack_settings(slack))):
        yield served


def visible(message: dict[str, Any]) -> str:
    return "\n".join(texts(message))


# -- 1. bad bodies: refused on the raw bytes, 401 unsigned, 400 signed but malformed ------------------

NESTED = b"[" * 100_000 + b"]" * 100_000
BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "json-array": (b"[]", "application/json"),
    "json-cut": (b"{", "application/json"),
    "json-null": (b"null", "application/json"),
    "json-number": (b"12", "application/json"),
    "json-string": (b'"event_callback"', "application/json"),
    "deeply-nested": (NESTED, "application/json"),
    "deeply-nested-object": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json"),
    "raw-ff-bytes": (b"\xff\xfe\xff", "application/json"),
    "ff-in-form": (b"command=/ask&text=\xff", "application/x-www-form-urlencoded"),
    "payload-cut": (b"payload=%7Bnot", "application/x-www-form-urlencoded"),
    "payload-array": (b"payload=%5B%5D", "application/x-www-form-urlencoded"),
    "payload-null": (b"payload=null", "application/x-www-form-urlencoded"),
    "form-sent-as-json": (b"command=%2Fask&text=hi", "application/json"),
    "event-not-an-object": (b'{"type":"event_callback","event":"x","event_id":"Ev1"}', "application/json"),
    "event-a-list": (b'{"type":"event_callback","event":[1,2]}', "application/json"),
    "actions-not-objects": (
        b'payload={"type":"block_actions","actions":[1]}',
        "application/x-www-form-urlencoded",
    ),
    "user-a-number": (
        b'payload={"type":"block_actions","user":5,"actions":[]}',
        "application/x-www-form-urlencoded",
    ),
    "empty": (b"", "application/json"),
}
BAD_STAMPS = {
    "superscript-digits": "²³",
    "5000-digits": "9" * 5000,
    "arabic-indic-digits": "١٧٦٤٦٩٠٠٠٠",
    "negative": "-1",
    "float": "1764690000.5",
    "space-padded-garbage": " 12 34 ",
    "far-future": str(int(time.time()) + 10_000),
}


def _one_short_line(caplog: pytest.LogCaptureFixture) -> None:
    """What a refused request may leave in the log: one short line, never a traceback."""
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info]
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert len(lines[0].getMessage()) < 200


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
async def test_an_unsigned_bad_body_gets_401_and_one_short_log_line(
    http: Http, slack: FakeSlack, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    body, content_type = BAD_BODIES[name]
    with caplog.at_level(logging.DEBUG):
        status = await http.raw(body, {"Content-Type": content_type})
    assert status == 401
    _one_short_line(caplog)
    assert slack.calls == []


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
async def test_a_signed_malformed_body_gets_400_and_one_short_log_line(
    http: Http, slack: FakeSlack, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    body, content_type = BAD_BODIES[name]
    signed = sign(body)
    with caplog.at_level(logging.DEBUG):
        status = await http.raw(body, {"Content-Type": content_type, **signed})
    assert status == 400
    _one_short_line(caplog)
    await http.adapter.settled()
    assert slack.calls == []


@pytest.mark.parametrize("name", sorted(BAD_STAMPS))
async def test_a_bad_timestamp_header_gets_401_and_one_short_log_line(
    http: Http, slack: FakeSlack, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    raw = json.dumps(mention("How many cores does Graviton5 have?"))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": BAD_STAMPS[name],
        "X-Slack-Signature": sign(raw)["X-Slack-Signature"],
    }
    with caplog.at_level(logging.DEBUG):
        status = await http.raw(raw.encode(), headers)
    assert status == 401
    _one_short_line(caplog)
    assert slack.calls == []


async def test_a_flood_of_bad_requests_leaves_a_short_log_and_a_working_bot(
    http: Http, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    cases = [(body, {"Content-Type": kind}) for body, kind in BAD_BODIES.values()]
    raw = json.dumps(mention("hi"))
    cases += [
        (raw.encode(), {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp})
        for stamp in BAD_STAMPS.values()
    ]
    statuses: list[int] = []
    with caplog.at_level(logging.DEBUG):
        for _ in range(40):
            statuses += await asyncio.gather(*(http.raw(body, headers) for body, headers in cases))
    assert len(statuses) == 40 * len(cases) == 1000
    assert set(statuses) == {401}
    assert "Traceback" not in caplog.text
    refusals = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(refusals) == 1000 and max(len(line) for line in refusals) < 200

    assert await http.event(mention("How many cores does Graviton5 have?")) == 200
    await slack.wait_for(lambda: bool(slack.posted()))
    assert "192" in visible(slack.posted()[0])


# -- 2. Slack's 500s and 429s are retried; a reply still lost is logged with its event id ------------


async def test_one_500_from_chat_post_message_is_retried_and_the_user_answered(
    http: Http, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", 500, "Internal Server Error")
    assert await http.event(mention("How many cores does Graviton5 have?")) == 200

    await slack.wait_for(lambda: bool(slack.posted()))
    await http.adapter.settled()
    [message] = slack.posted()
    assert "192" in visible(message)
    assert [call.status for call in slack.calls_to("chat.postMessage")] == [500, 200]


async def test_four_429s_in_a_row_are_waited_out(http: Http, slack: FakeSlack) -> None:
    for _ in range(4):
        slack.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"})
    assert await http.event(mention("How many cores does Graviton5 have?")) == 200

    await slack.wait_for(lambda: bool(slack.posted()))
    await http.adapter.settled()
    assert [call.status for call in slack.calls_to("chat.postMessage")] == [429, 429, 429, 429, 200]


async def test_a_500_from_the_response_url_is_retried(http: Http, slack: FakeSlack) -> None:
    slack.fail_next_response("ask", 500)
    await http.form(slash_command("/ask", "How many cores does Graviton5 have?", slack.response_url("ask")))

    await slack.wait_for(lambda: bool(slack.responses_to("ask")))
    await http.adapter.settled()
    [answer] = slack.responses_to("ask")
    assert "192" in visible(answer)
    assert slack.response_statuses["ask"] == [500, 200]


async def test_twenty_events_each_meeting_a_500_and_two_429s_are_all_answered(
    http: Http, slack: FakeSlack
) -> None:
    for _ in range(20):
        slack.fail_next("chat.postMessage", 500, "Internal Server Error")
        slack.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"})
        slack.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"})
    for n in range(20):
        await http.event(direct_message("/help", ts=f"1764690100.{n:06d}"))

    await slack.wait_for(lambda: len(slack.posted()) >= 20, timeout=60)
    await http.adapter.settled()
    lost = 20 - len(slack.posted())
    assert lost == 0
    assert len(slack.calls_to("chat.postMessage")) == 20 + 60


async def test_a_reply_slack_never_takes_is_logged_as_lost_with_its_event_id(
    slack: FakeSlack, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    async for http in serve(SlackAdapter(bot, slack_settings(slack, slack_retry_seconds=0))):
        for _ in range(3):
            slack.fail_next("chat.postMessage", 503, "Service Unavailable")
        event = mention("How many cores does Graviton5 have?")
        with caplog.at_level(logging.ERROR, logger="adapters.slack"):
            await http.event(event)
            await slack.wait_for(lambda: bool(slack.calls_to("chat.postMessage")))
            await http.adapter.settled()
    lost = [r.getMessage() for r in caplog.records if "is lost" in r.getMessage()]
    assert lost and event["event_id"] in lost[0]


# -- 14. a replayed slash command or click is answered once --------------------------------------


async def test_a_replayed_signed_slash_command_is_answered_once(http: Http, slack: FakeSlack) -> None:
    fields = slash_command("/ask", "How many cores does Graviton5 have?", slack.response_url("replay"))
    raw = urlencode(fields)
    signed = sign(raw)
    for _ in range(3):
        assert await http.form(fields, signed) == 200
    await slack.wait_for(lambda: bool(slack.responses_to("replay")))
    await http.adapter.settled()
    assert len(slack.responses_to("replay")) == 1

    fresh = slash_command("/ask", "How many cores does Graviton5 have?", slack.response_url("fresh"))
    await http.form(fresh)
    await slack.wait_for(lambda: bool(slack.responses_to("fresh")))


async def test_a_replayed_signed_click_is_answered_once(http: Http, slack: FakeSlack) -> None:
    click = block_actions("ask:0", "How many cores does Graviton5 have?", slack.response_url("c"), "1.1")
    fields = {"payload": json.dumps(click)}
    signed = sign(urlencode(fields))
    for _ in range(3):
        assert await http.form(fields, signed) == 200
    await slack.wait_for(lambda: bool(slack.posted()))
    await http.adapter.settled()
    assert len(slack.posted()) == 1


# -- 3. one process: a retry after thousands of newer events is still answered once ----------------


async def test_a_retry_after_6000_newer_events_is_answered_once(http: Http, slack: FakeSlack) -> None:
    first = direct_message("/help", ts="1764690200.000000")
    await http.event(first)
    await slack.wait_for(lambda: len(slack.posted()) == 1)

    newer = 6000
    for start in range(0, newer, 100):
        batch = [direct_message("/help", ts=f"1764690201.{n:06d}") for n in range(start, start + 100)]
        await asyncio.gather(*(http.event(body) for body in batch))
    await slack.wait_for(lambda: len(slack.posted()) == newer + 1, timeout=120)

    assert await http.event(first, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}) == 200
    await http.adapter.settled()
    assert len(slack.posted()) == newer + 1


# -- 9. bad /digest arguments get a reply saying what was wrong, with an example --------------------

BAD_DIGEST_ARGS = [
    "subscribe daily 09:00 tz=America",
    "subscribe daily 09:00 tz=",
    "subscribe daily 09:00 tz=../../../etc/passwd",
    "subscribe daily 09:00 tz=/etc/localtime",
    "subscribe daily 09:00 tz=Europe/../../x",
    "subscribe daily 09:00 tz=Asia\x00Shanghai",
    "subscribe daily 09:00 tz=" + "A" * 500,
    "subscribe daily 09:00 lang=fr",
    "subscribe daily 09:00 colour=red",
    "subscribe daily 25:00",
    "subscribe daily ²:00",
    "subscribe weekly funday 09:00",
    "subscribe weekly",
    "subscribe",
    "subscribe 99999999999999999999 * * * *",
    "subscribe 0 9 31 2 *",
    "subscribe */0 * * * *",
    "subscribe * * * * *",
    "subscribe 0 ²³ * * *",
    "subscribe 0 9 * * 1-5 no-such-topic",
    "unsubscribe ²",
    "unsubscribe ¹²",
    "unsubscribe 99999999999999999999999",
    "unsubscribe 2147483648",
    "unsubscribe -1",
    "unsubscribe 1e3",
    "unsubscribe 0x10",
    "unsubscribe",
    "unsubscribe 1 2",
    "unsubscribe ٣",
]


async def test_every_bad_digest_argument_gets_a_clear_reply_with_an_example(
    slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}", user_salt="s")
    bot = Bot(LiveKnowledge(BUNDLED_DIR), storage=storage)
    try:
        async for http in serve(SlackAdapter(bot, slack_settings(slack))):
            with caplog.at_level(logging.WARNING):
                for n, args in enumerate(BAD_DIGEST_ARGS):
                    await http.form(slash_command("/digest", args, slack.response_url(f"bad{n}"), ADMIN_ID))
                await slack.wait_for(
                    lambda: all(slack.responses_to(f"bad{n}") for n in range(len(BAD_DIGEST_ARGS))), 30
                )
    finally:
        storage.close()
    failed = []
    for n, args in enumerate(BAD_DIGEST_ARGS):
        [reply] = slack.responses_to(f"bad{n}")
        shown = visible(reply)
        clear = reply["response_type"] == "ephemeral" and "something went wrong" not in shown
        has_example = any(hint in shown for hint in ("/digest", "09:00", "e.g.", "for example", "like"))
        if not (clear and has_example):
            failed.append((args, shown))
    assert failed == []
    assert not [r for r in caplog.records if r.exc_info], "a bad argument raised somewhere"
    assert slack.posted() == []


# -- 10. text no database stores as given is cleaned, and stored -----------------------------------


async def test_missed_questions_with_nul_and_lone_surrogates_are_stored_cleaned(
    slack: FakeSlack, db_url: str
) -> None:
    storage = Storage(db_url, user_salt="s")
    bot = Bot(LiveKnowledge(BUNDLED_DIR), storage=storage)
    questions = [
        "who won the world cup\x00 in 2022?",
        "who won the world cup in 2022 \ud800?",
        "what is the weather \udfff\x00 in las vegas?",
    ]
    try:
        async for http in serve(SlackAdapter(bot, slack_settings(slack))):
            for n, question in enumerate(questions):
                assert (
                    await http.event(mention(question, ts=f"1764690300.{n:06d}", channel=CHANNEL_ID)) == 200
                )
            await slack.wait_for(lambda: len(slack.posted()) == len(questions))
            await http.adapter.settled()
            await bot.drain()
        stored = sorted(m.question for m in storage.missed_questions())
    finally:
        storage.close()
    assert stored == sorted(
        [
            "who won the world cup in 2022?",
            "who won the world cup in 2022 \ufffd?",
            "what is the weather \ufffd in las vegas?",
        ]
    )
