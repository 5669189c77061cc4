"""A fake Discord on 127.0.0.1: the REST API under /api/v10 and a JSON gateway websocket.

The real discord.py client runs against it unchanged, so tests see exactly what the bot would send to
Discord. Payloads carry every key the installed discord.py reads unconditionally (a missing one kills the
client task without a word, which is why tests also check that task).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = "900000000000000001"
BOT_ID = "900000000000000002"
GUILD_ID = "900000000000000010"
CHANNEL_ID = "900000000000000011"
OWNER_ID = "900000000000000020"
USER_ID = "900000000000000021"
MANAGER_ID = "900000000000000022"
OTHER_BOT_ID = "900000000000000023"
DM_CHANNEL_ID = "900000000000000030"
MANAGER_ROLE_ID = "900000000000000040"
BOT_ROLE_ID = "900000000000000041"
TIMESTAMP = "2025-12-02T17:00:00.000000+00:00"
MANAGE_CHANNELS = 1 << 4
EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)
"""View Channel, Send Messages, Embed Links, Read Message History, Use Application Commands."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class RateLimit:
    """The next `count` requests matching `method path` get a 429 asking to retry after `retry_after`s."""

    method: str
    path: str
    retry_after: float
    count: int = 1


def user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    """A user as messages and interactions carry it: Discord sends `bot` only for bots."""
    return {
        "id": user_id,
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
        **({"bot": True} if bot else {}),
    }


def member(user_id: str, name: str, *, roles: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "user": user(user_id, name),
        "nick": None,
        "avatar": None,
        "roles": roles or [],
        "joined_at": TIMESTAMP,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        **extra,
    }


