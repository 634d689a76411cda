"""Identifiers in the shapes of API.md 1.12 (prefix + random lower-case hex)."""

from __future__ import annotations

import secrets
import uuid


def _hex(prefix: str, nbytes: int = 12) -> str:
    return prefix + secrets.token_hex(nbytes)


def command_id() -> str:
    return _hex("c-")


def invoke_id() -> str:
    return _hex("t-")


def file_task_id() -> str:
    """A SendFile task's InvokeId: an invoke id of its own prefix, so that clients and agents
    tell a file task from a command task by its id (``f-`` instead of ``t-``)."""
    return _hex("f-")


def split_run_id() -> str:
    """A console run split into several tasks (not an API id: the console's own)."""
    return _hex("run-")


def managed_instance_id() -> str:
    return _hex("mi-")


def activation_id() -> str:
    return str(uuid.uuid4()).upper()


def activation_code() -> str:
    # Base64-like like the vendor's codes; url-safe so it survives shells and query strings.
    return "a-" + secrets.token_urlsafe(24)


def request_id() -> str:
    return str(uuid.uuid4()).upper()


def access_key_id() -> str:
    return "OA" + secrets.token_hex(10).upper()


def access_key_secret() -> str:
    return secrets.token_urlsafe(30)


def parameter_id(secret: bool) -> str:
    return _hex("sp-" if secret else "p-")
