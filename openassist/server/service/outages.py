"""Tasks that waited past their delivery window, settled when their agent calls again.

An agent cut off from the server says so when it gets through (``outage_since``, the time since
when it could not reach us): a task whose delivery window ran out during that outage ends
Aborted with ClientNetworkBlocked and the window in ErrorInfo. When the agent fetches its task
list, whatever else is past its window ends DeliveryTimeout instead of being handed out late.
The task list does both inside its claim transaction, before it hands anything out; heartbeats
and reports that carry ``outage_since`` settle on their own. Verdicts go through the store's
compare-and-set, like the sweeper's, so a sweep at the same moment cannot also win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from openassist.server.lifecycle import Event, EventKind
from openassist.server.service.context import ServiceContext
from openassist.server.service.fire_misses import end_row
from openassist.server.store import active_rows, files, invocations, proposals


def iso_utc(epoch_ms: int) -> str:
    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_outage(value: str | None) -> int | None:
    """The ``outage_since`` parameter as Unix ms; None when absent or not a plausible time."""
    if not value or not value.isdigit() or len(value) > 15:
        return None
    return int(value) or None


def verdict(
    created_at: int, since: int | None, now: int, window_ms: int, fetching: bool
) -> dict[str, Any] | None:
    """Changes that end a task never handed out and past its window, or None to leave it."""
    if since is not None and since < now and created_at + window_ms > since:
        info = (
            f"the agent could not reach the server from {iso_utc(since)} to {iso_utc(now)} "
            f"({(now - since) // 1000} s); the task waited past its {window_ms // 1000} s "
            "delivery window."
        )
        return {"error_code": "ClientNetworkBlocked", "error_info": info, "finish_at": now}
    if fetching:
        info = f"the agent did not take the task within {window_ms // 1000} s."
        return {"error_code": "DeliveryTimeout", "error_info": info, "finish_at": now}
    return None


def past_deadline(
    conn: Connection,
    tables: proposals.TaskTables,
    invoke_id: str,
    instance_id: str,
    deliver_by: int,
    now: int,
) -> None:
    """A row whose agent fetched it after the task's DeliveryDeadline: it ends unrun."""
    info = (
        f"the agent came back after the task's DeliveryDeadline ({iso_utc(deliver_by)});"
        " the task was not run."
    )
    changes = {"error_code": "DeliveryTimeout", "error_info": info, "finish_at": now}
    end_row(conn, tables, invoke_id, instance_id, Event(EventKind.ABORTED), changes, now)


def settle_rows(
    conn: Connection,
    tables: proposals.TaskTables,
    instance_id: str,
    overdue: Iterable[tuple[str, int]],
    since: int | None,
    now: int,
    window_ms: int,
    fetching: bool,
) -> int:
    """End the given (invoke id, created at) rows of one instance; returns how many ended."""
    ended = 0
    for invoke_id, created_at in overdue:
        changes = verdict(created_at, since, now, window_ms, fetching)
        if changes is not None and end_row(
            conn, tables, invoke_id, instance_id, Event(EventKind.ABORTED), changes, now
        ):
            ended += 1
    return ended


class OutageService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def settle_overdue(self, instance_id: str, outage_since: int | None) -> int:
        """A heartbeat or report said the agent could not reach us since ``outage_since``:
        end its tasks whose delivery window ran out meanwhile. Returns how many ended."""
        if outage_since is None:
            return 0
        now = self._ctx.clock.now_ms()
        window = self._ctx.limits.delivery_timeout_s * 1000

        def find(conn: Connection) -> bool:
            return any(
                active_rows.undelivered_before(conn, tables, instance_id, now - window)
                for tables in (invocations.TABLES, files.TABLES)
            )

        def settle(conn: Connection) -> int:
            ended = 0
            for tables in (invocations.TABLES, files.TABLES):
                overdue = active_rows.undelivered_before(conn, tables, instance_id, now - window)
                ended += settle_rows(
                    conn, tables, instance_id, overdue, outage_since, now, window, False
                )
            return ended

        # Every agent reports an outage after a server restart: a read answers most of them.
        if not await self._ctx.db.read(find):
            return 0
        return await self._ctx.db.write(settle)
