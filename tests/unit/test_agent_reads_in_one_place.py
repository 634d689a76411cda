"""Issue 15.6: the agent reads its environment only in ``settings.py`` and the wall clock only
in ``clock.py``; every other module takes the values from them."""

from __future__ import annotations

import ast
from pathlib import Path

import openassist.agent

AGENT = Path(openassist.agent.__file__).parent
WALL_CLOCK = {("time", "time"), ("time", "time_ns"), ("datetime", "now")}
ENVIRONMENT = {("os", "environ"), ("os", "getenv")}
# upgrade.exec_into hands this process's environment, unread, to the version it starts.
PASSED_ON = {("upgrade.py", "os.environ")}


def _reads(wanted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    found = set()
    for path in AGENT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in wanted
            ):
                found.add((str(path.relative_to(AGENT)), f"{node.value.id}.{node.attr}"))
    return found


def test_only_the_settings_read_the_environment() -> None:
    found = _reads(ENVIRONMENT) - PASSED_ON
    assert {name for name, _ in found} == {"settings.py"}, sorted(found)


def test_only_the_clock_reads_the_wall_clock() -> None:
    found = _reads(WALL_CLOCK)
    assert {name for name, _ in found} == {"clock.py"}, sorted(found)
