"""Who signs a request: the user owning an access key and that user's policies, parsed.

Cached per key; any change to users, keys, policies or attachments empties the cache of every
node at once (``AccessChanges`` calls ``forget``); a node that missed that message acts on the
previous state for at most ``access_cache_s`` (docs/security.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection

from openassist.server.policy import NamedPolicy, PolicyDocument, PolicySet, parse_policy
from openassist.server.service.context import ServiceContext
from openassist.server.service.system_policies import CUSTOM, SYSTEM, SYSTEM_POLICIES
from openassist.server.store import access_keys as key_store
from openassist.server.store import identities as store
from openassist.server.store.records import RamUser

PRINCIPAL_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Principal:
    user_id: str
    user_name: str
    access_key_id: str
    policies: tuple[NamedPolicy, ...]
    rules: PolicySet  # the same policies, indexed by action for the checks on every call


@lru_cache(maxsize=1024)
def _parsed(text: str) -> PolicyDocument:
    return parse_policy(text)


def _load(conn: Connection, key_id: str) -> Principal | None:
    key = key_store.get_access_key(conn, key_id)
    if key is None or not key.enabled:
        return None
    user = store.get_user_by_id(conn, key.owner)
    if user is None:
        return None
    return _with_policies(conn, user, key_id)


def _load_user(conn: Connection, name: str) -> Principal:
    user = store.get_user(conn, name)
    if user is None:  # a console user with no RAM user of that name: may do nothing
        return Principal("", name, "", (), PolicySet(()))
    return _with_policies(conn, user, "")


def _with_policies(conn: Connection, user: RamUser, key_id: str) -> Principal:
    attachments = store.attachments_of(conn, user.id)
    custom = store.custom_documents(
        conn, [a.policy_name for a in attachments if a.policy_type == CUSTOM]
    )
    policies = []
    for attachment in attachments:
        if attachment.policy_type == SYSTEM and attachment.policy_name in SYSTEM_POLICIES:
            text = SYSTEM_POLICIES[attachment.policy_name].document
        elif attachment.policy_type == CUSTOM and attachment.policy_name in custom:
            text = custom[attachment.policy_name]
        else:
            continue
        policies.append(NamedPolicy(attachment.policy_name, _parsed(text)))
    return Principal(user.id, user.name, key_id, tuple(policies), PolicySet(policies))


class Principals:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._generation = 0  # a read that began before a change must not refill the cache

    async def of_key(self, key_id: str) -> Principal | None:
        """The key's user and policies; None for an unknown or disabled key."""
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and now - cached[0] < self._ctx.limits.access_cache_s:
            return cached[1]
        generation = self._generation
        principal = await self._ctx.db.read(lambda conn: _load(conn, key_id))
        if len(self._cache) > PRINCIPAL_CACHE_SIZE:
            self._cache.clear()
        if generation == self._generation:
            self._cache[key_id] = (now, principal)
        return principal

    async def of_user(self, name: str) -> Principal:
        """A console user's principal: the RAM user of that name and its policies (none when
        there is no such user). Cached like keys."""
        now = time.monotonic()
        cached = self._cache.get("user:" + name)
        fresh = cached is not None and now - cached[0] < self._ctx.limits.access_cache_s
        if cached is not None and cached[1] is not None and fresh:
            return cached[1]
        generation = self._generation
        principal = await self._ctx.db.read(lambda conn: _load_user(conn, name))
        if generation == self._generation:
            self._cache["user:" + name] = (now, principal)
        return principal

    def forget(self) -> None:
        self._generation += 1
        self._cache.clear()
