"""The Slack adapter: events, slash commands and buttons in, Block Kit out (Socket Mode or HTTP)."""

from adapters.slack.adapter import SlackAdapter, run

__all__ = ["SlackAdapter", "run"]
