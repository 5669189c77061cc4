"""The Slack app manifest grants what the adapter uses, and offers only commands the bot understands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

import adapters.slack
import adapters.slack.adapter as slack_adapter
from bot.commands import COMMANDS

MANIFEST = Path(adapters.slack.__file__).parent / "manifest.yml"


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


SLACK_SOURCES = sorted(MANIFEST.parent.glob("*.py"))

METHOD_SCOPES: dict[str, set[str]] = {
    # Every Web API method the adapter calls, with the bot scopes it needs (api.slack.com/methods).
    "auth.test": set(),
    "apps.connections.open": set(),  # the app-level token's connections:write, not a bot scope
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    # is a scheduled digest already posted? public and private channels
    "conversations.history": {"channels:history", "groups:history"},
    "users.info": {"users:read"},  # managers (is_admin/is_owner) and the asker's locale
}

EVENT_SCOPES: dict[str, set[str]] = {
    # Every event the adapter listens to, with the bot scopes Slack requires to send it.
    "app_mention": {"app_mentions:read"},
    "message.im": {"im:history"},
    "app_uninstalled": set(),
    "tokens_revoked": set(),
    "member_joined_channel": {"channels:read", "groups:read"},
    "member_left_channel": {"channels:read", "groups:read"},
    "channel_archive": {"channels:read"},
    "channel_unarchive": {"channels:read"},
    "channel_deleted": {"channels:read"},
    "group_archive": {"groups:read"},
    "group_unarchive": {"groups:read"},
    "group_deleted": {"groups:read"},
}

_CALL = re.compile(r"\bclient\.(?!session\b|base_url\b|wss_uri\b|is_connected\b)([a-z]+_[A-Za-z_]+)\(")
_REPLY_CALL = re.compile(r'_reply_call\(\s*"([a-z]+\.[A-Za-z]+)"')
"""Replies go out without slack_sdk's client (`SlackAdapter._reply_call("chat.postMessage", ...)`)."""


def web_api_methods() -> set[str]:
    """The Web API methods the Slack adapter's code calls (`client.users_info(` is users.info)."""
    found: set[str] = set()
    for path in SLACK_SOURCES:
        source = path.read_text(encoding="utf-8")
        found |= {name.replace("_", ".") for name in _CALL.findall(source)}
        found |= set(_REPLY_CALL.findall(source))
    return found


def listened_events() -> set[str]:
    """The events the adapter registers listeners for (`message` from DMs is Slack's `message.im`)."""
    adapter = (MANIFEST.parent / "adapter.py").read_text(encoding="utf-8")
    events = set(re.findall(r'app\.event\("([a-z_]+)"\)', adapter))
    for group in ("APP_LOST", "CHANNEL_LOST", "CHANNEL_BACK"):
        events |= set(getattr(slack_adapter, group))
    return {"message.im" if event == "message" else event for event in events}


def needed_scopes() -> set[str]:
    scopes = {"commands"}  # the slash commands
    for method in web_api_methods():
        scopes |= METHOD_SCOPES[method]
    for event in manifest()["settings"]["event_subscriptions"]["bot_events"]:
        scopes |= EVENT_SCOPES[event]
    return scopes


def test_every_web_api_method_the_adapter_calls_has_known_scopes() -> None:
    methods = web_api_methods()
    assert methods == set(METHOD_SCOPES), "map each new Web API method to its scopes in METHOD_SCOPES"
    assert {"chat.postMessage", "conversations.history", "users.info"} <= methods


def test_the_bot_asks_for_exactly_the_scopes_its_calls_and_events_need() -> None:
    """Least privilege: no scope the code does not use (im:read, im:write), none missing."""
    scopes = manifest()["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes))
    assert set(scopes) == needed_scopes()
    assert not {"im:read", "im:write"} & set(scopes)


def test_the_description_and_usage_hint_name_no_event_or_product() -> None:
    info = manifest()["display_information"]
    ask = next(c for c in manifest()["features"]["slash_commands"] if c["command"] == "/ask")
    assert info["description"].startswith("Answers questions about conference keynotes from curated facts")
    assert ask["usage_hint"] == "your question about the keynote"
    words = " ".join([info["description"], info["long_description"], ask["usage_hint"]]).lower()
    for name in ("aws", "re:invent", "2025", "graviton", "trainium", "lambda", "s3"):
        assert name not in words


def test_events_commands_and_interactivity_match_the_adapter() -> None:
    settings = manifest()["settings"]
    assert settings["event_subscriptions"]["bot_events"] == list(EVENT_SCOPES)
    assert set(EVENT_SCOPES) == listened_events()
    assert settings["interactivity"]["is_enabled"] is True
    assert isinstance(settings["socket_mode_enabled"], bool)
    declared = manifest()["features"]["slash_commands"]
    slash = [c for c in COMMANDS if c.option is not None]
    assert [c["command"] for c in declared] == [f"/{c.name}" for c in slash] == ["/ask", "/launch", "/digest"]
    assert [c["description"] for c in declared] == [c.description for c in slash]
    assert manifest()["features"]["app_home"]["messages_tab_enabled"] is True


def test_the_commented_http_urls_point_at_the_events_endpoint() -> None:
    urls = [line.split(": ", 1)[1] for line in MANIFEST.read_text().splitlines() if "url: https://" in line]
    assert len(urls) == 5
    assert all(url.endswith("/slack/events") for url in urls)
