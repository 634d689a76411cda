"""The sweeper: periodically ends what the agents never answered for (see lifecycle.sweeper).

Every node sweeps; none is elected. Each overdue task is claimed with ``FOR UPDATE SKIP
LOCKED`` before its verdict is applied (a task another node is sweeping, or an agent is
reporting on, is left to that transaction and judged again next sweep), and the verdict itself
is the store's compare-and-set: a row ends once, whichever node gets there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import Connection

from openassist.protocol.statuses import InstanceStatus
from openassist.server.lifecycle import Event, EventKind
from openassist.server.lifecycle.sweeper import SweepRules, overdue
from openassist.server.service.context import ServiceContext, kick_topic
from openassist.server.service.fire_misses import end_row
from openassist.server.service.outages import iso_utc
from openassist.server.service.readiness import absence_info, agent_absence_code
from openassist.server.store import active_rows, files, fleet, invocations, proposals

log = logging.getLogger(__name__)

# Told after each sweep the error codes it gave (one per row it ended), or None if it failed.
SweepObserver = Callable[[list[str] | None], None]


class Sweeper:
    def __init__(
        self,
        context: ServiceContext,
        rules: SweepRules,
        interval_s: float,
        observe: SweepObserver | None = None,
    ) -> None:
        self._ctx = context
        self._rules = rules
        self._interval = interval_s
        self._observe = observe
        self._swept_at: int | None = None  # ``now`` of the last sweep that committed

    async def sweep_once(self) -> int:
        """Apply every verdict due now, and kick the agents of rows whose redelivery fell due
        since the last sweep; returns how many rows it ended."""
        now = self._ctx.clock.now_ms()
        due: list[tuple[str, str]] = []  # (instance id, invoke id)

        def sweep(conn: Connection) -> list[str]:
            codes: list[str] = []
            due.clear()
            for tables in (invocations.TABLES, files.TABLES):
                codes += self._sweep_table(conn, tables, now, due)
            return codes

        try:
            codes = await self._ctx.db.write(sweep)
        except Exception:
            if self._observe is not None:
                self._observe(None)
            raise
        self._swept_at = now
        for instance_id, invoke_id in due:
            await self._ctx.bus.publish(kick_topic(instance_id), invoke_id)
        if self._observe is not None:
            self._observe(codes)
        return len(codes)

    def _redelivery_due(self, row: active_rows.ActiveRow, now: int) -> bool:
        """A row handed out and never confirmed whose redelivery time came since the last sweep
        (at the first, any time before now). Its hand-out may never have reached the agent (the
        server died before answering, the connection broke), and an agent whose kick channel is
        up polls only every ten minutes: without a kick it would wait that long."""
        if row.status is not InstanceStatus.PENDING or row.delivered_at is None:
            return False
        due_at = row.delivered_at + self._ctx.limits.redeliver_after_s * 1000
        return (self._swept_at is None or self._swept_at < due_at) and due_at <= now

    def _sweep_table(
        self,
        conn: Connection,
        tables: proposals.TaskTables,
        now: int,
        due: list[tuple[str, str]],
    ) -> list[str]:
        """The error codes given to the rows ended (one per row); rows whose redelivery fell
        due are added to ``due``."""
        ended: list[str] = []
        for row in active_rows.active_rows(conn, tables):
            if self._redelivery_due(row, now):
                due.append((row.instance_id, row.invoke_id))
            if row.deliver_by is not None and row.status is InstanceStatus.PENDING:
                if now > row.deliver_by:  # DeliveryDeadline passed: the agent's state says why
                    ended += self._past_deadline(conn, tables, row, now)
                continue
            verdict = overdue(
                row.status,
                now,
                row.created_at,
                row.start_at,
                row.stop_at,
                row.timeout,
                row.last_heartbeat_at,
                self._rules,
                row.delivered_at,
            )
            if verdict is None or not proposals.claim_task(conn, tables, row.invoke_id):
                continue
            changes = {"error_code": verdict.code, "error_info": verdict.info, "finish_at": now}
            # A server-fired schedule's row misses this fire only (service.fire_misses).
            if end_row(
                conn, tables, row.invoke_id, row.instance_id, Event(verdict.event), changes, now
            ):
                ended.append(verdict.code)
        return ended

    def _past_deadline(
        self, conn: Connection, tables: proposals.TaskTables, row: active_rows.ActiveRow, now: int
    ) -> list[str]:
        instance = fleet.instances_by_id(conn, [row.instance_id]).get(row.instance_id)
        online_ms = self._rules.online_window_ms
        code = (agent_absence_code(instance, now, online_ms) if instance else None) or ""
        reason = absence_info(instance, code) if instance and code else ""
        code = code or "DeliveryTimeout"
        reason = reason or "the agent did not take the task."
        deadline = iso_utc(row.deliver_by or now)
        info = f"{reason} The task's DeliveryDeadline ({deadline}) passed."
        changes = {"error_code": code, "error_info": info, "finish_at": now}
        event = Event(EventKind.ABORTED)
        if end_row(conn, tables, row.invoke_id, row.instance_id, event, changes, now):
            return [code]
        return []

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                ended = await self.sweep_once()
            except Exception:
                log.exception("sweep failed; trying again next interval")
                continue
            if ended:
                log.info("sweeper ended %d overdue task instance(s)", ended)
