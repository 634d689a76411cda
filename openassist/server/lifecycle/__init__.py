"""The invocation state machine: pure functions, no I/O.

``transition`` judges every proposed per-instance change; ``overall_status`` derives a task's
status from its instances. The store applies decisions with conditional updates (``WHERE status IN
allowed``) so a late report never overwrites a final state. Imports only the leaf layer.
"""

from openassist.server.lifecycle.aggregate import (
    EXIT_CODE_NONZERO,
    RECORD_BY_STATUS,
    StatusCounts,
    count_statuses,
    deprecated_instance_status,
    deprecated_invoke_status,
    moved,
    overall_from_counts,
    overall_status,
    record_status,
)
from openassist.server.lifecycle.transition import Event, EventKind, allowed_from, transition

__all__ = [
    "EXIT_CODE_NONZERO",
    "RECORD_BY_STATUS",
    "Event",
    "EventKind",
    "StatusCounts",
    "allowed_from",
    "count_statuses",
    "deprecated_instance_status",
    "deprecated_invoke_status",
    "moved",
    "overall_from_counts",
    "overall_status",
    "record_status",
    "transition",
]
