"""Replay guard: a signed request (API nonce, agent request id) is accepted once.

The guard is a part built in the composition root and handed to the RPC endpoint and the agent
gateway. ``StoreReplayGuard`` keeps its marks in the store, so a request captured before a
restart, or sent to another node sharing the database, is still refused for as long as its
timestamp is accepted. A mark is recorded only after the caller proved the signature, so
unsigned junk neither fills the table nor burns a nonce a genuine client is about to use.

Every signed request waits for its mark's commit, so marks that arrive together are written
together: one transaction per batch (group commit), not one per request, keeps the single SQLite
writer free for the work itself when many agents call at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
from typing import Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from openassist.server.service.clock import Clock
from openassist.server.store import replay_marks
from openassist.server.store.db import Database

PRUNE_EVERY_MS = 60_000
MAX_BATCH = 500


class ReplayGuard(Protocol):
    async def first_use(self, scope: str, value: str, retention_ms: int) -> bool:
        """True the first time ``value`` is seen in ``scope`` (and remember it for
        ``retention_ms``); False for a replay."""
        ...


def _digest(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()


_Mark = tuple[str, int, "asyncio.Future[bool]"]


class StoreReplayGuard:
    """Marks in the store: durable, and shared by every node on one database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db, self._clock = db, clock
        self._pruned_at = 0
        self._waiting: list[_Mark] = []
        self._writer: asyncio.Task[None] | None = None

    async def first_use(self, scope: str, value: str, retention_ms: int) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        expires_at = self._clock.now_ms() + retention_ms
        self._waiting.append((_digest(scope, value), expires_at, answer))
        if self._writer is None or self._writer.done():
            # A context of its own: the marks are never part of a caller's unit of work.
            self._writer = asyncio.create_task(
                self._write_marks(), name="replay-marks", context=contextvars.Context()
            )
        return await answer

    async def _write_marks(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                answers = await self._record(batch)
            except Exception as error:  # the store failed: every waiting request fails
                for _, _, answer in batch:
                    if not answer.done():
                        answer.set_exception(error)
                continue
            for (_, _, answer), new in zip(batch, answers, strict=True):
                if not answer.done():
                    answer.set_result(new)

    async def _record(self, batch: list[_Mark]) -> list[bool]:
        marks = [(digest, expires_at) for digest, expires_at, _ in batch]
        now = self._clock.now_ms()
        prune = now - self._pruned_at >= PRUNE_EVERY_MS
        if prune:
            self._pruned_at = now

        def write(conn: Connection) -> list[bool]:
            if prune:
                replay_marks.prune(conn, now)
            return replay_marks.add_new(conn, marks)

        try:
            return await self._db.write(write)
        except IntegrityError:  # another node wrote one of them meanwhile: one by one
            return [await self._add_one(digest, expires_at) for digest, expires_at in marks]

    async def _add_one(self, digest: str, expires_at: int) -> bool:
        try:
            await self._db.write(lambda conn: replay_marks.add(conn, digest, expires_at))
        except IntegrityError:
            return False
        return True
