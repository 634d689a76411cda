"""Server-fired schedules: a Period task given MaxConcurrency or MaxErrors is not handed to the
agents as a schedule; the server keeps it and, at each fire, hands every waiting target one run
of its own (``Once``, its invokeVersion the fire's number), as a rollout with the task's limits
(store.rollouts). A target whose last run has not ended when the next fire comes skips that fire;
one the last fire still held joins the new one. A target whose agent is away at a fire (not
running, offline, upgrading ...) misses that fire with its agent's code, kept in the history,
and is handed the next one (service.fire_misses); given a DeliveryDeadline, it is handed the
fire and waits for its agent up to the deadline, counted from the fire.
When the schedule has no run left, the targets waiting for one end with their last run's exit
code. Every node fires; the task row is claimed (``FOR UPDATE SKIP LOCKED``) and its fire count
read again under the lock, so a fire happens once whichever node gets there.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Connection

from openassist.protocol.statuses import InstanceStatus
from openassist.server.lifecycle import Event, EventKind
from openassist.server.service import timed
from openassist.server.service.context import ServiceContext
from openassist.server.service.fire_misses import record_miss
from openassist.server.service.outages import iso_utc
from openassist.server.service.readiness import (
    GONE,
    QUEUED_WHILE,
    absence_info,
    agent_absence_code,
)
from openassist.server.store import fires, fleet, invocations, proposals, rollouts
from openassist.server.store.records import Instance, Invocation

log = logging.getLogger(__name__)

FIRE_INTERVAL_S = 1.0


class Firer:
    def __init__(self, context: ServiceContext, interval_s: float = FIRE_INTERVAL_S) -> None:
        self._ctx = context
        self._interval = interval_s

    async def fire_once(self) -> int:
        """Fire every server-fired task that is due; returns how many fired."""
        now = self._ctx.clock.now_ms()
        online_ms = self._ctx.limits.heartbeat_online_s * 1000
        grace_ms = self._ctx.limits.missed_fire_grace_s * 1000

        def fire_due(conn: Connection) -> int:
            fired = 0
            for task in fires.live_tasks(conn):
                due = timed.next_fire_ms(task)
                if due is not None and due > now:
                    continue
                if not proposals.claim_task(conn, invocations.TABLES, task.id):
                    continue  # another node has it
                locked = invocations.get_invocation(conn, task.id)
                if locked is None or (locked.fires, locked.fired_at) != (task.fires, task.fired_at):
                    continue  # fired (or skipped) meanwhile
                if due is None:
                    _end_schedule(conn, task, now)
                elif now - due > grace_ms:
                    _skip_missed(conn, task, due, now)
                else:
                    fired += _fire(conn, task, now, online_ms)
            return fired

        return await self._ctx.db.write(fire_due)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.fire_once()
            except Exception:
                log.exception("firing schedules failed; trying again next interval")


def _fire(conn: Connection, task: Invocation, now: int, online_ms: int) -> int:
    """Fire ``task``: its waiting targets join the new fire, held for its rollout; those whose
    agent is away miss it."""
    number = task.fires + 1
    fires.mark_fired(conn, task.id, number, now)
    deadline = task.delivery_deadline
    changes = {
        "held": True,
        "released_at": None,
        "delivered_at": None,
        "fire": number,
        "error_code": "",
        "error_info": "",
        # DeliveryDeadline counts from each fire as it counted from the task's creation.
        "deliver_by": None if deadline is None else now + (deadline - task.created_at),
    }
    _record_busy(conn, task.id, number, task.fired_at or now, now)
    waiting = [instance_id for instance_id, _exit_code in fires.waiting_rows(conn, task.id)]
    machines = fleet.instances_by_id(conn, waiting)
    for instance_id in waiting:
        machine = machines.get(instance_id)
        code = agent_absence_code(machine, now, online_ms) if machine else None
        if machine is None or code is None or (deadline is not None and code in QUEUED_WHILE):
            event = Event(EventKind.REARMED)
            invocations.apply_event(conn, task.id, instance_id, event, changes, now)
        else:
            _away(conn, task.id, machine, code, number, now)
    fires.carry_held(conn, task.id, number)  # the last fire's unstarted targets join this one
    rollouts.advance(conn, task.id, now, first=True)  # the first batch; woken after commit
    invocations.refresh_overall(conn, task.id)
    return 1


def _away(
    conn: Connection, invoke_id: str, machine: Instance, code: str, fire: int, now: int
) -> None:
    """The agent cannot take fire ``fire``: the fire ends for it with its agent's code (kept as a
    run) and it waits for the next; an instance taken out of the inventory ends for good."""
    row = invocations.get_instance_row(conn, invoke_id, machine.id)
    if row is None:
        return
    changes = {"error_code": code, "error_info": absence_info(machine, code), "finish_at": now}
    if code in GONE:
        invocations.apply_event(conn, invoke_id, machine.id, Event(EventKind.ABORTED), changes, now)
        return
    missed = {**changes, "fire": fire, "held": False, "delivered_at": None}
    event = Event(EventKind.ABORTED, timed=True)
    if invocations.apply_event(conn, invoke_id, machine.id, event, missed, now) is not None:
        record_miss(conn, row, InstanceStatus.ABORTED, changes, now)


def _record_busy(conn: Connection, invoke_id: str, fire: int, last_fire_at: int, now: int) -> None:
    """Targets that cannot join fire ``fire`` keep a record of it, so the history has one per
    target and fire: one whose last run has not ended skips it; one the last fire still holds
    back joins it (store.fires.carry_held), and the last fire it never ran in is recorded, at
    that fire's time (this fire's may yet get its budget record)."""
    for row in invocations.instances_of(conn, [invoke_id])[invoke_id]:
        if row.status.is_final or row.status is InstanceStatus.SCHEDULED:
            continue
        if row.held:
            info = f"skipped: fire {row.fire} held it back (MaxConcurrency) until fire {fire} came"
            timed.record_skip(conn, row, last_fire_at, info)
        else:
            timed.record_skip(conn, row, now)


def _skip_missed(conn: Connection, task: Invocation, due: int, now: int) -> None:
    """The fire due at ``due`` (and any after it) fell while no server was running: it is not
    run late, as an agent that keeps a schedule does not run the fires it slept through. Each
    target keeps a Cancelled record of it, and the next fire is the schedule's next
    time after now. Targets a fire still held, or still running, carry on (store.rollouts)."""
    fires.mark_skipped(conn, task.id, now)
    info = (
        f"skipped: no server was running when this fire was due ({iso_utc(due)}); the fires "
        f"due until {iso_utc(now)} were not run late."
    )
    for row in invocations.instances_of(conn, [task.id])[task.id]:
        if not row.status.is_final:  # every target missed it, whatever it was doing
            timed.record_skip(conn, row, due, info)


def _end_schedule(conn: Connection, task: Invocation, now: int) -> None:
    """No run is left: the targets waiting for one end with their last run's exit code."""
    for instance_id, exit_code in fires.waiting_rows(conn, task.id):
        event = Event(EventKind.SCHEDULE_ENDED, exit_code=exit_code)
        invocations.apply_event(conn, task.id, instance_id, event, {"finish_at": now}, now)
