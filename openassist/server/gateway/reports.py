"""Reading a task report of the official protocol into a service ``Report``.

The official agent reports a task it cannot run on ``v1/task/invalid`` with ``param`` and
``value`` instead of an error code; ``_INVALID_PARAMS`` maps those to catalog codes.
"""

from __future__ import annotations

from collections.abc import Mapping

from openassist.catalog import ENTRIES
from openassist.server.service.delivery import Report, ReportKind
from openassist.server.service.files import FileReport

_INVALID_PARAMS = {
    "TypeInvalid": "CommandNotApplicable",
    "CommandContentInvalid": "InvalidCommandText",
    "InvalidEnvironmentParameter": "InvalidSystemBuiltInParameter",
    "homeDir": "DefaultWorkingDirectoryNotAvailable",
    "workingDirectory": "DirectoryNotExists",
    "username": "AccountNotExists",
    "cron": "BadCronExpression",
}


# The official agent's send-file outcomes -> catalog codes.
FILE_FINISH_ERRORS = {
    1: ("FileCreateFail", "the file could not be created"),
    2: ("FileCreateFail", "the file's owner or group could not be set"),
    3: ("FileAuthorityInvalid", "the file's mode could not be set"),
    4: ("FilePathInvalid", "the target directory could not be created"),
}
FILE_INVALID_PARAMS = {
    "FileNameInvalid": "FileNameInvalid",
    "FileExist": "FileAlreadyExists",
    "EmptyFile": "FileContentInvalid",
    "InvalidFileContent": "FileContentInvalid",
    "InvalidSignature": "FileContentInvalid",
    "InvalidFileMode": "FileAuthorityInvalid",
    "FileGroupNotExist": "UserGroupNotExists",
    "FileOwnerNotExist": "AccountNotExists",
    "InvalidFilePath": "FilePathInvalid",
}


def _int(value: str | None) -> int:
    try:
        return int(value) if value else 0
    except ValueError:
        return 0


def _invalid_code(param: str, value: str) -> str:
    """A catalog code for an official ``invalid`` report: the value when it names one (cron
    errors do), the one its prefix names (``DefaultWorkingDirectoryNotAvailable: ...``), or the
    parameter's usual code."""
    for candidate in (value, value.split(":", 1)[0].strip()):
        if candidate in ENTRIES:
            return candidate
    return _INVALID_PARAMS.get(param, "InvalidCommandText")


def parse_report(kind: ReportKind, query: Mapping[str, str], body: bytes) -> Report:
    exit_code = query.get("exitCode") or query.get("exitcode")
    error_code, error_info = query.get("errCode", ""), query.get("errDesc", "")
    if kind is ReportKind.INVALID and not error_code:
        param, value = query.get("param", ""), query.get("value", "")
        error_code = _invalid_code(param, value)
        error_info = f"{param}: {value}" if param else value
    return Report(
        kind=kind,
        invoke_id=query.get("taskId", ""),
        start_ms=_int(query.get("start")),
        end_ms=_int(query.get("end")),
        exit_code=_int(exit_code) if exit_code not in (None, "") else None,
        dropped=_int(query.get("dropped")),
        error_code=error_code,
        error_info=error_info,
        output=body,
        # OpenAssist agents answer ``result=canceled`` for a run they never started; the official
        # agent only ever sends ``killed`` or ``completed``.
        never_started=query.get("result") == "canceled",
        completed=kind is ReportKind.STOPPED and query.get("result") == "completed",
        fire_ms=_int(query.get("currentTime")),
    )


def parse_file_report(kind: ReportKind, query: Mapping[str, str]) -> FileReport:
    """A send-file report: ``finish`` with status and errorcode, or ``invalid`` with param."""
    invoke_id = query.get("taskId", "")
    if kind is ReportKind.INVALID:
        param, value = query.get("param", ""), query.get("value", "")
        code = FILE_INVALID_PARAMS.get(param, "FileContentInvalid")
        return FileReport(invoke_id, error_code=code, error_info=f"{param}: {value}", invalid=True)
    if query.get("status", "Success") == "Success":
        return FileReport(invoke_id, success=True)
    number = _int(query.get("errorcode"))
    code, info = FILE_FINISH_ERRORS.get(number, ("FileCreateFail", f"error code {number}"))
    return FileReport(invoke_id, error_code=code, error_info=info)
