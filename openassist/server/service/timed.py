"""Timed tasks on the server (API.md 2.3, 4): Frequency checks, the schedule as the agent
protocol carries it, each run kept as history, and reboot tasks handed out again on a new boot.

A Period task is delivered once; the agent then runs it on its own clock and reports each run
(``finish`` / ``timeout`` / ``error``), the end of its schedule (``stopped`` with
``result=completed``) or a schedule it cannot keep (``invalid`` with ``param=cron``). Between
runs the instance's status is Scheduled; the row shows the last run and the number of runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from openassist import expressions
from openassist.catalog import api
from openassist.catalog.api import ApiErrorEntry
from openassist.errors import InvalidParameter
from openassist.protocol.statuses import InstanceStatus, RepeatMode
from openassist.server.lifecycle import Event, EventKind, transition
from openassist.server.service.context import Limits
from openassist.server.store import invocations, runs
from openassist.server.store.records import Invocation, InvocationInstance, InvocationRun

TIMED_MODES = frozenset({RepeatMode.PERIOD, RepeatMode.NEXT_REBOOT_ONLY, RepeatMode.EVERY_REBOOT})
REBOOT_MODES = frozenset({RepeatMode.NEXT_REBOOT_ONLY, RepeatMode.EVERY_REBOOT})
# Tasks whose every run is kept and whose instances wait Scheduled between runs.
HISTORY_MODES = frozenset({RepeatMode.PERIOD, RepeatMode.EVERY_REBOOT})
SKIPPED_INFO = "skipped: the previous run was still going when this one was due"


def checked_frequency(
    text: str,
    now_ms: int,
    timeout_s: int,
    limits: Limits,
    refusal: ApiErrorEntry = api.FREQUENCY_INVALID,
) -> str:
    """``text`` if the server can schedule it; else InvalidParameter ``refusal``, whose message
    starts with the catalog code the instance would report (BadCronExpression ...)."""
    try:
        frequency = expressions.parse(text)
        expressions.check(
            frequency,
            datetime.fromtimestamp(now_ms / 1000, UTC),
            timeout_s,
            limits.min_rate_interval_s,
            limits.min_cron_interval_s,
        )
    except expressions.FrequencyError as error:
        raise InvalidParameter(refusal, code=error.code, detail=error.detail, value=text) from None
    return text.strip()


def server_fired(task: Invocation) -> bool:
    """A Period task with rollout limits: the server keeps its schedule and hands each fire out
    as a run of its own (``fire`` is its invokeVersion), a rollout with the task's limits."""
    return task.repeat_mode == RepeatMode.PERIOD and bool(task.max_concurrency or task.max_errors)


def fire_wait(status: InstanceStatus) -> InstanceStatus:
    """A server-fired task's new row waits Scheduled for the next fire (one ended stays)."""
    return InstanceStatus.SCHEDULED if status is InstanceStatus.PENDING else status


def next_fire_ms(task: Invocation) -> int | None:
    """When a server-fired task fires next: the first run of its schedule after its last fire
    (or its creation), read in UTC unless the Frequency names a zone; None when no run is left."""
    after = task.fired_at if task.fired_at is not None else task.created_at
    following = expressions.next_run(
        expressions.parse(task.frequency),
        datetime.fromtimestamp(after / 1000, UTC),
        datetime.fromtimestamp(task.created_at / 1000, UTC),
    )
    return None if following is None else int(following.timestamp() * 1000)


def wire_schedule(task: Invocation, row: InvocationInstance) -> tuple[str, str, int]:
    """``(repeat, cron, invokeVersion)`` of a task as the agent protocol carries them."""
    if server_fired(task):
        return RepeatMode.ONCE.value, "", row.fire  # one fire: one run, once
    if task.repeat_mode == RepeatMode.PERIOD and task.frequency:
        repeat, cron = expressions.wire_form(expressions.parse(task.frequency))
        return repeat, cron, task.version
    if task.repeat_mode in (RepeatMode.NEXT_REBOOT_ONLY, RepeatMode.EVERY_REBOOT):
        return task.repeat_mode, "", row.repeats  # a new version per boot: the agent runs it
    return task.repeat_mode, "", row.repeats


