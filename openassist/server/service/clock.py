"""Time as an input: services ask a clock, tests may hand in their own."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Current Unix time in milliseconds."""


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


def utc_now(clock: Clock) -> datetime:
    """The clock's time as an aware UTC datetime (for the parts that compute with dates)."""
    return datetime.fromtimestamp(clock.now_ms() / 1000, UTC)
