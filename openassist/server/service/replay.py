"""Replay guard: a signed request (API nonce, agent request id) is accepted once.

The guard is a part built in the composition root and handed to the RPC endpoint and the agent
gateway. ``StoreReplayGuard`` keeps its marks in the store, so a request captured before a
restart, or sent to another node sharing the database, is still refused for as long as its
timestamp is accepted. A mark is recorded only after the caller proved the signature, so
unsigned junk neither fills the table nor burns a nonce a genuine client is about to use.

Every signed request waits for its mark's commit, so marks that arrive together are written
together: one transaction per batch (group commit), not one per request, keeps the single SQLite
writer free for the work itself when many agents call at once. The API's marks have a guard of
their own, in the store's API lane (``store/lanes.py``): an API call's mark never waits in a
batch of agents' marks, nor behind the agents' writes.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Protocol

from sqlalchemy import Connection

from openassist.server.service.clock import Clock
from openassist.server.store import replay_marks
from openassist.server.store.batcher import Batcher, Outcome
from openassist.server.store.db import Database
from openassist.server.store.lanes import api_lane

PRUNE_EVERY_MS = 60_000
MAX_BATCH = 500


class ReplayGuard(Protocol):
    async def first_use(self, scope: str, value: str, retention_ms: int) -> bool:
        """True the first time ``value`` is seen in ``scope`` (and remember it for
        ``retention_ms``); False for a replay."""
        ...


def _digest(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()


_Mark = tuple[str, int]  # (digest, expires at ms)


class StoreReplayGuard:
    """Marks in the store: durable, and shared by every node on one database."""

    def __init__(self, db: Database, clock: Clock, api: bool = False) -> None:
        """``api``: the marks are written in the store's API lane."""
        self._db, self._clock, self._api = db, clock, api
        self._pruned_at = 0
        self._marks: Batcher[_Mark, bool] = Batcher(
            self._record, name="replay-marks", max_batch=MAX_BATCH
        )

    async def first_use(self, scope: str, value: str, retention_ms: int) -> bool:
        expires_at = self._clock.now_ms() + retention_ms
        return await self._marks.submit((_digest(scope, value), expires_at))

    async def _record(self, marks: list[_Mark]) -> list[Outcome[bool]]:
        """One transaction for the batch (a store failure fails every request of it)."""
        now = self._clock.now_ms()
        prune = now - self._pruned_at >= PRUNE_EVERY_MS
        if prune:
            self._pruned_at = now

        def write(conn: Connection) -> list[bool]:
            if prune:
                replay_marks.prune(conn, now)
            return replay_marks.add_new(conn, marks)

        # (The batch is written by a task of its own, outside any request's lane.)
        with api_lane() if self._api else contextlib.nullcontext():
            answers = await self._db.write(write)
        return [Outcome(new) for new in answers]
