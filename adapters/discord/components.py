"""Buttons as persistent Discord components: the click's meaning lives in the custom_id.

A custom_id `kb:<action>:<value>` carries everything needed to answer a click, so buttons keep working
after the bot restarts and discord.py keeps no per-message state (views are rendered, then stopped).
A value too long for Discord's 100-character custom_id is kept in a bounded map under a short key
(`kbref:<action>:<key>`); such a button expires when its key is evicted or the bot restarts.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import get_args

import discord

from adapters.discord.render import LABEL, shorten
from bot.replies import ActionId, Button

PREFIX = "kb"
REF_PREFIX = "kbref"
MAX_CUSTOM_ID = 100
ACTIONS: frozenset[str] = frozenset(get_args(ActionId))


@dataclass(frozen=True)
class Click:
    action: ActionId
    value: str | None
    """None when the value was kept under a key that is gone (evicted or from before a restart)."""


class CustomIds:
    """Encodes button actions into custom_ids and back, keeping long values in a bounded map."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._values: OrderedDict[str, str] = OrderedDict()

    def encode(self, action: ActionId, value: str) -> str:
        direct = f"{PREFIX}:{action}:{value}"
        if len(direct) <= MAX_CUSTOM_ID:
            return direct
        key = hashlib.sha256(value.encode()).hexdigest()[:24]
        self._values[key] = value
        self._values.move_to_end(key)
        while len(self._values) > self.capacity:
            self._values.popitem(last=False)
        return f"{REF_PREFIX}:{action}:{key}"

    def decode(self, custom_id: str) -> Click | None:
        """The click a custom_id stands for, or None when it is not one of this bot's buttons."""
        prefix, _, rest = custom_id.partition(":")
        action, _, value = rest.partition(":")
        if prefix not in (PREFIX, REF_PREFIX) or action not in ACTIONS:
            return None
        checked: ActionId = action  # type: ignore[assignment]
        if prefix == PREFIX:
            return Click(checked, value)
        return Click(checked, self._values.get(value))

    def view(self, buttons: list[Button]) -> discord.ui.View | None:
        """A view to send, already stopped: discord.py keeps no state for it; clicks come by custom_id."""
        if not buttons:
            return None
        view = discord.ui.View(timeout=None)
        seen: set[str] = set()
        for button in buttons:
            custom_id = self.encode(button.action, button.value)
            if custom_id in seen:
                continue
            seen.add(custom_id)
            style = (
                discord.ButtonStyle.primary
                if button.action in ("ask", "launch")
                else discord.ButtonStyle.secondary
            )
            view.add_item(
                discord.ui.Button(
                    label=shorten(button.label, LABEL),
                    style=style,
                    custom_id=custom_id,
                )
            )
        view.stop()
        return view
