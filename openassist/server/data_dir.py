"""The data directory is owner-only: 0700, and every file in it readable by its owner alone.

The server runs with umask 077, so whatever it (or SQLite, for the ``-wal`` and ``-shm`` files)
creates is owner-only from its first byte. A data directory left with looser modes (releases
before this one created it with the process umask: 0755 and 0644) is tightened at start; each
change is logged. The walk works through directory descriptors and never follows a symlink, so
nothing outside the data directory is touched.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("openassist.server")

PRIVATE_UMASK = 0o077
_LOOSE_BITS = 0o077  # anything for group or others


def secure_data_dir(path: Path) -> list[str]:
    """Set the process umask to 077, create ``path`` 0700 if missing, and strip group and other
    permissions from it and from every directory and regular file below it.

    Returns one line per change (also logged). Symlinks and special files are left alone.
    """
    os.umask(PRIVATE_UMASK)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    changes: list[str] = []
    top = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        owner = os.fstat(top).st_uid
        if owner != os.geteuid():
            log.warning(
                "the data directory %s belongs to uid %d, not to this server's uid %d: "
                "that user can read and replace the server's keys",
                path,
                owner,
                os.geteuid(),
            )
        _tighten(top, path, changes)
        for directory, _dirs, files, dir_fd in os.fwalk(top=path, follow_symlinks=False):
            if directory != str(path):
                _tighten(dir_fd, Path(directory), changes)
            for name in files:
                _tighten_file(dir_fd, name, Path(directory) / name, changes)
    finally:
        os.close(top)
    for change in changes:
        log.warning("data directory: %s", change)
    return changes


def _tighten_file(dir_fd: int, name: str, shown: Path, changes: list[str]) -> None:
    if not stat.S_ISREG(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
        return
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError:  # removed meanwhile (e.g. a -shm file of a closing database)
        return
    try:
        _tighten(fd, shown, changes)
    finally:
        os.close(fd)


def _tighten(fd: int, shown: Path, changes: list[str]) -> None:
    mode = stat.S_IMODE(os.fstat(fd).st_mode)
    if mode & _LOOSE_BITS:
        tightened = mode & ~_LOOSE_BITS
        os.fchmod(fd, tightened)
        changes.append(f"{shown} was {mode:04o}, now {tightened:04o}")
