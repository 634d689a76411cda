"""Use cases of the agent side: hand out tasks, take reports (acknowledged, idempotent)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from openassist.protocol.reports import ReportKind, TaskReport
from openassist.protocol.statuses import InstanceStatus, RepeatMode
from openassist.server.lifecycle import Event, EventKind
from openassist.server.service import timed
from openassist.server.service.context import ServiceContext
from openassist.server.service.outages import past_deadline, settle_rows
from openassist.server.service.parameter_store import MissingStoreParameter, ParameterStoreService
from openassist.server.service.parameters import (
    StoreReference,
    store_references,
    substitute,
    substitute_store,
)
from openassist.server.store import invocations, outputs
from openassist.server.store.records import Command, Invocation, InvocationInstance


class SecretsUnavailable(Exception):
    """An agent asked for secret values it cannot have (the message says why)."""


@dataclass(frozen=True)
class Claimed:
    """An agent's task-list claim, read and written inside its transaction."""

    runs: list[InvocationInstance]
    stops: list[InvocationInstance]
    tasks: dict[str, Invocation]
    commands: dict[str, Command]
    store_values: dict[str, dict[StoreReference, str]]  # per invoke id


@dataclass(frozen=True)
class Delivery:
    row: InvocationInstance
    invocation: Invocation
    command: Command
    content: bytes  # the command with this task's custom parameter values in place
    built_in: dict[str, str]  # values for {{ACS::...}} that only the server knows
    repeat: str = "Once"  # Once | Period | Rate | At | NextRebootOnly | EveryReboot
    cron: str = ""  # the schedule of Period / Rate / At, as the agent reads it
    version: int = 0  # invokeVersion
    secrets_per_run: bool = False  # ``content`` keeps the {{oos-secret:...}} placeholders


_EVENT = {
    ReportKind.RUNNING: EventKind.STARTED,
    ReportKind.FINISH: EventKind.FINISHED,
    ReportKind.STOPPED: EventKind.STOPPED,
    ReportKind.TIMEOUT: EventKind.TIMED_OUT,
    ReportKind.ERROR: EventKind.ERRORED,
    ReportKind.INVALID: EventKind.INVALID,
}


_TIMED_KINDS = frozenset(
    {
        ReportKind.RUNNING,
        ReportKind.FINISH,
        ReportKind.TIMEOUT,
        ReportKind.ERROR,
        ReportKind.SKIPPED,
    }
)


def _tail(previous: bytes, chunk: bytes, dropped: int, quota: int) -> tuple[bytes, int]:
    combined = previous + chunk
    excess = max(0, len(combined) - quota)
    return combined[excess:], dropped + excess


# Told a one-off task instance's final status and the seconds from its task's creation.
ResultObserver = Callable[[str, float], None]


