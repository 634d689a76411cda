"""Task reports of the official protocol, decoded by ``protocol.reports``, given catalog codes.

The official agent reports a task it cannot run on ``v1/task/invalid`` with ``param`` and
``value`` instead of an error code; ``_INVALID_PARAMS`` maps those to catalog codes.
"""

from __future__ import annotations

import msgspec

from openassist.catalog import ENTRIES
from openassist.protocol.reports import FileStatus, ReportKind, TaskReport
from openassist.server.service.files import FileReport

# ``param`` of the official agent's ``invalid`` reports (aliyun_assist_client 2.2.3: taskengine
# pre-checks, the host, docker and CRI processors, parameter-store lookups and schedules) -> the
# catalog code the documentation gives for that cause. Whose ``value`` decides is in
# ``_invalid_code``.
_INVALID_PARAMS = {
    "TypeInvalid": "CommandNotApplicable",  # value TypeInvalid_<type>
    "CommandContentInvalid": "CommandContentDecodeError",  # the base64 decoder's error
    # Linux: UserInvalid_<user>: <cause>; Windows: UsernameOrPasswordInvalid_<user>: <cause>
    "UsernameOrPasswordInvalid": "UserOrPasswordInvalid",
    "workingDirectory": "DirectoryNotExists",  # or DefaultWorkingDirectoryNotAvailable: ...
    "homeDir": "DefaultWorkingDirectoryNotAvailable",
    "InvalidEnvironmentParameter": "InvalidSystemBuiltInParameter",
    "cron": "BadCronExpression",  # or the schedule's own code, see _invalid_code
    # Windows password and {{oos:...}} lookups: the error's text is the param.
    "RoleNameFailed": "InstanceRoleInvalid",
    "ParameterStoreNotAccessible": "QueryParameterStoreFailed",
    "ParameterFailed": "QueryParameterStoreFailed",
    "Invalid matchGroups": "QueryParameterStoreFailed",
    "Invalid matchGroups[0]": "QueryParameterStoreFailed",
    "Invalid matchGroups[1]": "QueryParameterStoreFailed",
    "Invalid ParamType": "QueryParameterStoreFailed",
    # Containers: the category is the param and the code.
    **{
        category: category
        for category in (
            "InvalidContainerId",
            "InvalidContainerName",
            "UnsupportedContainerRuntime",
            "ContainerNameAndIdNotMatch",
            "ContainerNameDuplicated",
            "ContainerNotFound",
            "ContainerStateAbnormal",
            "ContainerConnectFailed",
        )
    },
}
_LINUX_USER_MISSING = "UserInvalid_"  # a Linux user that does not exist (no password involved)
_CRON_ALIASES = {"InvalidCronExpression": "BadCronExpression"}
_AT_PARSE_ERROR = "parsing time "  # Go's time.Parse on a malformed at(...)


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
    """A catalog code for an official ``invalid`` report (every param value it can send is in
    tests/fixtures/official_agent_requests.json with its code)."""
    if param == "UsernameOrPasswordInvalid" and value.startswith(_LINUX_USER_MISSING):
        return "AccountNotExists"
    if param == "cron":
        if value.startswith(_AT_PARSE_ERROR):
            return "InvalidAtExpression"
        code = value.split(":", 1)[0].strip()  # a bare code, or "<code>: <detail>"
        code = _CRON_ALIASES.get(code, code)
        return code if code in ENTRIES else "BadCronExpression"
    if param in _INVALID_PARAMS:
        prefix = value.split(":", 1)[0].strip()
        if param == "workingDirectory" and prefix == "DefaultWorkingDirectoryNotAvailable":
            return prefix
        return _INVALID_PARAMS[param]
    # A param of a later agent version: its value may still name the code.
    for candidate in (value, value.split(":", 1)[0].strip()):
        if candidate in ENTRIES:
            return candidate
    return "InvalidCommandText"


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
