"""The console's start on one node: its session secret and first password from the store
(``service/console_secrets.py``), and the one-time import of an earlier version's per-node files.

- ``console-secret`` (the old session secret): when the store has no secret yet, it becomes the
  store's, so the sessions it signed go on; the file is then removed either way (the store's
  secret is the one every node uses).
- ``console-users.json`` (the old console users' scrypt hashes): each user becomes a RAM user
  with that console password (hash unchanged: sessions go on), unless the store's user of that
  name has a password already; the file is renamed ``console-users.json.imported`` and no longer
  read. Console users are RAM users from then on (``openassist users``, CreateLoginProfile).
- A new installation: the node that creates the store's secret gives the administrator the first
  console password and writes it owner-only to ``console-credentials.json`` on that node only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from openassist.server.api_tls import api_endpoint
from openassist.server.console import ConsoleKeys, first_password
from openassist.server.private_files import write_private
from openassist.server.service.console_secrets import ConsoleSecrets
from openassist.server.settings import ServerSettings

log = logging.getLogger("openassist.server")

CONSOLE_CREDENTIALS_FILE = "console-credentials.json"  # the first console user's password
LEGACY_USERS_FILE = "console-users.json"  # an earlier version's console users
LEGACY_SECRET_FILE = "console-secret"  # noqa: S105 (a file name: an earlier session secret)
IMPORTED_SUFFIX = ".imported"


def _users_of(text: str) -> dict[str, str]:
    """The legacy users file: ``{"users": {"name": "scrypt$..."}}``."""
    document = json.loads(text)
    users = document.get("users", {}) if isinstance(document, dict) else {}
    return {str(k): str(v) for k, v in users.items()}


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


async def console_keys(settings: ServerSettings, store: ConsoleSecrets) -> ConsoleKeys:
    data = settings.data_dir
    secret_file, users_file = data / LEGACY_SECRET_FILE, data / LEGACY_USERS_FILE
    old_secret = await asyncio.to_thread(_read, secret_file)
    old_users = await asyncio.to_thread(_read, users_file)
    first, password = None, ""
    if old_secret is None and old_users is None:  # nothing to import: maybe a new installation
        password, stored = first_password()
        first = (settings.admin_user, stored)
    found = await store.session_secret(old_secret, first)
    if found.gave_first_password:
        credentials = data / CONSOLE_CREDENTIALS_FILE
        document = {
            "User": settings.admin_user,
            "Password": password,
            "Url": f"{api_endpoint(settings)}/console/",
        }
        await asyncio.to_thread(
            write_private, credentials, json.dumps(document, indent=2).encode() + b"\n"
        )
        log.info(
            "gave the console user %s its first password; it is in %s",
            settings.admin_user,
            credentials,
        )
    if old_users is not None:
        done = await store.import_users(_users_of(old_users.decode()))
        for name, outcome in done.items():
            log.info("console user %s from %s: %s", name, users_file.name, outcome.value)
        kept = users_file.with_name(users_file.name + IMPORTED_SUFFIX)
        await asyncio.to_thread(users_file.replace, kept)
        log.info(
            "imported %s into the store (%d user(s)); renamed it %s, no longer read: console "
            "users are RAM users with a console password on every node",
            users_file.name,
            len(done),
            kept.name,
        )
    if old_secret is not None:
        await asyncio.to_thread(secret_file.unlink)
        log.info(
            "%s: %s; the file is removed (every node signs sessions with the store's secret)",
            secret_file.name,
            "imported into the store" if found.created else "the store had a secret already",
        )
    return ConsoleKeys(session_secret=found.secret)
