"""Task reports: ``POST /luban/api/v1/task/<kind>?<query>`` with the output as the raw body.

``TaskReport`` is any report either agent sends, as typed data. ``encode_query`` spells it the
way the official agent does and ``decode_report`` reads the spellings of both agents, so our
agent and the gateway share one definition of the wire. Query keys, as the official agent
(aliyun_assist_client 2.2.3) sends them:

- ``verified``: taskId invokeVersion
- ``running``: taskId invokeVersion start [wall clock]
- ``finish``, ``timeout``, ``error``: taskId invokeVersion start end exitCode dropped
  [errCode errDesc] [wall clock]
- ``stopped``: taskId invokeVersion start end **exitcode** dropped result (killed | completed)
- ``invalid``: taskId invokeVersion param value
- a send-file task's ``finish``: taskId status taskType=sendfile errorcode; its ``invalid``:
  taskId taskType=sendfile param value

The wall clock (``currentTime``, plus ``offset`` and ``timeZone`` for cron) is sent by timed
tasks only. Times are Unix ms. A ``running`` report's body is the output since the previous
one; a final report's body is what was not sent yet, so the server appends. OpenAssist's agent
adds ``skipped`` (taskId invokeVersion currentTime), ``result=canceled`` (a stop for a run it
never started) and ``errCode``/``errDesc`` on ``invalid``. A number that is absent, empty or
not a decimal integer of at most 18 digits, or out of its field's range (a time the server
cannot show, an exit code or version wider than 32 bits) decodes as None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

import msgspec

SEND_FILE = "sendfile"  # the taskType of a send-file task's reports
_INTEGER = re.compile(r"-?[0-9]{1,18}")  # fits the int64 columns the server keeps them in
# What each number may be; outside it, the number decodes as absent. Times must be ones the
# server can show (up to the year 9999); exit codes and versions fit 32 bits, and Windows'
# unsigned exit codes (0xC0000005) are taken as the signed value they are.
_TIME_MS = range(0, 253_402_300_800_000)
_INT32 = range(-(2**31), 2**31)
_EXIT_CODE = range(-(2**31), 2**32)
_COUNT = range(0, 2**63)
_OFFSET_S = range(-86_400, 86_401)


class ReportKind(StrEnum):
    """The last segment of the report's path."""

    VERIFIED = "verified"  # a pre-checked task would run (the official agent's test[] list)
    RUNNING = "running"  # the run started, or new output while it runs
    FINISH = "finish"  # the process exited by itself; a send-file task's outcome
    STOPPED = "stopped"  # stopped on request, or a cron schedule has no run left
    TIMEOUT = "timeout"
    ERROR = "error"  # the run could not start or failed unexpectedly
    INVALID = "invalid"  # the task cannot run here as given (user, directory, schedule ...)
    SKIPPED = "skipped"  # OpenAssist: a timed run not started, the last one still going


class StopResult(StrEnum):
    """``result`` of a ``stopped`` report."""

    KILLED = "killed"  # stopped on request
    COMPLETED = "completed"  # a cron schedule has no run left
    CANCELED = "canceled"  # OpenAssist: a stop for a run the agent never started


_RESULTS = {result.value: result for result in StopResult}


class FileStatus(StrEnum):
    """``status`` of a send-file task's ``finish`` report."""

    SUCCESS = "Success"
    FAILED = "Failed"


