"""Overall task status from per-instance statuses (API.md 2.5 and 2.6)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from openassist.protocol.statuses import InstanceStatus as S
from openassist.protocol.statuses import InvocationStatus as O
from openassist.protocol.statuses import InvokeRecordStatus as R

_FAILED = frozenset({S.FAILED, S.INVALID, S.ABORTED, S.ERROR, S.TIMEOUT})
_STOPPED = frozenset({S.CANCELLED, S.TERMINATED})
# Precedence among the active states, the order API.md 2.5 suggests.
_ACTIVE_ORDER = (
    (S.PENDING, O.PENDING),
    (S.RUNNING, O.RUNNING),
    (S.STOPPING, O.STOPPING),
    (S.SCHEDULED, O.SCHEDULED),
)


def overall_status(statuses: Iterable[S]) -> O:
    """Derive the task's ``InvocationStatus``; an empty task is Pending."""
    present = set(statuses)
    for instance_status, overall in _ACTIVE_ORDER:
        if instance_status in present:
            return overall
    if not present:
        return O.PENDING
    succeeded = S.SUCCESS in present
    failed = bool(present & _FAILED)
    if succeeded and failed:
        return O.PARTIAL_FAILED
    if succeeded:
        return O.SUCCESS
    if failed:
        return O.FAILED
    return O.STOPPED


StatusCounts = Mapping[S, int]  # how many per-instance rows of a task are in each status


def count_statuses(statuses: Iterable[S]) -> dict[S, int]:
    """The counts of a task's per-instance statuses (what a task keeps to derive its overall
    status without reading every row again)."""
    counts: dict[S, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts


def moved(counts: StatusCounts, old: S, new: S) -> dict[S, int] | None:
    """The counts after one row went from ``old`` to ``new``; None when the counts have no row
    in ``old`` (they are stale: count the rows again)."""
    if counts.get(old, 0) <= 0:
        return None
    after = dict(counts)
    after[old] -= 1
    if not after[old]:
        del after[old]
    after[new] = after.get(new, 0) + 1
    return after


def overall_from_counts(counts: StatusCounts) -> O:
    """``overall_status`` of a task whose rows are counted per status."""
    return overall_status(status for status, n in counts.items() if n > 0)


def deprecated_invoke_status(overall: O) -> str:
    """The deprecated overall ``InvokeStatus`` (API.md 2.6)."""
    if overall in (O.PENDING, O.SCHEDULED, O.RUNNING):
        return "Running"
    if overall is O.SUCCESS:
        return "Finished"
    return str(overall)


def deprecated_instance_status(status: S, error_code: str = "") -> str:
    """The deprecated per-instance ``InstanceInvokeStatus`` (API.md 2.6): a script that ran to its
    end is Finished whatever its exit code; Failed means timed out or could not run."""
    if status in (S.PENDING, S.SCHEDULED, S.RUNNING):
        return "Running"
    if status is S.SUCCESS or error_code == "ExitCodeNonzero":
        return "Finished"
    if status in _STOPPED:
        return "Stopped"
    if status is S.STOPPING:
        return "Stopping"
    return "Failed"


EXIT_CODE_NONZERO = "ExitCodeNonzero"
# InvokeRecordStatus of one run by the instance status it ended in (API.md 2.7). Failed with
# ExitCodeNonzero is the exception: the script ran to its end, so its record is Finished.
RECORD_BY_STATUS: dict[S, R] = {
    S.PENDING: R.RUNNING,
    S.SCHEDULED: R.RUNNING,
    S.RUNNING: R.RUNNING,
    S.STOPPING: R.STOPPING,
    S.CANCELLED: R.STOPPED,
    S.TERMINATED: R.STOPPED,
    S.SUCCESS: R.FINISHED,
    S.FAILED: R.FAILED,
    S.INVALID: R.FAILED,
    S.ABORTED: R.FAILED,
    S.ERROR: R.FAILED,
    S.TIMEOUT: R.FAILED,
}


def record_status(status: S, error_code: str) -> R:
    """The ``InvokeRecordStatus`` of one run."""
    if status is S.FAILED and error_code == EXIT_CODE_NONZERO:
        return R.FINISHED
    return RECORD_BY_STATUS[status]
