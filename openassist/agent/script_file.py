"""The script file of a run, written where the user who runs it cannot meddle with it.

A script of the agent's own user goes in the agent's private script directory (0700). A script
run as another user (``Username``) goes in a fresh directory of its own from ``mkdtemp``: root's,
0700 while the file is made, then 0711 so that the user can reach the file but never list or
write the directory. The file is created with ``O_EXCL | O_NOFOLLOW`` and gets its mode and owner
through its descriptor, so there is no moment at which root acts by path on a name the user could
have replaced with a symlink (issue 13.2).

The file may hold values of secret parameters, so it lives only while its run does; what a crash
left behind is removed by ``sweep`` when the agent starts again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

RUN_DIR_PREFIX = "openassist-run-"
SCRIPT_MODE = 0o700
RUN_DIR_MODE = 0o711  # the user may pass through to their file, not list or write
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _run_dir_prefix(script_dir: Path) -> str:
    """The prefix of this agent's run-as directories: two agents on one machine (each with its
    own state directory) never sweep each other's."""
    tag = hashlib.sha256(str(script_dir.absolute()).encode()).hexdigest()[:12]
    return f"{RUN_DIR_PREFIX}{tag}-"


def _create(dir_fd: int, name: str, content: bytes, owner: tuple[int, int] | None) -> None:
    try:
        fd = os.open(name, _CREATE, SCRIPT_MODE, dir_fd=dir_fd)
    except FileExistsError:  # left by a run that never cleaned up: only ours can be there
        os.unlink(name, dir_fd=dir_fd)
        fd = os.open(name, _CREATE, SCRIPT_MODE, dir_fd=dir_fd)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
        os.fchmod(fd, SCRIPT_MODE)  # exactly this, whatever the umask took away
        if owner is not None:
            os.fchown(fd, *owner)
    finally:
        os.close(fd)


def write(
    content: bytes, script_dir: Path, name: str, owner: tuple[int, int] | None = None
) -> Path:
    """Write the script file; ``owner`` (uid, gid) for a run as another user. Raises OSError."""
    if owner is None:
        script_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory = script_dir
    else:
        directory = Path(tempfile.mkdtemp(prefix=_run_dir_prefix(script_dir)))
    dir_fd = os.open(directory, _DIRECTORY)
    try:
        _create(dir_fd, name, content, owner)
        if owner is not None:
            os.fchmod(dir_fd, RUN_DIR_MODE)  # only now can the user reach the file
    except BaseException:
        if owner is not None:
            _empty(dir_fd)
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    finally:
        os.close(dir_fd)
    return directory / name


def _empty(dir_fd: int) -> None:
    for name in os.listdir(dir_fd):
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=dir_fd)


def remove(path: Path, script_dir: Path) -> None:
    """Remove a script file, and the run directory it had to itself."""
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, _DIRECTORY)
        try:
            os.unlink(path.name, dir_fd=dir_fd)
        finally:
            os.close(dir_fd)
        if path.parent != script_dir:
            path.parent.rmdir()


def sweep(script_dir: Path) -> int:
    """Remove the script files (and run directories) an earlier life of this agent left behind
    when it died in the middle of a run; returns how many. Call before any run starts."""
    removed = 0
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        dir_fd = os.open(script_dir, _DIRECTORY)
        try:
            removed += len(os.listdir(dir_fd))
            _empty(dir_fd)
        finally:
            os.close(dir_fd)
    prefix = _run_dir_prefix(script_dir)
    temporary = tempfile.gettempdir()
    with contextlib.suppress(OSError):
        tmp_fd = os.open(temporary, _DIRECTORY)
        try:
            for entry in os.scandir(temporary):
                if entry.name.startswith(prefix) and _ours(entry):
                    removed += _remove_run_dir(tmp_fd, entry.name)
        finally:
            os.close(tmp_fd)
    return removed


def _ours(entry: os.DirEntry[str]) -> bool:
    with contextlib.suppress(OSError):
        status = entry.stat(follow_symlinks=False)
        return entry.is_dir(follow_symlinks=False) and status.st_uid == os.geteuid()
    return False


def _remove_run_dir(tmp_fd: int, name: str) -> int:
    with contextlib.suppress(OSError):
        dir_fd = os.open(name, _DIRECTORY, dir_fd=tmp_fd)
        try:
            _empty(dir_fd)
        finally:
            os.close(dir_fd)
        os.rmdir(name, dir_fd=tmp_fd)
        return 1
    return 0
