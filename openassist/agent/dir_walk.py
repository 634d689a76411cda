"""Opening a directory for root on behalf of a less-privileged user, one component at a time.

``open_directory`` walks an absolute path from ``/`` with ``openat``-style calls, each component
opened with ``O_NOFOLLOW`` relative to the descriptor of its parent, so nothing a user renames
or swaps while the walk goes on can send root elsewhere. A symbolic link on the way is followed
only when root or the user root acts for owns it (anyone else's link is how a user would point
root at a place of their choosing). Missing directories are made on the way, owned by that user
and group (issue 13.3).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

MAX_LINKS = 40  # as the kernel's own limit on links followed in one lookup
NEW_DIR_MODE = 0o755
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class WalkRefused(Exception):
    """The path leads through a symbolic link the user does not own, or loops."""


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


def _open_root() -> int:
    return os.open("/", _DIRECTORY)


class _Walk:
    def __init__(self, owner: tuple[int, int], create: bool) -> None:
        self.owner, self.create = owner, create
        self.links = 0

    def step(self, parent: int, name: str) -> int:
        """The descriptor of ``name`` in ``parent``; a trusted link's target is walked."""
        try:
            return os.open(name, _DIRECTORY, dir_fd=parent)
        except OSError as error:
            if error.errno == errno.ENOENT and self.create:
                return self._make(parent, name)
            if error.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
        status = os.stat(name, dir_fd=parent, follow_symlinks=False)
        if not stat.S_ISLNK(status.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", name)
        if status.st_uid not in (0, self.owner[0]):
            raise WalkRefused(f"{name} is a symbolic link of uid {status.st_uid}")
        self.links += 1
        if self.links > MAX_LINKS:
            raise WalkRefused(f"more than {MAX_LINKS} symbolic links")
        target = os.readlink(name, dir_fd=parent)
        start = _open_root() if target.startswith("/") else os.dup(parent)
        try:
            return self.walk(start, _components(target))
        finally:
            os.close(start)

    def _make(self, parent: int, name: str) -> int:
        with contextlib.suppress(FileExistsError):  # made meanwhile: opened (and checked) below
            os.mkdir(name, NEW_DIR_MODE, dir_fd=parent)
            fd = os.open(name, _DIRECTORY, dir_fd=parent)
            try:
                os.fchown(fd, *self.owner)
                os.fchmod(fd, NEW_DIR_MODE)
            except BaseException:
                os.close(fd)
                raise
            return fd
        self.links += 1  # a name that keeps coming and going must not keep us here
        if self.links > MAX_LINKS:
            raise WalkRefused(f"{name} keeps changing")
        return self.step(parent, name)

    def walk(self, start: int, parts: list[str]) -> int:
        """A new descriptor of the directory ``parts`` lead to from ``start``."""
        current = os.dup(start)
        for part in parts:
            if part == "..":  # the parent of a descriptor: still no name to swap
                following = os.open("..", _DIRECTORY, dir_fd=current)
            else:
                following = self.step(current, part)
            os.close(current)
            current = following
        return current


def open_directory(path: str, owner: tuple[int, int], create: bool = True) -> int:
    """A descriptor of the directory at the absolute ``path`` (made, owned by ``owner`` (uid,
    gid), where missing when ``create``). Raises WalkRefused, or OSError for what the file system
    refused (NotADirectoryError when a component is a file)."""
    root = _open_root()
    try:
        return _Walk(owner, create).walk(root, _components(path))
    finally:
        os.close(root)
