"""Signed session cookies and CSRF tokens.

A session is ``base64(json).base64(hmac-sha256)``: who signed in, how, when it expires, and the
CSRF token that every POST form must echo. The cookie is HttpOnly and SameSite=Strict, and Secure
whenever the console is served over https. On plain http (the default: the API port listens on
loopback) it cannot be Secure, or the browser would never send it back. Sessions expire after
``SESSION_TTL_S``; sign-out revokes the session id in the store (``ConsoleSessionService``), and
a user's session carries a mark of that user's password hash, so removing the user (or giving
them a new password) ends their sessions: both hold across restarts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from openassist.server.service.clock import Clock, SystemClock

COOKIE = "oa_console"
PRE_COOKIE = "oa_console_pre"  # CSRF token of the sign-in form, before there is a session
DEVICE_COOKIE = "oa_console_device"  # this browser signed in as the principal before
SESSION_TTL_S = 8 * 3600
DEVICE_TTL_S = 30 * 24 * 3600


@dataclass(frozen=True)
class Session:
    sid: str
    principal: str  # "user:admin" or "key:OA..." (what the task records as its access key)
    csrf: str
    expires: int
    mark: str = ""  # a user's: ConsoleKeys.user_mark at sign-in; a key's: empty

    @property
    def display_name(self) -> str:
        kind, _, name = self.principal.partition(":")
        return name if kind == "user" else f"access key {name}"

    @property
    def actor(self) -> str:
        """What a task records as its creator: the access key id, or ``console:<user>``."""
        kind, _, name = self.principal.partition(":")
        return name if kind == "key" else f"console:{name}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    def __init__(self, secret: bytes, clock: Clock | None = None) -> None:
        self._secret = secret
        self._clock = clock or SystemClock()

    def _now(self) -> float:
        return self._clock.now_ms() / 1000

    def new(self, principal: str, mark: str = "", now: float | None = None) -> Session:
        now = self._now() if now is None else now
        return Session(
            sid=secrets.token_urlsafe(16),
            principal=principal,
            csrf=secrets.token_urlsafe(24),
            expires=int(now) + SESSION_TTL_S,
            mark=mark,
        )

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def dump(self, session: Session) -> str:
        payload = _b64(
            json.dumps(
                [session.sid, session.principal, session.csrf, session.expires, session.mark],
                separators=(",", ":"),
            ).encode()
        )
        return f"{payload}.{self._mac(payload)}"

    def _signed(self, fields: list[object]) -> str:
        payload = _b64(json.dumps(fields, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def _fields(self, cookie: str) -> list[object] | None:
        payload, _, mac = cookie.partition(".")
        if not payload or not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        try:
            fields = json.loads(_unb64(payload))
        except ValueError:
            return None
        return fields if isinstance(fields, list) else None

    def device(self, principal: str, now: float | None = None) -> str:
        """A cookie saying this browser signed in as ``principal`` (sign-in throttling counts
        it on its own)."""
        now = self._now() if now is None else now
        expires = int(now) + DEVICE_TTL_S
        return self._signed(["device", principal, secrets.token_urlsafe(16), expires])

    def device_of(self, cookie: str, principal: str, now: float | None = None) -> str | None:
        """The device id in ``cookie`` when it is a valid device cookie of ``principal``."""
        fields = self._fields(cookie) if cookie else None
        if fields is None or len(fields) != 4 or fields[:2] != ["device", principal]:
            return None
        now = self._now() if now is None else now
        expires = fields[3]
        if not isinstance(expires, int) or expires <= now:
            return None
        return str(fields[2])

    def load(self, cookie: str, now: float | None = None) -> Session | None:
        """The session in ``cookie``; None when unsigned, tampered with or expired (whether it
        was revoked, or its user removed, is the console's to check)."""
        payload, _, mac = cookie.partition(".")
        if not payload or not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        try:
            sid, principal, csrf, expires, mark = json.loads(_unb64(payload))
            session = Session(str(sid), str(principal), str(csrf), int(expires), str(mark))
        except (ValueError, TypeError):
            return None
        now = self._now() if now is None else now
        if session.expires <= now:
            return None
        return session


def same_token(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())
