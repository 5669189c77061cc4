"""Slack events, slash commands and button clicks in; the bot's replies out as Block Kit.

Every listener acknowledges at once and hands the real work to a background task it keeps track
of, so Slack's 3-second deadline is always met and shutting down waits for replies in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from collections.abc import Coroutine, Iterator
from typing import Any, cast, get_args

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.dedupe import RecentKeys
from adapters.slack.managers import Managers
from adapters.slack.mrkdwn import unescape
from adapters.slack.render import SlackMessage, render
from bot.app import Bot
from bot.context import Context
from bot.conversations import conversation_key
from bot.errors import DeliveryError
from bot.replies import ActionId, Reply
from bot.service.background import background
from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
ACTIONS: tuple[ActionId, ...] = get_args(ActionId)
_ACTION_ID = re.compile(rf"^({'|'.join(ACTIONS)}):\d+$")
_DELIVERY_ERRORS = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError, ValueError)
SHUTDOWN_GRACE = 10.0


def _retry_handlers() -> list[AsyncRetryHandler]:
    """Wait out 429s (Retry-After) and retry a dropped connection once, instead of losing a reply."""
    return [AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=3)]


class SlackAdapter:
    platform = "slack"

    def __init__(self, bot: Bot, settings: Settings) -> None:
        self.bot = bot
        self.client = AsyncWebClient(
            token=settings.secret("slack_bot_token"),
            base_url=settings.slack_api_url or DEFAULT_API_URL,
            retry_handlers=_retry_handlers(),
        )
        self.app = AsyncApp(
            name="keynote-bot",
            client=self.client,
            signing_secret=settings.secret("slack_signing_secret"),
            # Listeners only acknowledge and start a task, so running them before the response is fast
            # and makes the task exist by the time Slack (or a test) sees the acknowledgement.
            process_before_response=True,
        )
        self.managers = Managers(self.client, settings.slack_admin_user_ids)
        self.recent = RecentKeys()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_direct_message)
        self.app.command(re.compile(r"^/\S+$"))(self._on_command)
        self.app.action(_ACTION_ID)(self._on_action)

    # -- transports ---------------------------------------------------------------------------

    async def check_token(self) -> None:
        """Fail at start-up, with a clear message, when Slack rejects the bot token."""
        try:
            identity = await self.client.auth_test()
        except SlackClientError as error:
            raise SettingsError(f"Slack rejected SLACK_BOT_TOKEN: {error}") from None
        except aiohttp.ClientError as error:
            raise SettingsError(f"cannot reach the Slack API at {self.client.base_url}: {error}") from None
        log.info("connected to Slack as %s in %s", identity.get("user"), identity.get("team"))

    async def start_http(self, host: str, port: int) -> int:
        """Serve `POST /slack/events` and `GET /healthz`; returns the bound port."""
        web_app = web.Application()
        web_app.router.add_post("/slack/events", self._http_events)
        web_app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(web_app, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = int(self._runner.addresses[0][1])
        log.info("serving Slack events on http://%s:%d/slack/events", host, bound)
        return bound

    async def start_socket_mode(self, app_token: str) -> None:
        # Ask for the websocket URL here: the SDK's client would retry a rejected app token forever.
        try:
            opened = await self.client.apps_connections_open(app_token=app_token)
        except SlackClientError as error:
            raise SettingsError(f"Slack rejected SLACK_APP_TOKEN: {error}") from None
        self._socket = AsyncSocketModeHandler(self.app, app_token=app_token, web_client=self.client)
        self._socket.client.wss_uri = str(opened["url"])
        await self._socket.connect_async()
        log.info("connected to Slack in Socket Mode")

    async def _http_events(self, request: web.Request) -> web.Response:
        stamp = request.headers.get("X-Slack-Request-Timestamp")
        if stamp is not None and not stamp.strip().isdigit():
            # bolt's verifier would crash on it (a 500); it is a request Slack did not sign.
            return web.json_response({"error": "invalid request"}, status=401)
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "in_flight": len(self._tasks)})

    async def settled(self) -> None:
        """Wait for every reply in flight, including any started while waiting."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.settled(), SHUTDOWN_GRACE)

    # -- listeners: acknowledge, then answer in the background ----------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("a Slack request failed; the app goes on")

    async def _on_mention(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        thread = event.get("thread_ts") or event.get("ts")
        self._take_message(body, event, context.bot_user_id, thread, direct=False)

    async def _on_direct_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("channel_type") == "im":
            self._take_message(body, event, context.bot_user_id, event.get("thread_ts"), direct=True)

    def _take_message(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        bot_user: str | None,
        thread: str | None,
        direct: bool,
    ) -> None:
        user = event.get("user")
        if event.get("subtype") or event.get("bot_id") or not user or user == bot_user:
            return
        channel = str(event.get("channel", ""))
        keys = [
            str(body.get("event_id") or ""),
            f"message:{channel}:{event.get('ts', '')}",
            str(event.get("client_msg_id") or ""),
        ]
        if not self.recent.first_time(keys):
            log.info("ignored a repeated delivery of event %s", body.get("event_id"))
            return
        raw = str(event.get("text") or "")
        if bot_user:
            raw = raw.replace(f"<@{bot_user}>", " ")
        self._spawn(self._answer_message(unescape(raw), channel, user, thread, direct, keys))

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        self._spawn(
            self._answer_command(
                str(command.get("command", "")).lstrip("/"),
                unescape(str(command.get("text") or "")),
                str(command.get("channel_id", "")),
                str(command.get("user_id", "")),
                str(command.get("response_url", "")),
            )
        )

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._answer_action(body, action))

    # -- answering ------------------------------------------------------------------------------

    async def _context(self, channel: str | None, user: str | None, thread: str | None = None) -> Context:
        """`thread`: the thread the bot answers in, which is the conversation follow-ups continue."""
        can_manage = await self.managers.can_manage(user)
        return Context(
            platform="slack",
            channel=channel,
            user=user,
            can_manage=can_manage,
            conversation=conversation_key("slack", channel, thread, user),
        )

    async def _answer_message(
        self, text: str, channel: str, user: str, thread: str | None, direct: bool, keys: list[str]
    ) -> None:
        reply = await self.bot.message(text, await self._context(channel, user, thread))
        if reply.private and not direct:
            delivered = await self._post_ephemeral(channel, user, reply, thread)
        else:
            delivered = await self._post(channel, reply, thread)
        if not delivered:
            self.recent.forget(keys)

    async def _answer_command(self, name: str, text: str, channel: str, user: str, response_url: str) -> None:
        reply = await self.bot.command(name, text, await self._context(channel, user))
        await self._respond(response_url, reply, visible=not reply.private)

    async def _answer_action(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        name = cast(ActionId, str(action.get("action_id", "")).partition(":")[0])
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        user = (body.get("user") or {}).get("id")
        thread = (body.get("message") or {}).get("thread_ts")
        ctx = await self._context(channel, user, thread)
        reply = await self.bot.action(name, str(action.get("value", "")), ctx)
        response_url = body.get("response_url")
        message = body.get("message")
        if reply.private:
            if response_url:
                await self._respond(response_url, reply, visible=False)
            elif channel and user:
                await self._post_ephemeral(channel, user, reply, (message or {}).get("thread_ts"))
        elif message and channel and not container.get("is_ephemeral"):
            await self._post(channel, reply, message.get("thread_ts"))
        elif response_url:
            await self._respond(response_url, reply, visible=True)

    # -- delivery -------------------------------------------------------------------------------

    async def post(self, channel: str, reply: Reply) -> None:
        """Post unprompted (scheduled digests); raises DeliveryError so the scheduler can try again."""
        if not await self._post(channel, reply):
            raise DeliveryError(f"Slack did not accept the message for {channel}; see the log")

    async def _post(self, channel: str, reply: Reply, thread: str | None = None) -> bool:
        for message in render(reply):
            try:
                await self.client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread,
                    **_message_args(message),
                    link_names=False,
                    parse="none",
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except _DELIVERY_ERRORS as error:
                log.error("chat.postMessage to %s failed: %s", channel, error)
                return False
        return True

    async def _post_ephemeral(self, channel: str, user: str, reply: Reply, thread: str | None) -> bool:
        for message in render(reply):
            try:
                await self.client.chat_postEphemeral(
                    channel=channel,
                    user=user,
                    thread_ts=thread,
                    **_message_args(message),
                    link_names=False,
                    parse="none",
                )
            except _DELIVERY_ERRORS as error:
                log.error("chat.postEphemeral to %s in %s failed: %s", user, channel, error)
                return False
        return True

    async def _respond(self, response_url: str, reply: Reply, visible: bool) -> bool:
        """Answer through a command's or a click's response_url: in the channel, or only to the user."""
        webhook = AsyncWebhookClient(response_url, retry_handlers=_retry_handlers())
        for message in render(reply):
            body: dict[str, Any] = {
                "response_type": "in_channel" if visible else "ephemeral",
                "replace_original": False,
                **_message_args(message),
            }
            try:
                response = await webhook.send_dict(body)
            except _DELIVERY_ERRORS as error:
                log.error("posting to the response_url failed: %s", error)
                return False
            if response.status_code != 200:
                log.error("the response_url answered %d: %s", response.status_code, response.body[:200])
                return False
        return True


def _message_args(message: SlackMessage) -> dict[str, Any]:
    return {"text": message.text, "blocks": message.blocks} if message.blocks else {"text": message.text}


async def run(bot: Bot, settings: Settings, host: str = "0.0.0.0") -> None:
    """Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on PORT; runs until cancelled or SIGTERM."""
    adapter = SlackAdapter(bot, settings)
    try:
        await adapter.check_token()
        async with background(bot, settings, poster=adapter):
            if settings.slack_app_token is not None:
                await adapter.start_socket_mode(settings.secret("slack_app_token"))
            else:
                await adapter.start_http(host, settings.port)
            with _stop_on_sigterm() as stopping:
                await stopping.wait()
            log.info("SIGTERM: finishing the replies in flight, then stopping")
    finally:
        await adapter.close()


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[asyncio.Event]:
    """An event set by SIGTERM (what containers send), so replies in flight are finished, not cut off."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGTERM, stopping.set)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals on this platform
        yield stopping
        return
    try:
        yield stopping
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
