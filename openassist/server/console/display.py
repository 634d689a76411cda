"""How statuses, times and outcomes read on the console (the Cloud Assistant console's words)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from openassist.protocol.statuses import InstanceStatus, InvocationStatus

S = InstanceStatus

TASK_LABELS = {
    InvocationStatus.PENDING: "Pending",
    InvocationStatus.SCHEDULED: "Scheduled",
    InvocationStatus.RUNNING: "Running",
    InvocationStatus.STOPPING: "Stopping",
    InvocationStatus.SUCCESS: "Task Completed",
    InvocationStatus.FAILED: "Execution failed",
    InvocationStatus.PARTIAL_FAILED: "Partially failed",
    InvocationStatus.STOPPED: "Stopped",
}

INSTANCE_LABELS = {
    S.PENDING: "Pending delivery",
    S.SCHEDULED: "Scheduled",
    S.RUNNING: "Running",
    S.STOPPING: "Stopping",
    S.SUCCESS: "Task Completed",
    S.FAILED: "Execution failed",
    S.INVALID: "Invalid",
    S.ABORTED: "Not delivered",
    S.ERROR: "Execution error",
    S.TIMEOUT: "Timed out",
    S.CANCELLED: "Cancelled",
    S.TERMINATED: "Stopped",
}


@dataclass(frozen=True)
class Outcome:
    """One tab of the task page: a name for URLs, a label, and the statuses it gathers."""

    key: str
    label: str
    statuses: frozenset[InstanceStatus]


OUTCOMES = (
    Outcome("completed", "Task Completed", frozenset({S.SUCCESS})),
    Outcome(
        "failed",
        "Execution failed",
        frozenset({S.FAILED, S.ERROR, S.TIMEOUT, S.INVALID, S.ABORTED}),
    ),
    Outcome("running", "Running", frozenset({S.PENDING, S.RUNNING, S.STOPPING})),
    Outcome("scheduled", "Scheduled", frozenset({S.SCHEDULED})),
    Outcome("stopped", "Stopped", frozenset({S.CANCELLED, S.TERMINATED})),
)
OUTCOME_KEYS = tuple(o.key for o in OUTCOMES)
ACTIVE = frozenset({S.PENDING, S.SCHEDULED, S.RUNNING, S.STOPPING})
ACTIVE_TASKS = frozenset(
    {
        InvocationStatus.PENDING,
        InvocationStatus.SCHEDULED,
        InvocationStatus.RUNNING,
        InvocationStatus.STOPPING,
    }
)


def outcome_of(status: InstanceStatus) -> str:
    for outcome in OUTCOMES:
        if status in outcome.statuses:
            return outcome.key
    return "failed"


def outcome_counts(statuses: Iterable[InstanceStatus]) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOME_KEYS, 0)
    for status in statuses:
        counts[outcome_of(status)] += 1
    return counts


def when(ms: int | None) -> str:
    """``2026-11-23 12:03:54 UTC``; empty for None."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(ms: int | None) -> str:
    """Machine-readable time for ``<time datetime>``."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_when(text: str) -> int | None:
    """A ``datetime-local`` (or ISO) input, read as UTC, in ms; None when empty or malformed."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def first_line(content: bytes, limit: int = 80) -> str:
    text = content.decode("utf-8", "replace").strip().splitlines()
    line = text[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def outcome_totals(counts: Mapping[InstanceStatus, int]) -> dict[str, int]:
    """Rows by outcome (tab) from rows by status."""
    totals = dict.fromkeys(OUTCOME_KEYS, 0)
    for status, count in counts.items():
        totals[outcome_of(status)] += count
    return totals


def duration(ms: int | None) -> str:
    """``850 ms``, ``12.3 s``, ``4 min 05 s``; empty for None."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(ms // 1000, 60)
    return f"{minutes} min {seconds:02d} s"
