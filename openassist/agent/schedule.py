"""Periodic tasks (Period cron, Rate, At) that the agent runs on its own clock.

The server hands a periodic task out once; from then on the agent fires it by itself, so it keeps
running while the server is unreachable (each run's report waits in a retrying sender). Runs
never overlap: a fire that comes while the last run is still going is skipped and reported as
skipped (an OpenAssist report the official agent does not send). The schedules are kept in an
owner-only file, so they survive a restart of the agent. Reports follow the official agent:
``invalid`` with ``param=cron`` for a schedule this instance cannot keep, a final report per run
with the wall-clock params, ``stopped`` with ``result=completed`` when no run is left.

The file never holds a secret value (issue 13.8): our agent is handed its tasks with the
``{{oos-secret:...}}`` placeholders and asks for the values at each fire, so a schedule that uses
secrets needs the server at its fire times (a fire that cannot reach it fails with
QueryParameterStoreFailed, reported when the server is back).
"""

from __future__ import annotations

import asyncio
import logging
import os
import zoneinfo
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import msgspec
from msgspec.structs import replace

from openassist import expressions
from openassist.agent import clock, secret_values
from openassist.agent.channel import ChannelError, SecretsRefused
from openassist.agent.settings import AgentEnvironment
from openassist.agent.tasks import base_report
from openassist.expressions import errors as codes
from openassist.protocol import agent as wire
from openassist.protocol.reports import ReportKind, StopResult, TaskReport

log = logging.getLogger("openassist.agent.schedule")

SCHEDULE_FILE = "schedules.json"
PERIODIC = frozenset({"Period", "Rate", "At"})
SLEEP_SLICE_S = 5.0  # wake at least this often, so a clock change is noticed

# Runs once: the run's final report, from the base report naming its task and wall clock.
RunOnce = Callable[[wire.RunItem, TaskReport], Awaitable[TaskReport]]
# Queues a report (retried until taken); True: the run held secret values, so the copy kept on
# disk until the server takes it leaves the output out.
Send = Callable[[TaskReport, bool], None]


def is_periodic(item: wire.RunItem) -> bool:
    """Period / Rate / At; a task without ``repeat`` is periodic when it has a ``cron``."""
    return item.repeat in PERIODIC or (not item.repeat and bool(item.task.cron))


def local_zone(tz: str | None = None) -> tzinfo:
    """The instance's own zone (for cron without a zone): ``tz`` (the settings' TZ), else
    /etc/localtime."""
    name = (AgentEnvironment.read().tz if tz is None else tz).lstrip(":")
    try:
        if name:
            return zoneinfo.ZoneInfo(name)
        with open("/etc/localtime", "rb") as handle:
            return zoneinfo.ZoneInfo.from_file(handle, key="localtime")
    except (OSError, ValueError, zoneinfo.ZoneInfoNotFoundError):
        return UTC


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class Schedule:
    item: wire.RunItem
    frequency: expressions.Frequency
    loop: asyncio.Task[None] | None = None
    run: asyncio.Task[TaskReport] | None = None
    last: TaskReport | None = None
    stopped: bool = False  # StopInvocation cancelled it (not a new version replacing it)

    @property
    def version(self) -> int:
        return self.item.task.invokeVersion

    def base(self) -> TaskReport:
        return base_report(self.item.task)

    def ended(self, result: StopResult) -> TaskReport:
        """``stopped`` with the last run's times and exit code, as the official agent sends it."""
        last = self.last or self.base()
        return replace(
            self.base(),
            kind=ReportKind.STOPPED,
            start_ms=last.start_ms or 0,
            end_ms=last.end_ms or 0,
            exit_code=last.exit_code or 0,
            dropped=0 if result is StopResult.COMPLETED else last.dropped or 0,
            result=result,
        )


