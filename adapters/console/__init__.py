"""The terminal adapter: the default, needing no tokens. Each line is a question or a slash command."""

from adapters.console.adapter import run

__all__ = ["run"]
