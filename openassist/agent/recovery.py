"""The journal kept around the agent's runs, and the start-up recovery it makes possible.

A start is journalled before the run's process exists (or the run does not start); a final
report is journalled, sent until the server takes it, then marked settled. At start-up,
:meth:`Recovery.recover` reports what an earlier life of the agent left: runs it was killed in
the middle of (their process groups ended if still there) and final reports it never got
through; ``recovered`` is set once those are through.

A journal that cannot be written (a full disk) is the agent's own fault: it is counted as the
``journal`` duty's failure in :class:`DutyHealth`, which the heartbeat reports.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from msgspec.structs import replace

from openassist.agent import clock
from openassist.agent.journal import QUEUED_MARK, Journal, Key, TaskKind
from openassist.agent.process_group import end_group, group_alive
from openassist.agent.supervise import DutyHealth
from openassist.protocol.reports import FileStatus, ReportKind, TaskReport

log = logging.getLogger("openassist.agent")

Send = Callable[[TaskReport], Awaitable[None]]  # returns once the server has taken the report
Spawn = Callable[[Coroutine[Any, Any, None], str], None]  # runs work in the background, named


class Recovery:
    def __init__(
        self, journal: Journal, boot_id: str, health: DutyHealth, send: Send, spawn: Spawn
    ) -> None:
        self._journal = journal
        self._boot_id = boot_id
        self._health = health
        self._send = send
        self._spawn = spawn
        # Set once the reports an earlier life left are through: the first task fetch waits for
        # it, since it tells the server to end whatever is still running unreported.
        self.recovered = asyncio.Event()

    def seen(self, key: Key) -> bool:
        """Whether this task was started here already (maybe before a restart)."""
        return self._journal.seen(key)

    def start(self, key: Key, kind: TaskKind = TaskKind.COMMAND) -> bool:
        """Journal a start; False when the journal cannot be written: the task is then left for
        a later fetch, never run unjournalled (it could then run twice)."""
        try:
            self._journal.started(key, self._boot_id, kind)
        except OSError as error:
            count = self._health.failed("journal", error)
            log.error("cannot journal the start of %s (%d in a row): %s", key[0], count, error)
            return False
        self._health.ok("journal")
        return True

    def process(self, key: Key, pgid: int) -> None:
        """Journal the process group of a started run (ended at recovery if still there)."""
        self._journal.process(key, pgid)

    def stopped_unstarted(self, key: Key, report: TaskReport) -> None:
        """A task stopped before this agent started it: journalled as started, so that a late
        delivery does not run it, and ``report`` settled in the background."""
        self._journal.started(key, self._boot_id)
        self._spawn(self.settle(key, report), f"stop {key[0]}")

    async def settle(self, key: Key, report: TaskReport, private: bool = False) -> None:
        """Journal the final report, send it until the server takes it, then mark it settled.
        ``private``: the run held secret values, so its output stays out of the journal. A
        journal that cannot be written does not hold the result back (it is then lost only if
        the agent also dies before the server takes it)."""
        kept = _kept(report, private)
        written = self._write("finished", lambda: self._journal.finished(key, kept, sync=False))
        # Made durable while the report travels, not before it leaves (the disk's flush was a
        # tenth of the dispatch-to-result time here): a machine that goes down before the flush
        # ends loses the line either way, and the server may have the result by then.
        durable = asyncio.ensure_future(self._sync()) if written else None
        await self._send(report)
        if durable is not None:
            await durable
        self._write("settled", lambda: self._journal.settled(key))

    def queue(self, report: TaskReport, private: bool = False) -> None:
        """Journal a periodic run's report and send it in the background until the server
        takes it; after a restart the journal sends what was still waiting. ``private``: the
        run held secret values, so its output stays out of the journal."""
        task_id = report.task_id
        key = (f"{task_id}{QUEUED_MARK}{clock.now_ns()}", report.invoke_version or 0)
        self._journal.queued(key, _kept(report, private))
        self._spawn(self._resend(key, report), f"report {task_id}")

    async def recover(self) -> None:
        """Report what an earlier life of this agent left: runs it was killed in the middle of
        (their processes ended if still there), and final reports it never got through."""
        for entry in self._journal.interrupted():
            same_boot = entry.boot_id == self._boot_id
            if same_boot and entry.pgid and group_alive(entry.pgid):
                await end_group(entry.pgid)
            code, what = (
                ("ClientRestarted", "the agent was restarted")
                if same_boot
                else ("InstanceRestarted", "the instance was rebooted")
            )
            if entry.kind is TaskKind.SEND_FILE:  # its own report shape
                failed = TaskReport(
                    kind=ReportKind.FINISH,
                    task_id=entry.task_id,
                    send_file=True,
                    file_status=FileStatus.FAILED,
                    file_error=1,
                )
                self._journal.finished(entry.key, failed)
                continue
            interrupted = TaskReport(
                kind=ReportKind.ERROR,
                task_id=entry.task_id,
                invoke_version=entry.version,
                start_ms=int(entry.started_at * 1000),
                end_ms=clock.now_ms(),
                error_code=code,
                error_info=f"{what} while the task ran; it was not run again.",
            )
            self._journal.finished(entry.key, interrupted)
        resends = []
        for entry in self._journal.unsettled():
            report = entry.final_report
            assert report is not None
            resends.append(self._resend(entry.key, report))
        self._spawn(self._recovery_done(resends), "recovery")

    async def _recovery_done(self, resends: list[Coroutine[Any, Any, None]]) -> None:
        try:
            await asyncio.gather(*resends)
        finally:
            self.recovered.set()

    async def _resend(self, key: Key, report: TaskReport) -> None:
        await self._send(report)
        self._journal.settled(key)

    def _write(self, what: str, write: Callable[[], None]) -> bool:
        try:
            write()
        except OSError as error:
            self._failed(what, error)
            return False
        self._health.ok("journal")
        return True

    async def _sync(self) -> None:
        try:
            await asyncio.to_thread(self._journal.sync)
        except OSError as error:
            self._failed("finished", error)

    def _failed(self, what: str, error: OSError) -> None:
        count = self._health.failed("journal", error)
        log.error("cannot journal %s (%d in a row): %s", what, count, error)


def _kept(report: TaskReport, private: bool) -> TaskReport:
    """The copy of a report the journal keeps: without the output of a run that held secret
    values (the output may show them; the journal is a file that outlives the run). Sent again
    after a restart, such a report says its output was not kept."""
    if not private or not report.output:
        return report
    note = "the output was not kept on the instance (the run used secret parameters)"
    info = f"{report.error_info.rstrip('.')}; {note}" if report.error_info else note
    return replace(report, output=b"", error_info=info)
