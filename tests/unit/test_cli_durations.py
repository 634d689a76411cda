"""How long a machine's run took, as ``openassist run`` shows it: from the API's whole-second
times, within one day without the datetime module, across midnight and in other forms with it."""

from __future__ import annotations

import pytest

from openassist.cli.live import duration_text


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        ("2026-12-07T20:08:19Z", "2026-12-07T20:08:19Z", "<1 s"),
        ("2026-12-07T20:08:19Z", "2026-12-07T21:10:21Z", "3722 s"),
        ("2026-12-07T23:59:58Z", "2026-12-08T00:00:03Z", "5 s"),  # across midnight
        ("2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z", "1 s"),  # and a year's end
        ("2026-12-07T20:08:19+00:00", "2026-12-07T20:08:21+00:00", "2 s"),  # another form
        ("2026-12-07T20:08:19Z", "2026-12-07T20:08:18Z", "<1 s"),  # a clock that went back
        ("2026-12-07T20:08:19Z", "2026-12-07Tzz:08:20Z", ""),  # not a time
        ("", "2026-12-07T20:08:19Z", ""),  # never started
    ],
)
def test_the_duration_of_a_run(start: str, end: str, shown: str) -> None:
    assert duration_text({"StartTime": start, "FinishedTime": end}) == shown
