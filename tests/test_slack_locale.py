"""Slack sends no locale with a slash command: a bare `/digest` is in the asker's Slack language,
read from users.info (include_locale) and remembered per user for a while."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import aiohttp
import pytest

from adapters.slack import SlackAdapter
from adapters.slack.managers import Managers, Profile, locale_language
from bot.app import Bot
from bot.live import LiveKnowledge
from knowledge.loader import BUNDLED_DIR
from tests.fakes.slack import (
    ADMIN_ID,
    USER_ID,
    ZH_USER_ID,
    FakeSlack,
    sign,
    slack_settings,
    slash_command,
    texts,
)


@pytest.fixture(scope="module")
def bot() -> Bot:
    return Bot(LiveKnowledge(BUNDLED_DIR))


@pytest.fixture
async def served(
    slack: FakeSlack, bot: Bot
) -> AsyncIterator[tuple[SlackAdapter, aiohttp.ClientSession, str]]:
    adapter = SlackAdapter(bot, slack_settings(slack))
    port = await adapter.start_http("127.0.0.1", 0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield adapter, session, f"http://127.0.0.1:{port}"
    await adapter.close()


async def command(
    served: tuple[SlackAdapter, aiohttp.ClientSession, str],
    slack: FakeSlack,
    name: str,
    text: str,
    user: str,
    key: str,
) -> str:
    adapter, session, url = served
    raw = urlencode(slash_command(name, text, slack.response_url(key), user))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(raw)}
    async with session.post(f"{url}/slack/events", data=raw, headers=headers) as response:
        assert response.status == 200
    await slack.wait_for(lambda: bool(slack.responses_to(key)))
    await adapter.settled()
    return "\n".join(line for message in slack.responses_to(key) for line in texts(message))


async def test_a_bare_digest_from_a_chinese_slack_user_is_answered_in_chinese(
    served: tuple[SlackAdapter, aiohttp.ClientSession, str], slack: FakeSlack
) -> None:
    answer = await command(served, slack, "/digest", "", ZH_USER_ID, "zh")
    assert "主题演讲摘要" in answer
    assert "keynote digest" not in answer
    [lookup] = slack.calls_to("users.info")
    assert lookup.params["user"] == ZH_USER_ID
    assert str(lookup.params["include_locale"]).lower() in ("true", "1")


async def test_a_bare_digest_from_an_english_slack_user_stays_english(
    served: tuple[SlackAdapter, aiohttp.ClientSession, str], slack: FakeSlack
) -> None:
    answer = await command(served, slack, "/digest", "", USER_ID, "en")
    assert "keynote digest" in answer
    assert "主题演讲摘要" not in answer


async def test_the_words_of_a_command_still_choose_its_language(
    served: tuple[SlackAdapter, aiohttp.ClientSession, str], slack: FakeSlack
) -> None:
    answer = await command(served, slack, "/ask", "how many cores does graviton5 have?", ZH_USER_ID, "ask")
    assert "192 cores" in answer


async def test_the_locale_is_looked_up_once_per_user_with_the_admin_rights(
    served: tuple[SlackAdapter, aiohttp.ClientSession, str], slack: FakeSlack
) -> None:
    for n in range(3):
        answer = await command(served, slack, "/digest", "", ZH_USER_ID, f"d{n}")
        assert "主题演讲摘要" in answer
    assert [call.params["user"] for call in slack.calls_to("users.info")] == [ZH_USER_ID]


async def test_a_remembered_locale_is_looked_up_again_after_the_ttl(slack: FakeSlack, bot: Bot) -> None:
    now = [0.0]
    adapter = SlackAdapter(bot, slack_settings(slack))
    adapter._open_session()
    try:
        managers = Managers(adapter.client, ttl=600.0, clock=lambda: now[0])
        assert await managers.profile(ZH_USER_ID) == Profile(can_manage=False, language="zh")
        assert await managers.profile(ADMIN_ID) == Profile(can_manage=True, language="en")
        slack.users[ZH_USER_ID]["locale"] = "en-GB"
        now[0] = 599.0
        assert (await managers.profile(ZH_USER_ID)).language == "zh"
        now[0] = 601.0
        assert (await managers.profile(ZH_USER_ID)).language == "en"
        assert [call.params["user"] for call in slack.calls_to("users.info")] == [
            ZH_USER_ID,
            ADMIN_ID,
            ZH_USER_ID,
        ]
    finally:
        await adapter.close()


@pytest.mark.parametrize(
    ("locale", "language"),
    [("zh-CN", "zh"), ("zh-TW", "zh"), ("en-US", "en"), ("en-GB", "en"), ("ja-JP", None), (None, None)],
)
def test_slack_locales_map_to_the_bots_languages(locale: str | None, language: str | None) -> None:
    assert locale_language(locale) == language
