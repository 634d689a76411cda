"""What the RAM identity and policy services share: writes that tell the principal cache to
forget, and a user looked up or refused with RAM's EntityNotExist.User."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection

from openassist.server.service import ram_errors
from openassist.server.service.context import ServiceContext
from openassist.server.store import identities as store
from openassist.server.store.records import RamUser

T = TypeVar("T")


class RamService:
    def __init__(self, context: ServiceContext, on_change: Callable[[], None]) -> None:
        self._ctx = context
        self._on_change = on_change

    async def _write(self, work: Callable[[Connection], T]) -> T:
        """One transaction; whatever it did, cached principals are forgotten after it."""
        try:
            return await self._ctx.db.write(work)
        finally:
            self._on_change()

    def _user(self, conn: Connection, name: str) -> RamUser:
        user = store.get_user(conn, name)
        if user is None:
            raise ram_errors.user_not_found(name)
        return user
