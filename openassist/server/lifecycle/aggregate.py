"""Overall task status from per-instance statuses (API.md 2.5 and 2.6)."""

from __future__ import annotations

from collections.abc import Iterable

from openassist.protocol.statuses import InstanceStatus as S
from openassist.protocol.statuses import InvocationStatus as O

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
