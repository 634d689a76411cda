"""The exit code of every fleet command, from the per-machine rows of its task(s):

0 every machine succeeded; 1 a usage, API or network error (no verdict on the machines);
2 some machine failed (non-zero exit, timeout, error, stopped); 3 some machine was never reached
(offline, not registered, delivery timeout, or still pending when we stopped waiting);
130 interrupted (Ctrl-C). 3 wins over 2: an unreached machine needs another kind of fix."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from enum import IntEnum

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from typing import Any


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    FAILED = 2
    UNREACHED = 3
    INTERRUPTED = 130


class UsageError(Exception):
    """The command line asks for something impossible or unknown (exit 1); the message says
    what to change."""


ACTIVE = frozenset({"Pending", "Scheduled", "Running", "Stopping"})


@functools.cache
def unreached_codes() -> frozenset[str]:
    """The catalog's delivery-phase codes: the task never reached the machine. (Loaded on first
    use: ``openassist agent`` imports this module for ExitCode only.)"""
    from openassist.catalog import ENTRIES, Phase

    return frozenset(code for code, e in ENTRIES.items() if e.phase is Phase.DELIVERY)


def is_final(row: Mapping[str, Any]) -> bool:
    return row["InvocationStatus"] not in ACTIVE


def verdict(row: Mapping[str, Any]) -> ExitCode:
    """What one machine's row says: OK, FAILED or UNREACHED (a row still active when we stop
    waiting: UNREACHED if the task never got there, FAILED if it was running)."""
    status = row["InvocationStatus"]
    if status == "Success":
        return ExitCode.OK
    if status == "Pending" or row.get("ErrorCode", "") in unreached_codes():
        return ExitCode.UNREACHED
    return ExitCode.FAILED


def exit_code(rows: Iterable[Mapping[str, Any]]) -> ExitCode:
    verdicts = {verdict(row) for row in rows}
    if ExitCode.UNREACHED in verdicts:
        return ExitCode.UNREACHED
    if ExitCode.FAILED in verdicts:
        return ExitCode.FAILED
    return ExitCode.OK
