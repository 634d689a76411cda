"""Console sign-out that holds across restarts and nodes: revoked session ids in the store."""

from __future__ import annotations

from sqlalchemy import Connection

from openassist.server.service.context import ServiceContext
from openassist.server.store import console_revocations


class ConsoleSessionService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def revoke(self, sid: str, expires_s: int) -> None:
        """End session ``sid`` (valid until ``expires_s``, Unix seconds) for good."""
        now = self._ctx.clock.now_ms()

        def write(conn: Connection) -> None:
            console_revocations.prune(conn, now)
            console_revocations.add(conn, sid, expires_s * 1000)

        await self._ctx.db.write(write)

    async def is_revoked(self, sid: str) -> bool:
        return await self._ctx.db.read(lambda conn: console_revocations.is_revoked(conn, sid))
