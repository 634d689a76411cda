"""Status counts (lifecycle.aggregate): moving one row's count at a time gives the same overall
status as deriving it from every row, for any history of changes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from openassist.protocol.statuses import InstanceStatus as S
from openassist.protocol.statuses import InvocationStatus as O
from openassist.server.lifecycle import count_statuses, moved, overall_from_counts, overall_status


def test_counts_of_statuses() -> None:
    assert count_statuses([S.SUCCESS, S.RUNNING, S.SUCCESS]) == {S.SUCCESS: 2, S.RUNNING: 1}
    assert count_statuses([]) == {}


def test_a_move_takes_one_row_from_its_old_status_to_its_new_one() -> None:
    assert moved({S.RUNNING: 2}, S.RUNNING, S.SUCCESS) == {S.RUNNING: 1, S.SUCCESS: 1}
    assert moved({S.RUNNING: 1, S.SUCCESS: 1}, S.RUNNING, S.SUCCESS) == {S.SUCCESS: 2}


def test_a_move_from_a_status_no_row_has_says_the_counts_are_stale() -> None:
    assert moved({S.SUCCESS: 3}, S.PENDING, S.RUNNING) is None
    assert moved({S.PENDING: 0}, S.PENDING, S.RUNNING) is None


def test_overall_status_from_counts_ignores_statuses_counted_zero() -> None:
    assert overall_from_counts({S.PENDING: 0, S.SUCCESS: 2, S.FAILED: 1}) is O.PARTIAL_FAILED
    assert overall_from_counts({}) is O.PENDING


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(list(S)), min_size=1, max_size=12),
    st.lists(st.tuples(st.integers(0, 11), st.sampled_from(list(S))), max_size=40),
)
def test_moved_counts_agree_with_a_scan_after_any_history(
    start: list[S], changes: list[tuple[int, S]]
) -> None:
    rows = list(start)
    counts = count_statuses(rows)
    for index, new in changes:
        index %= len(rows)
        after = moved(counts, rows[index], new)
        assert after is not None
        counts, rows[index] = after, new
        assert counts == count_statuses(rows)
        assert overall_from_counts(counts) is overall_status(rows)
