"""Console passwords: stored as scrypt hashes, never as themselves (console users of the JSON
file and RAM users' login profiles alike)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["hash_password", "session_mark", "verify_password"]

# scrypt cost: n=2**14, r=8, p=1 takes ~16 MB and tens of milliseconds per sign-in.
_N, _R, _P = 2**14, 8, 1


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


def session_mark(stored: str) -> str:
    """What a user's sessions carry of the stored hash: a new password (or none) ends them."""
    return hashlib.sha256(b"console-session\0" + stored.encode()).hexdigest()[:32]
