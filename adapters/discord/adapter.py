"""Discord events in, neutral replies out: mentions and DMs, slash commands, button clicks, digests.

Everything a user says goes to the Bot (message, command, action); this module only translates.
Every send carries AllowedMentions.none(), so text echoed from a question never pings anyone. Replies
posted and failed, the time from request to reply, and the 429s and 5xx discord.py waits out and retries
are counted (`bot.service.metrics`); a refused request's silent reply (`bot.service.limits`) is not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
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
from bot.errors import DeliveryError, StartupError
from bot.replies import Reply
from bot.service import metrics
from bot.service.background import background
from bot.service.health import PlatformStatus
from bot.service.limits import is_silent
from bot.settings import Settings, SettingsError
from bot.texts import text
from knowledge.models import Language

log = logging.getLogger(__name__)

PLATFORM = "discord"
NO_MENTIONS = discord.AllowedMentions.none()
DEFER_AFTER = 2.0
"""Seconds to wait for the bot before deferring: Discord drops an interaction not answered within 3 s.
Answers come from memory in milliseconds, so almost every command is answered directly (type 4)."""


def _language(interaction: discord.Interaction) -> Language:
    return "zh" if str(interaction.locale).startswith("zh") else "en"


def retries_counted() -> aiohttp.TraceConfig:
    """A trace on discord.py's HTTP session that counts the 429s and 5xx it waits out and retries."""

    async def on_request_end(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        status = params.response.status
        if status == 429 or status >= 500:
            metrics.count_retry(PLATFORM, metrics.status_reason(status))

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace


class _NoVoiceWarnings(logging.Filter):
    """Drops discord.py's "PyNaCl/davey is not installed, voice will NOT be supported": the bot never
    uses voice, so the two warnings on every start are noise."""

    _MESSAGES = frozenset(
        {
            "PyNaCl is not installed, voice will NOT be supported",
            "davey is not installed, voice will NOT be supported",
        }
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg in self._MESSAGES)


def quiet_voice_warnings() -> None:
    """Install the filter on discord.py's client logger (once)."""
    client_log = logging.getLogger("discord.client")
    if not any(isinstance(f, _NoVoiceWarnings) for f in client_log.filters):
        client_log.addFilter(_NoVoiceWarnings())


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

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.adapter.pause(_guild_channels(guild), GUILD_REMOVED)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.adapter.resume(_guild_channels(guild), (GUILD_REMOVED,))

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # Added back while the bot was offline: the guild comes with the connection, not as a join.
        await self.adapter.resume(_guild_channels(guild), (GUILD_REMOVED,))

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.adapter.pause([str(channel.id)], CHANNEL_DELETED)


GUILD_REMOVED = "guild_remove"
CHANNEL_DELETED = "channel_deleted"


def _guild_channels(guild: discord.Guild) -> list[str]:
    """The ids of a guild's channels and threads, where its digest subscriptions live."""
    return [str(channel.id) for channel in [*guild.channels, *guild.threads]]


class ShardedKeynoteClient(KeynoteClient, discord.AutoShardedClient):
    """The same client on discord.py's own sharding (DISCORD_SHARD_COUNT)."""


class DiscordAdapter:
    platform = "discord"

    def __init__(self, bot: Bot, settings: Settings, *, defer_after: float = DEFER_AFTER) -> None:
        self.bot = bot
        self.settings = settings
        self.defer_after = defer_after
        self.ids = CustomIds()
        # Pauses and resumes are stored in the order their gateway events came: discord.py runs each
        # handler as its own task, and the storage calls they make can finish in any order.
        self._membership = asyncio.Lock()
        quiet_voice_warnings()
        options: dict[str, Any] = {
            "intents": intents(),
            "allowed_mentions": NO_MENTIONS,
            "http_trace": retries_counted(),
        }
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

    async def status(self) -> PlatformStatus:
        """The gateway connection, for `/healthz`: ready, and every shard's websocket open."""
        client = self.client
        if client.is_closed():
            return PlatformStatus(False, "the Discord client is closed")
        if not client.is_ready():
            return PlatformStatus(False, "not connected to the Discord gateway yet")
        if isinstance(client, discord.AutoShardedClient):
            down = sorted(shard_id for shard_id, shard in client.shards.items() if shard.is_closed())
            if down:
                return PlatformStatus(False, f"shards {down} are disconnected; reconnecting")
        elif client.ws is None or not client.ws.open:
            return PlatformStatus(False, "the gateway connection is down; reconnecting")
        return PlatformStatus(True, "connected to the Discord gateway")

    # where digests go

    async def pause(self, channels: list[str], reason: str) -> None:
        """Put the digests of channels the bot lost (removed from the guild, channel deleted) on hold,
        instead of failing every slot."""
        storage = self.bot.storage
        if storage is None or not channels:
            return
        async with self._membership:
            paused = await storage.call(storage.pause_subscriptions, PLATFORM, channels, reason)
        if paused:
            log.warning("%s: paused %d digest subscription(s)", reason, paused)

    async def resume(self, channels: list[str], reasons: tuple[str, ...]) -> None:
        storage = self.bot.storage
        if storage is None or not channels:
            return
        async with self._membership:
            resumed = await storage.call(
                storage.resume_subscriptions, PLATFORM, channels, self.bot.clock(), reasons
            )
        if resumed:
            log.info("the bot is back in a guild: resumed %d digest subscription(s)", resumed)

    # messages

    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        if message.guild is not None and not _mentions(message, me.id):
            return
        started = time.monotonic()
        reply = await self.bot.message(_strip_mentions(message, me.id), _message_context(message))
        if not is_silent(reply):
            await self._send(message.channel, reply, reference=message, started=started)

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
            metrics.count_reply(PLATFORM, metrics.status_reason(error.status))
            raise DeliveryError(
                f"Discord did not take the {reply.kind} for channel {channel}: {error}"
            ) from error
        metrics.count_reply(PLATFORM, None)

    async def _send(
        self,
        channel: discord.abc.Messageable,
        reply: Reply,
        *,
        reference: discord.Message | None = None,
        started: float | None = None,
    ) -> None:
        """Answer in a conversation; a failure is logged and the bot goes on with the next message."""
        try:
            await self._deliver(channel, reply, reference=reference)
        except discord.HTTPException as error:
            log.error("sending a %s reply to channel %s failed: %s", reply.kind, _channel_id(channel), error)
            metrics.count_reply(PLATFORM, metrics.status_reason(error.status))
            return
        metrics.count_reply(PLATFORM, None, None if started is None else time.monotonic() - started)

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
        started = time.monotonic()
        await self._answer(
            interaction, self.bot.command(name, args, _interaction_context(interaction)), started
        )

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Button clicks (application commands go through the command tree)."""
        if interaction.type is not discord.InteractionType.component or interaction.data is None:
            return
        started = time.monotonic()
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
            interaction,
            self.bot.action(click.action, click.value, _interaction_context(interaction)),
            started,
        )

    async def _answer(
        self, interaction: discord.Interaction, work: Awaitable[Reply], started: float | None = None
    ) -> None:
        """Answer directly when the bot is quick, else defer (type 5) within Discord's 3 s and follow up.
        A silent reply (a request over the rate limit) is not answered."""
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
            metrics.count_reply(PLATFORM, metrics.status_reason(error.status))
            task.cancel()
            return
        if is_silent(reply):
            if deferred:
                with contextlib.suppress(discord.HTTPException):
                    await interaction.delete_original_response()
            return
        await self._respond(interaction, reply, deferred=deferred, started=started)

    async def _respond(
        self, interaction: discord.Interaction, reply: Reply, *, deferred: bool, started: float | None = None
    ) -> None:
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
            metrics.count_reply(PLATFORM, metrics.status_reason(error.status))
            return
        metrics.count_reply(PLATFORM, None, None if started is None else time.monotonic() - started)


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
            await login(adapter.client, token, settings.discord_api_url)
            # The gateway reconnects by itself from here on; only logging in is a start-up step.
            await adapter.client.connect()


async def login(client: discord.Client, token: str, api_url: str) -> None:
    """Log in (one REST call): a rejected token is a SettingsError, an unreachable or failing API a
    one-line StartupError naming DISCORD_API_URL, instead of discord.py's traceback."""
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise SettingsError(
            "Discord rejected DISCORD_TOKEN: copy the bot token from the Developer Portal again"
        ) from None
    except discord.HTTPException as error:
        raise StartupError(
            f"the Discord API at {api_url} (DISCORD_API_URL) answered {error.status} to the login: "
            f"{_one_line(error.text) or error.response.reason}"
        ) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        raise StartupError(
            f"cannot reach the Discord API at {api_url} (DISCORD_API_URL): "
            f"{_one_line(str(error)) or type(error).__name__}"
        ) from None


def _one_line(message: str, limit: int = 200) -> str:
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


async def run(bot: Bot, settings: Settings) -> None:
    """`python -m bot run discord`."""
    await serve(DiscordAdapter(bot, settings))
