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
batch of agents' marks, nor behind the agents' writes. A request's first read of the store may
ride its mark (``first_use_with``: an agent's task-list fetch asks whether anything waits),
saving it a thread hop and a transaction of its own.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Connection

from openassist.server.service.clock import Clock
from openassist.server.store import replay_marks
from openassist.server.store.batcher import Batcher, Outcome
from openassist.server.store.db import Database
from openassist.server.store.lanes import api_lane

PRUNE_EVERY_MS = 60_000
MAX_BATCH = 500


T = TypeVar("T")


class ReplayGuard(Protocol):
    async def first_use(self, scope: str, value: str, retention_ms: int) -> bool:
        """True the first time ``value`` is seen in ``scope`` (and remember it for
        ``retention_ms``); False for a replay."""
        ...

    async def first_use_with(
        self, scope: str, value: str, retention_ms: int, read: Callable[[Connection], T]
    ) -> tuple[bool, T | None]:
        """As ``first_use``, and ``read`` run in the same transaction as the mark, after it,
        when it is the first use (else None): the request's first look at the store costs no
        thread hop and no transaction of its own."""
        ...


def _digest(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()


_Mark = tuple[str, int, Callable[[Connection], Any] | None]  # (digest, expires at ms, read)


class StoreReplayGuard:
    """Marks in the store: durable, and shared by every node on one database."""

    def __init__(self, db: Database, clock: Clock, api: bool = False) -> None:
        """``api``: the marks are written in the store's API lane."""
        self._db, self._clock, self._api = db, clock, api
        self._pruned_at = 0
        self._marks: Batcher[_Mark, tuple[bool, Any]] = Batcher(
            self._record, name="replay-marks", max_batch=MAX_BATCH
        )

    async def first_use(self, scope: str, value: str, retention_ms: int) -> bool:
        expires_at = self._clock.now_ms() + retention_ms
        return (await self._marks.submit((_digest(scope, value), expires_at, None)))[0]

    async def first_use_with(
        self, scope: str, value: str, retention_ms: int, read: Callable[[Connection], T]
    ) -> tuple[bool, T | None]:
        expires_at = self._clock.now_ms() + retention_ms
        new, found = await self._marks.submit((_digest(scope, value), expires_at, read))
        return new, cast("T | None", found)

    async def _record(self, marks: list[_Mark]) -> list[Outcome[tuple[bool, Any]]]:
        """One transaction for the batch, with the reads of its first uses (a store failure,
        in a read too, fails every request of it)."""
        now = self._clock.now_ms()
        prune = now - self._pruned_at >= PRUNE_EVERY_MS
        if prune:
            self._pruned_at = now

        def write(conn: Connection) -> list[tuple[bool, Any]]:
            if prune:
                replay_marks.prune(conn, now)
            added = replay_marks.add_new(conn, [(digest, at) for digest, at, _ in marks])
            return [
                (new, read(conn) if new and read else None)
                for new, (_, _, read) in zip(added, marks, strict=True)
            ]

        # (The batch is written by a task of its own, outside any request's lane.)
        with api_lane() if self._api else contextlib.nullcontext():
            answers = await self._db.write(write)
        return [Outcome(answer) for answer in answers]
