"""Who may sign in: console users (scrypt password hashes) and the material that signs sessions.

The composition root creates the first user and the session secret at first start and hands them
over as ``ConsoleKeys``; nothing here writes files or logs a secret.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

from openassist.server.service.passwords import hash_password, session_mark, verify_password

FIRST_USER = "admin"
__all__ = ["FIRST_USER", "ConsoleKeys", "first_user", "hash_password", "verify_password"]


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
        return session_mark(stored)

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
