"""Access keys: a secret is shown once, when the key is created, and kept only sealed.

The secret must stay recoverable (both signature schemes are HMACs keyed with it), so it is
sealed with the server's ``SecretBox`` (the key file that seals secret parameters, outside the
database) and bound to its key id: a copy of the database alone cannot sign a request, and a
sealed secret moved to another key id does not open.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import Connection

from openassist.server.service import ids
from openassist.server.service.context import ServiceContext
from openassist.server.service.secret_box import SEALED_PREFIX, SecretBox, SecretUnreadable
from openassist.server.store import access_keys
from openassist.server.store.records import AccessKey

log = logging.getLogger(__name__)

SECRET_CACHE_SIZE = 10_000
ADMIN_OWNER = "admin"


@dataclass(frozen=True)
class KeySecret:
    """A stored key as signature checks see it: its secret (None when it does not open with
    this server's key file) and whether it is Active."""

    secret: str | None = field(repr=False)
    enabled: bool


@dataclass(frozen=True)
class NewAccessKey:
    """A key just created: the only time its secret is handed out."""

    id: str
    secret: str = field(repr=False)
    owner: str


def _sealing_name(key_id: str) -> str:
    # Parameter names are [A-Za-z0-9_-]: this name can never open a sealed parameter value.
    return f"access-key:{key_id}"


class AccessKeyService:
    def __init__(self, context: ServiceContext, box: SecretBox) -> None:
        self._ctx = context
        self._box = box
        self._keys: dict[str, tuple[float, KeySecret | None]] = {}
        self._generation = 0

    def _new_key(self, owner: str) -> tuple[NewAccessKey, AccessKey]:
        key_id, secret = ids.access_key_id(), ids.access_key_secret()
        sealed = self._box.seal(_sealing_name(key_id), secret)
        return NewAccessKey(key_id, secret, owner), AccessKey(key_id, sealed, owner, True)

    def insert(self, conn: Connection, owner: str, now: int) -> NewAccessKey:
        """Write a new enabled key for ``owner`` (a user id) inside the caller's transaction."""
        new, row = self._new_key(owner)
        access_keys.insert_access_key(conn, row, now)
        return new

    def forget_all(self) -> None:
        """Drop every cached key (one was disabled or deleted, here or on another node); a
        lookup that began before this does not fill the cache."""
        self._generation += 1
        self._keys.clear()

    async def create(self, owner: str) -> NewAccessKey:
        """A new enabled key for ``owner``; its secret is returned here and never again."""
        new, row = self._new_key(owner)
        now = self._ctx.clock.now_ms()
        await self._ctx.db.write(lambda conn: access_keys.insert_access_key(conn, row, now))
        return new

    async def ensure_admin_key(self) -> NewAccessKey | None:
        """Create the first key if there is none; returns it only when just created."""
        new, row = self._new_key(ADMIN_OWNER)
        now = self._ctx.clock.now_ms()

        def create(conn: Connection) -> bool:
            if access_keys.count_access_keys(conn):
                return False
            access_keys.insert_access_key(conn, row, now)
            return True

        return new if await self._ctx.db.write(create) else None

    async def secret_of(self, key_id: str) -> str | None:
        """The key's secret for verifying a signature; None when unknown, disabled or sealed
        under another key file."""
        found = await self.lookup(key_id)
        return found.secret if found is not None and found.enabled else None

    async def lookup(self, key_id: str) -> KeySecret | None:
        """The key's secret and status; None when there is no such key. Cached: every API call
        needs it (``AccessChanges`` empties the cache on every node when keys change; a node
        that missed the message refreshes it after ``access_cache_s``)."""
        now = time.monotonic()
        cached = self._keys.get(key_id)
        if cached is not None and now - cached[0] < self._ctx.limits.access_cache_s:
            return cached[1]
        generation = self._generation
        key = await self._ctx.db.read(lambda conn: access_keys.get_access_key(conn, key_id))
        found = KeySecret(self._open(key), key.enabled) if key is not None else None
        if len(self._keys) > SECRET_CACHE_SIZE:
            self._keys.clear()
        if generation == self._generation:
            self._keys[key_id] = (now, found)
        return found

    def _open(self, key: AccessKey) -> str | None:
        try:
            return self._box.open(_sealing_name(key.id), key.sealed_secret)
        except SecretUnreadable:
            log.warning("the secret of access key %s does not open with this key file", key.id)
            return None

    async def seal_plain_secrets(self) -> int:
        """Seal the secrets that releases before sealing stored in plain text; returns how many."""

        def seal(conn: Connection) -> int:
            plain = access_keys.unsealed_access_keys(conn, SEALED_PREFIX)
            for key in plain:
                sealed = self._box.seal(_sealing_name(key.id), key.sealed_secret)
                access_keys.set_sealed_secret(conn, key.id, sealed)
            return len(plain)

        return await self._ctx.db.write(seal)
