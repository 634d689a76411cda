"""SendFile on the instance: check the file task, write the file atomically, report the way the
official agent does (``finish`` with status and errorcode, or ``invalid`` with param/value)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import grp
import hashlib
import os
import pwd
import tempfile
from pathlib import Path

from msgspec.structs import replace

from openassist.protocol import agent as wire
from openassist.protocol.reports import FileStatus, ReportKind, TaskReport

CREATE_FAILED, CHOWN_FAILED, CHMOD_FAILED, MKDIR_FAILED = 1, 2, 3, 4


class _Invalid(Exception):
    def __init__(self, param: str, value: str) -> None:
        super().__init__(f"{param}: {value}")
        self.param, self.value = param, value


class _Failed(Exception):
    def __init__(self, errorcode: int, why: str) -> None:
        super().__init__(why)
        self.errorcode = errorcode


def _checked(task: wire.FileTaskInfo) -> tuple[bytes, int, int, int, Path]:
    """(content, mode, uid, gid, path); raises _Invalid for what the task got wrong."""
    if task.signature and hashlib.md5(task.content.encode()).hexdigest() != task.signature.lower():  # noqa: S324
        raise _Invalid("InvalidSignature", task.signature)
    try:
        content = base64.b64decode(task.content, validate=True)
    except (binascii.Error, ValueError):
        raise _Invalid("InvalidFileContent", "") from None
    if not task.name or "/" in task.name or task.name in (".", "..") or "\0" in task.name:
        raise _Invalid("FileNameInvalid", task.name)
    if not task.destination.startswith("/") or "\0" in task.destination:
        raise _Invalid("InvalidFilePath", task.destination)
    try:
        mode = int(task.mode or "0644", 8)
    except ValueError:
        raise _Invalid("InvalidFileMode", task.mode) from None
    if not 0 <= mode <= 0o7777:
        raise _Invalid("InvalidFileMode", task.mode)
    try:
        uid = pwd.getpwnam(task.owner or "root").pw_uid
    except KeyError:
        raise _Invalid("FileOwnerNotExist", task.owner) from None
    try:
        gid = grp.getgrnam(task.group or "root").gr_gid
    except KeyError:
        raise _Invalid("FileGroupNotExist", task.group) from None
    path = Path(task.destination) / task.name
    if path.exists() and not task.overwrite:
        raise _Invalid("FileExist", task.name)
    return content, mode, uid, gid, path


def _write(content: bytes, mode: int, uid: int, gid: int, path: Path) -> None:
    """Write through a temporary file in the same directory and rename it into place, so a
    reader never sees half a file; raises _Failed with the official error numbers."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _Failed(MKDIR_FAILED, str(error)) from error
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as error:
        raise _Failed(CREATE_FAILED, str(error)) from error
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        try:
            os.chown(temporary, uid, gid)
        except OSError as error:
            raise _Failed(CHOWN_FAILED, str(error)) from error
        try:
            os.chmod(temporary, mode)
        except OSError as error:
            raise _Failed(CHMOD_FAILED, str(error)) from error
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def deliver_file(task: wire.FileTaskInfo) -> TaskReport:
    """Carry out one send-file task (blocking: run it off the event loop); returns its report."""
    base = TaskReport(kind=ReportKind.FINISH, task_id=task.taskID, send_file=True)
    failed = replace(base, file_status=FileStatus.FAILED, file_error=CREATE_FAILED)
    try:
        _write(*_checked(task))
    except _Invalid as invalid:
        return replace(base, kind=ReportKind.INVALID, param=invalid.param, value=invalid.value)
    except _Failed as failure:
        return replace(failed, file_error=failure.errorcode)
    except OSError:
        return failed
    return replace(base, file_status=FileStatus.SUCCESS, file_error=0)
