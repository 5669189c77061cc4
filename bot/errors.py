"""Typed errors that cross from an adapter into the bot: `bot/cli.py` turns start-up ones into exit codes."""

from __future__ import annotations


class StartupError(Exception):
    """An adapter cannot start (the platform is unreachable or refused it); the message is one line."""


class DeliveryError(Exception):
    """The platform did not take a message the bot posted on its own; the scheduler tries again later."""
