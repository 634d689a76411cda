"""Task reports of the official protocol, decoded by ``protocol.reports``, given catalog codes.

The official agent reports a task it cannot run on ``v1/task/invalid`` with ``param`` and
``value`` instead of an error code; ``_INVALID_PARAMS`` maps those to catalog codes.
"""

from __future__ import annotations

import msgspec

from openassist.catalog import ENTRIES
from openassist.protocol.reports import FileStatus, ReportKind, TaskReport
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


def _invalid_code(param: str, value: str) -> str:
    """A catalog code for an official ``invalid`` report: the value when it names one (cron
    errors do), the one its prefix names (``DefaultWorkingDirectoryNotAvailable: ...``), or the
    parameter's usual code."""
    for candidate in (value, value.split(":", 1)[0].strip()):
        if candidate in ENTRIES:
            return candidate
    return _INVALID_PARAMS.get(param, "InvalidCommandText")


def task_report(report: TaskReport) -> TaskReport:
    """The report with a catalog code: the official agent's ``invalid`` reports carry
    ``param`` and ``value`` instead of one."""
    if report.kind is not ReportKind.INVALID or report.error_code:
        return report
    param, value = report.param or "", report.value
    return msgspec.structs.replace(
        report,
        error_code=_invalid_code(param, value),
        error_info=f"{param}: {value}" if param else value,
    )


def file_report(report: TaskReport) -> FileReport:
    """A send-file report: ``finish`` with status and errorcode, or ``invalid`` with param."""
    invoke_id = report.task_id
    if report.kind is ReportKind.INVALID:
        param, value = report.param or "", report.value
        code = FILE_INVALID_PARAMS.get(param, "FileContentInvalid")
        return FileReport(invoke_id, error_code=code, error_info=f"{param}: {value}", invalid=True)
    if report.file_status is not FileStatus.FAILED:
        return FileReport(invoke_id, success=True)
    number = report.file_error or 0
    code, info = FILE_FINISH_ERRORS.get(number, ("FileCreateFail", f"error code {number}"))
    return FileReport(invoke_id, error_code=code, error_info=info)