class DeliveryService:
    def __init__(
        self,
        context: ServiceContext,
        parameter_store: ParameterStoreService,
        observe_result: ResultObserver | None = None,
    ) -> None:
        self._ctx = context
        self._store = parameter_store
        self._observe_result = observe_result

    def claim(
        self, conn: Connection, instance_id: str, outage_since: int | None, now: int
    ) -> Claimed:
        """Inside the caller's write transaction: tasks to run (new, or handed out earlier and
        never confirmed) and tasks to stop; tasks never handed out and past their delivery
        window end instead (see outages). The rows handed out are locked (PostgreSQL: ``FOR
        UPDATE SKIP LOCKED``), so a claim of the same instance at once, on this node or
        another, skips them: each row is handed out once."""
        redeliver_before = now - self._ctx.limits.redeliver_after_s * 1000
        window = self._ctx.limits.delivery_timeout_s * 1000
        runs: list[InvocationInstance] = []
        overdue: list[InvocationInstance] = []
        for row in invocations.pending_for_instance(conn, instance_id, redeliver_before, now):
            if row.deliver_by is not None and row.delivered_at is None and now > row.deliver_by:
                # Came back too late: it never runs.
                tables = invocations.TABLES
                past_deadline(conn, tables, row.invoke_id, instance_id, row.deliver_by, now)
                continue
            waiting_since = row.released_at or row.created_at  # a rollout's: its release
            late = row.delivered_at is None and waiting_since < now - window
            (overdue if late and row.deliver_by is None else runs).append(row)
        if overdue:
            late_rows = [(r.invoke_id, r.released_at or r.created_at) for r in overdue]
            tables = invocations.TABLES
            since = outage_since
            settle_rows(conn, tables, instance_id, late_rows, since, now, window, True)
        stops = invocations.stopping_for_instance(conn, instance_id)
        tasks = invocations.invocations_by_id(conn, [r.invoke_id for r in (*runs, *stops)])
        for row in runs:  # a schedule, once handed out, waits Scheduled on the agent
            task = tasks[row.invoke_id]
            if task.repeat_mode == RepeatMode.PERIOD and not timed.server_fired(task):
                event = Event(EventKind.DELIVERED, timed=True)
                invocations.apply_event(conn, row.invoke_id, instance_id, event, {}, now)
        cmds = invocations.commands_by_id(conn, [t.command_id for t in tasks.values()])
        values: dict[str, dict[StoreReference, str]] = {}
        ready = []
        for row in runs:
            command = cmds[tasks[row.invoke_id].command_id]
            filled = self._store_values(conn, row, command, now)
            if filled is not None:
                values[row.invoke_id] = filled
                ready.append(row)
        invocations.mark_delivered(conn, ready, now)
        return Claimed(ready, stops, tasks, cmds, values)

    def deliveries(
        self, claimed: Claimed, instance_name: str, secrets_per_run: bool
    ) -> tuple[list[Delivery], list[Delivery]]:
        """What a claim hands the agent: runs and stops. ``secrets_per_run``: the agent asks
        for secret values at each run (``secret_values``), so its tasks keep the
        ``{{oos-secret:...}}`` placeholders; every reference was still checked by the claim,
        so a task naming a deleted parameter fails at once."""
        tasks, cmds = claimed.tasks, claimed.commands

        def delivery(row: InvocationInstance) -> Delivery:
            task = tasks[row.invoke_id]
            command = cmds[task.command_id]
            values = claimed.store_values.get(row.invoke_id, {})
            content = _content(task, command, values, secrets_per_run)
            built_in = {"RegionId": self._ctx.limits.regions[0], "InstanceName": instance_name}
            repeat, cron, version = timed.wire_schedule(task, row)
            per_run = secrets_per_run and command.enable_parameter
            return Delivery(row, task, command, content, built_in, repeat, cron, version, per_run)

        return [delivery(r) for r in claimed.runs], [delivery(r) for r in claimed.stops]

    def _store_values(
        self, conn: Connection, row: InvocationInstance, command: Command, now: int
    ) -> dict[StoreReference, str] | None:
        """The parameter store values the task's command refers to, read as it is handed out;
        None when one is gone (the instance's run then fails with QueryParameterStoreFailed)."""
        references = store_references(command.content) if command.enable_parameter else []
        try:
            return self._store.values_for(conn, references)
        except MissingStoreParameter as missing:
            changes = {
                "finish_at": now,
                "error_code": "QueryParameterStoreFailed",
                "error_info": str(missing),
            }
            event = Event(EventKind.FAILED)
            invocations.apply_event(conn, row.invoke_id, row.instance_id, event, changes, now)
            return None

    async def secret_values(self, instance_id: str, task_id: str) -> dict[str, str]:
        """The values of the ``{{oos-secret:...}}`` references of a task of this instance that
        has not ended, by parameter name, read now (a rotated secret reaches the next run).
        Raises SecretsUnavailable saying why there are none."""

        def read(conn: Connection) -> dict[str, str]:
            _task, command = _live_task(conn, instance_id, task_id)
            if command is None or not command.enable_parameter:
                return {}
            wanted = [r for r in store_references(command.content) if r.secret]
            try:
                found = self._store.values_for(conn, wanted)
            except MissingStoreParameter as missing:
                raise SecretsUnavailable(str(missing)) from None
            return {reference.name: value for reference, value in found.items()}

        return await self._ctx.db.read(read)

    async def template(self, instance_id: str, task_id: str) -> bytes:
        """The command of a task of this instance that has not ended, as an agent that asks
        for secret values per run is handed it (placeholders of secrets kept). Our agent asks
        for it to clean a schedule file that an earlier release wrote with the values in.
        Raises SecretsUnavailable saying why not."""

        def read(conn: Connection) -> bytes:
            task, command = _live_task(conn, instance_id, task_id)
            if command is None:
                raise SecretsUnavailable(f"the command of the task {task_id} is gone")
            references = store_references(command.content) if command.enable_parameter else []
            plain = [r for r in references if not r.secret]
            try:
                values = self._store.values_for(conn, plain)
            except MissingStoreParameter as missing:
                raise SecretsUnavailable(str(missing)) from None
            return _content(task, command, values, secrets_per_run=True)

        return await self._ctx.db.read(read)

    async def report(self, instance_id: str, report: TaskReport) -> InstanceStatus | None:
        """Apply one report; repeated or late reports change nothing and return None."""
        now = self._ctx.clock.now_ms()
        quota = self._ctx.limits.output_quota

        def apply(conn: Connection) -> InstanceStatus | None:
            current = invocations.get_instance_row(conn, report.task_id, instance_id)
            if current is None or report.kind is ReportKind.VERIFIED:
                return None
            task = invocations.get_invocation(conn, report.task_id)
            # ``stopped`` of a timed task too: it ends the schedule, and adds a run only if
            # it cut one short (a one-shot path would count the last run twice).
            about_run = report.kind in _TIMED_KINDS or report.kind is ReportKind.STOPPED
            if task is not None and timed.keeps_history(task) and about_run:
                return self._timed_report(conn, report, current, task, now)
            if report.kind is ReportKind.SKIPPED:
                return None
            if report.kind is ReportKind.RUNNING and current.status is InstanceStatus.RUNNING:
                # Partial output of a run already known to be running: append, keep the tail.
                output, dropped = _tail(current.output, report.output, current.dropped, quota)
                if invocations.update_output(
                    conn, report.task_id, instance_id, output, dropped, now
                ):
                    self._keep_full(conn, report, current)
                return None
            event = Event(
                _EVENT[report.kind], exit_code=report.exit_code, never_started=report.never_started
            )
            changes, stored = self._changes(report, current), b""
            cap = self._ctx.limits.full_output_cap
            if report.output and cap:  # the full output's size changes with the status
                stored, full = outputs.fit(report.output, current.full_size, cap)
                changes.update(full)
            new = invocations.apply_event(conn, report.task_id, instance_id, event, changes, now)
            if new is not None:
                outputs.add_chunk(conn, report.task_id, instance_id, current.full_size, stored)
                if new.is_final and self._observe_result is not None:
                    self._observe_result(new.value, (now - current.created_at) / 1000)
            return new

        # Reports arrive together during a fan-out: they share transactions (group commit).
        return await self._ctx.db.write_grouped(apply, report.task_id)

    def _timed_report(
        self,
        conn: Connection,
        report: TaskReport,
        current: InvocationInstance,
        task: Invocation,
        now: int,
    ) -> InstanceStatus | None:
        """One report about a run of a timed task: the run is kept as history and the instance
        waits Scheduled for the next one; the end of the schedule ends the task."""
        ids = (report.task_id, current.instance_id)
        if report.kind is ReportKind.SKIPPED:
            timed.record_skip(conn, current, report.current_time_ms or now)
            return None
        if report.schedule_completed:  # no more runs
            event = Event(EventKind.SCHEDULE_ENDED, exit_code=current.exit_code)
            return invocations.apply_event(conn, *ids, event, {"finish_at": now}, now)
        if report.kind is ReportKind.STOPPED:
            return self._timed_stop(conn, report, current, now)
        if report.kind is ReportKind.RUNNING:
            if current.status is InstanceStatus.RUNNING:
                quota = self._ctx.limits.output_quota
                output, dropped = _tail(current.output, report.output, current.dropped, quota)
                invocations.update_output(conn, *ids, output, dropped, now)
                return None
            changes = {"start_at": report.start_ms or now, "output": report.output, "dropped": 0}
            delivered = current.delivered_at is not None
            event = Event(EventKind.STARTED, delivered=delivered, timed=True)
            return invocations.apply_event(conn, *ids, event, changes, now)
        fresh = current.status is not InstanceStatus.RUNNING  # no chunks of this run yet
        changes = self._changes(report, current, fresh=fresh)
        kind = _EVENT[report.kind]
        if not timed.record_run(conn, current, timed.run_status(kind, report.exit_code), changes):
            return None  # this run is known already
        delivered = current.delivered_at is not None
        # An at(...) task has one run: it ends the task (the official agent sends no
        # ``stopped``/``completed`` after it).
        fired = timed.server_fired(task)  # a fire's run: nothing is left on the agent after it
        event = Event(kind, report.exit_code, delivered, timed=not timed.one_off(task), fired=fired)
        return invocations.apply_event(conn, *ids, event, changes, now)

    def _timed_stop(
        self, conn: Connection, report: TaskReport, current: InvocationInstance, now: int
    ) -> InstanceStatus | None:
        """StopInvocation reached a timed task. The agent answers with the run it cut short, or,
        when none was going, with the times of its last run (the official agent) or of none
        (``start=0``, or ``result=canceled`` from ours): only a run not kept yet is a new one."""
        ids = (report.task_id, current.instance_id)
        changes: dict[str, Any] = {"finish_at": report.end_ms or now}
        if report.start_ms and not report.never_started:
            # The row holds this run's chunks if its start was reported (it may be Stopping).
            run = self._changes(report, current, fresh=current.start_at != report.start_ms)
            if timed.record_run(conn, current, timed.run_status(EventKind.STOPPED, None), run):
                changes = run  # the run it killed: kept, and counted in Repeats
        event = Event(EventKind.STOPPED, never_started=report.never_started)
        return invocations.apply_event(conn, *ids, event, changes, now)

    def _keep_full(self, conn: Connection, report: TaskReport, current: InvocationInstance) -> None:
        cap = self._ctx.limits.full_output_cap
        if report.output and cap:
            outputs.append(
                conn, report.task_id, current.instance_id, report.output, current.full_size, cap
            )

    def _changes(
        self, report: TaskReport, current: InvocationInstance, fresh: bool = False
    ) -> dict[str, Any]:
        quota = self._ctx.limits.output_quota
        if report.kind is ReportKind.RUNNING:
            output, dropped = _tail(current.output, report.output, current.dropped, quota)
            return {"start_at": report.start_ms or None, "output": output, "dropped": dropped}
        # The final report carries the output not sent while running: append it, keep the tail.
        # ``fresh``: a run of a timed task that sent no chunks; earlier runs' output goes.
        previous, previous_dropped = (b"", 0) if fresh else (current.output, current.dropped)
        dropped = previous_dropped + (report.dropped or 0)
        output, dropped = _tail(previous, report.output, dropped, quota)
        changes: dict[str, Any] = {
            "output": output,
            "dropped": dropped,
            "finish_at": report.end_ms or self._ctx.clock.now_ms(),
            "repeats": current.repeats + 1,
            "exit_code": report.exit_code,
            "error_code": report.error_code or _default_code(report),
            "error_info": report.error_info or _default_info(report),
        }
        if report.start_ms or current.start_at is None:
            changes["start_at"] = report.start_ms or current.start_at or changes["finish_at"]
        return changes


