"""The Discord adapter: mentions, DMs, slash commands and buttons over discord.py's gateway client."""

from adapters.discord.adapter import DiscordAdapter, run

__all__ = ["DiscordAdapter", "run"]
