"""The Slack app manifest grants what the adapter uses, and offers only commands the bot understands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import adapters.slack
from bot.commands import COMMANDS

MANIFEST = Path(adapters.slack.__file__).parent / "manifest.yml"


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def test_the_bot_scopes_cover_every_api_the_adapter_calls() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "channels:history",  # conversations.history: is a scheduled digest already posted?
        "chat:write",
        "commands",
        "groups:history",
        "im:history",
        "im:read",
        "im:write",
        "users:read",
    } <= scopes


def test_events_commands_and_interactivity_match_the_adapter() -> None:
    settings = manifest()["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_mention", "message.im"]
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
