"""Keeping the store's read side fast while the server runs: the result tallies folded (so that
a TotalCount sums a row or a few per instance, not every change since the start) and SQLite's
planner statistics refreshed (a store that was small at start-up is large an hour later)."""

from __future__ import annotations

import asyncio
import logging

from openassist.server.store import result_counts
from openassist.server.store.db import Database

log = logging.getLogger(__name__)

FOLD_INTERVAL_S = 2.0  # a fan-out's tallies are folded before many lists have summed them
ANALYZE_EVERY = 300  # intervals: statistics every 10 minutes (a few ms each, bounded)


class StoreUpkeep:
    def __init__(self, db: Database, interval_s: float = FOLD_INTERVAL_S) -> None:
        self._db = db
        self._interval = interval_s
        self._rows_after_fold = -1

    async def once(self, analyze: bool) -> int:
        """Fold the tallies if rows came since the last fold (and refresh the statistics when
        ``analyze``); returns the number of tally rows folded away."""
        folded = 0
        if await self._db.read(result_counts.rows) != self._rows_after_fold:
            folded = await self._db.write(result_counts.compact)
            self._rows_after_fold = await self._db.read(result_counts.rows)
        if analyze:
            await self._db.write(self._db.analyze)
        return folded

    async def run(self) -> None:
        rounds = 0
        while True:
            await asyncio.sleep(self._interval)
            rounds += 1
            try:
                await self.once(analyze=rounds % ANALYZE_EVERY == 0)
            except Exception:
                log.exception("store upkeep failed; trying again next interval")
