"""The API's per-key rate limit kept in the store, so several nodes share one bucket per key
(a client spreading its calls over N nodes gets the configured rate, not N times it)."""

from __future__ import annotations

from openassist.server.service.context import ServiceContext
from openassist.server.store import rate_buckets


class SharedRateBuckets:
    def __init__(self, context: ServiceContext, rate: float, burst: float) -> None:
        self._ctx, self._rate, self._burst = context, rate, burst

    async def take(self, key_id: str) -> float:
        """0 when a request of ``key_id`` may go on, else the seconds until one may."""
        if self._rate <= 0:
            return 0.0
        now = self._ctx.clock.now_ms()
        return await self._ctx.db.write(
            lambda conn: rate_buckets.take(conn, key_id, self._rate, self._burst, now)
        )
