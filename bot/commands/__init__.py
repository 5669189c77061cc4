"""What users can ask the bot to do: one module per command, and the table that lists them."""

from bot.commands.table import COMMANDS, Command, Handler, Option, Usage, nearest

__all__ = ["COMMANDS", "Command", "Handler", "Option", "Usage", "nearest"]