def needs_new_agent(frequency: str) -> bool:
    """rate(...), at(...), a year or a time zone need agent 2.2.3.282 or later (API.md 4)."""
    return not isinstance(expressions.parse(frequency), expressions.Cron) or (
        len(frequency.split()) > 6
    )


def one_off(task: Invocation) -> bool:
    """An at(...) Period task: its one run ends it."""
    if task.repeat_mode != RepeatMode.PERIOD or not task.frequency:
        return False
    return isinstance(expressions.parse(task.frequency), expressions.At)


def is_timed(task: Invocation) -> bool:
    return task.repeat_mode in TIMED_MODES


def next_run_ms(task: Invocation, now_ms: int) -> int | None:
    """When a Period task fires next (a cron without a zone is read in UTC here; the instance
    reads it in its own zone); None for other tasks or a schedule with no more runs."""
    if task.repeat_mode != RepeatMode.PERIOD or not task.frequency:
        return None
    following = expressions.next_run(
        expressions.parse(task.frequency),
        datetime.fromtimestamp(now_ms / 1000, UTC),
        datetime.fromtimestamp(task.created_at / 1000, UTC),
    )
    return None if following is None else int(following.timestamp() * 1000)


def keeps_history(task: Invocation) -> bool:
    return task.repeat_mode in HISTORY_MODES


def record_run(
    conn: Connection,
    current: InvocationInstance,
    run_status: InstanceStatus,
    changes: dict[str, Any],
) -> bool:
    """Keep one finished run; False when it was kept already (a report sent again)."""
    start_at = changes.get("start_at") or current.start_at or changes["finish_at"]
    return runs.record(
        conn,
        InvocationRun(
            invoke_id=current.invoke_id,
            instance_id=current.instance_id,
            start_at=int(start_at),
            status=run_status,
            error_code=changes.get("error_code", ""),
            error_info=changes.get("error_info", ""),
            exit_code=changes.get("exit_code"),
            output=changes.get("output", b""),
            dropped=int(changes.get("dropped", 0)),
            finish_at=changes.get("finish_at"),
            run_number=current.repeats + 1,
        ),
    )


def run_status(kind: EventKind, exit_code: int | None) -> InstanceStatus:
    """What one run ended as, judged like a one-shot task."""
    status = transition(InstanceStatus.RUNNING, Event(kind, exit_code=exit_code))
    assert status is not None
    return status


def record_skip(
    conn: Connection, current: InvocationInstance, fire_ms: int, info: str = SKIPPED_INFO
) -> bool:
    """A fire skipped (by default because the previous run was still going): kept as a
    Cancelled run."""
    return runs.record(
        conn,
        InvocationRun(
            invoke_id=current.invoke_id,
            instance_id=current.instance_id,
            start_at=fire_ms,
            status=InstanceStatus.CANCELLED,
            error_code="",
            error_info=info,
            exit_code=None,
            output=b"",
            dropped=0,
            finish_at=fire_ms,
            run_number=current.repeats,
        ),
    )


def rearm_reboot_tasks(conn: Connection, instance_id: str, now: int) -> list[str]:
    """The instance booted again: its reboot tasks waiting Scheduled become Pending, to be
    handed out again. Returns their invoke ids."""
    waiting = runs.waiting_for_boot(conn, instance_id, [m.value for m in REBOOT_MODES])
    rearmed = []
    for invoke_id in waiting:
        changes = {"delivered_at": None}
        event = Event(EventKind.REARMED)
        if invocations.apply_event(conn, invoke_id, instance_id, event, changes, now):
            rearmed.append(invoke_id)
    return rearmed
