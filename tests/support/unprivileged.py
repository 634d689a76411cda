"""Acting as a real unprivileged local user (``nobody``) to reproduce attacks on the server host."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

NOBODY = pwd.getpwnam("nobody")

# Run by nobody: try to open every path (read a byte of a file, list a directory) and print
# those that worked.
_PROBE = """
import json, os, sys
opened = []
for path in json.load(sys.stdin):
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as handle:
                handle.read(1)
    except OSError:
        continue
    opened.append(path)
print(json.dumps(opened))
"""


def as_nobody(argv: Sequence[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as user nobody with no supplementary groups."""
    drop = [
        "setpriv",
        f"--reuid={NOBODY.pw_uid}",
        f"--regid={NOBODY.pw_gid}",
        "--clear-groups",
    ]
    return subprocess.run(
        [*drop, *argv], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def opened_by_nobody(paths: Sequence[Path]) -> list[str]:
    """Those of ``paths`` that nobody can read (files) or list (directories)."""
    probe = as_nobody([sys.executable, "-I", "-c", _PROBE], json.dumps([str(p) for p in paths]))
    assert probe.returncode == 0, probe.stderr
    opened: list[str] = json.loads(probe.stdout)
    return opened


@contextlib.contextmanager
def traversable_directory() -> Iterator[Path]:
    """A fresh directory that every local user may traverse (0755), as ``/var/lib`` is: the
    place an operator puts a data directory, so only the data directory's own modes protect it."""
    root = Path(tempfile.mkdtemp(prefix="openassist-exposed-"))
    os.chmod(root, 0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def process_umask(mask: int) -> Iterator[None]:
    """The umask that child processes started meanwhile inherit."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)
