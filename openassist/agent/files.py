"""SendFile on the instance: check the file task, write the file atomically, report the way the
official agent does (``finish`` with status and errorcode, or ``invalid`` with param/value).

Root writes here for a user who may be able to write the target directory, so every step works
through descriptors (issue 13.3): the directory is opened by ``dir_walk`` (no symbolic link of
anyone else is followed, missing directories are made owned by FileOwner/FileGroup), the file is
made under a fresh name with ``O_EXCL | O_NOFOLLOW``, gets its owner and mode through its
descriptor, and is renamed into place inside that directory. Afterwards the name must lead to the
very file written (not a symbolic link, nothing swapped in): else the task fails.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import grp
import hashlib
import os
import pwd
import secrets
import stat
from dataclasses import dataclass

from msgspec.structs import replace

from openassist.agent.dir_walk import WalkRefused, open_directory
from openassist.protocol import agent as wire
from openassist.protocol.reports import FileStatus, ReportKind, TaskReport

CREATE_FAILED, CHOWN_FAILED, CHMOD_FAILED, MKDIR_FAILED = 1, 2, 3, 4
NAME_MAX = 255  # bytes, as the file systems count them
PERMISSION_BITS = 0o777  # set-uid, set-gid and sticky are never given to a sent file
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class _Invalid(Exception):
    def __init__(self, param: str, value: str) -> None:
        super().__init__(f"{param}: {value}")
        self.param, self.value = param, value


class _Failed(Exception):
    def __init__(self, errorcode: int, why: str) -> None:
        super().__init__(why)
        self.errorcode = errorcode


@dataclass(frozen=True)
class _File:
    content: bytes
    mode: int
    uid: int
    gid: int
    directory: str
    name: str
    overwrite: bool


def _name_invalid(name: str) -> bool:
    return (
        not name
        or name in (".", "..")
        or "/" in name
        or "\0" in name
        or len(name.encode("utf-8", "surrogateescape")) > NAME_MAX
    )


def _mode(text: str) -> int:
    try:
        mode = int(text or "0644", 8)
    except ValueError:
        raise _Invalid("InvalidFileMode", text) from None
    if not 0 <= mode <= PERMISSION_BITS:  # the API refuses them too (FileMode.Invalid)
        raise _Invalid("InvalidFileMode", text)
    return mode


def _checked(task: wire.FileTaskInfo) -> _File:
    """The file to write; raises _Invalid for what the task got wrong."""
    if task.signature and hashlib.md5(task.content.encode()).hexdigest() != task.signature.lower():  # noqa: S324
        raise _Invalid("InvalidSignature", task.signature)
    try:
        content = base64.b64decode(task.content, validate=True)
    except (binascii.Error, ValueError):
        raise _Invalid("InvalidFileContent", "") from None
    if _name_invalid(task.name):
        raise _Invalid("FileNameInvalid", task.name)
    if not task.destination.startswith("/") or "\0" in task.destination:
        raise _Invalid("InvalidFilePath", task.destination)
    mode = _mode(task.mode)
    try:
        uid = pwd.getpwnam(task.owner or "root").pw_uid
    except KeyError:
        raise _Invalid("FileOwnerNotExist", task.owner) from None
    try:
        gid = grp.getgrnam(task.group or "root").gr_gid
    except KeyError:
        raise _Invalid("FileGroupNotExist", task.group) from None
    return _File(content, mode, uid, gid, task.destination, task.name, task.overwrite)


def _open_target(file: _File) -> int:
    try:
        return open_directory(file.directory, (file.uid, file.gid))
    except WalkRefused as refused:
        raise _Invalid("InvalidFilePath", f"{file.directory} ({refused})") from None
    except OSError as error:
        raise _Failed(MKDIR_FAILED, str(error)) from error


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _fill(fd: int, file: _File) -> None:
    view = memoryview(file.content)
    while view:
        view = view[os.write(fd, view) :]
    try:
        os.fchown(fd, file.uid, file.gid)
    except OSError as error:
        raise _Failed(CHOWN_FAILED, str(error)) from error
    try:
        os.fchmod(fd, file.mode)  # after fchown, which would clear bits of the mode
    except OSError as error:
        raise _Failed(CHMOD_FAILED, str(error)) from error
    os.fsync(fd)


def _place(dir_fd: int, temporary: str, file: _File) -> None:
    """Put the written file under its name: atomically replacing what is there (Overwrite), or
    only if nothing is (a file that appeared meanwhile is not replaced)."""
    if file.overwrite:
        os.rename(temporary, file.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return
    try:
        os.link(temporary, file.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except FileExistsError:
        raise _Invalid("FileExist", file.name) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=dir_fd)


def _is_ours(dir_fd: int, name: str, fd: int) -> bool:
    """Whether ``name`` in the directory is the very file behind ``fd`` (not a link to it or
    to anything else, and nothing swapped in)."""
    try:
        found = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return False
    written = os.fstat(fd)
    return stat.S_ISREG(found.st_mode) and (found.st_dev, found.st_ino) == (
        written.st_dev,
        written.st_ino,
    )


def _write(file: _File) -> None:
    """Write through a fresh file in the target directory and rename it into place, so a reader
    never sees half a file; raises _Invalid / _Failed with the official spellings."""
    dir_fd = _open_target(file)
    try:
        if _exists(dir_fd, file.name) and not file.overwrite:
            raise _Invalid("FileExist", file.name)
        temporary = f".{file.name[:200]}.{secrets.token_hex(6)}"
        try:
            fd = os.open(temporary, _CREATE, 0o600, dir_fd=dir_fd)
        except OSError as error:
            raise _Failed(CREATE_FAILED, str(error)) from error
        try:
            try:
                _fill(fd, file)
                _place(dir_fd, temporary, file)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary, dir_fd=dir_fd)
                raise
            if not _is_ours(dir_fd, file.name, fd):
                raise _Failed(CREATE_FAILED, f"{file.name} was replaced while it was written")
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)


def deliver_file(task: wire.FileTaskInfo) -> TaskReport:
    """Carry out one send-file task (blocking: run it off the event loop); returns its report."""
    base = TaskReport(kind=ReportKind.FINISH, task_id=task.taskID, send_file=True)
    failed = replace(base, file_status=FileStatus.FAILED, file_error=CREATE_FAILED)
    try:
        _write(_checked(task))
    except _Invalid as invalid:
        return replace(base, kind=ReportKind.INVALID, param=invalid.param, value=invalid.value)
    except _Failed as failure:
        return replace(failed, file_error=failure.errorcode)
    except OSError as error:
        code = MKDIR_FAILED if error.errno == errno.ENOTDIR else CREATE_FAILED
        return replace(failed, file_error=code)
    return replace(base, file_status=FileStatus.SUCCESS, file_error=0)
