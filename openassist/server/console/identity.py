"""The material that signs console sessions, and the first console password.

Console users are RAM users with a console password (a login profile); the session secret is
kept in the store, alike on every node (``service/console_secrets.py``). The composition root
hands the secret over as ``ConsoleKeys``; nothing here writes files or logs a secret.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from openassist.server.service.passwords import hash_password, verify_password

__all__ = ["ConsoleKeys", "first_password", "hash_password", "no_such_user", "verify_password"]

_NOBODY = hash_password("", b"\0" * 16)


def first_password() -> tuple[str, str]:
    """The first console user's password and its stored hash."""
    password = secrets.token_urlsafe(18)
    return password, hash_password(password)


def no_such_user(password: str) -> bool:
    """A sign-in as a user with no console password: refused after the same work as a check,
    so timing does not tell which names exist."""
    verify_password(password, _NOBODY)
    return False


@dataclass(frozen=True)
class ConsoleKeys:
    """The secret that signs session cookies (the same on every node)."""

    session_secret: bytes = field(repr=False)