def _content(
    task: Invocation,
    command: Command,
    values: dict[StoreReference, str],
    secrets_per_run: bool,
) -> bytes:
    """The command as the agent gets it: custom parameters and store references filled in
    (secret ones left in place for an agent that asks for them per run)."""
    if not command.enable_parameter:
        return command.content
    content = substitute(command.content, json.loads(task.parameters or "{}"))
    if secrets_per_run:
        values = {ref: value for ref, value in values.items() if not ref.secret}
    return substitute_store(content, values)


def _live_task(
    conn: Connection, instance_id: str, task_id: str
) -> tuple[Invocation, Command | None]:
    """A task of this instance that has not ended, and its command; raises SecretsUnavailable."""
    row = invocations.get_instance_row(conn, task_id, instance_id)
    task = invocations.get_invocation(conn, task_id)
    if row is None or task is None:
        raise SecretsUnavailable(f"no task {task_id} for this instance")
    if row.status.is_final:
        raise SecretsUnavailable(f"the task {task_id} has ended ({row.status})")
    return task, invocations.commands_by_id(conn, [task.command_id]).get(task.command_id)


def _default_code(report: TaskReport) -> str:
    if report.kind is ReportKind.FINISH:
        return "ExitCodeNonzero" if report.exit_code not in (0, None) else ""
    if report.kind is ReportKind.TIMEOUT:
        return "ExecutionTimeout"
    if report.kind is ReportKind.ERROR:
        return "ExecutionException"
    return ""


def _default_info(report: TaskReport) -> str:
    if report.kind is ReportKind.FINISH and report.exit_code not in (0, None):
        return f"the command execution exit code is not zero: {report.exit_code}."
    if report.kind is ReportKind.TIMEOUT:
        return "the command execution has been timeout."
    return ""
