"""The Slack adapter: events, slash commands and buttons in, Block Kit out (Socket Mode or HTTP)."""

from adapters.slack.adapter import DeliveryError, SlackAdapter, run

__all__ = ["DeliveryError", "SlackAdapter", "run"]
