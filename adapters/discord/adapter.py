"""Discord events in, neutral replies out: mentions and DMs, slash commands, button clicks, digests.

Everything a user says goes to the Bot (message, command, action); this module only translates.
Every send carries AllowedMentions.none(), so text echoed from a question never pings anyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import Awaitable, Iterator
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.commands import build_tree, sync_commands
from adapters.discord.components import CustomIds
from adapters.discord.render import render
from bot.app import Bot
from bot.context import Context
from bot.conversations import conversation_key
from bot.errors import DeliveryError
from bot.replies import Reply
from bot.service.background import background
from bot.settings import Settings, SettingsError
from bot.texts import text
from knowledge.models import Language

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
DEFER_AFTER = 2.0
"""Seconds to wait for the bot before deferring: Discord drops an interaction not answered within 3 s.
Answers come from memory in milliseconds, so almost every command is answered directly (type 4)."""


def _language(interaction: discord.Interaction) -> Language:
    return "zh" if str(interaction.locale).startswith("zh") else "en"


def intents() -> discord.Intents:
    """No privileged intents: Discord still sends the content of DMs and of messages mentioning the bot."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_messages = True
    chosen.dm_messages = True
    return chosen


class KeynoteClient(discord.Client):
    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter

    async def setup_hook(self) -> None:
        await self.adapter.setup()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_interaction(interaction)


class ShardedKeynoteClient(KeynoteClient, discord.AutoShardedClient):
    """The same client on discord.py's own sharding (DISCORD_SHARD_COUNT)."""


class DiscordAdapter:
    platform = "discord"

    def __init__(self, bot: Bot, settings: Settings, *, defer_after: float = DEFER_AFTER) -> None:
        self.bot = bot
        self.settings = settings
        self.defer_after = defer_after
        self.ids = CustomIds()
        options: dict[str, Any] = {"intents": intents(), "allowed_mentions": NO_MENTIONS}
        if settings.discord_shard_count is not None:
            self.client: KeynoteClient = ShardedKeynoteClient(
                self, shard_count=settings.discord_shard_count, **options
            )
        else:
            self.client = KeynoteClient(self, **options)
        self.tree = build_tree(self.client, self.command, self.complete_launch)

    async def setup(self) -> None:
        """After login, before the gateway: make sure Discord has the current slash commands."""
        application_id = self.client.application_id
        if application_id is None:
            log.error("Discord did not say which application this token belongs to; commands not synced")
            return
        try:
            await sync_commands(
                self.tree, application_id, self.settings.discord_guild_id, self.settings.data_dir
            )
        except discord.HTTPException as error:
            log.error("syncing slash commands failed (%s); mentions and DMs still work", error)

    # messages

    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        if message.guild is not None and not _mentions(message, me.id):
            return
        reply = await self.bot.message(_strip_mentions(message, me.id), _message_context(message))
        await self._send(message.channel, reply, reference=message)

    async def post(self, channel: str, reply: Reply) -> None:
        """Send a reply unprompted (a scheduled digest); raises DeliveryError so the scheduler retries."""
        await self._post(channel, reply, None)

    async def post_once(self, channel: str, reply: Reply, key: str) -> None:
        """`post` with an idempotency key: each message goes with a nonce derived from it, which Discord
        enforces (a second send with the same nonce returns the first message instead of a new one)."""
        await self._post(channel, reply, key)

    async def _post(self, channel: str, reply: Reply, key: str | None) -> None:
        if not channel.isascii() or not channel.isdigit():
            raise DeliveryError(f"cannot post to {channel!r}: a Discord channel id is a number")
        try:
            await self._deliver(self.client.get_partial_messageable(int(channel)), reply, key=key)
        except discord.HTTPException as error:
            raise DeliveryError(
                f"Discord did not take the {reply.kind} for channel {channel}: {error}"
            ) from error

    async def _send(
        self, channel: discord.abc.Messageable, reply: Reply, *, reference: discord.Message | None = None
    ) -> None:
        """Answer in a conversation; a failure is logged and the bot goes on with the next message."""
        try:
            await self._deliver(channel, reply, reference=reference)
        except discord.HTTPException as error:
            log.error("sending a %s reply to channel %s failed: %s", reply.kind, _channel_id(channel), error)

    async def _deliver(
        self,
        channel: discord.abc.Messageable,
        reply: Reply,
        *,
        reference: discord.Message | None = None,
        key: str | None = None,
    ) -> None:
        for n, part in enumerate(render(reply)):
            options: dict[str, Any] = {"embeds": part.embeds, "allowed_mentions": NO_MENTIONS}
            if key is not None:
                options["nonce"] = nonce(key, n)
            view = self.ids.view(part.buttons)
            if view is not None:
                options["view"] = view
            if n == 0 and reference is not None:
                options["reference"] = reference.to_reference(fail_if_not_exists=False)
                options["mention_author"] = False
            await channel.send(**options)

    # interactions

    def complete_launch(self, prefix: str) -> list[tuple[str, str]]:
        matcher = self.bot.live.current.matcher
        return [(launch.name, launch.id) for launch in matcher.complete_launch(prefix)]

    async def command(self, interaction: discord.Interaction, name: str, args: str) -> None:
        await self._answer(interaction, self.bot.command(name, args, _interaction_context(interaction)))

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Button clicks (application commands go through the command tree)."""
        if interaction.type is not discord.InteractionType.component or interaction.data is None:
            return
        custom_id = str(interaction.data.get("custom_id", ""))
        click = self.ids.decode(custom_id)
        if click is None:
            return
        if click.value is None:
            language = _language(interaction)
            await self._respond(
                interaction, Reply.error(text("button_expired", language), language), deferred=False
            )
            return
        await self._answer(
            interaction, self.bot.action(click.action, click.value, _interaction_context(interaction))
        )

    async def _answer(self, interaction: discord.Interaction, work: Awaitable[Reply]) -> None:
        """Answer directly when the bot is quick, else defer (type 5) within Discord's 3 s and follow up."""
        task = asyncio.ensure_future(work)
        deferred = False
        try:
            done, _ = await asyncio.wait({task}, timeout=self.defer_after)
            if not done:
                await interaction.response.defer(thinking=True)
                deferred = True
            reply = await task
        except discord.HTTPException as error:
            log.error("deferring interaction %s failed: %s", interaction.id, error)
            task.cancel()
            return
        await self._respond(interaction, reply, deferred=deferred)

    async def _respond(self, interaction: discord.Interaction, reply: Reply, *, deferred: bool) -> None:
        try:
            if deferred and reply.private:
                # The "thinking" placeholder is public; a private reply replaces it with an ephemeral one.
                await interaction.delete_original_response()
            for n, part in enumerate(render(reply)):
                options: dict[str, Any] = {
                    "embeds": part.embeds,
                    "ephemeral": reply.private,
                    "allowed_mentions": NO_MENTIONS,
                }
                view = self.ids.view(part.buttons)
                if view is not None:
                    options["view"] = view
                if n == 0 and not interaction.response.is_done():
                    await interaction.response.send_message(**options)
                else:
                    await interaction.followup.send(**options)
        except discord.HTTPException as error:
            log.error("answering interaction %s failed: %s", interaction.id, error)


