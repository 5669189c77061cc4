"""The fakes build payloads with the keys that Slack and Discord send (recorded in tests/fakes/payloads/).

The rule, applied to each payload and to the nested objects each case names (the Slack `event`, the
Discord `data`, `author`, `member`, `user`, ...):

- every key the fake sends appears in the recording, so a renamed or invented key fails;
- every key in the case's required set appears in both. These are the keys that Slack's and Discord's
  references say are always sent, plus the keys that the adapters, slack_bolt or discord.py read. A
  fake that drops one fails.

Real payloads carry more keys than that (`blocks`, `event_context`, `nonce`, `avatar_decoration_data`,
...). Nothing here reads them, so the fakes may leave them out. Requiring equal key sets would make the
fakes copy every one of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import discord as fake_discord
from tests.fakes import slack as fake_slack
from tests.fakes.discord import FakeDiscord

PAYLOADS = Path(__file__).parent / "fakes" / "payloads"
RESPONSE_URL = "https://hooks.slack.com/commands/T0KEYNOTE/1/fake"
THREAD_TS = "1764690000.000050"

ObjectPath = tuple[str | int, ...]
"""Where a nested object sits in a payload: ("event",), ("member", "user"), ("actions", 0)."""


def keys(names: str) -> frozenset[str]:
    """`keys("id name")`: a set of keys, written as words."""
    return frozenset(names.split())


# Slack: the Events API wrapper, and the keys of each kind of body.
EVENT_CALLBACK = keys("token team_id api_app_id event type event_id event_time authorizations")
AUTHORIZATION = keys("team_id user_id is_bot")
MESSAGE_EVENT = keys("type user text ts channel event_ts client_msg_id")
SLASH_COMMAND = keys(
    "token team_id team_domain channel_id channel_name user_id user_name command text api_app_id"
    " response_url trigger_id"
)
BLOCK_ACTIONS = keys("type user api_app_id token container trigger_id team channel response_url actions")
CONTAINER = keys("type message_ts channel_id is_ephemeral")
BUTTON_ACTION = keys("type action_id block_id value action_ts")

# Discord: the fields that the docs mark as always present (no `?`), plus what the bot reads.
USER = keys("id username discriminator global_name avatar")
MEMBER = keys("roles joined_at deaf mute flags")
MESSAGE = keys(
    "id channel_id author content timestamp edited_timestamp tts mention_everyone mentions mention_roles"
    " attachments embeds pinned type"
)
INTERACTION = keys(
    "id application_id type data token version app_permissions locale entitlements"
    " authorizing_integration_owners attachment_size_limit context guild_id channel channel_id member"
)
INTERACTION_CHANNEL = keys("id type guild_id permissions")


@dataclass(frozen=True)
class Case:
    recording: str
    build: Callable[[], dict[str, Any]]
    required: dict[ObjectPath, frozenset[str]]
    """Each object to compare, by its path, with the keys it must have."""
    variant: str = ""

    @property
    def name(self) -> str:
        return f"{self.recording}-{self.variant}" if self.variant else self.recording


def guild_mention() -> dict[str, Any]:
    author = fake_discord.member(fake_discord.USER_ID, "ada")
    return fake_discord.message_payload(
        "910000000000000001",
        fake_discord.CHANNEL_ID,
        f"<@{fake_discord.BOT_ID}> how many chips in a Trainium3 UltraServer?",
        author["user"],
        guild_id=fake_discord.GUILD_ID,
        author_member=author,
        mentions=[fake_discord.user(fake_discord.BOT_ID, "keynote-bot", bot=True)],
    )


CASES = [
    Case(
        "slack_app_mention",
        lambda: fake_slack.mention("How many cores does Graviton5 have?", thread_ts=THREAD_TS),
        {
            (): EVENT_CALLBACK,
            ("authorizations", 0): AUTHORIZATION,
            ("event",): MESSAGE_EVENT | {"thread_ts"},
        },
        "in-a-thread",
    ),
    Case(
        "slack_message_im",
        lambda: fake_slack.direct_message("/launch trainium3"),
        {
            (): EVENT_CALLBACK,
            ("authorizations", 0): AUTHORIZATION,
            ("event",): MESSAGE_EVENT | {"channel_type"},
        },
    ),
    Case(
        "slack_slash_command",
        lambda: fake_slack.slash_command("/launch", "graviton5", RESPONSE_URL),
        {(): SLASH_COMMAND},
    ),
    Case(
        "slack_block_actions",
        lambda: fake_slack.block_actions(
            "feedback_up:1", "graviton5-cores", RESPONSE_URL, message_thread_ts=THREAD_TS
        ),
        {
            (): BLOCK_ACTIONS | {"message"},
            ("user",): keys("id team_id"),
            ("team",): keys("id"),
            ("channel",): keys("id"),
            ("container",): CONTAINER,
            ("message",): keys("type ts user thread_ts"),
            ("actions", 0): BUTTON_ACTION,
        },
        "in-a-thread",
    ),
    Case(
        "slack_block_actions",
        lambda: fake_slack.block_actions("launch:0", "graviton5", RESPONSE_URL, ephemeral=True),
        {(): BLOCK_ACTIONS, ("container",): CONTAINER, ("actions", 0): BUTTON_ACTION},
        "ephemeral",
    ),
    Case(
        "discord_message_create",
        guild_mention,
        {
            (): MESSAGE | {"guild_id", "member"},
            ("author",): USER,
            ("member",): MEMBER,
            ("mentions", 0): USER | {"bot"},
        },
    ),
    Case(
        "discord_application_command",
        lambda: FakeDiscord().slash("launch", {"name": "trainium3-ultraserver"}),
        {
            (): INTERACTION,
            ("data",): keys("id name type options"),
            ("data", "options", 0): keys("name type value"),
            ("channel",): INTERACTION_CHANNEL,
            ("guild",): keys("id locale"),
            ("member",): MEMBER | {"user", "permissions"},
            ("member", "user"): USER,
        },
    ),
    Case(
        "discord_component_interaction",
        lambda: FakeDiscord().click("launch:0:trainium3-ultraserver"),
        {
            (): INTERACTION | {"message"},
            ("data",): keys("custom_id component_type id"),
            ("channel",): INTERACTION_CHANNEL,
            ("member",): MEMBER | {"user", "permissions"},
            ("member", "user"): USER,
            ("message",): MESSAGE | {"components"},
            ("message", "author"): USER | {"bot"},
        },
    ),
]


def recorded(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return payload


def dig(payload: dict[str, Any], path: ObjectPath) -> dict[str, Any]:
    node: Any = payload
    for step in path:
        node = node[step]
    assert isinstance(node, dict), f"{path} is not an object"
    return node


def assert_keys_match(
    fake: dict[str, Any], real: dict[str, Any], required: frozenset[str], where: str
) -> None:
    invented = sorted(fake.keys() - real.keys())
    assert not invented, f"{where}: the fake sends keys the platform does not: {invented}"
    unrecorded = sorted(required - real.keys())
    assert not unrecorded, f"{where}: the recording lacks required keys: {unrecorded}"
    dropped = sorted(required - fake.keys())
    assert not dropped, f"{where}: the fake lacks keys real payloads always carry: {dropped}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_fake_payload_has_the_keys_of_a_recorded_one(case: Case) -> None:
    fake, real = case.build(), recorded(case.recording)
    for path, required in case.required.items():
        where = f"{case.recording}{''.join(f'[{step!r}]' for step in path)}"
        assert_keys_match(dig(fake, path), dig(real, path), required, where)


def test_a_fake_dm_interaction_carries_the_user_where_a_guild_one_carries_the_member() -> None:
    real = recorded("discord_application_command")
    dm = FakeDiscord().slash("ask", {"question": "How many cores does Graviton5 have?"}, dm=True)

    assert "member" not in dm and "guild_id" not in dm
    # Discord sends `user` instead of `member` and `guild_id` in a DM; the other keys are as in a guild.
    in_a_dm = dict.fromkeys(real.keys() - {"member", "guild_id"} | {"user"})
    assert_keys_match(dm, in_a_dm, INTERACTION - {"member", "guild_id"} | {"user"}, "dm interaction")
    assert_keys_match(dm["user"], real["member"]["user"], USER, "dm interaction['user']")


def test_a_command_without_options_has_no_options_key_like_discord_sends_it() -> None:
    data = FakeDiscord().slash("digest", {})["data"]

    assert "options" not in data
    assert_keys_match(data, recorded("discord_application_command")["data"], keys("id name type"), "data")


def test_a_renamed_key_is_caught() -> None:
    drifted = fake_slack.slash_command("/launch", "graviton5", RESPONSE_URL)
    drifted["user"] = drifted.pop("user_id")

    with pytest.raises(AssertionError, match="does not: \\['user'\\]"):
        assert_keys_match(drifted, recorded("slack_slash_command"), keys("user_id"), "slash command")
    del drifted["user"]
    with pytest.raises(AssertionError, match="always carry: \\['user_id'\\]"):
        assert_keys_match(drifted, recorded("slack_slash_command"), keys("user_id"), "slash command")


def test_every_recorded_payload_is_checked_and_says_where_it_comes_from() -> None:
    files = {path.stem for path in PAYLOADS.glob("*.json")}
    readme = (PAYLOADS / "README.md").read_text(encoding="utf-8")

    assert files == {case.recording for case in CASES}
    assert [name for name in sorted(files) if f"`{name}.json`" not in readme] == []
