"""The journal around the agent's runs (``agent/recovery.py``), on a real journal file: starts
refused when they cannot be journalled, final reports settled once sent, and what an earlier
life left reported at start-up."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from openassist.agent.journal import JOURNAL_FILE, Journal, TaskKind
from openassist.agent.recovery import Recovery
from openassist.agent.supervise import DutyHealth
from openassist.protocol.reports import FileStatus, ReportKind, TaskReport

BOOT = "boot-1"


class _Agent:
    """What the agent hands the recovery: a send that records what the server took, and a spawn
    that keeps the background work to await."""

    def __init__(self) -> None:
        self.sent: list[TaskReport] = []
        self.background: list[asyncio.Task[None]] = []

    async def send(self, report: TaskReport) -> None:
        self.sent.append(report)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self.background.append(asyncio.create_task(work, name=name))


def _recovery(state: Path, agent: _Agent, boot: str = BOOT) -> tuple[Recovery, DutyHealth]:
    health = DutyHealth()
    return Recovery(Journal.open(state), boot, health, agent.send, agent.spawn), health


def test_what_an_earlier_life_left_is_reported_by_what_ended_it(tmp_path: Path) -> None:
    earlier = Journal.open(tmp_path)
    earlier.started(("t-restart", 1), BOOT)
    earlier.started(("t-file", 0), BOOT, TaskKind.SEND_FILE)
    earlier.started(("t-reboot", 2), "boot-0")
    earlier.started(("t-done", 1), BOOT)
    earlier.finished(("t-done", 1), TaskReport(kind=ReportKind.FINISH, task_id="t-done"))

    async def scenario() -> dict[str, TaskReport]:
        agent = _Agent()
        recovery, _ = _recovery(tmp_path, agent)
        await recovery.recover()
        await asyncio.gather(*agent.background)
        assert recovery.recovered.is_set()
        return {report.task_id: report for report in agent.sent}

    sent = asyncio.run(scenario())
    assert set(sent) == {"t-restart", "t-file", "t-reboot", "t-done"}
    assert (sent["t-restart"].kind, sent["t-restart"].error_code) == (
        ReportKind.ERROR,
        "ClientRestarted",
    )
    assert sent["t-reboot"].error_code == "InstanceRestarted"
    assert sent["t-file"].file_status is FileStatus.FAILED
    assert sent["t-done"].kind is ReportKind.FINISH
    reopened = Journal.open(tmp_path)
    assert reopened.interrupted() == [] and reopened.unsettled() == []


def test_a_start_that_cannot_be_journalled_is_refused_and_reported(tmp_path: Path) -> None:
    recovery, health = _recovery(tmp_path, _Agent())
    os.symlink("/dev/full", tmp_path / JOURNAL_FILE)  # the disk is full: every write ENOSPC
    assert not recovery.start(("t-1", 1))
    assert not recovery.seen(("t-1", 1))  # left for a later fetch, never run unjournalled
    assert health.failing("journal")


def test_a_private_run_s_output_is_sent_but_not_journalled(tmp_path: Path) -> None:
    report = TaskReport(kind=ReportKind.FINISH, task_id="t-1", output=b"the-secret-value")

    async def scenario() -> list[TaskReport]:
        agent = _Agent()
        recovery, health = _recovery(tmp_path, agent)
        assert recovery.start(("t-1", 1))
        await recovery.settle(("t-1", 1), report, private=True)
        assert not health.failing("journal")
        return agent.sent

    assert [sent.output for sent in asyncio.run(scenario())] == [b"the-secret-value"]
    journal = (tmp_path / JOURNAL_FILE).read_bytes()
    assert b"the-secret-value" not in journal and b"output was not kept" in journal
