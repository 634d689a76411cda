"""Task reports on the wire: the official agent's spellings decode to the right typed report, and
what our agent encodes is what the official agent would send (and decodes back unchanged)."""

from __future__ import annotations

import pytest

from openassist.protocol.reports import (
    FileStatus,
    ReportKind,
    StopResult,
    TaskReport,
    decode_report,
    encode_query,
)

K = ReportKind

# (kind, query as the agent sends it, body) -> the report it carries. The first rows are the
# official agent's requests, spelled as agent/taskengine/{api,basetask,sendfile}.go build them.
DECODED: list[tuple[ReportKind, dict[str, str], bytes, TaskReport]] = [
    (
        K.VERIFIED,
        {"taskId": "t-1", "invokeVersion": "0"},
        b"",
        TaskReport(kind=K.VERIFIED, task_id="t-1", invoke_version=0),
    ),
    (
        K.RUNNING,
        {"taskId": "t-1", "invokeVersion": "2", "start": "1700000000123"},
        b"",
        TaskReport(kind=K.RUNNING, task_id="t-1", invoke_version=2, start_ms=1700000000123),
    ),
    (
        K.RUNNING,  # a cron task's start, with the schedule's wall clock
        {
            "taskId": "t-1",
            "invokeVersion": "1",
            "start": "10",
            "currentTime": "11",
            "offset": "28800",
            "timeZone": "Asia/Shanghai",
        },
        b"",
        TaskReport(
            kind=K.RUNNING,
            task_id="t-1",
            invoke_version=1,
            start_ms=10,
            current_time_ms=11,
            utc_offset_s=28800,
            time_zone="Asia/Shanghai",
        ),
    ),
    (
        K.FINISH,
        {
            "taskId": "t-1",
            "invokeVersion": "0",
            "start": "10",
            "end": "20",
            "exitCode": "3",
            "dropped": "5",
        },
        b"tail",
        TaskReport(
            kind=K.FINISH,
            task_id="t-1",
            invoke_version=0,
            start_ms=10,
            end_ms=20,
            exit_code=3,
            dropped=5,
            output=b"tail",
        ),
    ),
    (
        K.TIMEOUT,
        {"taskId": "t-1", "invokeVersion": "0", "start": "1", "end": "2", "exitCode": "1"},
        b"",
        TaskReport(
            kind=K.TIMEOUT, task_id="t-1", invoke_version=0, start_ms=1, end_ms=2, exit_code=1
        ),
    ),
    (
        K.ERROR,  # the official agent's own numbers: errno, or a negative category code
        {
            "taskId": "t-1",
            "invokeVersion": "0",
            "start": "0",
            "end": "0",
            "exitCode": "0",
            "dropped": "0",
            "errCode": "-7",
            "errDesc": "ExecuteScriptFailed: fork/exec /bin/sh: no such file",
        },
        b"",
        TaskReport(
            kind=K.ERROR,
            task_id="t-1",
            invoke_version=0,
            start_ms=0,
            end_ms=0,
            exit_code=0,
            dropped=0,
            error_code="-7",
            error_info="ExecuteScriptFailed: fork/exec /bin/sh: no such file",
        ),
    ),
    (
        K.STOPPED,  # the lower-case exitcode of the stopped report
        {"taskId": "t-1", "invokeVersion": "0", "exitcode": "-1", "result": "killed"},
        b"",
        TaskReport(
            kind=K.STOPPED,
            task_id="t-1",
            invoke_version=0,
            exit_code=-1,
            result=StopResult.KILLED,
        ),
    ),
    (
        K.STOPPED,
        {"taskId": "t-1", "invokeVersion": "3", "start": "0", "result": "completed"},
        b"",
        TaskReport(
            kind=K.STOPPED,
            task_id="t-1",
            invoke_version=3,
            start_ms=0,
            result=StopResult.COMPLETED,
        ),
    ),
    (
        K.INVALID,
        {
            "taskId": "t-1",
            "invokeVersion": "0",
            "param": "UsernameOrPasswordInvalid",
            "value": "UserInvalid_nobody2: exit status 1",
        },
        b"",
        TaskReport(
            kind=K.INVALID,
            task_id="t-1",
            invoke_version=0,
            param="UsernameOrPasswordInvalid",
            value="UserInvalid_nobody2: exit status 1",
        ),
    ),
    (
        K.FINISH,  # a send-file task that failed on chmod
        {"taskId": "f-1", "status": "Failed", "taskType": "sendfile", "errorcode": "3"},
        b"",
        TaskReport(
            kind=K.FINISH,
            task_id="f-1",
            send_file=True,
            file_status=FileStatus.FAILED,
            file_error=3,
        ),
    ),
    (
        K.FINISH,
        {"taskId": "f-1", "status": "Success", "taskType": "sendfile", "errorcode": "0"},
        b"",
        TaskReport(
            kind=K.FINISH,
            task_id="f-1",
            send_file=True,
            file_status=FileStatus.SUCCESS,
            file_error=0,
        ),
    ),
    (
        K.INVALID,  # the send-file invalid report: the value may be empty, never absent
        {"taskId": "f-1", "taskType": "sendfile", "param": "EmptyFile", "value": ""},
        b"",
        TaskReport(kind=K.INVALID, task_id="f-1", send_file=True, param="EmptyFile"),
    ),
    # OpenAssist's additions.
    (
        K.SKIPPED,
        {"taskId": "t-1", "invokeVersion": "4", "currentTime": "1700000000000"},
        b"",
        TaskReport(kind=K.SKIPPED, task_id="t-1", invoke_version=4, current_time_ms=1700000000000),
    ),
    (
        K.STOPPED,
        {"taskId": "t-1", "invokeVersion": "0", "exitcode": "-1", "result": "canceled"},
        b"",
        TaskReport(
            kind=K.STOPPED,
            task_id="t-1",
            invoke_version=0,
            exit_code=-1,
            result=StopResult.CANCELED,
        ),
    ),
    (
        K.INVALID,
        {"taskId": "t-1", "invokeVersion": "0", "errCode": "AccountNotExists", "errDesc": "x"},
        b"",
        TaskReport(
            kind=K.INVALID,
            task_id="t-1",
            invoke_version=0,
            error_code="AccountNotExists",
            error_info="x",
        ),
    ),
    # What no agent sends: read as absent, never an exception.
    (
        K.FINISH,
        {
            "start": "",
            "end": "1e3",
            "exitCode": "abc",
            "dropped": "12345678901234567890",
            "invokeVersion": " 1",
            "result": "exploded",
            "status": "Perhaps",
            "offset": "+5",
        },
        b"",
        TaskReport(kind=K.FINISH, task_id="", file_status=FileStatus.FAILED),
    ),
    (
        K.FINISH,  # an empty exitCode next to a lower-case one: the one with a value counts
        {"taskId": "t", "exitCode": "", "exitcode": "4", "status": ""},
        b"",
        TaskReport(kind=K.FINISH, task_id="t", exit_code=4),
    ),
]


