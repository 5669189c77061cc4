"""Who may use the console: a signed session cookie set by the login form, or `Authorization: Bearer`;
and the CSRF token every change must carry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import socket
import time
from dataclasses import dataclass

from bot.settings import Settings, SettingsError

COOKIE = "keynote_session"
SESSION_SECONDS = 12 * 3600


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and names that only resolve to them (`localhost`)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    if host in ("", "0.0.0.0", "::"):
        return False
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses)


def require_token(settings: Settings) -> None:
    """Refuse to serve beyond this machine without a token."""
    if settings.web_token is None and not is_loopback(settings.web_host):
        raise SettingsError(
            f"WEB_TOKEN is required when WEB_HOST is not a loopback address (WEB_HOST={settings.web_host}): "
            "set WEB_TOKEN to a long random string, or WEB_HOST=127.0.0.1"
        )


@dataclass(frozen=True)
class Session:
    curator: str
    value: str
    """The cookie's value ("" for a Bearer request, which carries no cookie)."""


class Gate:
    """Signs sessions and CSRF tokens with a key derived from WEB_TOKEN (random per process without one)."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        seed = ("keynote-web:" + token).encode() if token else os.urandom(32)
        self._key = hashlib.sha256(seed).digest()

    @property
    def open(self) -> bool:
        """No token (a loopback-only console): everyone on this machine is the curator "local"."""
        return self.token is None

    def _sign(self, message: str) -> str:
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()

    def token_ok(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def issue(self, curator: str, now: float | None = None) -> str:
        name = base64.urlsafe_b64encode(curator.encode()).decode().rstrip("=")
        issued = str(int(now if now is not None else time.time()))
        return f"{name}.{issued}.{self._sign(name + '.' + issued)}"

    def session(self, value: str | None, now: float | None = None) -> Session | None:
        if not value or value.count(".") != 2:
            return None
        name, issued, signature = value.split(".")
        if not hmac.compare_digest(signature, self._sign(name + "." + issued)):
            return None
        if not issued.isdigit() or (now or time.time()) - int(issued) > SESSION_SECONDS:
            return None
        try:
            curator = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return Session(curator, value)

    def csrf(self, session: Session) -> str:
        return self._sign("csrf:" + session.value)

    def csrf_ok(self, session: Session, given: str) -> bool:
        return bool(session.value) and hmac.compare_digest(given.encode(), self.csrf(session).encode())
