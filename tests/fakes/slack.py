"""A fake Slack on 127.0.0.1: the Web API under /api/{method}, response_url endpoints, Socket Mode.

The real slack_sdk clients run against it unchanged (base_url points here, apps.connections.open hands
out the websocket), so tests assert on exactly what the adapter sent to Slack.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import WSMsgType, web
from slack_sdk.signature import SignatureVerifier

from bot.settings import Settings

TEAM_ID = "T0KEYNOTE"
BOT_USER_ID = "UBOT00001"
BOT_ID = "BBOT00001"
USER_ID = "UUSER0001"
ADMIN_ID = "UADMIN001"
OWNER_ID = "UOWNER001"
ZH_USER_ID = "UZHUSER01"
"""A member whose Slack language is Chinese (users.info `locale` zh-CN)."""
CHANNEL_ID = "C0GENERAL"
DM_CHANNEL_ID = "D0DIRECT1"


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake received it, with the HTTP status it answered."""

    method: str
    params: dict[str, Any]
    status: int
    ok: bool


@dataclass(frozen=True)
class Canned:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str]


def _user(user_id: str, *, admin: bool = False, owner: bool = False, locale: str = "en-US") -> dict[str, Any]:
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": user_id.lower(),
        "is_admin": admin,
        "is_owner": owner,
        "locale": locale,
    }


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.response_statuses: dict[str, list[int]] = defaultdict(list)
        self._failing_responses: dict[str, deque[int]] = defaultdict(deque)
        self.acks: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {
            USER_ID: _user(USER_ID),
            ADMIN_ID: _user(ADMIN_ID, admin=True),
            OWNER_ID: _user(OWNER_ID, owner=True),
            ZH_USER_ID: _user(ZH_USER_ID, locale="zh-CN"),
        }
        self.connections = 0
        self.held: dict[str, asyncio.Event] = {}
        """Methods whose calls are accepted and recorded at once but answered only when the event is set
        (a slow Slack, or one whose answer never reaches a bot killed meanwhile)."""
        self.waiting = 0
        """Calls accepted and held, not yet answered."""
        self.history: dict[str, list[dict[str, Any]]] = defaultdict(list)
        """Per channel, the messages Slack accepted, oldest first, as conversations.history returns them."""
        self._canned: dict[str, deque[Canned]] = defaultdict(deque)
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.port}/response/{key}"

    # -- scripting and inspection --------------------------------------------------------------

    def fail_next(
        self, method: str, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None
    ) -> None:
        """The next call of `method` gets this answer instead of the normal one."""
        self._canned[method].append(Canned(status, body, headers or {}))

    def fail_next_response(self, key: str, status: int) -> None:
        """The next post to response_url `key` gets this HTTP status (and is not taken)."""
        self._failing_responses[key].append(status)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def posted(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        """The messages Slack accepted: successful calls of `method`."""
        return [call.params for call in self.calls_to(method) if call.ok]

    def responses_to(self, key: str) -> list[dict[str, Any]]:
        return [body for k, body in self.responses if k == key]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(condition)

        await asyncio.wait_for(until(), timeout)

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope over the connected websocket."""
        await self.wait_for(lambda: any(not ws.closed for ws in self._sockets))
        socket = next(ws for ws in self._sockets if not ws.closed)
        await socket.send_str(json.dumps(envelope))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- handlers -------------------------------------------------------------------------------

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if request.content_type == "application/json":
            params: dict[str, Any] = json.loads(raw) if raw else {}
        else:
            params = dict(parse_qsl(raw))
        params.update(request.query)
        for key in ("blocks", "metadata"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://keynote.example/",
                "team": "Keynote",
                "user": "keynote-bot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            if str(params.get("include_locale")).lower() not in ("true", "1"):
                user = {k: v for k, v in user.items() if k != "locale"}  # as Slack: only when asked
            return {"ok": True, "user": user}
        if method == "apps.connections.open":
            self.connections += 1
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        if method == "chat.postMessage":
            ts = f"1764700000.{next(self._ts):06d}"
            message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts}
            message.update({k: params[k] for k in ("text", "blocks", "thread_ts") if params.get(k)})
            if isinstance(params.get("metadata"), dict):
                message["metadata"] = params["metadata"]
            self.history[str(params.get("channel"))].append(message)
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
        if method == "conversations.history":
            messages = list(reversed(self.history.get(str(params.get("channel")), [])))
            if str(params.get("include_all_metadata")).lower() not in ("true", "1"):
                messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
            limit = int(params.get("limit") or 100)
            return {"ok": True, "messages": messages[:limit], "has_more": len(messages) > limit}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1764700000.{next(self._ts):06d}"}
        return {"ok": True}

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if self._canned[method]:
            canned = self._canned[method].popleft()
            ok = isinstance(canned.body, dict) and bool(canned.body.get("ok")) and canned.status == 200
            self.calls.append(Call(method, params, canned.status, ok))
            await self._notify()
            if isinstance(canned.body, dict):
                return web.json_response(canned.body, status=canned.status, headers=canned.headers)
            return web.Response(text=canned.body, status=canned.status, headers=canned.headers)
        body = self._answer(method, params)
        self.calls.append(Call(method, params, 200, bool(body["ok"])))
        await self._notify()
        gate = self.held.get(method)
        if gate is not None:
            self.waiting += 1
            await self._notify()
            try:
                await gate.wait()
            finally:
                self.waiting -= 1
        return web.json_response(body)

    async def _response_url(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        if self._failing_responses[key]:
            status = self._failing_responses[key].popleft()
            self.response_statuses[key].append(status)
            await self._notify()
            return web.Response(text="failed", status=status)
        self.responses.append((key, await request.json()))
        self.response_statuses[key].append(200)
        await self._notify()
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(
            json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        )
        await self._notify()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
                await self._notify()
        await self._notify()
        return ws


# -- the app's settings, pointed at the fake -----------------------------------------------------

SIGNING_SECRET = "fake-signing-secret"
CONFIGURED_MANAGER = "UCONFIG01"


def slack_settings(slack: FakeSlack, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-fake",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": None,
        "slack_api_url": slack.api_url,
        "slack_admin_user_ids": [CONFIGURED_MANAGER],
        "knowledge_poll_seconds": 60,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# -- what Slack sends to the app ----------------------------------------------------------------

_event_ids = itertools.count(1)
_trigger_ids = itertools.count(1)


def next_trigger_id() -> str:
    """Slack gives every slash command and click its own trigger id, as these builders do."""
    return f"1764690000.{next(_trigger_ids):06d}.abcdef"


async def wait_healthy(
    session: aiohttp.ClientSession, url: str, alive: Callable[[], bool] = lambda: True
) -> None:
    """Until the bot's HTTP mode answers GET /healthz; fails if the bot stops first."""
    while alive():
        try:
            async with session.get(f"{url}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the bot stopped before serving")


def sign(body: str | bytes, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The headers Slack signs an HTTP request with (over the exact bytes, when given bytes)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    if isinstance(body, bytes):
        digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "unused",
        "team_id": TEAM_ID,
        "api_app_id": "A0KEYNOTE",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": 1764690000,
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def mention(
    text: str,
    ts: str = "1764690000.000100",
    thread_ts: str | None = None,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
) -> dict[str, Any]:
    """An app_mention event for `@keynote-bot text`."""
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "client_msg_id": f"msg-{channel}-{ts}",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event_callback(event)


def direct_message(text: str, ts: str = "1764690000.000200", **extra: Any) -> dict[str, Any]:
    """A message.im event: `extra` adds or overrides keys such as subtype, bot_id or user."""
    event = {
        "type": "message",
        "channel_type": "im",
        "user": USER_ID,
        "text": text,
        "ts": ts,
        "channel": DM_CHANNEL_ID,
        "event_ts": ts,
        "client_msg_id": f"msg-{DM_CHANNEL_ID}-{ts}",
        **extra,
    }
    return event_callback(event)


def slash_command(command: str, text: str, response_url: str, user: str = USER_ID) -> dict[str, str]:
    return {
        "token": "unused",
        "team_id": TEAM_ID,
        "team_domain": "keynote",
        "channel_id": CHANNEL_ID,
        "channel_name": "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0KEYNOTE",
        "response_url": response_url,
        "trigger_id": next_trigger_id(),
    }


def block_actions(
    action_id: str,
    value: str,
    response_url: str,
    message_thread_ts: str | None = None,
    ephemeral: bool = False,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
) -> dict[str, Any]:
    """A button click on one of the bot's messages (`ephemeral`: a message only the user saw)."""
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": "1764700000.000001",
        "channel_id": channel,
        "is_ephemeral": ephemeral,
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": user, "team_id": TEAM_ID},
        "api_app_id": "A0KEYNOTE",
        "token": "unused",
        "trigger_id": next_trigger_id(),
        "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [
            {"type": "button", "action_id": action_id, "block_id": "b1", "value": value, "action_ts": "1.5"}
        ],
    }
    if not ephemeral:
        message: dict[str, Any] = {"type": "message", "ts": "1764700000.000001", "user": BOT_USER_ID}
        if message_thread_ts:
            message["thread_ts"] = message_thread_ts
        payload["message"] = message
    payload["container"] = container
    return payload


def texts(message: dict[str, Any]) -> list[str]:
    """Every text a person could see in a posted message: fallback, blocks, fields, button labels."""
    found = [str(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return found


def envelope(kind: str, payload: dict[str, Any], retry_attempt: int | None = None) -> dict[str, Any]:
    """A Socket Mode envelope: `events_api`, `slash_commands` or `interactive`."""
    sent: dict[str, Any] = {
        "envelope_id": f"env-{next(_event_ids):08d}",
        "type": kind,
        "payload": payload,
        "accepts_response_payload": kind != "events_api",
    }
    if retry_attempt is not None:
        sent["retry_attempt"] = retry_attempt
        sent["retry_reason"] = "timeout"
    return sent
