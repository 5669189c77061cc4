"""Slack events, slash commands and button clicks in; the bot's replies out as Block Kit.

Every listener acknowledges at once and hands the real work to a background task it keeps track
of, so Slack's 3-second deadline is always met and shutting down waits for replies in flight; only
when `MAX_ANSWERING` answers are already being worked on does an acknowledgement wait for room, never
more than two seconds (`bot.service.backlog`).

In HTTP mode the signature and timestamp are checked on the raw bytes before anything parses the body
(401 for a bad one, 400 for a signed body that is not what Slack sends), with one short log line and
no traceback; a message or mention then goes straight to its listener, everything else through bolt.
Every delivery (event, slash command, click) is answered once: its keys (event id,
message, trigger id) are remembered in this process and, with PostgreSQL, in the shared database.
Calls to Slack are retried on connection errors, 5xx and 429 (waiting out Retry-After) for up to
SLACK_RETRY_SECONDS; a reply still undelivered then is logged as lost with its event id. Calls share one
HTTP session (kept-alive connections); replies go out on it as one JSON request each, without slack_sdk's
per-call work (`_reply_call`), and the asker's admin rights are looked up only for a command.

The HTTP server binds to HOST and also serves `GET /metrics` and `GET /healthz`; replies posted and failed,
retries and the time from request to reply are counted (`bot.service.metrics`). A refused request's
silent reply (`bot.service.limits`) is not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import random
import re
import signal
import time
from collections.abc import Coroutine, Iterator
from typing import Any, cast, get_args
from urllib.parse import urljoin

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.web.internal_utils import get_user_agent
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.dedupe import Deliveries
from adapters.slack.managers import Managers, Profile
from adapters.slack.mrkdwn import unescape
from adapters.slack.render import SlackMessage, render
from bot.app import Bot
from bot.context import Context, Delivery
from bot.conversations import conversation_key
from bot.errors import DeliveryError
from bot.replies import ActionId, Reply
from bot.service import metrics
from bot.service.background import background
from bot.service.backlog import Backlog
from bot.service.endpoints import Endpoints
from bot.service.health import PlatformStatus
from bot.service.limits import is_silent
from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
ACTIONS: tuple[ActionId, ...] = get_args(ActionId)
_ACTION_ID = re.compile(rf"^({'|'.join(ACTIONS)}):\d+$")
_DELIVERY_ERRORS = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError, ValueError)
SHUTDOWN_GRACE = 10.0
MAX_CLOCK_SKEW = 300
"""Seconds a signed request's timestamp may differ from now (Slack's own rule): older ones are replays."""
_TIMESTAMP = re.compile(rb"[0-9]{1,12}")
"""ASCII digits only: `str.isdigit()` also takes `²³` and other digits int() chokes on."""
_SIGNATURE = re.compile(rb"v0=[0-9a-f]{64}")
DIGEST_EVENT = "keynote_digest"
"""The metadata event type on scheduled digests, so a retry can find one that already went out."""
HISTORY_LIMIT = 100
API_TIMEOUT = 30.0
"""Seconds one call to Slack may take (slack_sdk's own default)."""
PLATFORM = "slack"
APP_LOST = ("app_uninstalled", "tokens_revoked")
"""Events after which the bot can post nowhere in the workspace: every digest is paused."""
CHANNEL_LOST = ("channel_archive", "channel_deleted", "group_archive", "group_deleted")
"""Events after which the bot cannot post in the channel (`group_*`: private channels)."""
CHANNEL_BACK = ("channel_unarchive", "group_unarchive")


class SlackRetry(AsyncRetryHandler):
    """Retry a call to Slack on a dropped connection, a 5xx or a 429 for up to `budget` seconds.

    A 429 waits exactly as long as Slack's Retry-After asks; other failures back off exponentially
    (with jitter) from `base` seconds. A retry that would end after the budget is not made: the caller
    gets the last error and logs the loss. slack_sdk's own handlers retry a 429 three times and a 5xx
    never, which lost replies on one 500 or four 429s in a row.
    """

    def __init__(self, budget: float, base: float = 0.25, cap: float = 8.0) -> None:
        super().__init__(max_retry_count=1000)
        self.budget = budget
        self.base = base
        self.cap = cap

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is not None:
            retriable = isinstance(error, aiohttp.ClientConnectionError | asyncio.TimeoutError)
        else:
            retriable = response is not None and (response.status_code == 429 or response.status_code >= 500)
        if not retriable:
            return False
        values = state.custom_values if state.custom_values is not None else {}
        state.custom_values = values
        started = values.setdefault("started", time.monotonic())
        wait = self._wait(state.current_attempt, response)
        values["wait"] = wait
        if time.monotonic() - started + wait > self.budget:
            return False
        metrics.count_retry(
            PLATFORM, "connection" if response is None else metrics.status_reason(response.status_code)
        )
        return True

    def _wait(self, attempt: int, response: HttpResponse | None) -> float:
        if response is not None and response.status_code == 429:
            for name, values in response.headers.items():
                if name.lower() == "retry-after" and values:
                    with contextlib.suppress(ValueError):
                        return max(0.0, float(values[0]))
            return 1.0
        return min(self.cap, self.base * 2**attempt) * (0.5 + random.random() / 2)

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await asyncio.sleep(float((state.custom_values or {}).get("wait", self.base)))
        state.increment_current_attempt()


def _retry_handlers(budget: float) -> list[AsyncRetryHandler]:
    return [SlackRetry(budget)]


def signature_problem(raw: bytes, timestamp: str | None, signature: str | None, secret: bytes) -> str | None:
    """Why a request is not signed by Slack (None when it is), from the raw bytes and the two headers."""
    stamp = (timestamp or "").encode("utf-8", "replace").strip()
    if not _TIMESTAMP.fullmatch(stamp):
        return "no valid X-Slack-Request-Timestamp"
    if abs(time.time() - int(stamp)) > MAX_CLOCK_SKEW:
        return "stale X-Slack-Request-Timestamp"
    given = (signature or "").encode("utf-8", "replace").strip()
    if not _SIGNATURE.fullmatch(given):
        return "no valid X-Slack-Signature"
    expected = b"v0=" + hmac.new(secret, b"v0:" + stamp + b":" + raw, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, given):
        return "wrong X-Slack-Signature"
    return None


@functools.lru_cache(maxsize=16)
def _api_url(base: str, method: str) -> str:
    """A Web API method's URL, joined as slack_sdk joins it (once: urljoin was 2% of the bot's CPU)."""
    return urljoin(base, method)


def _bolt_request(request: web.Request, body: str) -> AsyncBoltRequest:
    return AsyncBoltRequest(body=body, query=request.query_string, headers=dict(request.headers))


def _malformed(raw: str, body: object) -> str | None:
    """Why a signed body (`raw`, parsed: `body`) is not one Slack sends, or None: a JSON object, with an
    object for `event`."""
    if not raw.strip():
        return "the body is empty"
    if not isinstance(body, dict):
        return f"the body is a {type(body).__name__}, not an object"
    if "event" in body and not isinstance(body["event"], dict):
        return "`event` is not an object"
    for key in ("user", "channel", "container", "message", "team"):
        if key in body and not isinstance(body[key], dict | str | type(None)):
            return f"`{key}` has the wrong type"
    if "actions" in body and not (
        isinstance(body["actions"], list) and all(isinstance(a, dict) for a in body["actions"])
    ):
        return "`actions` is not a list of objects"
    return None


class SlackAdapter:
    platform = "slack"

    def __init__(self, bot: Bot, settings: Settings) -> None:
        self.bot = bot
        self.retry_seconds = settings.slack_retry_seconds
        self._signing_secret = settings.secret("slack_signing_secret").encode()
        # The token goes to bolt, which builds the Web API client from it; the client is then pointed at
        # SLACK_API_URL with our retries. Handing bolt a client instead makes it also read SLACK_BOT_TOKEN
        # from the environment and log "As you gave `client` as well, `token` will be unused" every start.
        self.app = AsyncApp(
            name="keynote-bot",
            token=settings.secret("slack_bot_token"),
            signing_secret=settings.secret("slack_signing_secret"),
            # Listeners only acknowledge and start a task, so running them before the response is fast
            # and makes the task exist by the time Slack (or a test) sees the acknowledgement.
            process_before_response=True,
            # `_http_events` checks the signature on the raw bytes before bolt sees the request; bolt's own
            # check would compute the same HMAC again on every request (Socket Mode has none to check).
            request_verification_enabled=False,
        )
        self.client: AsyncWebClient = self.app.client
        self.client.base_url = settings.slack_api_url or DEFAULT_API_URL
        self.client.retry_handlers = _retry_handlers(self.retry_seconds)
        self.managers = Managers(self.client, settings.slack_admin_user_ids)
        self.deliveries = Deliveries(bot.storage, settings.dedupe_ttl_seconds)
        self.backlog = Backlog()
        self._history_refused = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._session: aiohttp.ClientSession | None = None
        self._user_agent = get_user_agent()
        self._bot_user: str | None = None
        """The bot's own user id (auth.test), once known: HTTP events then skip bolt (`_http_events`)."""
        self._identity_lock = asyncio.Lock()
        self._closing = False
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_direct_message)
        self.app.command(re.compile(r"^/\S+$"))(self._on_command)
        self.app.action(_ACTION_ID)(self._on_action)
        for lost in APP_LOST:
            self.app.event(lost)(self._on_app_lost)
        for lost in CHANNEL_LOST:
            self.app.event(lost)(self._on_channel_lost)
        for back in CHANNEL_BACK:
            self.app.event(back)(self._on_channel_back)
        self.app.event("member_left_channel")(self._on_member_left)
        self.app.event("member_joined_channel")(self._on_member_joined)

    # -- transports ---------------------------------------------------------------------------

    def _open_session(self) -> None:
        """One HTTP session for every call to Slack (made on the running loop): connections are kept
        alive instead of opened for each call, as slack_sdk does without a session."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=API_TIMEOUT))
            self.client.session = self._session

    async def check_token(self) -> None:
        """Fail at start-up, with a clear message, when Slack rejects the bot token."""
        self._open_session()
        try:
            identity = await self.client.auth_test()
        except SlackClientError as error:
            raise SettingsError(f"Slack rejected SLACK_BOT_TOKEN: {error}") from None
        except aiohttp.ClientError as error:
            raise SettingsError(f"cannot reach the Slack API at {self.client.base_url}: {error}") from None
        log.info("connected to Slack as %s in %s", identity.get("user"), identity.get("team"))
        self._bot_user = str(identity.get("user_id") or "") or None
        # A token that works again means the app is installed again: its paused digests go on.
        await self._resume(None, reasons=APP_LOST)

    async def start_http(self, host: str, port: int) -> int:
        """Serve `POST /slack/events`, `GET /healthz` and `GET /metrics`; returns the bound port."""
        self._open_session()
        web_app = web.Application()
        web_app.router.add_post("/slack/events", self._http_events)
        Endpoints(self.bot, self).add_routes(web_app)
        self._runner = web.AppRunner(web_app, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = int(self._runner.addresses[0][1])
        log.info("serving Slack events on http://%s:%d/slack/events", host, bound)
        return bound

    async def start_socket_mode(self, app_token: str) -> None:
        # Ask for the websocket URL here: the SDK's client would retry a rejected app token forever.
        self._open_session()
        try:
            opened = await self.client.apps_connections_open(app_token=app_token)
        except SlackClientError as error:
            raise SettingsError(f"Slack rejected SLACK_APP_TOKEN: {error}") from None
        self._socket = AsyncSocketModeHandler(self.app, app_token=app_token, web_client=self.client)
        self._socket.client.wss_uri = str(opened["url"])
        await self._socket.connect_async()
        log.info("connected to Slack in Socket Mode")

    async def _http_events(self, request: web.Request) -> web.Response:
        """Verify on the raw bytes, then parse, then hand to bolt: nothing unsigned is ever parsed."""
        raw = await request.read()
        problem = signature_problem(
            raw,
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get("X-Slack-Signature"),
            self._signing_secret,
        )
        if problem is not None:
            log.warning("refused an unsigned Slack request from %s: %s", request.remote, problem)
            return web.json_response({"error": "invalid signature"}, status=401)
        bolt_request: AsyncBoltRequest | None = None
        try:
            text = raw.decode("utf-8")
            # A message or mention (nearly every request) is parsed here, as bolt would parse it, and
            # needs no bolt request: building one normalised every header and a context for nothing.
            body: Any = json.loads(text) if request.content_type == "application/json" else None
            if not _message_event(body):
                bolt_request = _bolt_request(request, text)
                body = bolt_request.body
            problem = _malformed(text, body)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as error:
            problem = f"{type(error).__name__} while parsing it"
        if problem is not None:
            log.warning("refused a malformed signed Slack request: %s", problem)
            return web.json_response({"error": "malformed request"}, status=400)
        if bolt_request is None and await self._identity():
            return await self._message_event(body)
        try:
            # the bot's user id unknown: a message too goes to bolt, which asks for it
            response = await self.app.async_dispatch(bolt_request or _bolt_request(request, text))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as error:
            log.warning("refused a malformed signed Slack request: %s in dispatch", type(error).__name__)
            return web.json_response({"error": "malformed request"}, status=400)
        return await to_aiohttp_response(response)

    async def _identity(self) -> bool:
        """Whether the bot's user id is known: from `check_token`, else asked once, as bolt would on
        the first event (a failure leaves the event to bolt, which asks again)."""
        if self._bot_user is None:
            async with self._identity_lock:
                if self._bot_user is None:
                    with contextlib.suppress(*_DELIVERY_ERRORS):
                        self._bot_user = str((await self.client.auth_test()).get("user_id") or "") or None
        return self._bot_user is not None

    async def _message_event(self, body: dict[str, Any]) -> web.Response:
        """A message or mention straight to its listener, acknowledged as bolt does (200, empty).

        Bolt's dispatch for these did nothing the listener needs (its authorization repeats the start's
        auth.test answer; the listener drops the bot's own messages itself) but cost about a tenth of
        the bot's time per question: a new Web API client per request and every listener matched by
        introspection. A listener that raises is logged and answered 500, as bolt does."""
        event = body["event"]
        try:
            if event.get("type") == "app_mention":
                await self._on_mention(body, event, self._bot_user)
            else:
                await self._on_direct_message(body, event, self._bot_user)
        except Exception:
            log.exception("a Slack event listener failed")
            return web.Response(status=500)
        return web.Response(status=200, text="")

    async def status(self) -> PlatformStatus:
        """The connection, for `/healthz`: serving HTTP, or the Socket Mode websocket up."""
        in_flight = len(self._tasks)
        if self._closing:
            return PlatformStatus(False, "shutting down: finishing the replies in flight", in_flight)
        if self._socket is not None:
            if await self._socket.client.is_connected():
                return PlatformStatus(True, "connected to Slack in Socket Mode", in_flight)
            return PlatformStatus(False, "the Socket Mode connection is down; reconnecting", in_flight)
        if self._runner is not None:
            return PlatformStatus(True, "serving Slack events over HTTP", in_flight)
        return PlatformStatus(False, "not connected to Slack yet", in_flight)

    async def settled(self) -> None:
        """Wait for every reply in flight, including any started while waiting."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        self._closing = True
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.settled(), SHUTDOWN_GRACE)
        if self._session is not None:
            await self._session.close()

    # -- listeners: acknowledge, then answer in the background ----------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_later(self, work: Coroutine[Any, Any, None]) -> None:
        """Start answering a request once the backlog has room (`bot.service.backlog`): the listener's
        acknowledgement goes out when this returns."""
        await self.backlog.room()
        self.backlog.started()
        task = asyncio.create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._answered)

    def _answered(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.backlog.finished()

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("a Slack request failed; the app goes on")

    async def _on_mention(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext | str | None
    ) -> None:
        """`context`: bolt's, or the bot's user id (`_message_event`)."""
        thread = event.get("thread_ts") or event.get("ts")
        await self._take_message(body, event, _bot_user(context), thread, direct=False)

    async def _on_direct_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext | str | None
    ) -> None:
        if event.get("channel_type") == "im":
            await self._take_message(body, event, _bot_user(context), event.get("thread_ts"), direct=True)

    async def _take_message(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        bot_user: str | None,
        thread: str | None,
        direct: bool,
    ) -> None:
        started = time.monotonic()
        user = event.get("user")
        if event.get("subtype") or event.get("bot_id") or not user or user == bot_user:
            return
        channel = str(event.get("channel", ""))
        event_id = str(body.get("event_id") or "")
        keys = [
            f"slack:event:{event_id}" if event_id else "",
            f"slack:message:{channel}:{event.get('ts', '')}",
            f"slack:client_msg:{event['client_msg_id']}" if event.get("client_msg_id") else "",
        ]
        if not self.deliveries.first_here(keys):
            log.info("ignored a repeated delivery of event %s", event_id)
            return
        raw = str(event.get("text") or "")
        if bot_user:
            raw = raw.replace(f"<@{bot_user}>", " ")
        await self._answer_later(
            self._answer_message(
                unescape(raw), channel, str(user), thread, direct, keys, event_id or "?", started
            )
        )

    # -- losing and regaining where digests go -------------------------------------------------

    async def _on_app_lost(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type", "app_uninstalled"))
        if kind == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return  # only user tokens were revoked; the bot still posts
        self._spawn(self._pause(None, kind))

    async def _on_channel_lost(self, event: dict[str, Any]) -> None:
        channel = event.get("channel")
        if isinstance(channel, str) and channel:
            self._spawn(self._pause([channel], str(event.get("type", "channel_archive"))))

    async def _on_channel_back(self, event: dict[str, Any]) -> None:
        channel = event.get("channel")
        if isinstance(channel, str) and channel:
            self._spawn(self._resume([channel]))

    async def _on_member_left(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        channel = event.get("channel")
        if event.get("user") == context.bot_user_id and isinstance(channel, str) and channel:
            self._spawn(self._pause([channel], "member_left_channel"))

    async def _on_member_joined(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        channel = event.get("channel")
        if event.get("user") == context.bot_user_id and isinstance(channel, str) and channel:
            self._spawn(self._resume([channel]))

    async def _pause(self, channels: list[str] | None, reason: str) -> None:
        """Put digests on hold where the bot can no longer post, instead of failing every slot."""
        storage = self.bot.storage
        if storage is None:
            return
        paused = await storage.call(storage.pause_subscriptions, PLATFORM, channels, reason)
        if paused:
            where = "every channel" if channels is None else ", ".join(channels)
            log.warning("%s: paused %d digest subscription(s) in %s", reason, paused, where)

    async def _resume(self, channels: list[str] | None, reasons: tuple[str, ...] | None = None) -> None:
        storage = self.bot.storage
        if storage is None:
            return
        resumed = await storage.call(
            storage.resume_subscriptions, PLATFORM, channels, self.bot.clock(), reasons
        )
        if resumed:
            where = "every channel" if channels is None else ", ".join(channels)
            log.info("resumed %d paused digest subscription(s) in %s", resumed, where)

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        started = time.monotonic()
        await ack()
        keys = _request_keys(command)
        name = str(command.get("command", ""))
        if not self.deliveries.first_here(keys):
            log.info("ignored a repeated %s command (trigger %s)", name, command.get("trigger_id"))
            return
        await self._answer_later(
            self._answer_command(
                name.lstrip("/"),
                unescape(str(command.get("text") or "")),
                str(command.get("channel_id", "")),
                str(command.get("user_id", "")),
                str(command.get("response_url", "")),
                keys,
                started,
            )
        )

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        started = time.monotonic()
        await ack()
        keys = _request_keys(body)
        if not self.deliveries.first_here(keys):
            log.info("ignored a repeated click (trigger %s)", body.get("trigger_id"))
            return
        await self._answer_later(self._answer_action(body, action, keys, started))

    # -- answering ------------------------------------------------------------------------------

    async def _context(
        self,
        channel: str | None,
        user: str | None,
        keys: list[str],
        thread: str | None = None,
        manage: bool = True,
    ) -> Context:
        """`keys`: the delivery's, which the bot claims in every replica (`bot.service.admission`).
        `thread`: the thread the bot answers in, which is the conversation follow-ups continue.
        `manage`: the request is a command, which may need the asker's admin rights and, with no words
        to tell the language from (a bare `/digest`), their Slack locale; a question needs neither, and
        skips the users.info call."""
        profile = await self.managers.profile(user) if manage else Profile()
        return Context(
            platform="slack",
            channel=channel,
            user=user,
            can_manage=profile.can_manage,
            conversation=conversation_key("slack", channel, thread, user),
            language=profile.language,
            delivery=Delivery(tuple(key for key in keys if key), self.deliveries.ttl),
        )

    async def _answer_message(
        self,
        text: str,
        channel: str,
        user: str,
        thread: str | None,
        direct: bool,
        keys: list[str],
        event_id: str,
        started: float,
    ) -> None:
        # Only a line that reads as a command ("/digest subscribe ...") can need the asker's rights.
        context = await self._context(channel, user, keys, thread, manage="/" in text)
        reply = await self.bot.message(text, context)
        if is_silent(reply):
            return
        if reply.private and not direct:
            delivered = await self._post_ephemeral(channel, user, reply, thread, started)
        else:
            delivered = await self._post(channel, reply, thread, started=started)
        if not delivered:
            log.error(
                "the reply to event %s is lost: Slack did not take it within %gs of retries; "
                "a redelivery of the event may still answer it",
                event_id,
                self.retry_seconds,
            )
            await self.deliveries.forget(keys)

    async def _answer_command(
        self,
        name: str,
        text: str,
        channel: str,
        user: str,
        response_url: str,
        keys: list[str],
        started: float,
    ) -> None:
        reply = await self.bot.command(name, text, await self._context(channel, user, keys))
        if is_silent(reply):
            return
        if not await self._respond(response_url, reply, visible=not reply.private, started=started):
            log.error("the reply to a /%s command is lost after %gs of retries", name, self.retry_seconds)

    async def _answer_action(
        self, body: dict[str, Any], action: dict[str, Any], keys: list[str], started: float
    ) -> None:
        name = cast(ActionId, str(action.get("action_id", "")).partition(":")[0])
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        user = (body.get("user") or {}).get("id")
        thread = (body.get("message") or {}).get("thread_ts")
        ctx = await self._context(channel, user, keys, thread)
        reply = await self.bot.action(name, str(action.get("value", "")), ctx)
        if is_silent(reply):
            return
        response_url = body.get("response_url")
        message = body.get("message")
        if reply.private:
            if response_url:
                await self._respond(response_url, reply, visible=False, started=started)
            elif channel and user:
                await self._post_ephemeral(channel, user, reply, (message or {}).get("thread_ts"), started)
        elif message and channel and not container.get("is_ephemeral"):
            await self._post(channel, reply, message.get("thread_ts"), started=started)
        elif response_url:
            await self._respond(response_url, reply, visible=True, started=started)

    # -- delivery -------------------------------------------------------------------------------

    async def post(self, channel: str, reply: Reply) -> None:
        """Post unprompted (scheduled digests); raises DeliveryError so the scheduler can try again."""
        if not await self._post(channel, reply):
            raise DeliveryError(f"Slack did not accept the message for {channel}; see the log")

    async def post_once(self, channel: str, reply: Reply, key: str) -> None:
        """Post a scheduled digest unless the channel's recent history already holds one with `key`.

        The key travels in the message's metadata, so a post that Slack accepted but whose outcome
        this bot never learned (a crash, a timeout) is found and not posted again.
        """
        if await self._already_posted(channel, key):
            log.info("digest %s is already in %s; not posting it again", key, channel)
            return
        metadata = {"event_type": DIGEST_EVENT, "event_payload": {"key": key}}
        if not await self._post(channel, reply, metadata=metadata):
            raise DeliveryError(f"Slack did not accept the message for {channel}; see the log")

    async def _already_posted(self, channel: str, key: str) -> bool:
        """Whether the channel's latest messages include one of ours carrying `key` in its metadata."""
        try:
            history = await self.client.conversations_history(
                channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True
            )
        except _DELIVERY_ERRORS as error:
            if not self._history_refused:
                log.warning(
                    "cannot read the history of %s (%s): a digest whose post was interrupted may be "
                    "posted twice; the app needs the channels:history and groups:history scopes",
                    channel,
                    error,
                )
            self._history_refused = True
            return False
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == DIGEST_EVENT and payload.get("key") == key:
                return True
        return False

    async def _post(
        self,
        channel: str,
        reply: Reply,
        thread: str | None = None,
        metadata: dict[str, Any] | None = None,
        started: float | None = None,
    ) -> bool:
        """Post a reply, counted as posted (with the time since `started`) or failed; True if posted."""
        for message in render(reply):
            extra: dict[str, Any] = {"metadata": metadata} if metadata else {}
            try:
                await self._reply_call(
                    "chat.postMessage",
                    {
                        "channel": channel,
                        "thread_ts": thread,
                        **_message_args(message),
                        "link_names": False,
                        "parse": "none",
                        "unfurl_links": False,
                        "unfurl_media": False,
                        **extra,
                    },
                )
            except _DELIVERY_ERRORS as error:
                log.error("chat.postMessage to %s failed: %s", channel, error)
                metrics.count_reply(PLATFORM, _reason(error))
                return False
        _posted(started)
        return True

    async def _reply_call(self, method: str, args: dict[str, Any]) -> None:
        """`chat.postMessage` or `chat.postEphemeral` with a JSON body, on the shared session.

        What slack_sdk's client does for every call (the URL joined, the arguments walked for Block Kit
        objects and None values, a deprecation table looked up, debug logging checked) cost 0.15 ms of
        CPU per reply, a tenth of the bot's time per question under load, for replies that are plain
        dicts already. The request, the retries (`SlackRetry`, through slack_sdk's retry interface) and
        the error raised when Slack refuses (slack_sdk's own `SlackApiError`) are the same."""
        self._open_session()  # posting before serving: a digest in tests, say
        assert self._session is not None
        url = _api_url(self.client.base_url, method)
        headers = {
            "Authorization": f"Bearer {self.client.token}",
            "Content-Type": "application/json;charset=utf-8",
            "User-Agent": self._user_agent,
        }
        body = json.dumps({key: value for key, value in args.items() if value is not None}).encode()
        retry = SlackRetry(self.retry_seconds)
        state = RetryState()
        request = HttpRequest(method="POST", url=url, headers=headers, data=body)
        while True:
            state.next_attempt_requested = False
            try:
                async with self._session.post(url, data=body, headers=headers) as response:
                    status = response.status
                    response_headers: dict[str, str | list[str]] = dict(response.headers)
                    raw = await response.read()
            except (TimeoutError, aiohttp.ClientError) as error:
                if not await retry.can_retry_async(state=state, request=request, error=error):
                    raise
                await retry.prepare_for_next_attempt_async(state=state, request=request, error=error)
                continue
            try:
                data = json.loads(raw)
            except ValueError:  # a proxy's error page, say: its status decides, as in slack_sdk
                data = None
            retried = HttpResponse(
                status_code=status, headers=response_headers, body=data if isinstance(data, dict) else None
            )
            if not await retry.can_retry_async(state=state, request=request, response=retried):
                break
            await retry.prepare_for_next_attempt_async(state=state, request=request, response=retried)
        AsyncSlackResponse(
            client=self.client,
            http_verb="POST",
            api_url=url,
            req_args={},
            data=data if isinstance(data, dict) else {},
            headers=response_headers,
            status_code=status,
        ).validate()

    async def _post_ephemeral(
        self, channel: str, user: str, reply: Reply, thread: str | None, started: float | None = None
    ) -> bool:
        for message in render(reply):
            try:
                await self._reply_call(
                    "chat.postEphemeral",
                    {
                        "channel": channel,
                        "user": user,
                        "thread_ts": thread,
                        **_message_args(message),
                        "link_names": False,
                        "parse": "none",
                    },
                )
            except _DELIVERY_ERRORS as error:
                log.error("chat.postEphemeral to %s in %s failed: %s", user, channel, error)
                metrics.count_reply(PLATFORM, _reason(error))
                return False
        _posted(started)
        return True

    async def _respond(
        self, response_url: str, reply: Reply, visible: bool, started: float | None = None
    ) -> bool:
        """Answer through a command's or a click's response_url: in the channel, or only to the user."""
        webhook = AsyncWebhookClient(
            response_url, session=self._session, retry_handlers=_retry_handlers(self.retry_seconds)
        )
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
                metrics.count_reply(PLATFORM, _reason(error))
                return False
            if response.status_code != 200:
                log.error("the response_url answered %d: %s", response.status_code, response.body[:200])
                metrics.count_reply(PLATFORM, metrics.status_reason(response.status_code))
                return False
        _posted(started)
        return True


def _message_event(body: object) -> bool:
    """An Events API message or mention: what `SlackAdapter._message_event` takes without bolt."""
    if not isinstance(body, dict) or body.get("type") != "event_callback":
        return False
    event = body.get("event")
    return isinstance(event, dict) and event.get("type") in ("app_mention", "message")


def _bot_user(context: AsyncBoltContext | str | None) -> str | None:
    return context.bot_user_id if isinstance(context, AsyncBoltContext) else context


def _request_keys(body: dict[str, Any]) -> list[str]:
    """A slash command's or a click's delivery keys: its trigger id (unique per invocation), else a
    hash of the whole request, so the same signed request replayed is recognised either way."""
    trigger = str(body.get("trigger_id") or "")
    if trigger:
        return [f"slack:trigger:{trigger}"]
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=True, default=str)
    return [f"slack:request:{hashlib.sha256(canonical.encode()).hexdigest()}"]


def _posted(started: float | None) -> None:
    metrics.count_reply(PLATFORM, None, None if started is None else time.monotonic() - started)


def _reason(error: Exception) -> str:
    """Why a call to Slack failed, as one of the fixed reason words (never Slack's own message)."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        return "refused" if status == 200 else metrics.status_reason(status)
    if isinstance(error, asyncio.TimeoutError):
        return "timeout"
    if isinstance(error, aiohttp.ClientError):
        return "connection"
    return "other"


def _message_args(message: SlackMessage) -> dict[str, Any]:
    return {"text": message.text, "blocks": message.blocks} if message.blocks else {"text": message.text}


async def run(bot: Bot, settings: Settings, host: str | None = None) -> None:
    """Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on HOST:PORT; runs until cancelled or SIGTERM.

    In HTTP mode `/metrics` and `/healthz` are served beside `/slack/events` too, so METRICS_PORT equal
    to PORT adds no second server."""
    adapter = SlackAdapter(bot, settings)
    http = settings.slack_app_token is None
    own_endpoints = not (http and settings.metrics_port == settings.port)
    try:
        await adapter.check_token()
        async with background(bot, settings, poster=adapter, endpoints=own_endpoints):
            if not http:
                await adapter.start_socket_mode(settings.secret("slack_app_token"))
            else:
                await adapter.start_http(host or settings.host, settings.port)
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
