"""The fleet at a glance (the console's Overview): machines online and offline now, tasks per
hour by outcome over the last 24 hours and 7 days, the most frequent error codes with their fix.
Counts only what the caller may see (the guard's ``visible``), as the lists do."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from openassist.catalog import ENTRIES
from openassist.protocol.statuses import InvocationStatus
from openassist.server.service.context import ServiceContext
from openassist.server.service.guard import UNGUARDED, Guard
from openassist.server.store import overview

HOUR_MS = 3_600_000
ERRORS_SHOWN = 8
S = InvocationStatus
# A task's overall status, by the outcome a chart draws it as.
OUTCOME_OF = {
    S.SUCCESS: "succeeded",
    S.FAILED: "failed",
    S.PARTIAL_FAILED: "failed",
    S.STOPPED: "stopped",
    S.PENDING: "running",
    S.SCHEDULED: "running",
    S.RUNNING: "running",
    S.STOPPING: "running",
}
OUTCOMES = ("succeeded", "failed", "stopped", "running")


@dataclass(frozen=True)
class HourBar:
    start: int  # ms since the epoch, the hour's start
    counts: dict[str, int]  # outcome -> tasks created in that hour

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class FrequentError:
    code: str
    count: int
    message: str
    solution: str


@dataclass(frozen=True)
class Overview:
    now: int
    online: int
    offline: int
    day: list[HourBar]  # 24, oldest first; the last is the hour under way
    week: list[HourBar]  # 168
    errors: list[FrequentError]  # of the last 7 days, most frequent first


def _bars(rows: list[tuple[int, str, int]], since: int, hours: int) -> list[HourBar]:
    bars = [HourBar(since + h * HOUR_MS, dict.fromkeys(OUTCOMES, 0)) for h in range(hours)]
    for hour, status, count in rows:
        if 0 <= hour < hours:
            outcome = OUTCOME_OF.get(InvocationStatus(status), "running")
            bars[hour].counts[outcome] += count
    return bars


class OverviewService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def snapshot(self, guard: Guard = UNGUARDED) -> Overview:
        now = self._ctx.clock.now_ms()
        this_hour = now - now % HOUR_MS
        week_start = this_hour - 167 * HOUR_MS
        online_since = now - self._ctx.limits.heartbeat_online_s * 1000

        def query(conn: Connection) -> Overview:
            visible = guard.visible(conn)
            online, offline = overview.presence(conn, online_since, visible)
            rows = overview.tasks_by_hour(conn, week_start, HOUR_MS, visible)
            week = _bars(rows, week_start, 168)
            codes = overview.frequent_errors(conn, week_start, ERRORS_SHOWN, visible)
            errors = [
                FrequentError(
                    code,
                    count,
                    ENTRIES[code].message if code in ENTRIES else "",
                    ENTRIES[code].solution if code in ENTRIES else "",
                )
                for code, count in codes
            ]
            return Overview(now, online, offline, week[-24:], week, errors)

        return await self._ctx.db.read(query)
