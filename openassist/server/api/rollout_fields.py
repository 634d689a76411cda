"""How a task's rollout shows in the API (README, "Rollouts"): its limits, where its targets
stand and why it stopped early; commands and send-file tasks alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from openassist.protocol.statuses import InstanceStatus
from openassist.server.api.envelope import iso


class _Task(Protocol):
    @property
    def max_concurrency(self) -> str: ...
    @property
    def max_errors(self) -> str: ...
    @property
    def batch_wait(self) -> int: ...
    @property
    def stop_reason(self) -> str: ...
    @property
    def delivery_deadline(self) -> int | None: ...


class _Row(Protocol):
    @property
    def status(self) -> InstanceStatus: ...
    @property
    def delivered_at(self) -> int | None: ...


def rollout_fields(task: _Task, rows: Sequence[_Row]) -> dict[str, Any]:
    """The OpenAssist extension fields: the limits and counts only on a task given
    MaxConcurrency/MaxErrors, DeliveryDeadline only on one given it."""
    fields: dict[str, Any] = {}
    if task.max_concurrency or task.max_errors:
        done = sum(row.status.is_final for row in rows)
        # Waiting: held back, not yet handed to its agent, or (a server-fired schedule) waiting
        # for the next fire; running: handed out, not ended.
        waiting = sum(
            row.status is InstanceStatus.SCHEDULED
            or (row.status is InstanceStatus.PENDING and row.delivered_at is None)
            for row in rows
        )
        fields.update(
            MaxConcurrency=task.max_concurrency,
            MaxErrors=task.max_errors,
            BatchWait=task.batch_wait,
            TargetsWaiting=waiting,
            TargetsRunning=len(rows) - done - waiting,
            TargetsDone=done,
            StopReason=task.stop_reason,
        )
        fires = getattr(task, "fires", None)
        if getattr(task, "repeat_mode", "") == "Period" and fires is not None:
            fields["Fires"] = fires  # a server-fired schedule: fires so far
    if task.delivery_deadline is not None:
        fields["DeliveryDeadline"] = iso(task.delivery_deadline)
    return fields
