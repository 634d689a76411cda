"""RAM users and their access keys (the RAM API's use cases); policies are in ram_policies.

Every change drops the cached keys and principals of every node (``AccessChanges``): a disabled
key, a deleted user or a detached policy takes effect on the next request on any node.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from openassist.catalog import api
from openassist.errors import Conflict, InvalidParameter, NotFound
from openassist.server.service import ram_errors
from openassist.server.service.access_keys import AccessKeyService, NewAccessKey
from openassist.server.service.context import ServiceContext
from openassist.server.service.passwords import hash_password
from openassist.server.service.ram_base import RamService
from openassist.server.service.system_policies import ADMINISTRATOR, SYSTEM
from openassist.server.store import identities as store
from openassist.server.store.records import Attachment, RamUser

T = TypeVar("T")
_USER_NAME = re.compile(r"[A-Za-z0-9.@_-]{1,64}")
MAX_KEYS_PER_USER = 2  # as RAM: room to rotate one key at a time
MIN_PASSWORD, MAX_PASSWORD = 8, 32  # RAM's console password lengths


@dataclass(frozen=True)
class UserChanges:
    new_name: str | None = None
    display_name: str | None = None
    email: str | None = None
    mobile_phone: str | None = None
    comments: str | None = None


@dataclass(frozen=True)
class KeyView:
    id: str
    enabled: bool
    created_at: int


def check_user_name(name: str, field: str = "UserName") -> str:
    if not _USER_NAME.fullmatch(name):
        if not name:
            raise InvalidParameter(api.MISSING_PARAMETER, parameter=field)
        raise InvalidParameter(api.RAM_NAME_INVALID, field=field, name=name[:80])
    return name


async def _nothing() -> None:
    pass


def _user_id() -> str:
    # RAM's user ids are 16 decimal digits; random, so they tell nothing about order or count.
    return str(10**15 + secrets.randbelow(9 * 10**15))


def new_user(name: str, now: int, password_hash: str = "") -> RamUser:
    """A user with nothing but its name (and maybe a console password hash)."""
    return RamUser(_user_id(), name, name, "", "", "", password_hash, now, now, None)


class IdentityService(RamService):
    def __init__(
        self,
        context: ServiceContext,
        keys: AccessKeyService,
        on_change: Callable[[], Awaitable[None]] = _nothing,
    ) -> None:
        super().__init__(context, on_change)
        self._keys = keys

    # -- users

    async def create_user(self, name: str, changes: UserChanges) -> RamUser:
        now = self._ctx.clock.now_ms()
        user = RamUser(
            id=_user_id(),
            name=check_user_name(name),
            display_name=changes.display_name or name,
            email=changes.email or "",
            mobile_phone=changes.mobile_phone or "",
            comments=changes.comments or "",
            password_hash="",
            created_at=now,
            updated_at=now,
            last_login_at=None,
        )

        def create(conn: Connection) -> None:
            if store.get_user(conn, name) is not None:
                raise ram_errors.user_exists(name)
            store.insert_user(conn, user)

        try:
            await self._write(create)
        except IntegrityError:  # created concurrently under the same name
            raise ram_errors.user_exists(name) from None
        return user

    async def get_user(self, name: str) -> RamUser:
        return await self._ctx.db.read(lambda conn: self._user(conn, name))

    async def list_users(self, marker: str, limit: int) -> tuple[list[RamUser], str]:
        """A page of users by name and the Marker of the next page ("" when it is the last)."""
        rows = await self._ctx.db.read(lambda conn: store.list_users(conn, marker, limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, rows[-1].name if more else ""

    async def update_user(self, name: str, changes: UserChanges) -> RamUser:
        now = self._ctx.clock.now_ms()
        if changes.new_name is not None:
            check_user_name(changes.new_name, "NewUserName")

        def update(conn: Connection) -> RamUser:
            user = self._user(conn, name)
            renamed = changes.new_name and changes.new_name != name
            if renamed and store.get_user(conn, changes.new_name or "") is not None:
                raise ram_errors.user_exists(changes.new_name or "")
            updated = replace(
                user,
                name=changes.new_name or user.name,
                display_name=user.display_name
                if changes.display_name is None
                else changes.display_name,
                email=user.email if changes.email is None else changes.email,
                mobile_phone=user.mobile_phone
                if changes.mobile_phone is None
                else changes.mobile_phone,
                comments=user.comments if changes.comments is None else changes.comments,
                updated_at=now,
            )
            store.update_user(
                conn,
                user.id,
                name=updated.name,
                display_name=updated.display_name,
                email=updated.email,
                mobile_phone=updated.mobile_phone,
                comments=updated.comments,
                updated_at=now,
            )
            return updated

        return await self._write(update)

    async def delete_user(self, name: str) -> None:
        def delete(conn: Connection) -> None:
            user = self._user(conn, name)
            if store.keys_of(conn, user.id):
                raise Conflict(api.USER_HAS_KEYS, name=name)
            if store.attachments_of(conn, user.id):
                raise Conflict(api.USER_HAS_POLICIES, name=name)
            store.delete_user(conn, user.id)

        await self._write(delete)

    # -- access keys

    async def create_key(self, user_name: str) -> tuple[NewAccessKey, int]:
        """A new key for the user; its secret is in the answer and never again."""
        now = self._ctx.clock.now_ms()

        def create(conn: Connection) -> NewAccessKey:
            user = self._user(conn, user_name)
            if len(store.keys_of(conn, user.id)) >= MAX_KEYS_PER_USER:
                raise ram_errors.key_limit(user_name, MAX_KEYS_PER_USER)
            return self._keys.insert(conn, user.id, now)

        return await self._write(create), now

    async def list_keys(self, user_name: str) -> list[KeyView]:
        def keys(conn: Connection) -> list[KeyView]:
            user = self._user(conn, user_name)
            return [KeyView(k.id, k.enabled, at) for k, at in store.keys_of(conn, user.id)]

        return await self._ctx.db.read(keys)

    async def _with_key(
        self, user_name: str, key_id: str, work: Callable[[Connection], None]
    ) -> None:
        def change(conn: Connection) -> None:
            user = self._user(conn, user_name)
            if key_id not in {key.id for key, _at in store.keys_of(conn, user.id)}:
                raise ram_errors.key_not_found(key_id, user_name)
            work(conn)

        await self._write(change)

    async def set_key_enabled(self, user_name: str, key_id: str, enabled: bool) -> None:
        await self._with_key(
            user_name, key_id, lambda conn: store.set_key_enabled(conn, key_id, enabled)
        )

    async def delete_key(self, user_name: str, key_id: str) -> None:
        await self._with_key(user_name, key_id, lambda conn: store.delete_key(conn, key_id))

    # -- console passwords (login profiles)

    async def set_password(self, name: str, password: str, *, exists: bool | None) -> RamUser:
        """Give the user a console password; ``exists``: True (UpdateLoginProfile: must have
        one), False (CreateLoginProfile: must not), None (either). Hashed off the event loop."""
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidParameter(api.PASSWORD_INVALID, minimum=MIN_PASSWORD, maximum=MAX_PASSWORD)
        stored = await asyncio.to_thread(hash_password, password)
        now = self._ctx.clock.now_ms()

        def change(conn: Connection) -> RamUser:
            user = self._user(conn, name)
            if exists is False and user.password_hash:
                raise Conflict(api.LOGIN_PROFILE_EXISTS, name=name)
            if exists is True and not user.password_hash:
                raise NotFound(api.LOGIN_PROFILE_NOT_FOUND, name=name)
            store.update_user(conn, user.id, password_hash=stored, updated_at=now)
            return replace(user, password_hash=stored, updated_at=now)

        return await self._write(change)

    async def login_profile(self, name: str) -> RamUser:
        """The user, when it has a console password (EntityNotExist.User.LoginProfile if not)."""
        user = await self.get_user(name)
        if not user.password_hash:
            raise NotFound(api.LOGIN_PROFILE_NOT_FOUND, name=name)
        return user

    async def delete_password(self, name: str) -> None:
        def delete(conn: Connection) -> None:
            user = self._user(conn, name)
            if not user.password_hash:
                raise NotFound(api.LOGIN_PROFILE_NOT_FOUND, name=name)
            store.update_user(conn, user.id, password_hash="")

        await self._write(delete)

    async def stored_password(self, name: str) -> str:
        """The user's password hash for a console sign-in; "" when none (or no such user)."""
        user = await self._ctx.db.read(lambda conn: store.get_user(conn, name))
        return user.password_hash if user is not None else ""

    async def signed_in(self, name: str) -> None:
        now = self._ctx.clock.now_ms()
        await self._ctx.db.write(
            lambda conn: store.update_user_by_name(conn, name, last_login_at=now)
        )

    # -- first start and upgrade

    async def ensure_admin(self, name: str) -> RamUser | None:
        """The first-start administrator: created with AdministratorAccess when there is no
        user yet, and owner of every access key made before users existed (the keys of an
        upgraded server). None when users exist but none has that name (renamed or deleted)."""
        now = self._ctx.clock.now_ms()

        def ensure(conn: Connection) -> RamUser | None:
            user = store.get_user(conn, name)
            if user is None and store.count_users(conn) == 0:
                user = new_user(name, now)
                store.insert_user(conn, user)
                store.attach(conn, Attachment(user.id, SYSTEM, ADMINISTRATOR, now))
            if user is not None:
                store.adopt_orphan_keys(conn, user.id)
            return user

        return await self._write(ensure)
