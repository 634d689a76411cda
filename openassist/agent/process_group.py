"""Ending a run's process group: SIGTERM, a grace period, then SIGKILL, and knowing when the
group is really empty (standard library only)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

TERM_GRACE_S = 2.0  # between SIGTERM and SIGKILL of the group
KILL_WAIT_S = 5.0  # after SIGKILL; a group still alive then is a TerminationException
POLL_S = 0.05  # how often a group being ended is checked


def group_alive(pgid: int) -> bool:
    """True while a process of the group lives. Zombies do not count: they are dead, and one
    orphaned under an init that never reaps would otherwise look alive forever."""
    try:
        entries = list(os.scandir("/proc"))
    except OSError:  # no /proc: ask the kernel, zombies included
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in entries:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(entry.path, "stat").read_text().rpartition(")")[2].split()
            if fields[0] != "Z" and int(fields[2]) == pgid:
                return True
    return False


async def group_gone(pgid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while group_alive(pgid):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_S)
    return True


def signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pgid, signum)


async def end_group(pgid: int) -> bool:
    """SIGTERM the group, give it TERM_GRACE_S, then SIGKILL it; True once none is left."""
    signal_group(pgid, signal.SIGTERM)
    if await group_gone(pgid, TERM_GRACE_S):
        return True
    signal_group(pgid, signal.SIGKILL)
    return await group_gone(pgid, KILL_WAIT_S)