class TaskReport(msgspec.Struct, frozen=True, kw_only=True):
    """One report about one task; None (or "") is a field the report does not carry."""

    kind: ReportKind
    task_id: str
    invoke_version: int | None = None  # send-file reports carry none
    start_ms: int | None = None  # Unix ms; 0 when the run never started
    end_ms: int | None = None
    exit_code: int | None = None
    dropped: int | None = None  # output bytes the agent did not send
    error_code: str = ""  # errCode: a catalog code, or the official agent's own number
    error_info: str = ""  # errDesc: the specific cause
    param: str | None = None  # invalid (official spelling): the setting at fault
    value: str = ""  # invalid: what was wrong with it
    result: StopResult | None = None
    current_time_ms: int | None = None  # timed tasks: the wall clock; skipped: the fire time
    utc_offset_s: int | None = None  # cron tasks: the schedule zone's offset then
    time_zone: str = ""  # cron tasks: the schedule's zone
    send_file: bool = False  # taskType=sendfile: the task is a send-file task
    file_status: FileStatus | None = None
    file_error: int | None = None  # send-file errorcode: 0 ok, 1 create, 2 chown, 3 chmod, 4 mkdir
    output: bytes = b""  # the body: output not sent before

    @property
    def never_started(self) -> bool:
        """A stop answered for a run the agent never had."""
        return self.result is StopResult.CANCELED

    @property
    def schedule_completed(self) -> bool:
        """A timed task's schedule has no run left (its last run was reported before)."""
        return self.kind is ReportKind.STOPPED and self.result is StopResult.COMPLETED


def encode_query(report: TaskReport) -> dict[str, str]:
    """The report's query string, in the official agent's spellings and order."""
    query = {"taskId": report.task_id}

    def put(name: str, value: object) -> None:
        if value is not None and value != "":
            query[name] = str(value)

    put("invokeVersion", report.invoke_version)
    if report.send_file:
        put("status", report.file_status)
        query["taskType"] = SEND_FILE
        put("errorcode", report.file_error)
    put("start", report.start_ms)
    put("end", report.end_ms)
    put("exitcode" if report.kind is ReportKind.STOPPED else "exitCode", report.exit_code)
    put("dropped", report.dropped)
    put("result", report.result)
    put("errCode", report.error_code)
    put("errDesc", report.error_info)
    if report.param is not None:
        query["param"], query["value"] = report.param, report.value
    put("currentTime", report.current_time_ms)
    put("offset", report.utc_offset_s)
    put("timeZone", report.time_zone)
    return query


def _integer(text: str | None, allowed: range) -> int | None:
    if text is None or not _INTEGER.fullmatch(text) or int(text) not in allowed:
        return None
    return int(text)


def _exit_code(text: str | None) -> int | None:
    value = _integer(text, _EXIT_CODE)
    return value - 2**32 if value is not None and value >= 2**31 else value


def _file_status(text: str | None) -> FileStatus | None:
    """Absent: None (the server counts it a success, as the official agent never omits it);
    any value but ``Success``: a failure."""
    if not text:
        return None
    return FileStatus.SUCCESS if text == FileStatus.SUCCESS else FileStatus.FAILED


def decode_report(kind: ReportKind, query: Mapping[str, str], output: bytes = b"") -> TaskReport:
    """The report a request carries, whichever agent spelled it; never raises."""
    return TaskReport(
        kind=kind,
        task_id=query.get("taskId", ""),
        invoke_version=_integer(query.get("invokeVersion"), _INT32),
        start_ms=_integer(query.get("start"), _TIME_MS),
        end_ms=_integer(query.get("end"), _TIME_MS),
        # ``stopped`` spells it in lower case; accept either on any kind.
        exit_code=_exit_code(query.get("exitCode") or query.get("exitcode")),
        dropped=_integer(query.get("dropped"), _COUNT),
        error_code=query.get("errCode", ""),
        error_info=query.get("errDesc", ""),
        param=query.get("param"),
        value=query.get("value", ""),
        result=_RESULTS.get(query.get("result", "")),
        current_time_ms=_integer(query.get("currentTime"), _TIME_MS),
        utc_offset_s=_integer(query.get("offset"), _OFFSET_S),
        time_zone=query.get("timeZone", ""),
        send_file=query.get("taskType") == SEND_FILE,
        file_status=_file_status(query.get("status")),
        file_error=_integer(query.get("errorcode"), _INT32),
        output=output,
    )
