"""The agent's loop watches script processes through pidfds (no thread per run on Python 3.11),
and hands the process-wide watcher back as it was."""

from __future__ import annotations

import asyncio
import sys

import pytest

from openassist.agent.child_watch import pidfd_child_watcher

OLD_PYTHON = sys.version_info < (3, 12)


async def _exit_code(*argv: str) -> int:
    process = await asyncio.create_subprocess_exec(*argv)
    return await process.wait()


def test_a_child_started_inside_is_reaped_with_its_exit_code() -> None:
    async def scenario() -> tuple[bool, int, int]:
        with pidfd_child_watcher(asyncio.get_running_loop()) as used:
            first = await _exit_code("/bin/sh", "-c", "exit 7")
            second = await _exit_code("/bin/sh", "-c", "exit 0")
        return used, first, second

    used, first, second = asyncio.run(scenario())
    assert (first, second) == (7, 0)
    assert used is OLD_PYTHON  # this machine's kernel has pidfds; 3.12 uses them by itself


@pytest.mark.skipif(not OLD_PYTHON, reason="child watchers are Python 3.11's (deprecated after)")
def test_the_watcher_is_the_pidfd_one_inside_and_the_previous_one_after() -> None:
    async def scenario() -> tuple[object, object, object]:
        before = asyncio.get_child_watcher()
        with pidfd_child_watcher(asyncio.get_running_loop()):
            inside = asyncio.get_child_watcher()
            await _exit_code("/bin/true")
        return before, inside, asyncio.get_child_watcher()

    before, inside, after = asyncio.run(scenario())
    assert isinstance(inside, asyncio.PidfdChildWatcher)
    assert after is before
    assert asyncio.run(_exit_code("/bin/sh", "-c", "exit 3")) == 3  # the old one works again
