"""The durable replay guard on a real SQLite store (the attack itself: test_attack_replay)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from openassist.server.service.clock import SystemClock
from openassist.server.service.replay import StoreReplayGuard
from openassist.server.store.db import Database

HOUR_MS = 3_600_000


def _database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.migrate()
    return db


def test_marks_written_together_answer_each_request_and_survive_a_new_guard(
    tmp_path: Path,
) -> None:
    db = _database(tmp_path)

    async def main() -> tuple[list[bool], list[bool]]:
        guard = StoreReplayGuard(db, SystemClock())
        values = [f"nonce-{n % 50}" for n in range(200)]  # each value four times, at once
        first = await asyncio.gather(*(guard.first_use("api:k", v, HOUR_MS) for v in values))
        again = StoreReplayGuard(db, SystemClock())  # a restarted server, or another node
        later = await asyncio.gather(
            again.first_use("api:k", "nonce-1", HOUR_MS),
            again.first_use("api:other-key", "nonce-1", HOUR_MS),
        )
        return first, list(later)

    try:
        first, later = asyncio.run(main())
    finally:
        db.close()
    assert first.count(True) == 50
    assert later == [False, True]


def test_expired_marks_are_pruned(tmp_path: Path) -> None:
    db = _database(tmp_path)

    class Clock:
        now = 10 * HOUR_MS

        def now_ms(self) -> int:
            return self.now

    async def main() -> list[bool]:
        clock = Clock()
        guard = StoreReplayGuard(db, clock)
        assert await guard.first_use("agent:mi-1", "r-1", HOUR_MS)
        clock.now += 2 * HOUR_MS  # the request could no longer be accepted anyway
        assert await guard.first_use("agent:mi-1", "r-2", HOUR_MS)
        return [await guard.first_use("agent:mi-1", "r-1", HOUR_MS)]

    try:
        assert asyncio.run(main()) == [True]
    finally:
        db.close()
