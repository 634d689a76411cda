"""Size budgets (STYLE.md principle 7): no module past 600 lines; past 400 only by name here."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "openassist"
HARD_CAP, SOFT_CAP = 600, 400
# "relative/path.py" entries, each with a reason in a comment (none today).
OVER_SOFT_CAP: set[str] = set()


def _modules() -> list[tuple[str, int]]:
    return [
        (str(path.relative_to(PACKAGE)), len(path.read_text().splitlines()))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def test_no_module_exceeds_the_hard_cap() -> None:
    assert len(_modules()) > 20
    assert [m for m in _modules() if m[1] > HARD_CAP] == []


def test_modules_past_the_soft_cap_are_named() -> None:
    assert {name for name, lines in _modules() if lines > SOFT_CAP} <= OVER_SOFT_CAP