NONCE_CHARS = 25
"""Discord's limit on a message nonce."""


def nonce(key: str, part: int) -> str:
    """The nonce for part `part` of the message posted under idempotency key `key`."""
    return hashlib.sha256(f"{key}:{part}".encode()).hexdigest()[:NONCE_CHARS]


def _mentions(message: discord.Message, my_id: int) -> bool:
    """Mentioned by user mention or the bot's own role; @everyone and @here do not count."""
    if my_id in message.raw_mentions or any(user.id == my_id for user in message.mentions):
        return True
    own_role = message.guild.self_role if message.guild is not None else None
    return own_role is not None and own_role in message.role_mentions


def _strip_mentions(message: discord.Message, my_id: int) -> str:
    text = re.sub(rf"<@!?{my_id}>", " ", message.content)
    own_role = message.guild.self_role if message.guild is not None else None
    if own_role is not None:
        text = text.replace(own_role.mention, " ")
    return text.strip()


def _message_context(message: discord.Message) -> Context:
    can_manage = False
    channel = message.channel
    if isinstance(message.author, discord.Member) and isinstance(
        channel, discord.abc.GuildChannel | discord.Thread
    ):
        can_manage = channel.permissions_for(message.author).manage_channels
    return Context(
        platform="discord",
        channel=str(channel.id),
        user=str(message.author.id),
        can_manage=can_manage,
        conversation=conversation_key("discord", str(channel.id), None, str(message.author.id)),
    )


def _interaction_context(interaction: discord.Interaction) -> Context:
    return Context(
        platform="discord",
        channel=str(interaction.channel_id),
        user=str(interaction.user.id),
        can_manage=interaction.guild_id is not None and interaction.permissions.manage_channels,
        language=_language(interaction),
        conversation=conversation_key("discord", str(interaction.channel_id), None, str(interaction.user.id)),
    )


def _channel_id(channel: discord.abc.Messageable) -> str:
    return str(getattr(channel, "id", "?"))


@contextlib.contextmanager
def endpoints(settings: Settings) -> Iterator[None]:
    """Point discord.py at DISCORD_API_URL and DISCORD_GATEWAY_URL (a proxy, or the tests' fake)."""
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


async def serve(adapter: DiscordAdapter) -> None:
    """Connect and answer until cancelled; the gateway reconnects (or resumes) by itself."""
    settings = adapter.settings
    token = settings.secret("discord_token")
    with endpoints(settings):
        async with background(adapter.bot, settings, poster=adapter), adapter.client:
            try:
                await adapter.client.start(token)
            except discord.LoginFailure:
                raise SettingsError(
                    "Discord rejected DISCORD_TOKEN: copy the bot token from the Developer Portal again"
                ) from None


async def run(bot: Bot, settings: Settings) -> None:
    """`python -m bot run discord`."""
    await serve(DiscordAdapter(bot, settings))
