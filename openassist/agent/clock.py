"""The agent's one wall clock: Unix time for what goes on the wire, into the journal and into
schedules. Durations (how long a wait may still last) use ``time.monotonic``, which a clock set
back or forward does not move."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ns() -> int:
    return time.time_ns()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def now_s() -> float:
    return time.time()


def now() -> datetime:
    return datetime.now(UTC)
