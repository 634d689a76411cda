"""Replay guard: a signed request (API nonce, agent request id) is accepted once.

The guard is a part built in the composition root and handed to the RPC endpoint and the agent
gateway. ``StoreReplayGuard`` keeps its marks in the store, so a request captured before a
restart, or sent to another node sharing the database, is still refused for as long as its
timestamp is accepted. A mark is recorded only after the caller proved the signature, so
unsigned junk neither fills the table nor burns a nonce a genuine client is about to use.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from openassist.server.service.clock import Clock
from openassist.server.store import replay_marks
from openassist.server.store.db import Database

PRUNE_EVERY_MS = 60_000


class ReplayGuard(Protocol):
    async def first_use(self, scope: str, value: str, retention_ms: int) -> bool:
        """True the first time ``value`` is seen in ``scope`` (and remember it for
        ``retention_ms``); False for a replay."""
        ...


def _digest(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()


class StoreReplayGuard:
    """Marks in the store: durable, and shared by every node on one database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db, self._clock = db, clock
        self._pruned_at = 0

    async def first_use(self, scope: str, value: str, retention_ms: int) -> bool:
        now = self._clock.now_ms()
        digest = _digest(scope, value)
        if now - self._pruned_at >= PRUNE_EVERY_MS:
            self._pruned_at = now
            await self._db.write(lambda conn: replay_marks.prune(conn, now))
        try:
            await self._db.write(lambda conn: replay_marks.add(conn, digest, now + retention_ms))
        except IntegrityError:
            return False
        return True
