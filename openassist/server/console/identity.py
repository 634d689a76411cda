"""Who may sign in: console users (scrypt password hashes) and the material that signs sessions.

The composition root creates the first user and the session secret at first start and hands them
over as ``ConsoleKeys``; nothing here writes files or logs a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field

# scrypt cost: n=2**14, r=8, p=1 takes ~16 MB and tens of milliseconds per sign-in.
_N, _R, _P = 2**14, 8, 1
FIRST_USER = "admin"


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (Base64 parts) for storing; never the password itself."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${_N}${_R}${_P}${encoded[0]}${encoded[1]}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches a ``hash_password`` result (malformed: never)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def first_user() -> tuple[str, str, str]:
    """A new first console user: (name, password, stored hash)."""
    password = secrets.token_urlsafe(18)
    return FIRST_USER, password, hash_password(password)


@dataclass(frozen=True)
class ConsoleKeys:
    """The session secret and the users' password hashes (name -> hash)."""

    session_secret: bytes = field(repr=False)
    users: dict[str, str] = field(repr=False)

    def user_mark(self, name: str) -> str | None:
        """What a user's sessions carry of the user: a digest of the stored hash, so the
        sessions end when the user is removed or given a new password. None: no such user."""
        stored = self.users.get(name)
        if stored is None:
            return None
        return hashlib.sha256(b"console-session\0" + stored.encode()).hexdigest()[:32]

    def check_user(self, name: str, password: str) -> bool:
        stored = self.users.get(name)
        if stored is None:
            # Same work for an unknown name, so timing does not tell which names exist.
            verify_password(password, hash_password("", b"\0" * 16))
            return False
        return verify_password(password, stored)

    @staticmethod
    def users_from_json(text: str) -> dict[str, str]:
        """Parse the users file: ``{"users": {"name": "scrypt$..."}}``."""
        document = json.loads(text)
        users = document.get("users", {}) if isinstance(document, dict) else {}
        return {str(k): str(v) for k, v in users.items()}
