"""A rollout as ``openassist run`` and ``send-file`` start and show it (README, "Rollouts"): the
options' API parameters, how long to follow it, a line when a batch of machines starts and one
when the error budget is spent, from the rows the API returns."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from typing import Any

BUDGET_SPENT = "ErrorBudgetSpent"  # the catalog's code of a rollout's target never started
_NOT_STARTED = ("Pending", "Scheduled")

Row = Mapping[str, "Any"]


def rollout_params(args: argparse.Namespace) -> dict[str, str]:
    """The API parameters of ``--max-concurrency``, ``--max-errors``, ``--batch-wait`` and
    ``--delivery-deadline``, as given (the server checks them and names a bad one's code)."""
    given = {
        "MaxConcurrency": args.max_concurrency,
        "MaxErrors": args.max_errors,
        "BatchWait": args.batch_wait,
        "DeliveryDeadline": args.delivery_deadline,
    }
    return {name: value for name, value in given.items() if value}


def _until_deadline_s(delivery_deadline: str) -> float:
    """Seconds until ``DeliveryDeadline`` (seconds from now, or a UTC time) passes."""
    if delivery_deadline.isdigit():
        return float(delivery_deadline)
    from datetime import UTC, datetime  # only for a deadline given as a time

    try:
        when = datetime.fromisoformat(delivery_deadline)
    except ValueError:  # the server took it, so it reads it: no longer than its 7 days
        return 7 * 86400.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def follow_s(args: argparse.Namespace, machines: int, per_call: int) -> float:
    """How long to follow a task of ``machines`` split into calls of ``per_call``: a machine's
    timeout; with ``--max-concurrency``, at worst one machine at a time with the waits between;
    with ``--delivery-deadline``, an offline machine may start only at the deadline."""
    per_machine = float(args.timeout) + 30
    if args.max_concurrency:
        per_machine = (args.timeout + int(args.batch_wait or 0) + 5) * min(machines, per_call)
    if args.delivery_deadline:
        per_machine += _until_deadline_s(args.delivery_deadline)
    return per_machine + 30


def _ceil_div(top: int, bottom: int) -> int:
    """``top / bottom`` rounded up, in integers (math, a module to load, for nothing more)."""
    return -(-top // bottom)


def batch_size(max_concurrency: str, targets: int) -> int:
    """MaxConcurrency in machines, as the server reads it (a percentage rounds up, at least 1)."""
    if max_concurrency.endswith("%"):
        return max(1, _ceil_div(targets * int(max_concurrency[:-1]), 100))
    return max(1, int(max_concurrency))


class RolloutProgress:
    """Lines to print as a rollout moves on; one instance per ``openassist run``."""

    def __init__(self, max_concurrency: str, label: Callable[[Row], str]) -> None:
        self._limit = max_concurrency
        self._label = label
        self._started: dict[str, set[str]] = {}  # per invoke id
        self._batch: dict[str, int] = {}
        self._spent: set[str] = set()

    def lines(self, rows: Sequence[Row]) -> list[str]:
        by_task: dict[str, list[Row]] = {}
        for row in rows:
            by_task.setdefault(str(row.get("InvokeId", "")), []).append(row)
        shown: list[str] = []
        for invoke_id, task_rows in by_task.items():
            prefix = f"{invoke_id}: " if len(by_task) > 1 else ""
            shown += [prefix + line for line in self._task_lines(invoke_id, task_rows)]
        return shown

    def _task_lines(self, invoke_id: str, rows: Sequence[Row]) -> list[str]:
        lines = []
        size = batch_size(self._limit, len(rows)) if self._limit else len(rows)
        count = _ceil_div(len(rows), size)
        started = self._started.setdefault(invoke_id, set())
        fresh = [
            r
            for r in sorted(rows, key=lambda r: str(r["InstanceId"]))
            if r["InvocationStatus"] not in _NOT_STARTED
            and r.get("ErrorCode") != BUDGET_SPENT
            and str(r["InstanceId"]) not in started
        ]
        started.update(str(r["InstanceId"]) for r in fresh)
        batch = min(count, _ceil_div(len(started), size))
        if batch > self._batch.get(invoke_id, 0):
            names = ", ".join(self._label(r) for r in fresh)
            lines.append(f"batch {batch} of {count} started: {names}")
            self._batch[invoke_id] = batch
        spent = [r for r in rows if r.get("ErrorCode") == BUDGET_SPENT]
        if spent and invoke_id not in self._spent:
            self._spent.add(invoke_id)
            lines.append(f"budget spent: {spent[0].get('ErrorInfo', '')}".rstrip())
        return lines
