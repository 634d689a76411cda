"""The sweeper's verdicts, by table."""

from __future__ import annotations

import pytest

from openassist.protocol.statuses import InstanceStatus as S
from openassist.server.lifecycle.sweeper import SweepRules, overdue

RULES = SweepRules(
    delivery_timeout_ms=60_000,
    response_grace_ms=60_000,
    stop_timeout_ms=30_000,
    online_window_ms=120_000,
)
NOW = 1_000_000_000


@pytest.mark.parametrize(
    ("status", "created", "start", "stop", "heartbeat", "expected"),
    [
        (S.PENDING, NOW - 59_000, None, None, NOW, None),
        (S.PENDING, NOW - 61_000, None, None, NOW, "DeliveryTimeout"),
        (S.PENDING, NOW - 61_000, None, None, NOW - 61_000, "DeliveryTimeout"),  # heard at creation
        # Silent since creation but still within the online window: maybe cut off, so it waits
        # for the agent's return (ClientNetworkBlocked) or for the window to pass.
        (S.PENDING, NOW - 61_000, None, None, NOW - 62_000, None),
        (S.SCHEDULED, NOW - 61_000, None, None, NOW - 62_000, None),
        (S.PENDING, NOW - 61_000, None, None, NOW - 121_000, "ClientNotOnline"),
        (S.PENDING, NOW - 61_000, None, None, None, "ClientNotOnline"),
        (S.RUNNING, NOW - 999_000, NOW - 119_000, None, NOW, None),  # timeout 60 + grace 60
        (S.RUNNING, NOW - 999_000, NOW - 121_000, None, NOW, "ClientNotResponse"),
        (S.STOPPING, NOW - 999_000, NOW - 999_000, NOW - 29_000, NOW, None),
        (S.STOPPING, NOW - 999_000, NOW - 999_000, NOW - 31_000, NOW, "TerminationException"),
        (S.SUCCESS, NOW - 999_000, NOW - 999_000, None, None, None),
    ],
)
def test_verdicts(
    status: S,
    created: int,
    start: int | None,
    stop: int | None,
    heartbeat: int | None,
    expected: str | None,
) -> None:
    verdict = overdue(status, NOW, created, start, stop, 60, heartbeat, RULES)
    assert (verdict.code if verdict else None) == expected


def test_a_task_handed_out_but_never_started_is_delivery_timeout_even_without_heartbeat() -> None:
    # The task list call that took it is the sign of life the heartbeat did not give.
    silent = NOW - 62_000
    verdict = overdue(S.PENDING, NOW, NOW - 61_000, None, None, 60, silent, RULES, NOW - 60_000)
    assert verdict is not None and verdict.code == "DeliveryTimeout"
    assert overdue(S.PENDING, NOW, NOW - 61_000, None, None, 60, silent, RULES) is None
