"""The adapter contract: what a way into the bot (console, Slack, Discord) must do, and nothing more.

An adapter is a translator on each side of the platform-neutral `bot.app.Bot`:

- **In**, three calls, each returning a neutral `bot.replies.Reply` and never raising (a failing handler
  becomes a private "something went wrong" inside the bot, the same for every platform):
  `Bot.message(text, ctx)` for a chat message, `Bot.command(name, args, ctx)` for a slash command,
  `Bot.action(action, value, ctx)` for a button click. `ctx` is a `bot.context.Context` saying who
  asked and where.
- **Out**, `render(reply) -> list[...]` in the adapter's `render.py` turns a Reply into the platform's
  messages; the adapter sends them as the answer.
- **Unprompted**, the adapter object is a `Poster` (below): `post(channel, reply)` posts a scheduled
  digest and raises `bot.errors.DeliveryError` when the platform refuses it.
- **Start**, `run(bot, settings)` exported by `adapters/<platform>/__init__.py` connects and serves
  until cancelled, inside `bot.service.background(...)`. It raises `bot.settings.SettingsError` or
  `bot.errors.StartupError` with a one-line message; only `bot/cli.py` turns them into exit codes.

mypy checks every adapter class against `Adapter` and its `run` against `Run` (tests/test_adapter_contract.py,
and `bot/cli.py` where the program is assembled).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeAlias

from bot.app import Bot
from bot.digests import Poster
from bot.settings import Settings

Adapter: TypeAlias = Poster
"""An adapter object: its `platform` name and `post` for unprompted replies."""

Run: TypeAlias = Callable[[Bot, Settings], Coroutine[Any, Any, None]]
"""`run(bot, settings)`: connect, serve until cancelled, and close."""

__all__ = ["Adapter", "Run"]
