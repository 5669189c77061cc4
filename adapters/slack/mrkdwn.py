"""Text for Slack: escape what Slack would read as markup, and defuse anything that could ping people.

Slack reads `&`, `<` and `>` as control characters everywhere (`<!channel>`, `<@U123>`, links), so every
text the bot sends is escaped; `@channel`, `@here` and `@everyone` typed as words get a zero-width space
after the `@`, so no setting of the workspace can turn them into a mention.
"""

from __future__ import annotations

import re

ZERO_WIDTH_SPACE = "\u200b"
_BROADCAST_WORD = re.compile(r"[@＠](?=(?:channel|here|everyone)\b)", re.IGNORECASE)


def escape(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST_WORD.sub(lambda m: m.group(0) + ZERO_WIDTH_SPACE, escaped)


def unescape(text: str) -> str:
    """What the user typed: Slack sends message and command text with `&`, `<`, `>` escaped."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
