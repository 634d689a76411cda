"""The pure rules of a rollout: limits in targets, where targets stand, what to do next."""

from __future__ import annotations

from openassist.protocol.agent import SecretValuesResponse
from openassist.protocol.api_versions import product_of
from openassist.protocol.statuses import InstanceStatus as S
from openassist.server.lifecycle.rollout import (
    BUDGET_SPENT,
    Step,
    Tally,
    batch_of,
    next_step,
    resolve,
    tally,
    tally_fire,
)


def test_a_limit_resolves_to_targets_rounding_in_the_safe_direction() -> None:
    assert resolve("", 10, round_up=True) is None
    assert resolve("3", 10, round_up=True) == 3
    assert resolve("10%", 5, round_up=True) == 1  # concurrency: at least one runs
    assert resolve("10%", 5, round_up=False) == 0  # errors: 10 % of 5 allows none
    assert resolve("50%", 5, round_up=False) == 2


def test_tally_counts_held_in_flight_and_failed_rows() -> None:
    rows = [
        (S.PENDING, True),
        (S.PENDING, False),
        (S.RUNNING, False),
        (S.FAILED, False),
        (S.CANCELLED, False),  # stopped by an operator: not against the budget
        (S.SUCCESS, False),
    ]
    assert tally(rows) == Tally(held=1, in_flight=2, failed=1, total=6)


def test_a_fire_counts_its_own_rows_and_every_run_in_flight() -> None:
    rows = [
        (S.PENDING, True, True, ""),  # held in this fire
        (S.RUNNING, False, True, ""),
        (S.RUNNING, False, False, ""),  # still running from the last fire: takes a slot
        (S.SCHEDULED, False, True, "ExitCodeNonzero"),  # this fire's run failed
        (S.SCHEDULED, False, False, "ExitCodeNonzero"),  # an earlier fire's failure
        (S.SCHEDULED, False, True, BUDGET_SPENT),  # kept from running: not a failure
        (S.SCHEDULED, False, True, ""),  # succeeded in this fire
        (S.ABORTED, False, True, "ClientNotOnline"),
    ]
    assert tally_fire(rows) == Tally(held=1, in_flight=2, failed=2, total=6)


def test_next_step_releases_up_to_the_free_slots() -> None:
    assert next_step("2", "", Tally(held=5, in_flight=1, failed=0, total=8)) == Step(1)
    assert next_step("", "", Tally(held=3, in_flight=4, failed=0, total=7)) == Step(3)
    assert next_step("1", "", Tally(held=3, in_flight=2, failed=0, total=5)) == Step(0)


def test_a_spent_error_budget_cancels_the_held_rows_and_says_why() -> None:
    step = next_step("1", "1", Tally(held=3, in_flight=0, failed=2, total=5))
    assert step.release == 0 and "MaxErrors=1 allows" in step.cancel_reason
    by_share = next_step("1", "20%", Tally(held=2, in_flight=0, failed=2, total=5))
    assert "MaxErrors=20% (1 of 5)" in by_share.cancel_reason
    # Nothing held: nothing to cancel, whatever failed.
    assert next_step("1", "0", Tally(held=0, in_flight=1, failed=3, total=4)) == Step(0)


def test_the_batch_under_way_follows_the_targets_handed_out() -> None:
    assert batch_of("", 10, 4) is None  # no MaxConcurrency: no batches
    assert batch_of("3", 0, 0) is None  # no targets: no batches
    assert batch_of("3", 10, 0) == (1, 4)  # nothing handed out yet: the first batch
    assert batch_of("3", 10, 4) == (2, 4)
    assert batch_of("50%", 5, 5) == (2, 2)  # 50 % of 5 rounds up to 3 per batch
    assert batch_of("3", 10, 12) == (4, 4)  # never past the last batch


def test_secret_values_never_show_in_a_repr() -> None:
    shown = repr(SecretValuesResponse(code=200, values={"db": "hunter2"}))
    assert "hunter2" not in shown and "db" in shown


def test_each_product_has_its_policy_prefix() -> None:
    assert product_of("RunCommand") == "ecs"
    assert product_of("CreateUser") == "ram"
    assert product_of("LookupEvents") == "actiontrail"
    assert product_of("GetSecretParameter") == "oos"
