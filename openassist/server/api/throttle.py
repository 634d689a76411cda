"""Per-access-key request rate limit: a token bucket per key, in this process, or in the store
when several nodes share it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from openassist.catalog import api
from openassist.errors import Throttled
from openassist.server.service.rate_limits import SharedRateBuckets


class ThrottlingError(Throttled):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(api.THROTTLING, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


class RateLimiter:
    """``rate`` requests per second per key on average, ``burst`` at once; 0 disables it."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate, self._burst, self._clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)

    def take(self, key: str) -> None:
        """Spend one token for ``key``; raises ThrottlingError when none is left."""
        if self._rate <= 0:
            return
        now = self._clock()
        tokens, last = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            raise ThrottlingError(max(1, math.ceil((1 - tokens) / self._rate)))
        self._buckets[key] = (tokens - 1, now)


class SharedRateLimiter:
    """The same limit with the buckets in the store: a key gets its rate across every node."""

    def __init__(self, buckets: SharedRateBuckets) -> None:
        self._buckets = buckets

    async def take(self, key: str) -> None:
        wait_s = await self._buckets.take(key)
        if wait_s > 0:
            raise ThrottlingError(max(1, math.ceil(wait_s)))