def _text_channel(channel_id: str, guild_id: str) -> dict[str, Any]:
    return {
        "id": channel_id,
        "type": 0,
        "guild_id": guild_id,
        "name": "keynote",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def _role(role_id: str, name: str, permissions: int, position: int, **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "id": role_id,
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def guild_create() -> dict[str, Any]:
    return {
        "id": GUILD_ID,
        "name": "re:Invent fans",
        "icon": None,
        "owner_id": OWNER_ID,
        "unavailable": False,
        "member_count": 3,
        "large": False,
        "features": [],
        "roles": [
            _role(GUILD_ID, "@everyone", EVERYONE_PERMISSIONS, 0),
            _role(MANAGER_ROLE_ID, "moderators", EVERYONE_PERMISSIONS | MANAGE_CHANNELS, 1),
            _role(BOT_ROLE_ID, "keynote-bot", EVERYONE_PERMISSIONS, 2, tags={"bot_id": BOT_ID}),
        ],
        "emojis": [],
        "stickers": [],
        "channels": [_text_channel(CHANNEL_ID, GUILD_ID)],
        "threads": [],
        "members": [member(BOT_ID, "keynote-bot", roles=[BOT_ROLE_ID])],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "system_channel_flags": 0,
        "joined_at": TIMESTAMP,
    }


def message_payload(
    message_id: str,
    channel_id: str,
    content: str,
    author: dict[str, Any],
    *,
    guild_id: str | None = None,
    author_member: dict[str, Any] | None = None,
    mentions: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": message_id,
        "channel_id": channel_id,
        "type": 0,
        "content": content,
        "author": author,
        "embeds": [],
        "attachments": [],
        "components": [],
        "mentions": mentions or [],
        "mention_roles": [],
        "mention_everyone": False,
        "pinned": False,
        "tts": False,
        "flags": 0,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        **extra,
    }
    if guild_id is not None:
        payload["guild_id"] = guild_id
        if author_member is not None:
            payload["member"] = {k: v for k, v in author_member.items() if k != "user"}
    return payload


class FakeDiscord:
    """Records every REST request and gateway frame; tests push gateway events and read what came back."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.gateway_frames: list[dict[str, Any]] = []
        self.gateway_queries: list[dict[str, str]] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.rate_limits: list[RateLimit] = []
        self.failures: dict[tuple[str, str], int] = {}
        self.created: list[dict[str, Any]] = []
        """Messages the fake created in channels (a send with an enforced nonce seen before creates none)."""
        self.nonces: dict[tuple[str, str], dict[str, Any]] = {}
        self.sockets: dict[int, web.WebSocketResponse] = {}
        self._seq: dict[int, int] = {}
        self._ids = itertools.count(910000000000000000)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def next_id(self) -> str:
        return str(next(self._ids))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        for socket in list(self.sockets.values()):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _changed_now(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `check()` returns something truthy (a request, a frame, True) and return it."""

        async def poll() -> Any:
            async with self._changed:
                while not (result := check()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(poll(), timeout)

    def find(self, method: str, path_part: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    async def wait_request(
        self, method: str, path_part: str, count: int = 1, timeout: float = 10.0
    ) -> Request:
        found: list[Request] = await self.wait_for(
            lambda: (hits := self.find(method, path_part)) and len(hits) >= count and hits, timeout
        )
        return found[count - 1]

    # gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        self.gateway_queries.append(dict(request.query))
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        shard = 0
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            self.gateway_frames.append(payload)
            op = payload.get("op")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                shard, count = payload["d"].get("shard", [0, 1])
                self.sockets[shard] = ws
                self._seq[shard] = 0
                await self._send(shard, "READY", self._ready(shard, count))
                if shard == 0:
                    await self._send(shard, "GUILD_CREATE", guild_create())
            elif op == 6:
                self.sockets[shard] = ws
                await self._send(shard, "RESUMED", {})
            await self._changed_now()
        return ws

    def _ready(self, shard: int, count: int) -> dict[str, Any]:
        return {
            "v": 10,
            "user": user(BOT_ID, "keynote-bot", bot=True),
            "guilds": [{"id": GUILD_ID, "unavailable": True}] if shard == 0 else [],
            "session_id": f"session-{shard}",
            "resume_gateway_url": self.gateway_url,
            "shard": [shard, count],
            "application": {"id": APP_ID, "flags": 0},
        }

    async def _send(self, shard: int, event: str, data: dict[str, Any]) -> None:
        self._seq[shard] = self._seq.get(shard, 0) + 1
        frame = {"op": 0, "t": event, "s": self._seq[shard], "d": data}
        await self.sockets[shard].send_str(json.dumps(frame))

    def identifies(self) -> int:
        return len([f for f in self.gateway_frames if f.get("op") == 2])

    async def dispatch(self, event: str, data: dict[str, Any], shard: int = 0) -> None:
        await self._send(shard, event, data)

    async def drop(self, shard: int = 0, code: int = 4000) -> None:
        """Close the gateway socket the way Discord does when it restarts a node."""
        socket = self.sockets.pop(shard)
        await socket.close(code=code, message=b"fake restart")

    # REST

    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        if payload is None:
            return web.Response(status=204)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        return web.Response(status=status, body=json.dumps(payload).encode(), headers=all_headers)

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        self.requests.append(Request(request.method, path, dict(request.query), body))
        try:
            return self._answer(request.method, path, body)
        finally:
            await self._changed_now()

    def _rate_limited(self, method: str, path: str) -> RateLimit | None:
        for limit in self.rate_limits:
            if limit.count > 0 and limit.method == method and limit.path in path:
                limit.count -= 1
                return limit
        return None

    def _answer(self, method: str, path: str, body: Any) -> web.Response:
        limit = self._rate_limited(method, path)
        if limit is not None:
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(limit.retry_after),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(limit.retry_after),
                "X-RateLimit-Bucket": "fake-bucket",
                "X-RateLimit-Scope": "user",
            }
            error = {
                "message": "You are being rate limited.",
                "retry_after": limit.retry_after,
                "global": False,
            }
            return self._json(error, 429, headers)
        for (fail_method, fail_path), status in self.failures.items():
            if method == fail_method and fail_path in path:
                return self._json({"message": "fake failure", "code": 0}, status)
        parts = path.strip("/").split("/")
        if path == "/users/@me":
            return self._json(user(BOT_ID, "keynote-bot", bot=True))
        if path in ("/oauth2/applications/@me", "/applications/@me"):
            return self._json(self._application())
        if path == "/gateway/bot":
            limit_info = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            return self._json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit_info})
        if path == "/gateway":
            return self._json({"url": self.gateway_url})
        if parts[0] == "applications" and parts[-1] == "commands":
            return self._commands(method, "/".join(parts[2:-1]) or "global", body)
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            nonce = (body or {}).get("nonce")
            if nonce and (body or {}).get("enforce_nonce") and (parts[1], nonce) in self.nonces:
                return self._json(self.nonces[(parts[1], nonce)])  # Discord: the first message again
            created = self._message_from(parts[1], body)
            self.created.append(created)
            if nonce:
                created["nonce"] = nonce
                self.nonces[(parts[1], nonce)] = created
            return self._json(created)
        if parts[0] == "interactions" and parts[-1] == "callback":
            return self._json(self._callback(parts[1], body))
        if parts[0] == "webhooks" and method in ("POST", "PATCH"):
            return self._json(self._message_from(CHANNEL_ID, body, webhook=True))
        if parts[0] == "webhooks" and method == "DELETE":
            return self._json(None)
        if path == "/users/@me/channels":
            recipient = body["recipient_id"]
            return self._json({"id": DM_CHANNEL_ID, "type": 1, "recipients": [user(recipient, "someone")]})
        return self._json({"message": f"fake has no {method} {path}", "code": 0}, 404)

    def _application(self) -> dict[str, Any]:
        return {
            "id": APP_ID,
            "name": "keynote-bot",
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user(OWNER_ID, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "summary": "",
        }

    def _commands(self, method: str, scope: str, body: Any) -> web.Response:
        if method == "PUT":
            self.commands[scope] = [
                {
                    **command,
                    "id": self.next_id(),
                    "application_id": APP_ID,
                    "version": self.next_id(),
                    "default_member_permissions": None,
                    **({"guild_id": scope.split("/")[-1]} if scope != "global" else {}),
                }
                for command in body
            ]
        return self._json(self.commands.get(scope, []))

    def _message_from(self, channel_id: str, body: Any, *, webhook: bool = False) -> dict[str, Any]:
        body = body or {}
        extra: dict[str, Any] = {}
        if webhook:
            extra["webhook_id"] = APP_ID
        return message_payload(
            self.next_id(),
            channel_id,
            body.get("content") or "",
            user(BOT_ID, "keynote-bot", bot=True),
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=body.get("flags") or 0,
            **extra,
        )

    def _callback(self, interaction_id: str, body: Any) -> dict[str, Any]:
        kind = body["type"]
        result: dict[str, Any] = {"interaction": {"id": interaction_id, "type": 2}}
        if kind in (4, 5, 7):
            data = body.get("data") or {}
            message = self._message_from(CHANNEL_ID, data, webhook=True)
            result["interaction"].update(
                response_message_id=message["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(data.get("flags", 0) & 64),
            )
            result["resource"] = {"type": kind, "message": message}
        return result

    # interactions pushed by tests

    def interaction(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        dm: bool = False,
        permissions: int = EVERYONE_PERMISSIONS,
        locale: str = "en-US",
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": self.next_id(),
            "application_id": APP_ID,
            "type": kind,
            "data": data,
            "token": f"token-{self.next_id()}",
            "version": 1,
            "locale": locale,
            "app_permissions": str(EVERYONE_PERMISSIONS),
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID} if not dm else {"1": USER_ID},
            "attachment_size_limit": 10 * 1024 * 1024,
            "context": 1 if dm else 0,
        }
        if dm:
            payload["channel"] = {"id": DM_CHANNEL_ID, "type": 1, "recipients": [user(USER_ID, "ada")]}
            payload["channel_id"] = DM_CHANNEL_ID
            payload["user"] = user(USER_ID, "ada")
        else:
            payload["guild_id"] = GUILD_ID
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": GUILD_ID, "locale": "en-US", "features": []}
            channel = _text_channel(CHANNEL_ID, GUILD_ID)
            del channel["permission_overwrites"]  # an interaction carries a partial channel
            payload["channel"] = channel | {"permissions": str(permissions)}
            payload["channel_id"] = CHANNEL_ID
            payload["member"] = member(USER_ID, "ada", permissions=str(permissions))
        if message is not None:
            payload["message"] = message
        return payload

    def slash(self, name: str, options: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.next_id(), "name": name, "type": 1}
        if options:
            data["options"] = [{"name": k, "type": 3, "value": v} for k, v in options.items()]
        return self.interaction(2, data, **kwargs)

    def autocomplete(self, name: str, option: str, typed: str, **kwargs: Any) -> dict[str, Any]:
        data = {
            "id": self.next_id(),
            "name": name,
            "type": 1,
            "options": [{"name": option, "type": 3, "value": typed, "focused": True}],
        }
        return self.interaction(4, data, **kwargs)

    def click(self, custom_id: str, **kwargs: Any) -> dict[str, Any]:
        message = message_payload(self.next_id(), CHANNEL_ID, "", user(BOT_ID, "keynote-bot", bot=True))
        button = {"type": 2, "id": 2, "style": 2, "label": "x", "custom_id": custom_id}
        message["components"] = [{"type": 1, "id": 1, "components": [button]}]
        data = {"custom_id": custom_id, "component_type": 2, "id": 2}
        return self.interaction(3, data, message=message, **kwargs)


@dataclass
class Sent:
    """What the bot sent in reply, as Discord received it."""

    request: Request
    embeds: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, request: Request) -> Sent:
        body = request.body or {}
        if "data" in body and "type" in body:
            body = body.get("data") or {}
        return cls(request, body.get("embeds") or [])

    def text(self) -> str:
        parts: list[str] = []
        for embed in self.embeds:
            parts.extend(str(embed.get(key) or "") for key in ("title", "description"))
            parts.extend(f"{f['name']} {f['value']}" for f in embed.get("fields", []))
            parts.append((embed.get("footer") or {}).get("text", ""))
        return "\n".join(p for p in parts if p)
