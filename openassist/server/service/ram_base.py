"""What the RAM identity and policy services share: writes after which every node forgets its
cached keys and principals (``AccessChanges``), and a user looked up or refused with RAM's
EntityNotExist.User."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import Connection

from openassist.server.service import ram_errors
from openassist.server.service.context import ServiceContext
from openassist.server.store import identities as store
from openassist.server.store.records import RamUser

T = TypeVar("T")


class RamService:
    def __init__(self, context: ServiceContext, on_change: Callable[[], Awaitable[None]]) -> None:
        self._ctx = context
        self._on_change = on_change

    async def _write(self, work: Callable[[Connection], T]) -> T:
        """One transaction; whatever it did, cached keys and principals are forgotten after it,
        on every node."""
        try:
            return await self._ctx.db.write(work)
        finally:
            await self._on_change()

    def _user(self, conn: Connection, name: str) -> RamUser:
        user = store.get_user(conn, name)
        if user is None:
            raise ram_errors.user_not_found(name)
        return user