@pytest.mark.parametrize(("kind", "query", "body", "expected"), DECODED)
def test_decode_reads_each_spelling(
    kind: ReportKind, query: dict[str, str], body: bytes, expected: TaskReport
) -> None:
    assert decode_report(kind, query, body) == expected


# What our agent sends -> the query, in the official agent's spellings and order.
ENCODED: list[tuple[TaskReport, list[tuple[str, str]]]] = [
    (
        TaskReport(
            kind=K.FINISH,
            task_id="t-1",
            invoke_version=0,
            start_ms=10,
            end_ms=20,
            exit_code=0,
            dropped=0,
            output=b"ok\n",
        ),
        [
            ("taskId", "t-1"),
            ("invokeVersion", "0"),
            ("start", "10"),
            ("end", "20"),
            ("exitCode", "0"),
            ("dropped", "0"),
        ],
    ),
    (
        TaskReport(
            kind=K.STOPPED,
            task_id="t-1",
            invoke_version=1,
            start_ms=10,
            end_ms=20,
            exit_code=-1,
            dropped=0,
            error_info="stopped on request",
            result=StopResult.KILLED,
        ),
        [
            ("taskId", "t-1"),
            ("invokeVersion", "1"),
            ("start", "10"),
            ("end", "20"),
            ("exitcode", "-1"),
            ("dropped", "0"),
            ("result", "killed"),
            ("errDesc", "stopped on request"),
        ],
    ),
    (
        TaskReport(
            kind=K.ERROR,
            task_id="t-1",
            invoke_version=2,
            start_ms=5,
            end_ms=6,
            error_code="ClientRestarted",
            error_info="the agent was restarted",
        ),
        [
            ("taskId", "t-1"),
            ("invokeVersion", "2"),
            ("start", "5"),
            ("end", "6"),
            ("errCode", "ClientRestarted"),
            ("errDesc", "the agent was restarted"),
        ],
    ),
    (
        TaskReport(kind=K.INVALID, task_id="t-1", invoke_version=0, param="cron", value="X"),
        [("taskId", "t-1"), ("invokeVersion", "0"), ("param", "cron"), ("value", "X")],
    ),
    (
        TaskReport(
            kind=K.FINISH,
            task_id="t-1",
            invoke_version=3,
            start_ms=1,
            end_ms=2,
            exit_code=0,
            dropped=0,
            current_time_ms=3,
            utc_offset_s=-21600,
            time_zone="America/Chicago",
        ),
        [
            ("taskId", "t-1"),
            ("invokeVersion", "3"),
            ("start", "1"),
            ("end", "2"),
            ("exitCode", "0"),
            ("dropped", "0"),
            ("currentTime", "3"),
            ("offset", "-21600"),
            ("timeZone", "America/Chicago"),
        ],
    ),
    (
        TaskReport(
            kind=K.FINISH,
            task_id="f-1",
            send_file=True,
            file_status=FileStatus.FAILED,
            file_error=1,
        ),
        [("taskId", "f-1"), ("status", "Failed"), ("taskType", "sendfile"), ("errorcode", "1")],
    ),
    (
        TaskReport(kind=K.INVALID, task_id="f-1", send_file=True, param="EmptyFile"),
        [("taskId", "f-1"), ("taskType", "sendfile"), ("param", "EmptyFile"), ("value", "")],
    ),
    (
        TaskReport(kind=K.SKIPPED, task_id="t-1", invoke_version=0, current_time_ms=9),
        [("taskId", "t-1"), ("invokeVersion", "0"), ("currentTime", "9")],
    ),
]


