"""StopInvocation of a schedule the agent keeps, as the agent's ``_stop`` does it: the schedule is
cancelled, and a run that is going is told to stop (its report then says ``stopped``). A run
whose script had already ended when the stop came (the agent still held it, draining its
output) reports its own outcome instead; the server, whose row is Stopping, waits for
``stopped``, so that must still come, or the row ends Error at the stop timeout.

The runs here stand behind ``RunOnce`` (the test decides how each ends); the schedule, its
wall-clock fire and its reports are the agent's own."""

from __future__ import annotations

import asyncio
from datetime import UTC
from pathlib import Path

from msgspec.structs import replace

from openassist.agent.schedule import Schedules
from openassist.protocol import agent as wire
from openassist.protocol.reports import ReportKind, StopResult, TaskReport

TASK = "t-schedule-stop"


def _stop_during_a_run(state_dir: Path, ends_as: ReportKind) -> list[TaskReport]:
    """The reports sent when the schedule is stopped while its first run is going, the run then
    ending as ``ends_as`` (STOPPED: the stop reached its process; else it had ended already)."""
    sent: list[TaskReport] = []

    async def scenario() -> None:
        started, release = asyncio.Event(), asyncio.Event()

        async def run_once(item: wire.RunItem, base: TaskReport) -> TaskReport:
            started.set()
            await release.wait()
            return replace(base, kind=ends_as, start_ms=1_000, end_ms=2_000, exit_code=0)

        schedules = Schedules(state_dir, run_once, lambda report, _: sent.append(report), UTC)
        task = wire.TaskInfo(taskID=TASK, cron="rate(1s)")
        schedules.install(wire.RunItem(task=task, repeat="Rate"))
        schedule = schedules.held[TASK]
        await asyncio.wait_for(started.wait(), 30)  # the first fire, a second from now
        schedules.cancel(TASK, report=False)  # what the agent does with a run going
        release.set()
        assert schedule.run is not None
        await asyncio.wait_for(schedule.run, 30)

    asyncio.run(scenario())
    return sent


def test_a_run_that_ended_by_itself_as_its_schedule_was_stopped_is_followed_by_stopped(
    tmp_path: Path,
) -> None:
    sent = _stop_during_a_run(tmp_path, ReportKind.FINISH)
    assert [(r.kind, r.exit_code) for r in sent] == [
        (ReportKind.FINISH, 0),
        (ReportKind.STOPPED, 0),
    ]
    # It cut no run short: the run's own report keeps its outcome, in either order of arrival.
    assert (sent[1].start_ms, sent[1].result) == (0, StopResult.KILLED)


def test_a_run_the_stop_reached_says_stopped_once(tmp_path: Path) -> None:
    sent = _stop_during_a_run(tmp_path, ReportKind.STOPPED)
    assert [r.kind for r in sent] == [ReportKind.STOPPED]
