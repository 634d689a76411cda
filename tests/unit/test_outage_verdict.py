"""Which overdue task the agent's outage report ends, and how (pure rules, by table)."""

from __future__ import annotations

import pytest

from openassist.server.service.outages import parse_outage, verdict

NOW = 1_800_000_000_000
WINDOW = 60_000


@pytest.mark.parametrize(
    ("created", "since", "fetching", "expected"),
    [
        (NOW - 70_000, NOW - 90_000, False, "ClientNetworkBlocked"),  # window ran out in it
        (NOW - 70_000, NOW - 90_000, True, "ClientNetworkBlocked"),
        (NOW - 200_000, NOW - 90_000, True, "DeliveryTimeout"),  # ran out before the outage
        (NOW - 200_000, NOW - 90_000, False, None),  # the sweeper's to judge
        (NOW - 70_000, None, True, "DeliveryTimeout"),  # fetched late, no outage reported
        (NOW - 70_000, None, False, None),
        (NOW - 70_000, NOW + 5_000, True, "DeliveryTimeout"),  # an outage "in the future"
    ],
)
def test_verdicts(created: int, since: int | None, fetching: bool, expected: str | None) -> None:
    changes = verdict(created, since, NOW, WINDOW, fetching)
    assert (changes["error_code"] if changes else None) == expected


def test_the_error_info_names_the_outage_window() -> None:
    changes = verdict(NOW - 70_000, NOW - 90_000, NOW, WINDOW, False)
    assert changes is not None
    assert changes["error_info"] == (
        "the agent could not reach the server from 2027-01-15T07:58:30Z to "
        "2027-01-15T08:00:00Z (90 s); the task waited past its 60 s delivery window."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("0", None),
        ("-5", None),
        ("12x", None),
        ("1" * 16, None),
        ("1700000000000", 1_700_000_000_000),
    ],
)
def test_outage_parameter(text: str | None, expected: int | None) -> None:
    assert parse_outage(text) == expected
