"""Rollout limits of a task: how many targets may run at once and how many may fail (pure).

A limit is kept as given: "" (none), "N" (targets) or "N%" (of the task's targets). A
percentage of MaxConcurrency rounds up (10% of 5 targets lets one run), one of MaxErrors rounds
down (10% of 5 allows none), so a percentage never allows more than it says.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from openassist.protocol.statuses import InstanceStatus as S

# Final statuses of a target that counts against MaxErrors (Cancelled and Terminated do not:
# an operator stopped them).
FAILED = frozenset({S.FAILED, S.INVALID, S.ABORTED, S.ERROR, S.TIMEOUT})
BUDGET_SPENT = "ErrorBudgetSpent"


def resolve(limit: str, targets: int, round_up: bool) -> int | None:
    """The limit in targets; None when there is none. ``limit`` was validated on the way in."""
    if not limit:
        return None
    if not limit.endswith("%"):
        return int(limit)
    share = targets * int(limit[:-1]) / 100
    return max(1, math.ceil(share)) if round_up else math.floor(share)


@dataclass(frozen=True)
class Tally:
    """Where a rollout's targets stand."""

    held: int  # waiting for a free slot
    in_flight: int  # released or started, not final
    failed: int  # final, counted against MaxErrors
    total: int


def tally(rows: Iterable[tuple[S, bool]]) -> Tally:
    """From each row's (status, held)."""
    held = in_flight = failed = total = 0
    for status, is_held in rows:
        total += 1
        if status.is_final:
            failed += status in FAILED
        elif is_held and status is S.PENDING:
            held += 1
        else:
            in_flight += 1
    return Tally(held, in_flight, failed, total)


def tally_fire(rows: Iterable[tuple[S, bool, bool, str]]) -> Tally:
    """One fire of a server-fired Period task, from each row's (status, held, in this fire,
    error code). Its rows wait Scheduled between fires, so a run of this fire that failed is a
    Scheduled row of the fire with the run's error code; any row handed out and not back
    takes a slot, whichever fire it came from."""
    held = in_flight = failed = total = 0
    for status, is_held, this_fire, error_code in rows:
        total += this_fire
        if status is S.SCHEDULED or status.is_final:
            ended_badly = status in FAILED or (status is S.SCHEDULED and bool(error_code))
            failed += this_fire and ended_badly and error_code != BUDGET_SPENT
        elif is_held and status is S.PENDING:
            held += this_fire
        else:
            in_flight += 1
    return Tally(held, in_flight, failed, total)


@dataclass(frozen=True)
class Step:
    """What to do with the held rows now: release some, or cancel them all."""

    release: int
    cancel_reason: str = ""  # non-empty: the error budget is spent


def next_step(max_concurrency: str, max_errors: str, counts: Tally) -> Step:
    errors = resolve(max_errors, counts.total, round_up=False)
    if errors is not None and counts.failed > errors and counts.held:
        allowed = f"MaxErrors={max_errors}"
        if max_errors.endswith("%"):
            allowed += f" ({errors} of {counts.total})"
        reason = (
            f"the error budget was spent: {counts.failed} target(s) failed, more than "
            f"{allowed} allows; {counts.held} target(s) not yet started were cancelled."
        )
        return Step(0, reason)
    concurrency = resolve(max_concurrency, counts.total, round_up=True)
    room = counts.held if concurrency is None else max(0, concurrency - counts.in_flight)
    return Step(min(room, counts.held))


def batch_of(max_concurrency: str, total: int, handed_out: int) -> tuple[int, int] | None:
    """(the batch under way, how many batches) of a rollout of ``total`` targets of which
    ``handed_out`` have been handed to their agents; None without MaxConcurrency."""
    size = resolve(max_concurrency, total, round_up=True)
    if not size or not total:
        return None
    count = math.ceil(total / size)
    return min(count, max(1, math.ceil(handed_out / size))), count