@pytest.mark.parametrize(("report", "query"), ENCODED)
def test_encode_spells_the_official_query(report: TaskReport, query: list[tuple[str, str]]) -> None:
    assert list(encode_query(report).items()) == query


@pytest.mark.parametrize(
    "report", [report for report, _ in ENCODED] + [row[3] for row in DECODED if row[3].task_id]
)
def test_decode_gives_back_what_was_encoded(report: TaskReport) -> None:
    """Our agent journals the encoded query and sends it again after a restart: nothing lost."""
    assert decode_report(report.kind, encode_query(report), report.output) == report


@pytest.mark.parametrize(
    ("report", "never_started", "completed"),
    [
        (TaskReport(kind=K.STOPPED, task_id="t", result=StopResult.CANCELED), True, False),
        (TaskReport(kind=K.STOPPED, task_id="t", result=StopResult.COMPLETED), False, True),
        (TaskReport(kind=K.STOPPED, task_id="t", result=StopResult.KILLED), False, False),
        (TaskReport(kind=K.FINISH, task_id="t", result=StopResult.COMPLETED), False, False),
    ],
)
def test_what_a_stop_result_means(report: TaskReport, never_started: bool, completed: bool) -> None:
    assert (report.never_started, report.schedule_completed) == (never_started, completed)


def test_numbers_out_of_their_range_decode_as_absent() -> None:
    """Huge numbers from a crafted report never reach the store or a date conversion."""
    query = {
        "taskId": "t-1",
        "invokeVersion": "9" * 18,
        "start": "9" * 18,
        "end": "-5",
        "exitCode": "9" * 18,
        "dropped": "-1",
        "currentTime": "253402300800000",
        "offset": "999999",
        "errorcode": str(2**31),
    }
    report = decode_report(K.FINISH, query)
    assert (report.invoke_version, report.start_ms, report.end_ms, report.exit_code) == (None,) * 4
    assert (report.dropped, report.current_time_ms, report.utc_offset_s) == (None,) * 3
    assert report.file_error is None


def test_windows_unsigned_exit_codes_are_their_signed_value() -> None:
    assert decode_report(K.FINISH, {"exitCode": "3221225477"}).exit_code == -1073741819
    assert decode_report(K.FINISH, {"exitCode": "-2"}).exit_code == -2