@dataclass
class Schedules:
    state_dir: Path
    run_once: RunOnce
    send: Send
    zone: tzinfo = field(default_factory=local_zone)
    held: dict[str, Schedule] = field(default_factory=dict)
    closing: bool = False

    @property
    def _path(self) -> Path:
        return self.state_dir / SCHEDULE_FILE

    def load(self) -> None:
        """Start again the schedules an earlier life of this agent held."""
        try:
            items = msgspec.json.decode(self._path.read_bytes(), type=list[wire.RunItem])
        except (OSError, msgspec.DecodeError):
            return
        for item in items:
            try:
                frequency = expressions.parse(item.task.cron)
            except expressions.FrequencyError:
                continue
            self._start(Schedule(item, frequency))

    async def clean(self, fetch: Callable[[str], Awaitable[str]]) -> None:
        """Replace, in the file, the command of each schedule an earlier release kept with its
        secret values filled in (``secretsPerRun`` unset) by the one with placeholders that the
        server gives now (``fetch``: task id to Base64 command). One it cannot have now stays
        as it is (and is tried again at the next start)."""
        for task_id, schedule in list(self.held.items()):
            task = schedule.item.task
            if not task.enableParameter or task.secretsPerRun:
                continue
            try:
                content = await fetch(task_id)
            except (ChannelError, SecretsRefused) as error:
                log.warning("schedule %s kept as an earlier release wrote it: %s", task_id, error)
                continue
            if self.held.get(task_id) is not schedule:
                continue  # replaced or dropped meanwhile
            cleaned = replace(task, commandContent=content, secretsPerRun=True)
            schedule.item = replace(schedule.item, task=cleaned)
            self._save()

    def _save(self) -> None:
        data = msgspec.json.encode([s.item for s in self.held.values()])
        temporary = self._path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, self._path)

    def holds(self, task_id: str) -> bool:
        return task_id in self.held

    def install(self, item: wire.RunItem) -> None:
        """Take a periodic task: a new version replaces the schedule held quietly."""
        task = item.task
        held = self.held.get(task.taskID)
        if held is not None and held.version == task.invokeVersion:
            return  # handed out again: already held
        if held is not None:
            self._drop(task.taskID)
        try:
            frequency = expressions.parse(task.cron)
            if expressions.next_run(frequency, clock.now(), self._created(item), self.zone) is None:
                expired = codes.AT_EXPIRED if item.repeat == "At" else codes.CRON_EXPIRED
                raise expressions.FrequencyError(expired, "no run is left in the future")
        except expressions.FrequencyError as error:
            log.info("schedule of %s refused: %s", task.taskID, error)
            refused = replace(base_report(item.task), kind=ReportKind.INVALID, param="cron")
            self.send(replace(refused, value=error.code), False)
            return
        self._start(Schedule(item, frequency))

    def _start(self, schedule: Schedule) -> None:
        self.held[schedule.item.task.taskID] = schedule
        self._save()
        schedule.loop = asyncio.create_task(self._fire(schedule), name=schedule.item.task.taskID)

    def _drop(self, task_id: str) -> Schedule | None:
        schedule = self.held.pop(task_id, None)
        if schedule is not None and schedule.loop is not None:
            schedule.loop.cancel()
        self._save()
        return schedule

    def cancel(self, task_id: str, report: bool) -> None:
        """StopInvocation: no more runs. With ``report`` (no run going), say so now with the
        last run's times and exit code, as the official agent does."""
        schedule = self._drop(task_id)
        if schedule is None:
            return
        schedule.stopped = True
        if report:
            self.send(schedule.ended(StopResult.KILLED), False)

    def close(self) -> None:
        """The agent stops: the schedules stay on file; a run cut short says so (the task
        itself goes on when the agent is back)."""
        self.closing = True
        for schedule in self.held.values():
            if schedule.loop is not None:
                schedule.loop.cancel()

    def _created(self, item: wire.RunItem) -> datetime:
        created_ms = item.task.creationTime or clock.now_ms()
        return datetime.fromtimestamp(created_ms / 1000, UTC)

    def _wall_clock(self, schedule: Schedule, fire: datetime) -> dict[str, Any]:
        """The official agent's wall-clock params: Rate currentTime; Period also the zone."""
        if isinstance(schedule.frequency, expressions.Rate):
            return {"current_time_ms": _ms(fire)}
        if isinstance(schedule.frequency, expressions.Cron):
            zone = schedule.frequency.spec.zone or self.zone
            offset = fire.astimezone(zone).utcoffset()
            return {
                "current_time_ms": _ms(fire),
                "utc_offset_s": int(offset.total_seconds()) if offset else 0,
                "time_zone": str(zone),
            }
        return {}

    async def _fire(self, schedule: Schedule) -> None:
        task = schedule.item.task
        created = self._created(schedule.item)
        while True:
            fire = expressions.next_run(schedule.frequency, clock.now(), created, self.zone)
            if fire is None:
                break
            # Waiting for a wall-clock time, not for an event: sleep in slices and look again.
            while (left := (fire - clock.now()).total_seconds()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(min(left, SLEEP_SLICE_S))
            if schedule.run is not None and not schedule.run.done():
                log.info("run of %s at %s skipped: the last one is still going", task.taskID, fire)
                skipped = ReportKind.SKIPPED
                self.send(replace(schedule.base(), kind=skipped, current_time_ms=_ms(fire)), False)
                continue
            base = replace(schedule.base(), **self._wall_clock(schedule, fire))
            schedule.run = asyncio.create_task(self._run(schedule, base))
        if schedule.run is not None:
            await asyncio.wait([schedule.run])
        schedule.loop = None  # ending by itself: nothing to cancel
        self._drop(task.taskID)
        self.send(schedule.ended(StopResult.COMPLETED), False)

    async def _run(self, schedule: Schedule, base: TaskReport) -> TaskReport:
        outcome = await self.run_once(schedule.item, base)
        if self.closing and outcome.kind is ReportKind.STOPPED:  # the agent's own stop
            outcome = replace(
                outcome,
                kind=ReportKind.ERROR,
                result=None,
                exit_code=-1,
                error_code="ClientRestarted",
                error_info="the agent stopped while the run was going",
            )
        schedule.last = outcome
        self.send(outcome, bool(secret_values.names(schedule.item.task)))
        if schedule.stopped and outcome.kind is not ReportKind.STOPPED:
            # Stopped while this run was going, and the run ended on its own before the stop
            # reached its process: the server waits for ``stopped``. Start 0: it cut no run short
            # (the run's own report keeps its outcome, whichever of the two arrives first).
            self.send(replace(schedule.ended(StopResult.KILLED), start_ms=0), False)
        return outcome
