"""``openassist agent run``: heartbeat, hold the kick channel, fetch tasks, run them, report.

Periodic duties are named coroutines with their own periods. A kick (or a poll, when the kick
channel is down) fetches the task list; each new task runs in its own asyncio task and its
reports are retried until the server takes them.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import time
from collections.abc import Coroutine
from contextlib import suppress
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from openassist import __version__, logs
from openassist.agent import clock, script_file, start_guard
from openassist.agent.channel import Channel, ChannelError
from openassist.agent.child_watch import pidfd_child_watcher
from openassist.agent.containers import ContainerRun, find_container
from openassist.agent.files import deliver_file
from openassist.agent.identity import Identity, boot_id, first_start_since_boot, load
from openassist.agent.journal import Journal, Key, TaskKind
from openassist.agent.kicks import KickChannel
from openassist.agent.recovery import Recovery
from openassist.agent.runner import ScriptRun
from openassist.agent.schedule import Schedules, is_periodic, local_zone
from openassist.agent.settings import AgentSettings, backoff, pause
from openassist.agent.supervise import DutyHealth, supervise
from openassist.agent.tasks import (
    Unrunnable,
    base_report,
    canceled_report,
    final_report,
    resolve_secrets,
    run_periodic,
    script_spec,
)
from openassist.agent.upgrader import Upgrader
from openassist.protocol import agent as wire
from openassist.protocol.reports import TaskReport

log = logging.getLogger("openassist.agent")

PARTIAL_OUTPUT_ATTEMPTS = 3
SHUTDOWN_REPORT_S = 5.0
GOODBYE_TIMEOUT_S = 5.0  # generous: a loaded machine is slow to open a TLS connection


def _system_shutting_down(state: str | None) -> bool:
    """systemd says "stopping" while the machine goes down. ``state`` (the settings'
    OPENASSIST_AGENT_SYSTEM_STATE) stands in for its answer (tests cannot shut the machine
    down)."""
    if state is None:
        try:
            state = subprocess.run(
                ["systemctl", "is-system-running"],
                capture_output=True,
                text=True,
                timeout=2,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return False
    return state == "stopping"


# How long the first task fetch waits for the reports an earlier life left to get through.
RECOVERY_WAIT_S = 120


class Agent:
    def __init__(self, identity: Identity, settings: AgentSettings | None = None) -> None:
        self._identity = identity
        self._settings = settings or AgentSettings()
        self._channel = Channel(identity, boot=self._settings.environment.boot_id)
        self._runs: dict[str, ScriptRun] = {}
        # Runs being prepared (secrets asked for, container looked up), not in ``_runs`` yet:
        # True once a stop asked for them, so they never start.
        self._preparing: dict[Key, bool] = {}
        boot = boot_id(self._settings.environment.boot_id)
        self._cold_start = first_start_since_boot(identity.state_dir, boot)
        self._started_well = False
        self._startup = True  # the next task fetch is this process's first (kept across restarts)
        self._health = DutyHealth()
        journal = Journal.open(identity.state_dir)
        self._recovery = Recovery(journal, boot, self._health, self._report, self._spawn)
        self._kicks = KickChannel(self._channel, self._settings)
        self._kicks.on_open = lambda: self._health.ok("kicks")
        self._kicked = self._kicks.kicked
        self._deregistered = self._kicks.deregistered
        self._executions: set[asyncio.Task[None]] = set()
        self._script_dir = identity.state_dir / "scripts"
        self._schedules = Schedules(
            identity.state_dir,
            lambda item, base: run_periodic(
                item,
                base,
                identity,
                self._script_dir,
                self._runs,
                self._channel.secret_values,
                self._settings.environment,
            ),
            self._recovery.queue,
            zone=local_zone(self._settings.environment.tz),
        )
        self._upgrader = Upgrader(
            self._channel,
            identity.state_dir,
            busy=lambda: bool(self._executions),
            ca_path=identity.ca_path,
        )
        self.restart_into: tuple[str, Path] | None = None  # a newly installed version

    async def run(self, stop: asyncio.Event) -> None:
        # What runs cut short by a crash left (script files may hold secret values): before any
        # run of this life can have written its own.
        script_file.sweep(self._script_dir)
        health, settings = self._health, self._settings
        duties = [
            asyncio.create_task(supervise(name, run, health, settings), name=name)
            for name, run in (
                ("heartbeat", self._heartbeats),
                ("kicks", self._kicks.run),
                ("fetch", self._fetcher),
            )
        ]
        upgraded = asyncio.create_task(self._upgrader.run(), name="upgrade")
        endings = [
            asyncio.create_task(stop.wait(), name="stop"),
            asyncio.create_task(self._deregistered.wait(), name="deregistered"),
            upgraded,
        ]
        self._kicked.set()  # fetch once at start-up
        await self._recovery.recover()
        self._schedules.load()
        self._spawn(self._schedules.clean(self._channel.task_content), "clean schedules")
        try:
            await asyncio.wait(endings, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for duty in (*duties, *endings):
                duty.cancel()
            self._schedules.close()
            for run in self._runs.values():
                run.stop()
            await asyncio.gather(*duties, *endings, return_exceptions=True)
            await self._finish_executions()
            if upgraded.done() and not upgraded.cancelled() and not upgraded.exception():
                self.restart_into = upgraded.result()  # no goodbye: back in a moment
            elif not self._deregistered.is_set():
                await self._say_goodbye()
            await self._channel.close()

    async def _say_goodbye(self) -> None:
        """Tell the server why we go, so tasks meanwhile get ClientNotRunning (service stopped)
        or InstanceNotRunning (machine shutting down) instead of waiting for a timeout."""
        reason = (
            "shutdown"
            if await asyncio.to_thread(
                _system_shutting_down, self._settings.environment.system_state
            )
            else "stopped"
        )
        try:
            await asyncio.wait_for(self._channel.heartbeat(goodbye=reason), GOODBYE_TIMEOUT_S)
        except (ChannelError, TimeoutError):
            log.info("could not say goodbye to the server")

    async def _finish_executions(self) -> None:
        """Give stopped runs a moment to report, then abandon what cannot reach the server
        (deregistered, or the server is down: the journal, not this process, must carry it)."""
        if not self._executions:
            return
        _done, pending = await asyncio.wait(self._executions, timeout=SHUTDOWN_REPORT_S)
        for execution in pending:
            execution.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _heartbeats(self) -> None:
        """Every ``heartbeat_s``, and at once when the kick channel reconnects: a server that
        restarted, or a network that healed, learns at once that we are back."""
        attempt = 0
        while True:
            self._kicks.reconnected.clear()
            try:
                await self._beat()
                self._health.ok("heartbeat")
                attempt, wait_s = 0, self._settings.heartbeat_s
            except ChannelError as error:
                log.warning("heartbeat failed: %s", error)
                wait_s = backoff(attempt, self._settings)
                attempt += 1
            await pause(self._kicks.reconnected, wait_s)

    async def _beat(self) -> None:
        """One heartbeat that a stop does not cut off once sent: the goodbye that follows
        queues behind it on the connection, so the server never sees them out of order (a
        late plain heartbeat would undo the goodbye)."""
        state_dir = self._identity.state_dir
        fell_back = start_guard.fallback_report(state_dir)
        beat = asyncio.ensure_future(
            self._channel.heartbeat(
                running=len(self._runs), faults=self._health.faults(), upgrade_failed=fell_back
            )
        )
        try:
            await asyncio.shield(beat)
        except asyncio.CancelledError:
            beat.add_done_callback(lambda done: done.cancelled() or done.exception())
            raise
        if not self._started_well:  # the server took this version's heartbeat: it starts fine
            self._started_well = True
            start_guard.started_well(state_dir, __version__)
        if fell_back:
            start_guard.reported(state_dir)

    async def _fetcher(self) -> None:
        """Fetch at each kick, and poll: every ``poll_s`` while the kick channel is down, ten
        times rarer while it is up (``poll_period``); after a failure, within the backoff."""
        attempt, retry_s = 0, None
        since = time.monotonic()
        await pause(self._recovery.recovered, RECOVERY_WAIT_S)
        if not self._recovery.recovered.is_set():
            # Some report of an earlier life is still not through: do not have the server end
            # its task before it arrives (those its journal lost then wait for their timeout).
            log.warning("earlier reports not through after %d s; fetching anyway", RECOVERY_WAIT_S)
            self._startup = False
        while True:
            await self._kicks.until_fetch(since, retry_s)
            self._kicked.clear()
            since = time.monotonic()
            if self._upgrader.upgrading:
                continue  # the new version takes what is waiting
            try:
                cold_start = self._cold_start if self._startup else None
                tasks = await self._channel.task_list("kickoff", cold_start=cold_start)
                self._startup, attempt, retry_s = False, 0, None
            except ChannelError as error:
                log.warning("task list failed: %s", error)
                retry_s = backoff(attempt, self._settings)  # or sooner, on a kick
                attempt += 1
                continue
            self._take(tasks)
            if self._health.failing("journal"):
                # What could not be journalled comes back once the server hands it out again.
                retry_s = backoff(attempt, self._settings)
                attempt += 1
            self._health.ok("fetch")

    def _take(self, tasks: wire.TaskListResponse) -> None:
        """Start what the task list hands out. One whose start cannot be journalled is left:
        the server hands it out again, since no report confirms it."""
        for item in tasks.stop:
            self._stop(item.task)
        for file_item in tasks.file:
            key = (file_item.task.taskID, 0)
            if not self._recovery.seen(key) and self._recovery.start(key, TaskKind.SEND_FILE):
                self._spawn(self._send_file(file_item.task), f"file {key[0]}")
        for run_item in tasks.run:
            if is_periodic(run_item):
                self._schedules.install(run_item)
                continue
            key = (run_item.task.taskID, run_item.task.invokeVersion)
            if self._recovery.seen(key):
                continue  # redelivered: started once already (maybe before a restart)
            if self._recovery.start(key):  # on disk before the process exists, or not run
                self._preparing[key] = False  # before any later task list can stop it
                self._spawn(self._execute(run_item), f"run {key[0]}")

    def _stop(self, task: wire.TaskInfo) -> None:
        """End a running task; one this agent never started (or finished and reported) cannot
        be running here, which the server is told so that the stop does not hang."""
        running = self._runs.get(task.taskID)
        if self._schedules.holds(task.taskID):
            self._schedules.cancel(task.taskID, report=running is None)
        if running is not None:
            running.stop()
            return
        key = (task.taskID, task.invokeVersion)
        if key in self._preparing:
            self._preparing[key] = True  # _execute reports it stopped instead of starting it
            return
        if self._recovery.seen(key):
            return  # finished here: its final report is on its way
        self._recovery.stopped_unstarted(key, canceled_report(base_report(task)))

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        execution = asyncio.create_task(work, name=name)
        self._executions.add(execution)  # keep a reference until it is done
        execution.add_done_callback(self._executions.discard)

    async def _execute(self, item: wire.RunItem) -> None:
        task = item.task
        key = (task.taskID, task.invokeVersion)
        base = base_report(task)
        try:
            secrets = await resolve_secrets(task, self._channel.secret_values)
            spec = script_spec(task, self._identity.instance_id, self._script_dir, secrets)
            environment = self._settings.environment
            wants_container = task.containerId or task.containerName
            found = await find_container(task, environment) if wants_container else None
        except Unrunnable as problem:  # it would not have started anyway: say why
            await self._recovery.settle(key, problem.report(base))
            return
        finally:
            stopped = self._preparing.pop(key, False)
        if stopped:  # a stop came while it was being prepared: it never starts
            await self._recovery.settle(key, canceled_report(base))
            return

        async def partial(chunk: bytes) -> None:
            await self._report(replace(base, output=chunk), attempts=PARTIAL_OUTPUT_ATTEMPTS)

        options: dict[str, Any] = {
            "quota": item.output.logQuota,
            "on_output": partial,
            "output_interval_s": item.output.interval / 1000,
            "send_cap": item.output.fullOutputCap,
            "on_start": lambda pgid: self._recovery.process(key, pgid),
            "agent": self._settings.environment,
        }
        run = ContainerRun(spec, found, **options) if found else ScriptRun(spec, **options)
        self._runs[task.taskID] = run
        finished = asyncio.Event()
        announce = asyncio.create_task(self._announce_start(base, clock.now_ms(), finished))
        try:
            outcome = await run.run()
        finally:
            self._runs.pop(task.taskID, None)
            finished.set()
            await announce
        await self._recovery.settle(key, final_report(outcome, base), private=bool(secrets))

    async def _send_file(self, task: wire.FileTaskInfo) -> None:
        report = await asyncio.to_thread(deliver_file, task)
        await self._recovery.settle((task.taskID, 0), report)

    async def _announce_start(
        self, base: TaskReport, start_ms: int, finished: asyncio.Event
    ) -> None:
        """Report "running" unless the run ends first: a short script needs one report, not two,
        and the process is never held back waiting for the server."""
        with suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), self._settings.start_report_delay_s)
            return
        # Retried a little: until it arrives the server counts the task as not yet delivered.
        await self._report(replace(base, start_ms=start_ms), attempts=PARTIAL_OUTPUT_ATTEMPTS)

    async def _report(self, report: TaskReport, attempts: int = 0) -> None:
        """Send a report; retried with backoff, forever when ``attempts`` is 0 (final results
        must arrive), else that many times (start and partial-output hints)."""
        attempt = 0
        while True:
            try:
                await self._channel.report(report)
                return
            except ChannelError as error:
                if attempts and attempt + 1 >= attempts:
                    log.info("report %s dropped: %s", report.kind, error)
                    return
                log.warning("report %s failed, will retry: %s", report.kind, error)
                await asyncio.sleep(backoff(attempt, self._settings))
                attempt += 1


async def run_agent(
    state_dir: Path, settings: AgentSettings | None = None
) -> tuple[str, Path] | None:
    """Run until SIGINT/SIGTERM, or until a newer version is installed: then returns its
    (version, directory) for the caller to start."""
    identity = load(state_dir)
    logs.bind(instance_id=identity.instance_id)  # on every line this agent logs
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    log.info(
        "agent %s connecting to %s:%d",
        identity.instance_id,
        identity.server_host,
        identity.server_port,
    )
    agent = Agent(identity, settings)
    with pidfd_child_watcher(loop):
        await agent.run(stop)
    return agent.restart_into
