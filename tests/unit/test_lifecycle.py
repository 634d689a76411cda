"""The state machine, exhaustively: every (state, event) pair has exactly one expected answer."""

from __future__ import annotations

import itertools

import pytest

from openassist.protocol.statuses import InstanceStatus as S
from openassist.protocol.statuses import InvocationStatus as O
from openassist.server.lifecycle import (
    Event,
    EventKind,
    allowed_from,
    deprecated_instance_status,
    deprecated_invoke_status,
    overall_status,
    transition,
)

K = EventKind
ACTIVE = (S.PENDING, S.SCHEDULED, S.RUNNING, S.STOPPING)
FINAL = tuple(s for s in S if s not in ACTIVE)

# The expected status for each event from each active state (None: refused).
EXPECTED: dict[EventKind, dict[S, S | None]] = {
    K.DELIVERED: {S.PENDING: S.PENDING, S.SCHEDULED: None, S.RUNNING: None, S.STOPPING: None},
    K.STARTED: {S.PENDING: S.RUNNING, S.SCHEDULED: S.RUNNING, S.RUNNING: None, S.STOPPING: None},
    K.TIMED_OUT: dict.fromkeys(ACTIVE, S.TIMEOUT),
    K.ERRORED: dict.fromkeys(ACTIVE, S.ERROR),
    K.INVALID: dict.fromkeys(ACTIVE, S.INVALID),
    K.FAILED: dict.fromkeys(ACTIVE, S.FAILED),
    K.ABORTED: {S.PENDING: S.ABORTED, S.SCHEDULED: S.ABORTED, S.RUNNING: None, S.STOPPING: None},
    K.STOPPED: {
        S.PENDING: S.CANCELLED,
        S.SCHEDULED: S.CANCELLED,
        S.RUNNING: S.TERMINATED,
        S.STOPPING: S.TERMINATED,
    },
    K.STOP_REQUESTED: {
        S.PENDING: S.CANCELLED,
        S.SCHEDULED: S.CANCELLED,
        S.RUNNING: S.STOPPING,
        S.STOPPING: None,
    },
    # The end of a timed task's schedule: judged by the last run's exit code (none here).
    K.SCHEDULE_ENDED: {
        S.PENDING: S.FAILED,
        S.SCHEDULED: S.FAILED,
        S.RUNNING: S.FAILED,
        S.STOPPING: S.TERMINATED,
    },
    K.REARMED: {S.PENDING: None, S.SCHEDULED: S.PENDING, S.RUNNING: S.PENDING, S.STOPPING: None},
}


@pytest.mark.parametrize(("kind", "current"), list(itertools.product(K, ACTIVE)))
def test_every_event_from_every_active_state(kind: EventKind, current: S) -> None:
    if kind is K.FINISHED:
        assert transition(current, Event(kind, exit_code=0)) is S.SUCCESS
        assert transition(current, Event(kind, exit_code=2)) is S.FAILED
        return
    assert transition(current, Event(kind)) is EXPECTED[kind][current]


@pytest.mark.parametrize(("kind", "current"), list(itertools.product(K, FINAL)))
def test_final_states_are_absorbing(kind: EventKind, current: S) -> None:
    # A late Running (or any report) never overwrites a final state.
    assert transition(current, Event(kind, exit_code=0)) is None


def test_stop_of_a_delivered_pending_task_asks_the_agent() -> None:
    assert transition(S.PENDING, Event(K.STOP_REQUESTED, delivered=True)) is S.STOPPING
    assert transition(S.PENDING, Event(K.STOP_REQUESTED, delivered=False)) is S.CANCELLED


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], O.PENDING),
        ([S.PENDING, S.SUCCESS], O.PENDING),
        ([S.RUNNING, S.FAILED], O.RUNNING),
        ([S.STOPPING, S.SUCCESS], O.STOPPING),
        ([S.SCHEDULED], O.SCHEDULED),
        ([S.PENDING, S.RUNNING], O.PENDING),
        ([S.SUCCESS, S.SUCCESS], O.SUCCESS),
        ([S.SUCCESS, S.CANCELLED], O.SUCCESS),
        ([S.SUCCESS, S.TIMEOUT], O.PARTIAL_FAILED),
        ([S.SUCCESS, S.ABORTED, S.TERMINATED], O.PARTIAL_FAILED),
        ([S.FAILED, S.ERROR], O.FAILED),
        ([S.INVALID, S.TERMINATED], O.FAILED),
        ([S.CANCELLED, S.TERMINATED], O.STOPPED),
    ],
)
def test_overall_status(statuses: list[S], expected: O) -> None:
    assert overall_status(statuses) is expected


def test_deprecated_fields() -> None:
    assert deprecated_invoke_status(O.SUCCESS) == "Finished"
    assert deprecated_invoke_status(O.PENDING) == "Running"
    assert deprecated_invoke_status(O.PARTIAL_FAILED) == "PartialFailed"
    assert deprecated_instance_status(S.FAILED, "ExitCodeNonzero") == "Finished"
    assert deprecated_instance_status(S.TIMEOUT, "ExecutionTimeout") == "Failed"
    assert deprecated_instance_status(S.TERMINATED) == "Stopped"
    assert deprecated_instance_status(S.RUNNING) == "Running"
    assert deprecated_instance_status(S.STOPPING) == "Stopping"


