"""An agent started again: what it was running will never be reported, so it ends at once.

The official agent keeps nothing across a restart (no journal, schedules in memory only) and
says it started with ``reason=startup`` on its first task fetch, ``cold_start=true`` when it is
the first start since the machine booted. Our agent reports the runs its journal knows before
that fetch and keeps its schedules, so only its one-shot runs still Running are ended there.
Ended runs get ClientRestarted, or InstanceRestarted after a reboot, instead of waiting
Timeout + 60 s for ClientNotResponse; the official agent's schedules are handed out again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from openassist.protocol.statuses import InstanceStatus, RepeatMode
from openassist.server.lifecycle import Event, EventKind
from openassist.server.service import timed
from openassist.server.service.context import ServiceContext
from openassist.server.store import invocations
from openassist.server.store.records import InvocationInstance


@dataclass(frozen=True)
class Restart:
    rebooted: bool  # the first start since the machine booted
    keeps_state: bool  # our agent: its journal reported its runs, its schedules survive


@dataclass(frozen=True)
class RestartOutcome:
    ended: list[str]  # invoke ids whose run ended
    rearmed: list[str]  # invoke ids handed out again (schedules, reboot tasks)


def _cause(restart: Restart) -> tuple[str, str]:
    if restart.rebooted:
        return "InstanceRestarted", "the instance was rebooted while the task ran"
    return "ClientRestarted", "the Cloud Assistant Agent restarted while the task ran"


class RestartService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def agent_started(self, instance_id: str, restart: Restart) -> RestartOutcome:
        now = self._ctx.clock.now_ms()

        def settle(conn: Connection) -> RestartOutcome:
            rows = invocations.held_by_agent(conn, instance_id)
            tasks = invocations.invocations_by_id(conn, [r.invoke_id for r in rows])
            ended, rearmed = [], []
            for row in rows:
                task = tasks[row.invoke_id]
                running = row.status is not InstanceStatus.SCHEDULED
                if not timed.keeps_history(task):  # one run: it ends
                    if running and _end_run(conn, row, restart, now):
                        ended.append(row.invoke_id)
                    continue
                if restart.keeps_state:
                    continue  # our agent reported the run and still holds the schedule
                if running and _end_timed_run(conn, row, restart, now):
                    ended.append(row.invoke_id)
                if timed.server_fired(task):
                    continue  # the server keeps its schedule: the next fire hands it out
                if task.repeat_mode == RepeatMode.PERIOD and _hand_out_again(conn, row, now):
                    rearmed.append(row.invoke_id)
            if restart.rebooted and not restart.keeps_state:
                # The official agent sends no boot id: its cold start is the new boot.
                rearmed += timed.rearm_reboot_tasks(conn, instance_id, now)
            return RestartOutcome(ended, sorted(set(rearmed)))

        return await self._ctx.db.write(settle)


def _end_run(conn: Connection, row: InvocationInstance, restart: Restart, now: int) -> bool:
    code, info = _cause(restart)
    changes = {"error_code": code, "error_info": f"{info}; it was not run again.", "finish_at": now}
    event = Event(EventKind.ERRORED)
    ids = (row.invoke_id, row.instance_id)
    return invocations.apply_event(conn, *ids, event, changes, now) is not None


def _end_timed_run(conn: Connection, row: InvocationInstance, restart: Restart, now: int) -> bool:
    """A run of a schedule cut short: kept in the history as an error, like an error report;
    the task waits Scheduled (a stop asked meanwhile stays asked)."""
    code, info = _cause(restart)
    changes: dict[str, Any] = {
        "error_code": code,
        "error_info": f"{info}.",
        "finish_at": now,
        "start_at": row.start_at or now,
        "output": row.output,
        "dropped": row.dropped,
        "exit_code": None,
        "repeats": row.repeats + 1,
    }
    if not timed.record_run(conn, row, InstanceStatus.ERROR, changes):
        return False
    event = Event(EventKind.ERRORED, delivered=True, timed=True)
    ids = (row.invoke_id, row.instance_id)
    return invocations.apply_event(conn, *ids, event, changes, now) is not None


def _hand_out_again(conn: Connection, row: InvocationInstance, now: int) -> bool:
    """A schedule the agent no longer holds goes back to Pending, handed out by this fetch."""
    event = Event(EventKind.REARMED)
    ids = (row.invoke_id, row.instance_id)
    return invocations.apply_event(conn, *ids, event, {"delivered_at": None}, now) is not None
