"""Exit codes are explained the way an operator reads them."""

from __future__ import annotations

import pytest

from openassist.server.service.diagnosis import exit_code_meaning


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (None, ""),
        (0, ""),
        (126, "could not be executed"),
        (127, "not found"),
        (137, "SIGKILL (often the kernel's out-of-memory killer)"),
        (143, "SIGTERM"),
        (3, "exit code 3"),
    ],
)
def test_exit_code_meaning(code: int | None, fragment: str) -> None:
    meaning = exit_code_meaning(code)
    assert fragment in meaning
    assert (meaning == "") == (fragment == "")


@pytest.mark.parametrize("code", [-1, 137, 143])
def test_a_timed_out_run_was_killed_at_the_timeout(code: int) -> None:
    assert exit_code_meaning(code, timed_out=True).startswith("killed at the timeout")
    assert "chose" not in exit_code_meaning(code, timed_out=True)
