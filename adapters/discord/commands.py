"""The command table's slash commands as a discord.py tree, synced with Discord only when they change.

Syncing (a bulk overwrite) is rate limited by Discord and makes clients refetch commands, so it is done
only when the command payload's hash differs from the one stored after the last sync for that
application and scope (a file under settings.data_dir), or when Discord no longer lists the commands.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bot.commands import COMMANDS, Option

log = logging.getLogger(__name__)

STATE_FILE = "discord-commands.json"
CHOICES = 25
CHOICE_TEXT = 100

CommandHandler = Callable[[discord.Interaction, str, str], Awaitable[None]]
Completer = Callable[[str], list[tuple[str, str]]]


def build_tree(
    client: discord.Client, handle: CommandHandler, complete_launch: Completer
) -> app_commands.CommandTree:
    """A command tree with the table's slash commands, each handing (interaction, name, text) to `handle`."""
    tree = app_commands.CommandTree(client)
    for command in COMMANDS:
        if command.option is not None:
            tree.add_command(
                _slash(command.name, command.description, command.option, handle, complete_launch)
            )
    return tree


def _slash(
    name: str, description: str, option: Option, handle: CommandHandler, complete_launch: Completer
) -> app_commands.Command[Any, ..., None]:
    async def callback(interaction: discord.Interaction, text: str = "") -> None:
        await handle(interaction, name, text)

    named = app_commands.rename(text=option.name)(app_commands.describe(text=option.description)(callback))
    slash: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=name, description=description, callback=named
    )
    if option.autocomplete_launches:

        async def launch_names(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [
                app_commands.Choice(name=label[:CHOICE_TEXT], value=value[:CHOICE_TEXT])
                for label, value in complete_launch(current)[:CHOICES]
            ]

        slash.autocomplete("text")(launch_names)
    return slash


def payload_hash(tree: app_commands.CommandTree, guild: discord.abc.Snowflake | None) -> tuple[str, set[str]]:
    """The hash of exactly what `tree.sync` would send for this scope, and the command names."""
    payload = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest(), {command["name"] for command in payload}


def _read_state(path: Path) -> dict[str, str]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


async def sync_commands(
    tree: app_commands.CommandTree, application_id: int, guild_id: int | None, data_dir: Path
) -> bool:
    """Sync to the guild (development) or globally, unless nothing changed; True when it synced."""
    guild = discord.Object(id=guild_id) if guild_id is not None else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    scope = f"{application_id}:{guild_id if guild_id is not None else 'global'}"
    digest, names = payload_hash(tree, guild)
    path = data_dir / STATE_FILE
    state = _read_state(path)
    if state.get(scope) == digest:
        remote = {command.name for command in await tree.fetch_commands(guild=guild)}
        if remote == names:
            log.info("slash commands unchanged for %s; not syncing", scope)
            return False
    synced = await tree.sync(guild=guild)
    log.info("synced %d slash commands to %s", len(synced), scope)
    state[scope] = digest
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    except OSError as error:
        log.warning("cannot record the command sync in %s (%s); the next start will sync again", path, error)
    return True