def test_record_status_of_a_nonzero_exit_is_finished() -> None:
    from openassist.protocol.statuses import InvokeRecordStatus as R
    from openassist.server.lifecycle import record_status

    assert record_status(S.FAILED, "ExitCodeNonzero") is R.FINISHED
    assert record_status(S.FAILED, "ClientNotResponse") is R.FAILED
    assert record_status(S.TIMEOUT, "ExecutionTimeout") is R.FAILED
    assert record_status(S.TERMINATED, "") is R.STOPPED
    assert {record_status(s, "") for s in S} == set(R) - {R.PARTIAL_FAILED}


def test_a_stop_answered_for_a_run_never_started_is_cancelled() -> None:
    assert transition(S.STOPPING, Event(K.STOPPED, never_started=True)) is S.CANCELLED
    assert transition(S.STOPPING, Event(K.STOPPED)) is S.TERMINATED


# Timed tasks: a run's end leaves the instance Scheduled for the next run.
TIMED_EXPECTED: dict[EventKind, dict[S, S | None]] = {
    K.DELIVERED: {S.PENDING: S.SCHEDULED, S.SCHEDULED: None, S.RUNNING: None, S.STOPPING: None},
    K.STARTED: {S.PENDING: S.PENDING, S.SCHEDULED: S.RUNNING, S.RUNNING: None, S.STOPPING: None},
    K.FINISHED: {
        S.PENDING: S.PENDING,
        S.SCHEDULED: S.SCHEDULED,
        S.RUNNING: S.SCHEDULED,
        S.STOPPING: S.STOPPING,
    },
    K.TIMED_OUT: {
        S.PENDING: S.PENDING,
        S.SCHEDULED: S.SCHEDULED,
        S.RUNNING: S.SCHEDULED,
        S.STOPPING: S.STOPPING,
    },
    # A fire of a server-fired schedule that could not reach the agent: the next fire comes.
    K.ABORTED: {
        S.PENDING: S.SCHEDULED,
        S.SCHEDULED: S.SCHEDULED,
        S.RUNNING: None,
        S.STOPPING: None,
    },
}


@pytest.mark.parametrize(("kind", "current"), list(itertools.product(TIMED_EXPECTED, ACTIVE)))
def test_timed_runs_wait_scheduled_between_runs(kind: EventKind, current: S) -> None:
    assert (
        transition(current, Event(kind, exit_code=1, timed=True)) is TIMED_EXPECTED[kind][current]
    )


@pytest.mark.parametrize("kind", [K.FINISHED, K.TIMED_OUT, K.ERRORED])
def test_the_end_of_a_fires_run_reported_after_the_stop_ends_the_stop(kind: EventKind) -> None:
    # A server-fired schedule's fire is a one-off run on the agent: once it ended, no
    # ``stopped`` report will come, so the row must not wait Stopping for one.
    fire_run = Event(kind, exit_code=0, delivered=True, timed=True, fired=True)
    assert transition(S.STOPPING, fire_run) is S.TERMINATED
    assert transition(S.RUNNING, fire_run) is S.SCHEDULED  # no stop: the next fire comes
    # A late start report changes nothing: the stop waits for the run's end (or ``stopped``).
    assert transition(S.STOPPING, Event(K.STARTED, timed=True, fired=True)) is None


def test_a_delivered_pending_reboot_task_is_scheduled_after_its_run() -> None:
    delivered_run = Event(K.FINISHED, exit_code=0, delivered=True, timed=True)
    assert transition(S.PENDING, delivered_run) is S.SCHEDULED


def test_end_of_a_schedule_takes_the_last_exit_code() -> None:
    assert transition(S.SCHEDULED, Event(K.SCHEDULE_ENDED, exit_code=0)) is S.SUCCESS
    assert transition(S.SCHEDULED, Event(K.SCHEDULE_ENDED, exit_code=3)) is S.FAILED
    assert transition(S.SUCCESS, Event(K.SCHEDULE_ENDED, exit_code=0)) is None


@pytest.mark.parametrize("kind", [k for k in K if k not in (*TIMED_EXPECTED, K.ERRORED)])
@pytest.mark.parametrize("current", ACTIVE)
def test_other_events_of_a_timed_task_move_it_as_a_one_shot_task(
    kind: EventKind, current: S
) -> None:
    timed = transition(current, Event(kind, exit_code=1, timed=True))
    assert timed is transition(current, Event(kind, exit_code=1))


@pytest.mark.parametrize("kind", list(K))
def test_allowed_from_lists_the_states_an_event_is_accepted_in(kind: EventKind) -> None:
    accepted = {s for s in ACTIVE if transition(s, Event(kind)) is not None}
    assert accepted <= set(allowed_from(kind))
    assert not set(allowed_from(kind)) & set(FINAL)
