"""Keep tokens and people's words out of the log, whatever third-party libraries write at DEBUG.

slack_bolt, slack_sdk, discord.py, aiohttp and websockets log whole requests and payloads at DEBUG:
Discord interaction tokens, Slack `response_url`s, message text, raw user ids. `RedactThirdParty` is a
filter on the log handlers (a logger's own filters do not reach its children) that rewrites every
record below INFO from those libraries with such values masked, and drops the fields they pass as
`extra=` (which a JSON log would print). The bot's own loggers never log them.
"""

from __future__ import annotations

import logging
import re

THIRD_PARTY = (
    "slack_bolt",
    "slack_sdk",
    "discord",
    "aiohttp",
    "websockets",
    "websocket",
    "urllib3",
    "asyncio",
    "sqlalchemy",
    "psycopg",
    "asyncpg",
)
MASK = "…"
SECRET_FIELDS = (
    "text|content|value|label|title|description|fallback|question|name|username|global_name|nick|"
    "token|response_url|trigger_id|user|user_id|user_name|authorization|x-slack-signature|"
    "signing_secret|bot_token|app_token|client_msg_id|placeholder|url|blocks|embeds|message|body|json"
)
_PATTERNS = [
    # "key": "value" and 'key': 'value' (JSON and Python reprs), key=value (forms, query strings)
    re.compile(rf"""(?i)(["']?(?:{SECRET_FIELDS})["']?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""),
    re.compile(rf"(?i)(\b(?:{SECRET_FIELDS})=)([^&\s,}}]+)"),
    # tokens by shape: Slack, Discord bot tokens, bearer headers
    re.compile(r"()\bxox[a-z]-[A-Za-z0-9-]+"),
    re.compile(r"()\bxapp-[A-Za-z0-9-]+"),
    re.compile(r"()\b[\w-]{23,28}\.[\w-]{6,7}\.[\w-]{27,}"),
    re.compile(r"(?i)(\b(?:Bot|Bearer)\s+)\S+"),
    # long opaque path segments (interaction and webhook tokens, response_url secrets) and raw ids
    re.compile(r"(/)[A-Za-z0-9_.~-]{20,}"),
    re.compile(r"()\b\d{15,22}\b"),
    re.compile(r"()\b[UW][A-Z0-9]{8,}\b"),
]


_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
"""A log record's own attributes: anything else on a record came from `extra=` (a JSON log prints it)."""


def redact(message: str) -> str:
    """The message with secret-looking values masked."""
    for pattern in _PATTERNS:
        message = pattern.sub(lambda m: m.group(1) + MASK, message)
    return message


class RedactThirdParty(logging.Filter):
    """Masks tokens, text and ids in third-party records below INFO; lets everything else through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO or not record.name.startswith(THIRD_PARTY):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a library's own bad format string: drop its arguments rather than fail
            message = str(record.msg)
        record.msg = redact(message)
        record.args = ()
        for name in [name for name in record.__dict__ if name not in _STANDARD]:
            delattr(record, name)  # a library's `extra=` fields: unchecked, so never written out
        return True


def install(root: logging.Logger | None = None) -> None:
    """Put the filter on every handler of the root logger (call after logging.basicConfig)."""
    for handler in (root or logging.getLogger()).handlers:
        if not any(isinstance(existing, RedactThirdParty) for existing in handler.filters):
            handler.addFilter(RedactThirdParty())
