"""Per-instance transitions: ``transition(current, event)`` returns the new status or None.

None means the proposal is refused (late or duplicate report, stop after the end, ...). Reports are
idempotent: the same final report twice is refused the second time and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from openassist.protocol.statuses import InstanceStatus as S


class EventKind(StrEnum):
    DELIVERED = "delivered"  # handed to the agent in a task list; status stays Pending
    STARTED = "started"  # agent reports running
    FINISHED = "finished"  # process exited; exit code decides Success / Failed
    TIMED_OUT = "timed_out"
    ERRORED = "errored"  # agent could not run it (ExecutionException, DirectoryNotExists ...)
    INVALID = "invalid"  # not applicable to this instance (CommandNotApplicable ...)
    ABORTED = "aborted"  # could not be delivered (ClientNotRunning, DeliveryTimeout ...)
    STOP_REQUESTED = "stop_requested"
    STOPPED = "stopped"  # agent confirms the stop
    FAILED = "failed"  # the server gives up on a delivered task (ClientNotResponse ...)
    SCHEDULE_ENDED = "schedule_ended"  # a timed task has no more runs (exit code of the last)
    # Deliver a timed task again: a reboot task's boot came, or a schedule was modified.
    REARMED = "rearmed"


@dataclass(frozen=True)
class Event:
    kind: EventKind
    exit_code: int | None = None
    # For STOP_REQUESTED: the task was already handed to the agent, which must be told to stop.
    delivered: bool = False
    # For STOPPED: the agent never started the run it was asked to stop.
    never_started: bool = False
    # For DELIVERED and run reports: a timed task, whose runs leave it Scheduled. With
    # ``delivered`` unset, a Pending timed row waits to be handed out again.
    timed: bool = False
    # For run reports of a timed task: a fire of a server-fired schedule, which the agent ran as
    # a one-off run. It keeps no schedule, so once that run ends nothing of the task is left on
    # the agent to stop, and no ``stopped`` report will come.
    fired: bool = False


_NOT_STARTED = (S.PENDING, S.SCHEDULED)
_LIVE = (S.PENDING, S.SCHEDULED, S.RUNNING)
_ANY_ACTIVE = (S.PENDING, S.SCHEDULED, S.RUNNING, S.STOPPING)

# Which states each event may leave from. Anything final is absorbing.
_FROM: dict[EventKind, tuple[S, ...]] = {
    EventKind.DELIVERED: (S.PENDING,),
    EventKind.STARTED: _NOT_STARTED,
    EventKind.FINISHED: _ANY_ACTIVE,
    EventKind.TIMED_OUT: _ANY_ACTIVE,
    EventKind.ERRORED: _ANY_ACTIVE,
    EventKind.INVALID: _ANY_ACTIVE,
    EventKind.ABORTED: _NOT_STARTED,
    EventKind.STOP_REQUESTED: _LIVE,
    EventKind.STOPPED: _ANY_ACTIVE,
    EventKind.FAILED: _ANY_ACTIVE,
    EventKind.SCHEDULE_ENDED: _ANY_ACTIVE,
    EventKind.REARMED: (S.SCHEDULED, S.RUNNING),
}
_RUN_ENDS = (EventKind.FINISHED, EventKind.TIMED_OUT, EventKind.ERRORED)


def allowed_from(kind: EventKind) -> tuple[S, ...]:
    """The states from which ``kind`` is accepted (used in the store's conditional update)."""
    return _FROM[kind]


# Events whose outcome does not depend on the current state or on the event's data.
_FIXED: dict[EventKind, S] = {
    EventKind.STARTED: S.RUNNING,
    EventKind.TIMED_OUT: S.TIMEOUT,
    EventKind.ERRORED: S.ERROR,
    EventKind.INVALID: S.INVALID,
    EventKind.ABORTED: S.ABORTED,
    EventKind.FAILED: S.FAILED,
}


def transition(current: S, event: Event) -> S | None:
    """Return the status after ``event``, or None when the event is refused in ``current``."""
    if current not in _FROM[event.kind]:
        return None
    if event.timed:
        return _timed(current, event)
    fixed = _FIXED.get(event.kind)
    if fixed is not None:
        return fixed
    match event.kind:
        case EventKind.FINISHED:
            return S.SUCCESS if event.exit_code == 0 else S.FAILED
        case EventKind.STOP_REQUESTED:
            # Not handed out yet: nothing to kill, the run is simply cancelled.
            if current in _NOT_STARTED and not event.delivered:
                return S.CANCELLED
            return S.STOPPING
        case EventKind.STOPPED:
            if current in _NOT_STARTED or event.never_started:
                return S.CANCELLED
            return S.TERMINATED
        case EventKind.SCHEDULE_ENDED:
            if current is S.STOPPING:
                return S.TERMINATED
            return S.SUCCESS if event.exit_code == 0 else S.FAILED
        case EventKind.REARMED:
            return S.PENDING
    return current  # DELIVERED: handed out, still Pending until the agent reports


def _timed(current: S, event: Event) -> S | None:
    """A timed task waits Scheduled between runs; one run's end does not end the task."""
    if event.kind is EventKind.DELIVERED:
        return S.SCHEDULED
    if event.kind is EventKind.ABORTED:
        # A server-fired schedule's fire that could not reach the agent: only that fire ends,
        # the row waits for the next (service.fire_misses keeps the miss as a run).
        return S.SCHEDULED
    if current is S.STOPPING and event.fired and event.kind in _RUN_ENDS:
        return S.TERMINATED  # the fire's run ended as the stop came: the stop is done
    replaced = current is S.PENDING and not event.delivered  # waiting for a new version
    if (replaced or current is S.STOPPING) and event.kind in (EventKind.STARTED, *_RUN_ENDS):
        return current  # a run of the version being replaced (or stopped): wait for that
    if event.kind is EventKind.STARTED:
        return S.RUNNING
    if event.kind in _RUN_ENDS:
        return S.SCHEDULED
    return transition(current, Event(event.kind, event.exit_code, event.delivered))
