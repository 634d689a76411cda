"""The agent's journal: what it started and what it must still report, surviving restarts.

A task is journaled (and the line flushed to disk) before its process starts, so it is never
started twice, even if the server hands it out again after a crash. A final result stays in the
journal until the server has taken it, and is sent again after any outage. At start-up, a task
that was started but never finished was interrupted: by an agent restart (same boot id) or by a
reboot (boot id changed).

The file is JSON lines, append-only, owner-only; it is rewritten without the settled entries
when it grows (settled keys are kept a while so a late redelivery is still recognised).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from openassist.agent import clock
from openassist.protocol.reports import ReportKind, TaskReport, decode_report, encode_query

JOURNAL_FILE = "journal.jsonl"
KEEP_SETTLED_S = 7 * 24 * 3600
COMPACT_AT_LINES = 5000

Key = tuple[str, int]  # (task id, invoke version)
QUEUED_MARK = "#"  # in the key of a queued report: "<task id>#<n>"


class TaskKind(StrEnum):
    """What a journaled task is, so recovery reports it in its own shape."""

    COMMAND = "command"
    SEND_FILE = "send_file"

    @classmethod
    def of_line(cls, record: dict[str, Any]) -> TaskKind:
        """The kind a "started" line records; journals written before it was recorded are told
        by the task id, as those versions did (send-file ids start with ``f-``)."""
        if "kind" in record:
            return cls(record["kind"])
        return cls.SEND_FILE if str(record["task"]).startswith("f-") else cls.COMMAND


@dataclass
class Entry:
    task_id: str
    version: int
    boot_id: str
    pgid: int = 0
    started_at: float = 0.0
    report: dict[str, Any] | None = None  # the final report: kind, query, output (latin-1)
    settled: bool = False  # the server took the final report
    kind: TaskKind = TaskKind.COMMAND

    @property
    def key(self) -> Key:
        return (self.task_id, self.version)

    @property
    def final_report(self) -> TaskReport | None:
        if self.report is None:
            return None
        kind, query = ReportKind(self.report["kind"]), self.report["query"]
        return decode_report(kind, query, self.report["output"].encode("latin-1"))


def _started_line(entry: Entry) -> dict[str, Any]:
    line = {"e": "started", "task": entry.task_id, "v": entry.version, "boot": entry.boot_id}
    if entry.pgid:
        line["pgid"] = entry.pgid
    return {**line, "at": entry.started_at, "kind": entry.kind.value}


def _stored(report: TaskReport) -> dict[str, Any]:
    """A report as the journal keeps it: kind, query as sent, output (latin-1). The format of
    earlier versions, so a journal survives an upgrade."""
    output = report.output.decode("latin-1")
    return {"kind": report.kind.value, "query": encode_query(report), "output": output}


@dataclass
class Journal:
    path: Path
    entries: dict[Key, Entry] = field(default_factory=dict)
    _lines: int = 0

    @classmethod
    def open(cls, state_dir: Path) -> Journal:
        journal = cls(state_dir / JOURNAL_FILE)
        if journal.path.exists():
            for line in journal.path.read_text().splitlines():
                journal._replay(line)
        return journal

    def _replay(self, line: str) -> None:
        try:
            record = json.loads(line)
            key = (record["task"], int(record["v"]))
        except (ValueError, KeyError, TypeError):
            return  # a torn last line after a crash: the write it belonged to did not finish
        self._lines += 1
        event = record.get("e")
        if event == "started":
            self.entries[key] = Entry(
                key[0],
                key[1],
                record.get("boot", ""),
                int(record.get("pgid", 0)),
                float(record.get("at", 0)),
                kind=TaskKind.of_line(record),
            )
        elif event == "queued":
            self.entries[key] = Entry(key[0], key[1], "", report=record.get("report"))
        elif key in self.entries and event == "finished":
            self.entries[key].report = record.get("report")
        elif key in self.entries and event == "settled":
            self.entries[key].settled = True

    def _append(self, record: dict[str, Any], sync: bool) -> None:
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = os.fstat(fd).st_size
            try:
                if os.write(fd, line) != len(line):
                    raise OSError(errno.ENOSPC, "journal line written in part")
                if sync:
                    os.fdatasync(fd)  # measured here: 0.14 ms, cheap for what it buys
            except OSError:
                # A full disk may take half a line: cut it, so the next one starts clean.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)
        self._lines += 1

    def seen(self, key: Key) -> bool:
        return key in self.entries

    def started(self, key: Key, boot_id: str, kind: TaskKind = TaskKind.COMMAND) -> Entry:
        """Record the start; call before the process exists."""
        entry = Entry(key[0], key[1], boot_id, started_at=clock.now_s(), kind=kind)
        self._append(_started_line(entry), sync=True)
        self.entries[key] = entry  # only once on disk: a failed write leaves it unseen
        return entry

    def process(self, key: Key, pgid: int) -> None:
        """Record the process group, so a restarted agent can end what it left behind."""
        self.entries[key].pgid = pgid
        self._append(_started_line(self.entries[key]), sync=False)

    def finished(self, key: Key, final: TaskReport, sync: bool = True) -> None:
        """Record the final report; with ``sync=False`` it is durable only after ``sync``."""
        report = _stored(final)
        self.entries[key].report = report
        self._append({"e": "finished", "task": key[0], "v": key[1], "report": report}, sync=sync)

    def sync(self) -> None:
        """Make every line written so far durable (blocking: the disk's flush)."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.fdatasync(fd)  # flushes the file's data, whichever descriptor wrote it
        finally:
            os.close(fd)

    def queued(self, key: Key, final: TaskReport) -> None:
        """A report that ends no task start (a periodic run's, under a key of its own): kept,
        like a final report, until the server takes it."""
        report = _stored(final)
        self.entries[key] = Entry(key[0], key[1], "", started_at=clock.now_s(), report=report)
        self._append({"e": "queued", "task": key[0], "v": key[1], "report": report}, sync=True)

    def settled(self, key: Key) -> None:
        self.entries[key].settled = True
        self._append({"e": "settled", "task": key[0], "v": key[1]}, sync=False)
        if self._lines > COMPACT_AT_LINES:
            self.compact()

    def interrupted(self) -> list[Entry]:
        """Started, never finished: the agent (or the machine) went down while they ran."""
        return [e for e in self.entries.values() if e.report is None and not e.settled]

    def unsettled(self) -> list[Entry]:
        """Finished, but the server has not taken the final report yet."""
        return [e for e in self.entries.values() if e.report is not None and not e.settled]

    def compact(self) -> None:
        horizon = clock.now_s() - KEEP_SETTLED_S
        # A settled queued report guards nothing (no run can start twice from it): drop it.
        keep = {
            k: e
            for k, e in self.entries.items()
            if not e.settled or (e.started_at > horizon and QUEUED_MARK not in e.task_id)
        }
        lines = []
        for e in keep.values():
            lines.append(_started_line(e))
            if e.report is not None:
                lines.append(
                    {"e": "finished", "task": e.task_id, "v": e.version, "report": e.report}
                )
            if e.settled:
                lines.append({"e": "settled", "task": e.task_id, "v": e.version})
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.writelines(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        self.entries, self._lines = keep, len(lines)
