"""Tasks that waited past their delivery window, settled when their agent calls again.

An agent cut off from the server says so when it gets through (``outage_since``, the time since
when it could not reach us): a task whose delivery window ran out during that outage ends
Aborted with ClientNetworkBlocked and the window in ErrorInfo. When the agent fetches its task
list, whatever else is past its window ends DeliveryTimeout instead of being handed out late.
Both run before the task list hands anything out. Verdicts go through the store's
compare-and-set, like the sweeper's, so a sweep at the same moment cannot also win.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from openassist.server.lifecycle import Event, EventKind
from openassist.server.service.context import ServiceContext
from openassist.server.store import files, invocations, proposals

_TABLES = (invocations.TABLES, files.TABLES)


def _iso(epoch_ms: int) -> str:
    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_outage(value: str | None) -> int | None:
    """The ``outage_since`` parameter as Unix ms; None when absent or not a plausible time."""
    if not value or not value.isdigit() or len(value) > 15:
        return None
    return int(value) or None


class OutageService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def settle_overdue(
        self, instance_id: str, outage_since: int | None, fetching: bool
    ) -> int:
        """End the instance's tasks never handed out and past their delivery window:
        ClientNetworkBlocked when the window ran out while the agent could not reach us, and,
        when the agent is ``fetching`` its task list, DeliveryTimeout for the rest.
        Returns how many ended."""
        if outage_since is None and not fetching:
            return 0
        now = self._ctx.clock.now_ms()
        window = self._ctx.limits.delivery_timeout_s * 1000
        since = outage_since if outage_since is not None and outage_since < now else None

        def find(conn: Connection) -> bool:
            return any(
                proposals.undelivered_before(conn, tables, instance_id, now - window)
                for tables in _TABLES
            )

        if not await self._ctx.db.read(find):  # the usual answer: one read, no write
            return 0

        def settle(conn: Connection) -> int:
            ended = 0
            for tables in _TABLES:
                for invoke_id, created_at in proposals.undelivered_before(
                    conn, tables, instance_id, now - window
                ):
                    changes = self._verdict(created_at, since, now, window, fetching)
                    if changes is None:
                        continue
                    event = Event(EventKind.ABORTED)
                    if proposals.apply_event(
                        conn, tables, invoke_id, instance_id, event, changes, now
                    ):
                        ended += 1
            return ended

        return await self._ctx.db.write(settle)

    @staticmethod
    def _verdict(
        created_at: int, since: int | None, now: int, window: int, fetching: bool
    ) -> dict[str, object] | None:
        if since is not None and created_at + window > since:
            info = (
                f"the agent could not reach the server from {_iso(since)} to {_iso(now)} "
                f"({(now - since) // 1000} s); the task waited past its {window // 1000} s "
                "delivery window."
            )
            return {"error_code": "ClientNetworkBlocked", "error_info": info, "finish_at": now}
        if fetching:
            info = f"the agent did not take the task within {window // 1000} s."
            return {"error_code": "DeliveryTimeout", "error_info": info, "finish_at": now}
        return None
