"""Console passwords (scrypt) and signed session cookies, in-process."""

from __future__ import annotations

from openassist.server.console.identity import (
    ConsoleKeys,
    first_password,
    hash_password,
    no_such_user,
)
from openassist.server.console.identity import verify_password as verify
from openassist.server.console.session import SESSION_TTL_S, SessionSigner


def test_password_hash_verifies_only_the_password() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify("correct horse", stored)
    assert not verify("correct horse!", stored)
    assert not verify("correct horse", "scrypt$broken")
    assert not verify("correct horse", "md5$1$1$1$AA==$AA==")
    assert hash_password("same") != hash_password("same")  # salted


def test_first_password_and_no_such_user() -> None:
    password, stored = first_password()
    assert verify(password, stored) and not verify(password + "x", stored)
    assert password not in stored
    assert no_such_user(password) is False  # after the same work as a check
    assert "kkkk" not in repr(ConsoleKeys(session_secret=b"k" * 32))


def test_session_round_trip_tamper_and_expiry() -> None:
    signer = SessionSigner(b"s" * 32)
    session = signer.new("user:admin", "mark", now=1000.0)
    cookie = signer.dump(session)
    assert signer.load(cookie, now=1001.0) == session
    assert session.actor == "console:admin"
    payload, _, mac = cookie.partition(".")
    assert signer.load(f"{payload}x.{mac}", now=1001.0) is None
    assert signer.load(f"{payload}.{mac[::-1]}", now=1001.0) is None
    assert signer.load("garbage", now=1001.0) is None
    assert SessionSigner(b"other" * 8).load(cookie, now=1001.0) is None
    assert signer.load(cookie, now=1000.0 + SESSION_TTL_S) is None
    device = signer.device("user:admin", now=1000.0)
    assert signer.device_of(device, "user:admin", now=1001.0)
    assert signer.device_of(device, "user:bob", now=1001.0) is None
    assert signer.load(device, now=1001.0) is None  # a device cookie is no session
    assert signer.device_of(cookie, "user:admin", now=1001.0) is None
    # Sign-out and user removal: tests/integration/test_attack_console_sessions.py
    key_session = signer.new("key:OA123")
    assert key_session.actor == "OA123" and key_session.display_name == "access key OA123"
